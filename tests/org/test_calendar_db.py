"""The calendar as data: office hours, year overrides, the cached loader, the seed, who may edit."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from shiyu.core.errors import Forbidden, ValidationFailed
from shiyu.core.scoping import GrantScope, Principal
from shiyu.org.calendar import service as svc
from shiyu.org.calendar.models import CalendarDay, DayKind
from shiyu.org.calendar.schemas import DayRange, OfficeHours, Period
from shiyu.org.calendar.seed import seed_calendar
from shiyu.org.calendar.worktime import TimeUnit
from shiyu.org.identity.roles import permissions_of
from shiyu.org.identity.service import principal_for
from tests.factories import populated

SH = ZoneInfo("Asia/Shanghai")
SYSTEM = Principal.system("test")
H, W = DayKind.HOLIDAY, DayKind.WORKDAY


def national_day() -> list[DayRange]:
    return [
        DayRange(start=date(2026, 9, 20), kind=W, name_zh="国庆调休", name_en="make-up"),
        DayRange(start=date(2026, 10, 1), end=date(2026, 10, 7), kind=H, name_zh="国庆节", name_en="National Day"),
        DayRange(start=date(2026, 10, 10), kind=W, name_zh="国庆调休", name_en="make-up"),
    ]


def test_office_hours_default_then_changed(system_session):
    s = system_session
    default = svc.get_office_hours(s)
    assert [(p.start, p.end) for p in default.periods] == [(time(8, 30), time(12)), (time(14), time(17, 30))]
    assert default.weekend == [5, 6]
    changed = svc.set_office_hours(
        s, SYSTEM, OfficeHours(periods=[Period(start=time(9), end=time(12)), Period(start=time(13), end=time(18))],
                               weekend=[6, 6]),
    )
    s.commit()
    assert [(p.start, p.end) for p in changed.periods] == [(time(9), time(12)), (time(13), time(18))]
    assert svc.get_office_hours(s).weekend == [6]
    cal = svc.load_calendar(s, SH)
    assert cal.day_seconds == 8 * 3600 and cal.is_working_day(date(2026, 9, 12))  # Saturday now works


@pytest.mark.parametrize(
    ("periods", "weekend", "code"),
    [
        ([(time(12), time(9))], [5, 6], "office_periods_invalid"),
        ([(time(8), time(12)), (time(11), time(13))], [5, 6], "office_periods_invalid"),
        ([(time(8), time(12))], [7], "weekend_invalid"),
    ],
)
def test_office_hours_refused(system_session, periods, weekend, code):
    body = OfficeHours(periods=[Period(start=a, end=b) for a, b in periods], weekend=weekend)
    with pytest.raises(ValidationFailed) as err:
        svc.set_office_hours(system_session, SYSTEM, body)
    assert err.value.code == code


def test_year_ranges_round_trip(system_session):
    s = system_session
    out = svc.replace_year(s, SYSTEM, 2026, national_day())
    s.commit()
    assert [(r.start, r.end, r.kind) for r in out] == [
        (date(2026, 9, 20), date(2026, 9, 20), W),
        (date(2026, 10, 1), date(2026, 10, 7), H),
        (date(2026, 10, 10), date(2026, 10, 10), W),
    ]
    assert s.scalar(select(CalendarDay.name_en).where(CalendarDay.day == date(2026, 10, 4))) == "National Day"
    assert svc.year_ranges(s, 2025) == []


def test_replace_year_writes_only_the_difference(system_session):
    s = system_session
    svc.replace_year(s, SYSTEM, 2026, national_day())
    s.commit()
    kept_id = s.scalar(select(CalendarDay.id).where(CalendarDay.day == date(2026, 10, 1)))
    shorter = national_day()[:2]
    shorter[1] = DayRange(start=date(2026, 10, 1), end=date(2026, 10, 3), kind=H, name_zh="国庆节")
    svc.replace_year(s, SYSTEM, 2026, shorter)
    s.commit()
    days = {d.day: d for d in s.scalars(select(CalendarDay))}
    assert sorted(days) == [date(2026, 9, 20), date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 3)]
    assert days[date(2026, 10, 1)].id == kept_id and days[date(2026, 10, 1)].name_en == ""


@pytest.mark.parametrize(
    ("ranges", "code"),
    [
        ([DayRange(start=date(2026, 10, 7), end=date(2026, 10, 1), kind=H)], "calendar_range_reversed"),
        ([DayRange(start=date(2026, 12, 31), end=date(2027, 1, 1), kind=H)], "calendar_range_outside_year"),
        ([DayRange(start=date(2025, 12, 31), kind=H)], "calendar_range_outside_year"),
        ([DayRange(start=date(2026, 10, 1), end=date(2026, 10, 3), kind=H), DayRange(start=date(2026, 10, 3), kind=H)],
         "calendar_day_repeated"),
        ([DayRange(start=date(2026, 10, 9), kind=W)], "calendar_workday_not_weekend"),  # a Friday
    ],
)
def test_replace_year_refused(system_session, ranges, code):
    with pytest.raises(ValidationFailed) as err:
        svc.replace_year(system_session, SYSTEM, 2026, ranges)
    assert err.value.code == code


def test_loader_builds_caches_and_notices_changes(system_session, factory):
    s = system_session
    svc.replace_year(s, SYSTEM, 2026, national_day())
    s.commit()
    cal = svc.load_calendar(s, SH)
    assert not cal.is_working_day(date(2026, 10, 5)) and cal.is_working_day(date(2026, 9, 20))
    assert svc.load_calendar(s, SH) is cal  # unchanged data: the cached object
    with factory() as other:  # another session (as another process would) changes the data
        other.info["principal"] = SYSTEM
        svc.replace_year(other, SYSTEM, 2026, national_day()[1:2])
        other.commit()
    s.expire_all()
    fresh = svc.load_calendar(s, SH)
    assert fresh is not cal and not fresh.is_working_day(date(2026, 9, 20))
    assert fresh.tz == SH and svc.load_calendar(s, ZoneInfo("UTC")).tz == ZoneInfo("UTC")


def test_deadline_service(system_session):
    s = system_session
    svc.replace_year(s, SYSTEM, 2026, national_day())
    start = datetime(2026, 9, 30, 16, 30, tzinfo=SH)
    result = svc.deadline(s, SH, start, 2, TimeUnit.WORKING_HOURS)
    assert result.deadline == datetime(2026, 10, 8, 9, 30, tzinfo=SH)
    assert result.working_seconds == 7200


def test_seed_is_the_2026_notice_and_idempotent(system_session):
    s = system_session
    seed_calendar(s)
    s.commit()
    ranges = svc.year_ranges(s, 2026)
    assert ("国庆节", date(2026, 10, 1), date(2026, 10, 7)) in [(r.name_zh, r.start, r.end) for r in ranges]
    cal = svc.load_calendar(s, SH)
    assert cal.is_working_day(date(2026, 2, 14)) and not cal.is_working_day(date(2026, 2, 23))
    count = len(list(s.scalars(select(CalendarDay))))
    assert count == 33 + 6  # 33 days off, 6 make-up working days
    svc.replace_year(s, SYSTEM, 2026, [DayRange(start=date(2026, 1, 1), kind=H, name_zh="元旦")])
    s.commit()
    seed_calendar(s)  # an edited year is left alone
    assert len(list(s.scalars(select(CalendarDay)))) == 1


def test_only_citywide_editors_change_the_calendar(system_session):
    s = system_session
    w = populated(s)
    leader = principal_for(w.users["leader_a"])
    with pytest.raises(Forbidden):
        svc.replace_year(s, leader, 2026, national_day())
    grant = GrantScope("admin", w.community_a.area_path)
    community_admin = Principal(user_id=None, username="admin_a", grants=(grant,), permissions_of=permissions_of)
    with pytest.raises(Forbidden):
        svc.set_office_hours(s, community_admin, svc.get_office_hours(s))
    admin = principal_for(w.users["admin"])
    assert svc.replace_year(s, admin, 2026, national_day())
