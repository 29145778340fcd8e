"""The engine's batch path (``engine.apply_each``) writes exactly what ``engine.apply`` case by case writes:
the cases (state, version, step and its deadline, routing, category, urgency, departments), the timeline
entries, the audit entries and the outbox events; and it refuses what ``apply`` refuses."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from shiyu.cases.models import Case
from shiyu.cases.workflow import engine
from shiyu.core.errors import Conflict, ValidationFailed
from tests.batch_records import both_ways
from tests.cases.case_fixtures import POINT_A1, SH, case_world, principal, report

MON = datetime(2026, 9, 14, 9, 0, tzinfo=SH)
A2 = {"lon": 117.96, "lat": 24.45}  # grid a2 of community A


@pytest.fixture
def w(system_session):
    return case_world(system_session)


def _inputs(s, ids: list[int], fields: dict[int, dict]) -> dict[int, engine.ActionInput]:
    versions = dict(s.execute(select(Case.id, Case.version).where(Case.id.in_(ids))).all())
    return {i: engine.ActionInput(expected_version=versions[i], note="批量", fields=fields[i]) for i in ids}


def _cases(s, w) -> tuple[list[int], dict[int, dict], dict[int, dict]]:
    ids = [report(s, w, point=POINT_A1, now=MON).case.id for _ in range(3)]
    ids.append(report(s, w, "worker_a2", point=A2, now=MON).case.id)
    register = {i: {} for i in ids} | {ids[1]: {"urgency": "urgent"}}
    dispatch = {i: {"department_id": w.departments["a"].id} for i in ids} | {
        ids[2]: {"department_id": w.departments["a"].id, "assist_department_ids": [w.departments["a2"].id]},
        ids[3]: {"department_id": w.departments["a2"].id}}
    return ids, register, dispatch


def test_register_and_dispatch_together_equal_one_by_one(system_session, w):
    s = system_session
    ids, register, dispatch = _cases(s, w)
    operator = principal(s, w, "operator_a")

    def together(s) -> None:
        s.info["principal"] = operator
        engine.apply_each(s, operator, "register", _inputs(s, ids, register), SH, now=MON)
        engine.apply_each(s, operator, "dispatch", _inputs(s, ids, dispatch), SH, now=MON)

    def one_by_one(s) -> None:
        s.info["principal"] = operator
        for i in ids:
            engine.apply(s, operator, i, "register", _inputs(s, [i], register)[i], SH, now=MON)
            engine.apply(s, operator, i, "dispatch", _inputs(s, [i], dispatch)[i], SH, now=MON)

    batch, single = both_ways(s, ids, together, one_by_one)
    assert batch == single
    assert [c[1] for c in batch["cases"]] == ["to_accept"] * 4
    assert [c[5] for c in batch["cases"]] == [3] * 4  # one version per transition
    assert len(batch["timeline"]) == len(batch["events"]) == 8
    assert len(batch["assignments"]) == 5
    assert all(c[9]["explanation_zh"] for c in batch["cases"])  # each registration kept its routing


def test_a_refusal_in_the_batch_is_the_one_apply_gives(system_session, w):
    s = system_session
    ids, register, dispatch = _cases(s, w)
    operator = principal(s, w, "operator_a")
    s.info["principal"] = operator
    engine.apply_each(s, operator, "register", _inputs(s, ids, register), SH, now=MON)
    wrong = dispatch | {ids[2]: {"department_id": w.departments["s"].id}}  # the street's, not this centre's
    with pytest.raises(ValidationFailed) as refused:
        engine.apply_each(s, operator, "dispatch", _inputs(s, ids, wrong), SH, now=MON)
    assert refused.value.code == "department_not_at_level"
    s.rollback()
    stale = _inputs(s, ids, register) | {ids[0]: engine.ActionInput(expected_version=99)}
    with pytest.raises(Conflict):
        engine.apply_each(s, operator, "register", stale, SH, now=MON)
    s.rollback()
