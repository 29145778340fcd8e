"""Every (state, action, role) combination, generated from the transition table.

For each state (plus variants a guard depends on: a pending extension or suspension, an unsatisfied
evaluation) a case sits at the street centre, dispatched to a street department with an assisting one.
Each persona is described independently of the engine — its role and how it relates to the case (at the
case's centre, above it, over its area, main/assisting department, reporter). The expectation is computed
from the table and that description; the engine must agree on every combination: allowed ones are applied
(in a savepoint, then rolled back) and land in the declared state, forbidden ones are refused with 403,
404 or 409 and write nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from shiyu.cases.models import Case, CaseState
from shiyu.cases.workflow import engine
from shiyu.cases.workflow.table import ACTIONS, TABLE, Scope, failed_guard
from shiyu.core.errors import ShiyuError
from shiyu.core.scoping import Principal
from shiyu.org.identity.roles import permissions_of
from tests.cases.case_fixtures import (  # noqa: F401
    SH,
    act,
    case_world,
    district_department,
    evidence,
    principal,
    report,
)

S = CaseState


@dataclass(frozen=True)
class Persona:
    user: str
    role: str
    relations: frozenset[Scope]
    sees: bool | None = True  # None: only once the case is dispatched to their department


PERSONAS = (
    Persona("worker_a1", "grid_worker", frozenset({Scope.AREA, Scope.REPORTER})),
    Persona("worker_b1", "grid_worker", frozenset(), sees=False),
    Persona("operator_s", "centre_operator", frozenset({Scope.CENTRE, Scope.ABOVE, Scope.AREA})),
    Persona("leader_s", "centre_leader", frozenset({Scope.CENTRE, Scope.ABOVE, Scope.AREA})),
    Persona("operator_a", "centre_operator", frozenset({Scope.AREA})),
    Persona("leader_d", "centre_leader", frozenset({Scope.ABOVE, Scope.AREA})),
    Persona("hotline", "hotline_operator", frozenset({Scope.ABOVE, Scope.AREA})),
    Persona("handler_s", "department_handler", frozenset({Scope.MAIN_DEPARTMENT}), sees=None),
    Persona("handler_s2", "department_handler", frozenset({Scope.ASSIST_DEPARTMENT}), sees=None),
    Persona("handler_a", "department_handler", frozenset(), sees=False),
    Persona("citizen", "citizen", frozenset(), sees=False),
)

# Variants: (name, state, extra arrangement)
VARIANTS = (
    ("reported", S.REPORTED, None), ("to_dispatch", S.TO_DISPATCH, None), ("to_accept", S.TO_ACCEPT, None),
    ("handling", S.HANDLING, None), ("handling+extension", S.HANDLING, "extension"),
    ("handling+suspension", S.HANDLING, "suspension"), ("suspended", S.SUSPENDED, None),
    ("to_verify", S.TO_VERIFY, None), ("to_close", S.TO_CLOSE, None), ("closed", S.CLOSED, None),
    ("closed+unsatisfied", S.CLOSED, "unsatisfied"), ("rejected", S.REJECTED, None), ("merged", S.MERGED, None),
)


def _role_allows(transition, persona: Persona) -> bool:
    perms = permissions_of(persona.role)
    return any(r.scope in persona.relations and (r.permission is None or r.permission in perms)
               for r in transition.rules)


def _arrange(s: Session, w, variant: str, state: S, extra: str | None) -> Case:
    """A case reported by worker_a1 in grid a1, escalated to the street, then walked to ``state`` by the
    system (so the arrangement itself depends on no persona)."""
    case = report(s, w).case
    if state in (S.REJECTED, S.MERGED):
        fields = {"into_case_id": report(s, w).case.id} if state is S.MERGED else {}
        case = _street(s, w, case)
        return act(s, w, "system", case, "reject" if state is S.REJECTED else "merge", fields=fields)
    case = _street(s, w, case)
    if state is S.REPORTED:
        return case
    path = [("register", {}),
            ("dispatch", {"department_id": w.departments["s"].id, "assist_department_ids": [w.departments["s2"].id]}),
            ("accept", {})]
    stop = {S.TO_DISPATCH: 1, S.TO_ACCEPT: 2}.get(state, 3)
    for action, fields in path[:stop]:
        case = act(s, w, "system", case, action, fields=fields)
    if state is S.SUSPENDED:
        case = act(s, w, "system", case, "request_suspension")
        return act(s, w, "system", case, "approve_suspension")
    if state is S.HANDLING:
        if extra == "extension":
            case = act(s, w, "system", case, "request_extension", fields={"amount": 1, "unit": "working_days"})
        elif extra == "suspension":
            case = act(s, w, "system", case, "request_suspension")
        return case
    if state in (S.TO_VERIFY, S.TO_CLOSE, S.CLOSED):
        case = act(s, w, "handler_s", case, "report_result", attachment_ids=[evidence(s, "handler_s")])
    if state in (S.TO_CLOSE, S.CLOSED):
        case = act(s, w, "system", case, "verify_pass")
    if state is S.CLOSED:
        case = act(s, w, "system", case, "close")
        if extra == "unsatisfied":
            case = act(s, w, "system", case, "evaluate", fields={"rating": "unsatisfied"})
    return case


def _street(s: Session, w, case: Case) -> Case:
    """Move the case's responsibility to the street centre (directly: arrangement, not under test)."""
    s.info["principal"] = Principal.system("test")
    row = s.get(Case, case.id)
    row.centre_area_id, row.centre_path = w.street.id, w.street.area_path
    s.commit()
    return row


def _fields(s: Session, w, action: str, persona: Persona) -> tuple[dict, list[int]]:
    fields = {
        "merge": {"into_case_id": w.extra["other_case"]},
        "dispatch": {"department_id": w.departments["s"].id},
        "dispatch_to_centre": {"centre_id": w.extra["centres"][w.community_a.id].id},
        "forward": {"department_id": w.departments["d"].id},
        "request_extension": {"amount": 2, "unit": "working_hours"},
        "evaluate": {"rating": "basically"},
    }.get(action, {})
    proof = [evidence(s, persona.user)] if ACTIONS[action].evidence_required else []
    return fields, proof


@pytest.mark.slow
def test_every_state_action_role_combination(system_session, w_matrix):
    s, w = system_session, w_matrix
    checked = 0
    applied: set[tuple[S, str]] = set()
    for variant, state, extra in VARIANTS:
        case_id = _arrange(s, w, variant, state, extra).id
        for persona in PERSONAS:
            p = principal(s, w, persona.user)
            s.info["principal"] = p
            s.expire_all()
            try:
                case = engine.load_case(s, case_id)
            except ShiyuError as exc:
                assert persona.sees is not True and exc.status == 404, (variant, persona.user)
                checked += len(ACTIONS)
                continue
            assert persona.sees is not False, (variant, persona.user, "sees a case it should not")
            for action, transition in ACTIONS.items():
                checked += 1
                in_table = TABLE.get((state, action)) is transition
                expect = in_table and _role_allows(transition, persona) and failed_guard(transition, p, case) is None
                label = (variant, action, persona.user)
                try:
                    engine.check(p, case, action)
                except ShiyuError as exc:
                    assert not expect, (label, exc)
                    assert exc.status in (403, 409), (label, exc)
                    if not in_table:
                        assert exc.code == "action_not_allowed", label
                    continue
                assert expect, (label, "was allowed")
                fields, proof = _fields(s, w, action, persona)
                s.info["principal"] = p
                savepoint = s.begin_nested()
                try:
                    result = engine.apply(s, p, case_id, action, engine.ActionInput(
                        expected_version=case.version, note="测试", fields=fields, attachment_ids=proof), SH)
                    assert result.state in (transition.targets or (state,)), label
                    applied.add((state, action))
                finally:
                    savepoint.rollback()
                    s.expire_all()
                    case = engine.load_case(s, case_id)
    assert checked == len(VARIANTS) * len(PERSONAS) * len(ACTIONS)
    assert applied == set(TABLE), f"transitions nobody could apply: {set(TABLE) - applied}"


@pytest.fixture
def w_matrix(system_session):
    w = case_world(system_session)
    w.departments["d"] = district_department(system_session, w)
    w.extra["other_case"] = report(system_session, w).case.id
    s = system_session
    s.info["principal"] = Principal.system("test")
    return w

