"""转派上级部门 and 催办 (issue 13): the operator sends a case whose rule names a district bureau straight to the
district centre, where it is dispatched to that bureau; supervisors urge without a note. Both are rows of the
transition table, applied by the one engine."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shiyu.cases.models import Case, CaseEvent, CaseState
from shiyu.core.errors import ShiyuError
from shiyu.core.scoping import Principal
from tests.cases.case_fixtures import act, case_world, district_department, report


@pytest.fixture
def w(system_session):
    w = case_world(system_session)
    w.departments["d"] = district_department(system_session, w)
    system_session.commit()
    return w


def _events(s, case_id: int, action: str) -> list[CaseEvent]:
    s.info["principal"] = Principal.system("test")
    return list(s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.action == action)
                          .order_by(CaseEvent.id)))


def test_a_community_case_goes_to_the_district_bureau_in_one_action(system_session, w):
    s = system_session
    case = act(s, w, "leader_a", report(s, w).case, "register")
    assert case.centre_path == w.community_a.area_path
    bureau = w.departments["d"]
    case = act(s, w, "operator_a", case, "forward", note="", fields={"department_id": bureau.id})
    assert case.state == CaseState.TO_DISPATCH and case.centre_path == w.district.area_path
    assert case.routing["department_id"] == bureau.id and case.routing["target_name"] == "东区城市管理局"
    assert case.step == "dispatch" and case.step_due_at is not None  # the district's own dispatch limit
    event = _events(s, case.id, "forward")[0]
    assert event.data["department_name"] == "东区城市管理局" and event.data["centre_name"] == "东区综治中心"
    assert event.data["from_centre_path"] == w.community_a.area_path
    # The community can no longer act on it; the district dispatches to the bureau.
    with pytest.raises(ShiyuError) as err:
        act(s, w, "operator_a", case, "dispatch", fields={"department_id": bureau.id})
    assert err.value.status == 403
    s.rollback()
    case = act(s, w, "leader_d", case, "dispatch", fields={"department_id": bureau.id})
    assert case.state == CaseState.TO_ACCEPT and case.main_department_id == bureau.id


@pytest.mark.parametrize("which", ["s", "a", "missing"])
def test_forward_refuses_a_department_that_is_not_above(system_session, w, which):
    s = system_session
    case = act(s, w, "leader_a", report(s, w).case, "register")
    case = act(s, w, "operator_a", case, "escalate", note="")  # now at the street; its own departments are not above
    department_id = w.departments[which].id if which != "missing" else 10**6
    with pytest.raises(ShiyuError) as err:
        act(s, w, "operator_s", case, "forward", fields={"department_id": department_id})
    assert err.value.status == 422 and err.value.code == "department_not_above"
    s.rollback()
    assert s.get(Case, case.id).centre_path == w.street.area_path and not _events(s, case.id, "forward")


def test_forward_needs_the_department(system_session, w):
    s = system_session
    case = act(s, w, "leader_a", report(s, w).case, "register")
    with pytest.raises(ShiyuError) as err:
        act(s, w, "operator_a", case, "forward")
    assert err.value.code == "action_fields_invalid"


def test_escalation_no_longer_needs_a_note(system_session, w):
    s = system_session
    case = act(s, w, "leader_a", report(s, w).case, "register")
    case = act(s, w, "operator_a", case, "escalate", note="")
    assert case.centre_path == w.street.area_path


def test_urge_is_a_reminder_without_a_note_from_supervisors_and_dispatchers(system_session, w):
    s = system_session
    case = act(s, w, "leader_a", report(s, w).case, "register")
    before = case.version
    case = act(s, w, "leader_d", case, "urge", note="")
    assert case.state == CaseState.TO_DISPATCH and case.version == before + 1 and not case.supervised
    event = _events(s, case.id, "urge")[0]
    assert event.public is False
    case = act(s, w, "operator_s", case, "urge", note="")  # the street's dispatcher, above the community
    assert len(_events(s, case.id, "urge")) == 2
    for who in ("handler_a", "citizen"):
        with pytest.raises(ShiyuError) as err:
            act(s, w, who, case, "urge", note="")
        assert err.value.status in (403, 404)
        s.rollback()
