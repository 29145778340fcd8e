"""The engine's batch path (``engine.apply_each``) writes exactly what ``engine.apply`` case by case writes:
the cases (state, version, step and its deadline, routing, category, urgency, departments), the timeline
entries, the audit entries and the outbox events; and it refuses what ``apply`` refuses."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import event, func, select

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


def test_a_batch_flushes_as_often_for_many_cases_as_for_one(system_session, w):
    """The batch path's point: its flushes do not grow with the batch. A read that missed the identity map
    (a case's category) or an event written through ``session.execute`` flushed the cases changed so far,
    once per case — the outbox's batches of merges and auto-dispatches paid it for every case."""
    s = system_session
    operator = principal(s, w, "operator_a")
    s.info["principal"] = operator
    ids = [report(s, w, point=POINT_A1, now=MON).case.id for _ in range(7)]
    flushes = [0]

    def count(*_args) -> None:
        flushes[0] += 1

    def flushes_of(action: str, cases: list[int], fields: dict) -> int:
        inputs = _inputs(s, cases, {i: fields for i in cases})
        s.expunge_all()  # nothing of the cases or their categories held from before
        s.info["principal"] = operator
        flushes[0] = 0
        event.listen(s, "before_flush", count)
        try:
            engine.apply_each(s, operator, action, inputs, SH, now=MON)
        finally:
            event.remove(s, "before_flush", count)
        return flushes[0]

    assert flushes_of("merge", ids[1:2], {"into_case_id": ids[0]}) == \
        flushes_of("merge", ids[2:7], {"into_case_id": ids[0]})
    assert s.scalar(select(func.count()).where(Case.merged_into_id == ids[0])) == 6
