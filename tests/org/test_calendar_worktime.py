"""The working-time engine, with its own fixture holidays (not the seed): National Day week 2026-10-01..07
off, Sunday 2026-09-20 and Saturday 2026-10-10 make-up working days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from shiyu.org.calendar.worktime import TimeUnit, WorkCalendar

SH = ZoneInfo("Asia/Shanghai")
NATIONAL_DAY = frozenset(date(2026, 10, 1) + timedelta(days=i) for i in range(7))
MAKEUP = frozenset({date(2026, 9, 20), date(2026, 10, 10)})
HOUR = 3600.0


@pytest.fixture
def cal() -> WorkCalendar:
    return WorkCalendar(tz=SH, holidays=NATIONAL_DAY, makeup_days=MAKEUP)


def at(month: int, day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, month, day, hh, mm, tzinfo=SH)


def test_working_days(cal):
    assert cal.is_working_day(date(2026, 9, 14))  # Monday
    assert not cal.is_working_day(date(2026, 9, 19))  # Saturday
    assert cal.is_working_day(date(2026, 9, 20))  # Sunday, make-up day
    assert not cal.is_working_day(date(2026, 10, 5))  # Monday inside the holiday
    assert cal.is_working_day(date(2026, 10, 10))  # Saturday, make-up day
    assert not cal.is_working_day(date(2026, 10, 11))


def test_office_time(cal):
    assert cal.is_office_time(at(9, 14, 8, 30))
    assert not cal.is_office_time(at(9, 14, 12, 0))
    assert not cal.is_office_time(at(9, 14, 13, 59))
    assert not cal.is_office_time(at(9, 19, 10))


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (at(9, 14, 9), 1, at(9, 14, 10)),
        (at(9, 14, 11), 2, at(9, 14, 15)),  # skips the lunch break
        (at(9, 14, 11), 1, at(9, 14, 12)),  # lands on a closing time and stays there
        (at(9, 14, 11), 1.25, at(9, 14, 14, 15)),
        (at(9, 11, 16, 30), 3, at(9, 14, 10, 30)),  # Friday → Monday across the weekend
        (at(9, 30, 17), 1, at(10, 8, 9)),  # across the public holiday
        (at(9, 18, 17), 1, at(9, 20, 9)),  # Friday → the make-up Sunday
        (at(10, 9, 17), 1, at(10, 10, 9)),  # Friday → the make-up Saturday
        (at(9, 12, 10), 1, at(9, 14, 9, 30)),  # started on a Saturday
        (at(9, 14, 18), 0.5, at(9, 15, 9)),  # started in the evening
        (at(9, 14, 7), 1, at(9, 14, 9, 30)),  # started before opening
        (at(9, 14, 12, 30), 1, at(9, 14, 15)),  # started in the lunch break
        (at(10, 3, 10), 7, at(10, 8, 17, 30)),  # started inside the holiday
        (at(9, 14, 9), 7, at(9, 15, 9)),  # one full day of office time
        (at(9, 14, 9), 0, at(9, 14, 9)),
    ],
)
def test_add_working_hours(cal, start, hours, expected):
    result = cal.add_working_hours(start, hours)
    assert result == expected
    assert result.tzinfo == SH


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (at(9, 14, 10), 1, at(9, 15, 10)),  # inside office time: same clock time next working day
        (at(9, 14, 15, 45), 2, at(9, 16, 15, 45)),
        (at(9, 11, 18), 1, at(9, 14, 17, 30)),  # Friday evening: closing time of Monday
        (at(9, 12, 11), 1, at(9, 14, 17, 30)),  # Saturday: closing time of Monday
        (at(9, 14, 8, 30), 1, at(9, 14, 17, 30)),  # exactly at opening: the same day's closing
        (at(9, 14, 12, 30), 1, at(9, 15, 12)),  # lunch break: counting starts 14:00
        (at(9, 30, 10), 1, at(10, 8, 10)),  # over the public holiday
        (at(9, 29, 10), 3, at(10, 9, 10)),  # 30 Sep, 8 Oct, 9 Oct
        (at(9, 18, 10), 1, at(9, 20, 10)),  # onto the make-up Sunday
        (at(10, 9, 10), 1, at(10, 10, 10)),  # onto the make-up Saturday
        (at(9, 14, 10), 0.5, at(9, 14, 15, 30)),  # half a day = 3.5 office hours
        (at(9, 14, 10), 5, at(9, 20, 10)),  # Tue..Fri, then the make-up Sunday
    ],
)
def test_add_working_days(cal, start, days, expected):
    assert cal.add_working_days(start, days) == expected


def test_add_by_unit(cal):
    start = at(9, 14, 10)
    assert cal.add(start, 3, TimeUnit.WORKING_HOURS) == at(9, 14, 15)
    assert cal.add(start, 2, "working_days") == at(9, 16, 10)
    with pytest.raises(ValueError):
        cal.add(start, 2, "fortnights")


def test_working_seconds_between(cal):
    assert cal.working_seconds_between(at(9, 14, 11), at(9, 14, 15)) == 2 * HOUR
    assert cal.working_seconds_between(at(9, 14, 12), at(9, 14, 14)) == 0
    assert cal.working_seconds_between(at(9, 11, 17), at(9, 14, 9)) == 1 * HOUR
    assert cal.working_seconds_between(at(9, 30, 0), at(10, 9, 0)) == 2 * cal.day_seconds  # 30 Sep, 8 Oct
    assert cal.working_seconds_between(at(9, 19, 0), at(9, 21, 0)) == cal.day_seconds  # make-up Sunday
    assert cal.working_seconds_between(at(9, 14, 15), at(9, 14, 11)) == -2 * HOUR
    assert cal.working_seconds_between(at(9, 14, 11), at(9, 14, 11)) == 0


@pytest.mark.parametrize("hours", [0.01, 0.5, 1, 3.5, 7, 13.25, 40, 99.9])
def test_add_then_measure_returns_the_amount(cal, hours):
    start = at(9, 10, 6)
    for step in range(0, 24 * 14, 5):  # every 5 hours over two weeks, holiday and make-up days included
        s = start + timedelta(hours=step, minutes=7 * step)
        end = cal.add_working_hours(s, hours)
        assert cal.working_seconds_between(s, end) == pytest.approx(hours * HOUR, abs=1e-6)
        assert cal.working_seconds_between(s, end - timedelta(seconds=1)) < hours * HOUR


def test_days_and_hours_agree(cal):
    start = at(9, 28, 16, 20)
    assert cal.add_working_days(start, 3) == cal.add_working_hours(start, 3 * cal.day_seconds / HOUR)
    assert cal.working_seconds_between(start, cal.add_working_days(start, 3)) == 3 * cal.day_seconds


def test_a_thousand_working_hours(cal):
    start = at(1, 5, 9)
    end = cal.add_working_hours(start, 1000)
    assert cal.working_seconds_between(start, end) == 1000 * HOUR
    # 1000 h = 142 working days (28 weeks + 2 days → Wed 22 Jul 09:00) and 6 more hours.
    assert end == at(7, 22, 17)


def test_other_input_zones_and_output_zone(cal):
    start = datetime(2026, 9, 14, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    result = cal.add_working_hours(start, 1)
    assert result == at(9, 14, 10) and result.tzinfo == SH


def test_custom_periods_and_weekend():
    six_day = WorkCalendar(tz=SH, periods=((time(9), time(13)),), weekend=frozenset({6}))
    assert six_day.day_seconds == 4 * HOUR
    assert six_day.add_working_hours(at(9, 11, 12), 2) == at(9, 12, 10)  # Friday → Saturday


def test_clock_change_days_count_real_office_time():
    """Zone-generic: on 2026-03-29 Berlin skips 02:00–03:00, so 01:00–04:00 holds two office hours."""
    berlin = ZoneInfo("Europe/Berlin")
    cal = WorkCalendar(tz=berlin, periods=((time(1), time(4)),), weekend=frozenset())
    day = datetime(2026, 3, 29, 0, 0, tzinfo=berlin)
    assert cal.working_seconds_between(day, day + timedelta(days=1)) == 2 * HOUR
    result = cal.add_working_hours(day, 2.5)
    assert result == datetime(2026, 3, 30, 1, 30, tzinfo=berlin)
    autumn = datetime(2026, 10, 25, 0, 0, tzinfo=berlin)  # 03:00 → 02:00: four real hours
    assert cal.working_seconds_between(autumn, autumn + timedelta(days=1)) == 4 * HOUR
    assert cal.working_seconds_between(autumn, cal.add_working_hours(autumn, 3.5)) == 3.5 * HOUR


@pytest.mark.parametrize(
    "kwargs",
    [
        {"periods": ()},
        {"periods": ((time(12), time(9)),)},
        {"periods": ((time(8), time(12)), (time(11), time(13)))},
        {"periods": ((time(14), time(17)), (time(8), time(12)))},
        {"weekend": frozenset(range(7))},
        {"weekend": frozenset({7})},
        {"holidays": frozenset({date(2026, 9, 20)}), "makeup_days": frozenset({date(2026, 9, 20)})},
    ],
)
def test_invalid_calendars(kwargs):
    with pytest.raises(ValueError):
        WorkCalendar(tz=SH, **kwargs)


def test_refuses_naive_and_negative(cal):
    with pytest.raises(ValueError, match="naive"):
        cal.add_working_hours(datetime(2026, 9, 14, 9), 1)
    with pytest.raises(ValueError, match="naive"):
        cal.working_seconds_between(at(9, 14, 9), datetime(2026, 9, 14, 10))
    with pytest.raises(ValueError):
        cal.add_working_hours(at(9, 14, 9), -1)
    with pytest.raises(ValueError):
        cal.add_working_days(at(9, 14, 9), -1)
