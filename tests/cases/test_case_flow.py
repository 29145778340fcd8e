"""The closed loop end to end through the service layer: report → register → dispatch → accept → handle →
verify → close → evaluate, and the side roads (return, rework, escalation, dispatch down, self-resolution,
co-handling, extension, suspension, supervision, merge, reopen)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from shiyu.cases.models import Case, CaseEvent, CaseState
from shiyu.cases.workflow import deadlines
from shiyu.core.errors import ShiyuError
from shiyu.core.outbox import OutboxEvent
from shiyu.core.scoping import Principal
from tests.cases.case_fixtures import SH, act, case_world, evidence, principal, report  # noqa: F401

MON = datetime(2026, 9, 14, 9, 0, tzinfo=SH)


@pytest.fixture
def w(system_session):
    return case_world(system_session)


def _fresh(s, case_id: int) -> Case:
    s.info["principal"] = Principal.system("test")
    case = s.get(Case, case_id)
    s.refresh(case)
    return case


def test_the_whole_loop(system_session, w):
    s = system_session
    case = report(s, w, now=MON).case
    assert case.state == CaseState.REPORTED and case.centre_path == w.community_a.area_path
    assert case.step == "register" and case.step_due_at == datetime(2026, 9, 14, 11, 0, tzinfo=SH)
    case = act(s, w, "leader_a", case, "register", now=MON)
    assert case.state == CaseState.TO_DISPATCH and case.routing is not None
    assert case.routing["explanation_zh"]
    case = act(s, w, "operator_a", case, "dispatch", fields={"department_id": w.departments["a"].id}, now=MON)
    assert case.state == CaseState.TO_ACCEPT
    case = act(s, w, "handler_a", case, "accept", now=MON)
    assert case.state == CaseState.HANDLING and case.step == "handle"
    proof = evidence(s, "handler_a")
    case = act(s, w, "handler_a", case, "report_result", note="已清理", attachment_ids=[proof], now=MON)
    assert case.state == CaseState.TO_VERIFY and case.handled_by_id == w.users["handler_a"].id
    case = act(s, w, "worker_a1", case, "verify_pass", now=MON)
    assert case.state == CaseState.TO_CLOSE
    case = act(s, w, "operator_a", case, "close", now=MON)
    assert case.state == CaseState.CLOSED and case.step is None
    case = act(s, w, "worker_a1", case, "evaluate", fields={"rating": "satisfied"})
    assert case.rating == "satisfied"
    s.info["principal"] = Principal.system("test")
    actions = list(s.scalars(select(CaseEvent.action).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)))
    assert actions == ["report", "register", "dispatch", "accept", "report_result", "verify_pass", "close", "evaluate"]
    versions = list(s.scalars(select(CaseEvent.version).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)))
    assert versions == sorted(set(versions)), "every transition bumps the version"
    topics = list(s.scalars(select(OutboxEvent.topic).where(OutboxEvent.aggregate_id == case.id)
                            .order_by(OutboxEvent.id)))
    assert topics[0] == "case.reported" and topics[-1] == "case.evaluate" and len(topics) == 8


def test_return_rework_and_separation(system_session, w):
    s = system_session
    case = report(s, w).case
    case = act(s, w, "leader_a", case, "register")
    case = act(s, w, "operator_a", case, "dispatch", fields={"department_id": w.departments["a"].id})
    case = act(s, w, "handler_a", case, "return", note="不属于本部门")
    assert case.state == CaseState.TO_DISPATCH and case.main_department_id is None and case.return_count == 1
    case = act(s, w, "operator_a", case, "dispatch", fields={"department_id": w.departments["a"].id})
    case = act(s, w, "handler_a", case, "accept")
    case = act(s, w, "handler_a", case, "report_result", attachment_ids=[evidence(s, "handler_a")])
    with pytest.raises(ShiyuError) as err:
        act(s, w, "handler_a", case, "verify_pass")
    assert err.value.status in (403, 404)
    s.rollback()
    case = act(s, w, "worker_a1", case, "verify_fail", note="仍有摊贩")
    assert case.state == CaseState.HANDLING and case.rework_count == 1


def test_the_handler_cannot_verify_even_holding_the_grid_role(system_session, w):
    """采办分离: a person who is both the handler and a grid worker of that grid still cannot verify."""
    from shiyu.org.identity.models import Grant

    s = system_session
    s.add(Grant(user_id=w.users["handler_a"].id, role="grid_worker", area_id=w.grids["a1"].id,
                area_path=w.grids["a1"].area_path))
    s.commit()
    case = report(s, w).case
    case = act(s, w, "leader_a", case, "register")
    case = act(s, w, "operator_a", case, "dispatch", fields={"department_id": w.departments["a"].id})
    case = act(s, w, "handler_a", case, "accept")
    case = act(s, w, "handler_a", case, "report_result", attachment_ids=[evidence(s, "handler_a")])
    with pytest.raises(ShiyuError) as err:
        act(s, w, "handler_a", case, "verify_pass")
    assert err.value.code == "verifier_is_handler"


def test_self_resolution_goes_to_someone_else(system_session, w):
    s = system_session
    proof = evidence(s, "worker_a1")
    s.commit()
    case = report(s, w, self_resolved=True, self_resolution_note="已劝离", self_resolution_attachment_ids=[proof]).case
    case = _fresh(s, case.id)
    assert case.state == CaseState.TO_VERIFY and case.self_resolved
    with pytest.raises(ShiyuError) as err:
        act(s, w, "worker_a1", case, "verify_pass")
    assert err.value.code == "verifier_is_handler"
    s.rollback()
    case = act(s, w, "leader_grid_a1", case, "verify_fail", note="未处理完")
    assert case.state == CaseState.TO_DISPATCH, "a self-resolved case has no department to rework it"


def test_self_resolution_closed_by_rule(system_session, w):
    s = system_session
    category = w.extra["category"]
    proof = evidence(s, "worker_a1")
    s.commit()
    category.self_resolve_closes = True
    s.commit()
    case = report(s, w, self_resolved=True, self_resolution_note="已处理",
                  self_resolution_attachment_ids=[proof]).case
    assert _fresh(s, case.id).state == CaseState.CLOSED


def test_escalation_and_dispatch_down(system_session, w):
    s = system_session
    case = act(s, w, "leader_a", report(s, w).case, "register")
    with pytest.raises(ShiyuError) as err:
        act(s, w, "operator_a", case, "dispatch", fields={"department_id": w.departments["s"].id})
    assert err.value.code == "department_not_at_level"
    s.rollback()
    case = act(s, w, "operator_a", case, "escalate", note="需街道协调")
    assert case.centre_path == w.street.area_path and case.state == CaseState.TO_DISPATCH
    with pytest.raises(ShiyuError):
        act(s, w, "operator_a", case, "dispatch", fields={"department_id": w.departments["a"].id})
    s.rollback()
    centre_a = w.extra["centres"][w.community_a.id]
    case = act(s, w, "operator_s", case, "dispatch_to_centre", fields={"centre_id": centre_a.id})
    assert case.centre_path == w.community_a.area_path
    case = act(s, w, "operator_a", case, "escalate", note="再上报")
    case = act(s, w, "leader_s", case, "escalate", note="上报区")
    assert case.centre_path == w.district.area_path


def test_co_handling(system_session, w):
    s = system_session
    case = act(s, w, "leader_a", report(s, w).case, "register")
    case = act(s, w, "operator_a", case, "escalate", note="需街道")
    case = act(s, w, "operator_s", case, "dispatch", fields={"department_id": w.departments["s"].id,
                                                            "assist_department_ids": [w.departments["s2"].id]})
    case = act(s, w, "handler_s", case, "accept")
    with pytest.raises(ShiyuError) as err:
        act(s, w, "handler_s2", case, "report_result", attachment_ids=[evidence(s, "handler_s2")])
    assert err.value.status == 403
    s.rollback()
    case = act(s, w, "handler_s2", case, "assist_report", note="已配合执法")
    with pytest.raises(ShiyuError) as err:
        act(s, w, "handler_s2", case, "assist_report", note="again")
    assert err.value.code == "assist_already_reported"
    s.rollback()
    case = act(s, w, "handler_s", case, "report_result", attachment_ids=[evidence(s, "handler_s")])
    assert case.state == CaseState.TO_VERIFY


def test_extension_and_suspension(system_session, w):
    s = system_session
    case = act(s, w, "leader_a", report(s, w, now=MON).case, "register", now=MON)
    case = act(s, w, "operator_a", case, "dispatch", fields={"department_id": w.departments["a"].id}, now=MON)
    case = act(s, w, "handler_a", case, "accept", now=MON)
    due = case.step_due_at
    assert due == datetime(2026, 9, 17, 9, 0, tzinfo=SH)  # 3 working days
    case = act(s, w, "handler_a", case, "request_extension", note="需协调", now=MON,
               fields={"amount": 1, "unit": "working_days"})
    with pytest.raises(ShiyuError) as err:
        act(s, w, "handler_a", case, "request_suspension", note="x", now=MON)
    assert err.value.code == "request_pending"
    s.rollback()
    case = act(s, w, "leader_a", case, "approve_extension", now=MON)
    assert case.step_due_at == datetime(2026, 9, 18, 9, 0, tzinfo=SH) and case.extension_count == 1
    case = act(s, w, "handler_a", case, "request_suspension", note="等待天气", now=MON)
    case = act(s, w, "leader_a", case, "approve_suspension", now=datetime(2026, 9, 15, 9, 0, tzinfo=SH))
    assert case.state == CaseState.SUSPENDED and case.step_due_at is None
    assert deadlines.colour(case, datetime(2026, 12, 1, tzinfo=SH)) is None, "the clock stands still"
    case = act(s, w, "handler_a", case, "resume", now=datetime(2026, 9, 22, 9, 0, tzinfo=SH))
    # 1 working day used before the pause, 3 left: Tuesday 22 09:00 + 3 days = Friday 25 09:00.
    assert case.state == CaseState.HANDLING and case.step_due_at == datetime(2026, 9, 25, 9, 0, tzinfo=SH)


def test_supervision_merge_and_reopen(system_session, w):
    s = system_session
    first = report(s, w).case
    dup = report(s, w).case
    dup = act(s, w, "leader_a", dup, "merge", fields={"into_case_id": first.id})
    assert dup.state == CaseState.MERGED and dup.merged_into_id == first.id
    first = act(s, w, "leader_d", first, "supervise", note="请加快", fields={"listed": True})
    assert first.supervised and first.listed_supervision
    first = act(s, w, "leader_a", first, "register")
    first = act(s, w, "operator_a", first, "dispatch", fields={"department_id": w.departments["a"].id})
    first = act(s, w, "handler_a", first, "accept")
    first = act(s, w, "handler_a", first, "report_result", attachment_ids=[evidence(s, "handler_a")])
    first = act(s, w, "worker_a1", first, "verify_pass")
    first = act(s, w, "operator_a", first, "close")
    with pytest.raises(ShiyuError) as err:
        act(s, w, "operator_a", first, "reopen", note="x")
    assert err.value.code == "reopen_needs_unsatisfied"
    s.rollback()
    first = act(s, w, "hotline", first, "evaluate", fields={"rating": "unsatisfied"}, note="回访：仍有摊贩")
    first = act(s, w, "operator_a", first, "reopen", note="群众不满意")
    assert first.state == CaseState.TO_DISPATCH and first.rating is None and first.main_department_id is None


def test_stale_version_is_a_conflict(system_session, w):
    from shiyu.cases.workflow import engine

    s = system_session
    case = report(s, w).case
    p = principal(s, w, "leader_a")
    s.info["principal"] = p
    with pytest.raises(ShiyuError) as err:
        engine.apply(s, p, case.id, "register", engine.ActionInput(expected_version=case.version + 5), SH)
    assert err.value.status == 409 and err.value.code == "conflict"
    s.rollback()
    s.info["principal"] = Principal.system("test")
    assert s.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case.id)) == 1


def test_the_dispatch_choices_are_exactly_what_dispatch_accepts(system_session, w):
    """One rule for both: every department or lower centre offered can be chosen, every other one is refused."""
    from shiyu.cases.workflow import effects, engine
    from shiyu.org.units.models import Centre, Department

    s = system_session
    case = act(s, w, "leader_a", report(s, w).case, "register")
    case = act(s, w, "operator_a", case, "escalate", note="需街道协调")
    s.info["principal"] = Principal.system("test")
    offered = {d.id for d in effects.dispatch_departments(s, case.centre_path, case.area_path)}
    centres = {c.id for c in effects.lower_centres(s, case.centre_path, case.area_path)}
    assert w.departments["s"].id in offered and w.departments["a"].id not in offered
    assert centres == {w.extra["centres"][w.community_a.id].id}
    operator = principal(s, w, "operator_s")

    def accepted(action: str, fields: dict) -> bool:
        s.info["principal"] = operator
        current = _fresh(s, case.id)
        s.info["principal"] = operator
        savepoint = s.begin_nested()
        try:
            engine.apply(s, operator, case.id, action,
                         engine.ActionInput(expected_version=current.version, note="ok", fields=fields), SH)
            return True
        except ShiyuError as exc:
            assert exc.status == 422, exc
            return False
        finally:
            savepoint.rollback()

    s.info["principal"] = Principal.system("test")
    for dept in s.scalars(select(Department)).all():
        assert accepted("dispatch", {"department_id": dept.id}) == (dept.id in offered), dept.name
    s.info["principal"] = Principal.system("test")
    for centre in s.scalars(select(Centre)).all():
        assert accepted("dispatch_to_centre", {"centre_id": centre.id}) == (centre.id in centres), centre.name
