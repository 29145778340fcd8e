"""Natural-time limits (自然小时/自然日) next to working time, on both databases: a 特急 case and a natural-unit
class count nights, weekends and holidays; everything else still waits for office hours; the deadline scan
turns a Saturday-night 特急 case red before Sunday morning; queues put 特急 first, then the least time left."""

from __future__ import annotations

import copy
from datetime import datetime

import pytest
from sqlalchemy import select

from shiyu.cases.categories.models import Category
from shiyu.cases.models import Case
from shiyu.cases.workflow import deadlines, queues
from shiyu.core.scoping import Principal
from shiyu.org.calendar.worktime import TimeBasis, TimeUnit, WorkCalendar
from tests.cases.case_fixtures import LIMITS, SH, act, case_world, principal, report

SAT_NIGHT = datetime(2026, 9, 19, 22, 0, tzinfo=SH)  # a Saturday
SUN_MORNING = datetime(2026, 9, 20, 8, 0, tzinfo=SH)
HOLIDAY = datetime(2026, 10, 2, 10, 0, tzinfo=SH)  # National Day week in the fixture calendar


@pytest.fixture
def w(system_session):
    return case_world(system_session)


def _limits(s, w, limits: dict) -> None:
    s.info["principal"] = Principal.system("test")
    category = s.get(Category, w.extra["category"].id)
    category.time_limits = limits
    s.commit()


def _case(s, case_id: int) -> Case:
    s.info["principal"] = Principal.system("test")
    case = s.get(Case, case_id)
    s.refresh(case)
    return case


def test_a_critical_case_on_saturday_night_is_red_by_sunday_morning(system_session, factory, w):
    s = system_session
    critical = report(s, w, now=SAT_NIGHT, urgency="critical").case
    normal = report(s, w, now=SAT_NIGHT).case
    critical, normal = _case(s, critical.id), _case(s, normal.id)
    # 特急: 2 working hours read as 2 natural hours, from Saturday 22:00.
    assert critical.step_basis == "natural"
    assert critical.step_due_at == datetime(2026, 9, 20, 0, 0, tzinfo=SH)
    assert critical.step_warn_at == datetime(2026, 9, 19, 23, 36, tzinfo=SH)
    # 一般: the same limit waits for Monday's office hours.
    assert normal.step_basis == "working" and normal.step_due_at == datetime(2026, 9, 21, 10, 30, tzinfo=SH)
    result = deadlines.scan(factory, SH, now=SUN_MORNING)
    assert result.overdue == 1 and result.escalated == 1
    critical, normal = _case(s, critical.id), _case(s, normal.id)
    assert deadlines.colour(critical, SUN_MORNING) is deadlines.Colour.RED and critical.supervised
    assert deadlines.colour(normal, SUN_MORNING) is deadlines.Colour.GREEN


def test_natural_units_of_a_class_count_the_holiday_for_every_urgency(system_session, w):
    """An emergency class (突发事件) names natural units: its normal cases count the National Day holiday too."""
    s = system_session
    limits = copy.deepcopy(LIMITS)
    limits["register"] = {"amount": 0.5, "unit": "natural_hours"}
    limits["handle"]["normal"] = {"amount": 1, "unit": "natural_days"}
    _limits(s, w, limits)
    case = report(s, w, now=HOLIDAY).case
    assert _case(s, case.id).step_due_at == datetime(2026, 10, 2, 10, 30, tzinfo=SH)
    case = act(s, w, "leader_a", case, "register", now=HOLIDAY)
    case = act(s, w, "operator_a", case, "dispatch", fields={"department_id": w.departments["a"].id}, now=HOLIDAY)
    case = act(s, w, "handler_a", case, "accept", now=HOLIDAY)
    assert case.step == "handle" and case.step_basis == "natural"
    assert case.step_due_at == datetime(2026, 10, 3, 10, 0, tzinfo=SH), "one natural day, holiday or not"


def test_working_time_still_skips_the_holiday_and_critical_can_be_turned_off(system_session, w):
    s = system_session
    case = report(s, w, now=HOLIDAY, urgency="urgent").case
    # 2 working hours from a holiday: the first working day after the week off, 08:30 + 2 h.
    assert _case(s, case.id).step_due_at == datetime(2026, 10, 8, 10, 30, tzinfo=SH)
    _limits(s, w, {**LIMITS, "critical_natural": False})
    case = report(s, w, now=SAT_NIGHT, urgency="critical").case
    case = _case(s, case.id)
    assert case.step_basis == "working" and case.step_due_at == datetime(2026, 9, 21, 10, 30, tzinfo=SH)


def test_critical_handling_across_the_holiday(system_session, w):
    s = system_session
    case = report(s, w, now=HOLIDAY, urgency="critical").case
    case = act(s, w, "leader_a", case, "register", now=HOLIDAY)
    case = act(s, w, "operator_a", case, "dispatch", fields={"department_id": w.departments["a"].id}, now=HOLIDAY)
    case = act(s, w, "handler_a", case, "accept", now=HOLIDAY)
    assert case.step_due_at == datetime(2026, 10, 2, 14, 0, tzinfo=SH), "4 natural hours on National Day"
    # A natural-time extension of one day adds 24 hours; a pause stops the natural clock too.
    case = act(s, w, "handler_a", case, "request_extension", note="需要封路", now=HOLIDAY,
               fields={"amount": 1, "unit": "working_days"})
    case = act(s, w, "leader_a", case, "approve_extension", now=datetime(2026, 10, 2, 11, 0, tzinfo=SH))
    assert case.step_due_at == datetime(2026, 10, 3, 14, 0, tzinfo=SH)


def test_pause_and_resume_on_natural_time():
    calendar = WorkCalendar(tz=SH)
    category = Category(time_limits={**LIMITS, "critical_natural": True})
    case = Case(urgency="critical", step_used_seconds=0.0)
    deadlines.start_step(case, deadlines.Step.HANDLE, category, calendar, SAT_NIGHT)
    assert case.step_limit_seconds == 4 * 3600 and case.step_due_at == datetime(2026, 9, 20, 2, 0, tzinfo=SH)
    deadlines.pause(case, calendar, datetime(2026, 9, 19, 23, 0, tzinfo=SH))
    assert case.step_used_seconds == 3600 and case.step_due_at is None
    deadlines.resume(case, calendar, datetime(2026, 9, 20, 9, 0, tzinfo=SH))
    assert case.step_due_at == datetime(2026, 9, 20, 12, 0, tzinfo=SH)
    assert deadlines.elapsed_fraction(case, calendar, datetime(2026, 9, 20, 10, 0, tzinfo=SH)) == 0.5


def test_natural_units_in_the_calendar():
    calendar = WorkCalendar(tz=SH)
    assert calendar.add(SAT_NIGHT, 2, TimeUnit.NATURAL_DAYS) == datetime(2026, 9, 21, 22, 0, tzinfo=SH)
    assert calendar.add(SAT_NIGHT, 2, TimeUnit.WORKING_DAYS) == datetime(2026, 9, 22, 17, 30, tzinfo=SH)
    assert calendar.seconds_between(SAT_NIGHT, SUN_MORNING, TimeBasis.NATURAL) == 10 * 3600
    assert calendar.seconds_between(SAT_NIGHT, SUN_MORNING, TimeBasis.WORKING) == 0
    assert TimeUnit.WORKING_HOURS.in_basis("natural") is TimeUnit.NATURAL_HOURS
    assert TimeUnit.NATURAL_DAYS.in_basis("working") is TimeUnit.WORKING_DAYS
    with pytest.raises(ValueError):
        calendar.add(SAT_NIGHT, -1, TimeUnit.NATURAL_HOURS)


def test_queues_put_critical_first_then_the_least_time_left(system_session, w):
    s = system_session
    early_normal = report(s, w, now=datetime(2026, 9, 14, 8, 30, tzinfo=SH)).case.id
    late_normal = report(s, w, now=datetime(2026, 9, 15, 9, 0, tzinfo=SH)).case.id
    urgent = report(s, w, now=datetime(2026, 9, 16, 9, 0, tzinfo=SH), urgency="urgent").case.id
    late_critical = report(s, w, now=datetime(2026, 9, 17, 9, 0, tzinfo=SH), urgency="critical").case.id
    early_critical = report(s, w, now=datetime(2026, 9, 16, 15, 0, tzinfo=SH), urgency="critical").case.id
    leader = principal(s, w, "leader_a")
    s.info["principal"] = leader
    order = [c.id for c in s.scalars(queues.statement(leader, "to_register"))]
    assert order == [early_critical, late_critical, urgent, early_normal, late_normal]
    pinned = [c.id for c in queues.critical(s, leader, ["to_register", "to_dispatch"])]
    assert pinned == [early_critical, late_critical]
    assert queues.critical(s, leader, []) == []
    s.info["principal"] = principal(s, w, "leader_b")
    assert queues.critical(s, s.info["principal"], ["to_register"]) == [], "another community sees none of them"
    s.info["principal"] = Principal.system("test")
    assert s.scalar(select(Case.step_basis).where(Case.id == urgent)) == "working"
