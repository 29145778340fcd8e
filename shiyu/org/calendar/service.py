"""Reading and writing the working-time calendar, and building the ``WorkCalendar`` value object from it.

``load_calendar`` keeps the built calendar per database and zone (``shiyu.core.refcache``): the settings
row's ``revision`` is re-read at most once a second, so every process sees a change within that time and
none rebuilds the calendar on every deadline computation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from uuid import uuid4
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shiyu.core.errors import ValidationFailed
from shiyu.core.refcache import ReferenceCache
from shiyu.core.scoping import Principal, require_citywide
from shiyu.org.calendar.models import CalendarDay, CalendarSettings, DayKind
from shiyu.org.calendar.schemas import DayRange, OfficeHours, Period
from shiyu.org.calendar.worktime import DEFAULT_PERIODS, SATURDAY, SUNDAY, TimeUnit, WorkCalendar, check_periods

SETTINGS_ID = 1
EDIT = "calendar.edit"


def _hhmm(t: time) -> str:
    return t.strftime("%H:%M")


def _settings(session: Session) -> CalendarSettings | None:
    return session.get(CalendarSettings, SETTINGS_ID)


def _settings_for_write(session: Session) -> CalendarSettings:
    row = _settings(session)
    if row is None:
        row = CalendarSettings(
            id=SETTINGS_ID,
            periods=[[_hhmm(s), _hhmm(e)] for s, e in DEFAULT_PERIODS],
            weekend=[SATURDAY, SUNDAY],
            revision="",
        )
        session.add(row)
    row.revision = uuid4().hex
    return row


def get_office_hours(session: Session) -> OfficeHours:
    row = _settings(session)
    if row is None:
        pairs = [(s, e) for s, e in DEFAULT_PERIODS]
        weekend = [SATURDAY, SUNDAY]
    else:
        pairs = [(time.fromisoformat(s), time.fromisoformat(e)) for s, e in row.periods]
        weekend = list(row.weekend)
    return OfficeHours(periods=[Period(start=s, end=e) for s, e in pairs], weekend=weekend)


def set_office_hours(session: Session, principal: Principal, data: OfficeHours) -> OfficeHours:
    require_citywide(principal, EDIT)
    pairs = [(p.start.replace(microsecond=0), p.end.replace(microsecond=0)) for p in data.periods]
    try:
        check_periods(pairs)
    except ValueError as exc:
        raise ValidationFailed(
            "office_periods_invalid", "办公时段须按时间先后排列、互不重叠且开始早于结束",
            "Office periods must be in order, not overlap, and each start before it ends",
            detail={"field": "periods", "reason": str(exc)},
        ) from exc
    weekend = sorted(set(data.weekend))
    if any(d not in range(7) for d in weekend):
        raise ValidationFailed(
            "weekend_invalid", "周末须为 0（周一）至 6（周日）之间的数字", "Weekend days are numbers 0 (Monday) to 6",
            detail={"field": "weekend"},
        )
    row = _settings_for_write(session)
    row.periods = [[_hhmm(s), _hhmm(e)] for s, e in pairs]
    row.weekend = weekend
    session.flush()
    return get_office_hours(session)


def year_ranges(session: Session, year: int) -> list[DayRange]:
    """The overrides of ``year``, consecutive days of the same kind and name grouped into one range."""
    rows = session.scalars(
        select(CalendarDay)
        .where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
        .order_by(CalendarDay.day)
    )
    ranges: list[DayRange] = []
    for row in rows:
        last = ranges[-1] if ranges else None
        if (
            last is not None
            and last.end == row.day - timedelta(days=1)
            and (last.kind, last.name_zh, last.name_en) == (row.kind, row.name_zh, row.name_en)
        ):
            last.end = row.day
        else:
            ranges.append(DayRange(start=row.day, end=row.day, kind=DayKind(row.kind), name_zh=row.name_zh,
                                   name_en=row.name_en))
    return ranges


def replace_year(session: Session, principal: Principal, year: int, ranges: Sequence[DayRange]) -> list[DayRange]:
    """Make ``ranges`` the complete list of overrides of ``year`` (days not listed become ordinary)."""
    require_citywide(principal, EDIT)
    apply_year(session, year, ranges)
    return year_ranges(session, year)


def apply_year(session: Session, year: int, ranges: Sequence[DayRange]) -> None:
    """The write behind ``replace_year``, without the permission check (the seed uses it).
    Only changed days are written, so the audit log shows what an edit really changed."""
    wanted = _expand(session, year, ranges)
    existing = {
        row.day: row
        for row in session.scalars(
            select(CalendarDay).where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
        )
    }
    for day, row in existing.items():
        if day not in wanted:
            session.delete(row)
    for day, (kind, name_zh, name_en) in wanted.items():
        current = existing.get(day)
        if current is None:
            session.add(CalendarDay(day=day, kind=kind, name_zh=name_zh, name_en=name_en))
        else:
            current.kind, current.name_zh, current.name_en = kind, name_zh, name_en
    _settings_for_write(session)
    session.flush()


@dataclass(frozen=True)
class YearImport:
    """What loading a year's arrangement does: the ranges read, how many days become (or change as) holidays
    or make-up working days, and how many overrides of the year go away."""

    year: int
    ranges: list[DayRange]
    changed: int
    removed: int
    dry_run: bool


def import_year(session: Session, principal: Principal, year: int, ranges: Sequence[DayRange], *,
                dry_run: bool) -> YearImport:
    """Check ``ranges`` as ``replace_year`` would and count what they change; write them unless ``dry_run``."""
    require_citywide(principal, EDIT)
    wanted = _expand(session, year, ranges)
    current = {row.day: (row.kind, row.name_zh, row.name_en) for row in session.scalars(
        select(CalendarDay).where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)))}
    changed = sum(1 for day, value in wanted.items() if current.get(day) != value)
    removed = sum(1 for day in current if day not in wanted)
    if not dry_run:
        apply_year(session, year, ranges)
    return YearImport(year, list(ranges), changed, removed, dry_run)


def _expand(session: Session, year: int, ranges: Sequence[DayRange]) -> dict[date, tuple[str, str, str]]:
    weekend = set(get_office_hours(session).weekend)
    days: dict[date, tuple[str, str, str]] = {}
    for index, r in enumerate(ranges):
        end = r.end or r.start
        where = {"index": index, "start": r.start.isoformat(), "end": end.isoformat()}
        if end < r.start:
            raise ValidationFailed("calendar_range_reversed", "日期范围的结束早于开始",
                                   "The range ends before it starts", detail=where)
        if r.start.year != year or end.year != year:
            raise ValidationFailed("calendar_range_outside_year", "日期须在 {year} 年内",
                                   "Dates must lie within {year}", detail=where, year=year)
        day = r.start
        while day <= end:
            if day in days:
                raise ValidationFailed("calendar_day_repeated", "日期 {day} 出现了不止一次",
                                       "The date {day} is listed more than once", detail=where, day=day)
            if r.kind is DayKind.WORKDAY and day.weekday() not in weekend:
                raise ValidationFailed("calendar_workday_not_weekend", "调休上班日 {day} 不是周末",
                                       "The make-up working day {day} is not a weekend day", detail=where, day=day)
            days[day] = (r.kind.value, r.name_zh, r.name_en)
            day += timedelta(days=1)
    return days


@dataclass(frozen=True)
class _CalendarData:
    """What the rows say, before a zone is applied."""

    periods: tuple[tuple[time, time], ...]
    holidays: frozenset[date]
    makeup_days: frozenset[date]
    weekend: frozenset[int]


def _revision(session: Session) -> str | None:
    """Every write stamps a fresh revision; without a settings row (nothing written yet) there is none,
    and then the days are counted too, so rows written around the service are still seen."""
    revision = session.scalar(select(CalendarSettings.revision).where(CalendarSettings.id == SETTINGS_ID))
    return revision if revision is not None else f"none:{session.scalar(select(func.count(CalendarDay.day)))}"


def _read(session: Session) -> _CalendarData:
    hours = get_office_hours(session)
    holidays: set[date] = set()
    makeup: set[date] = set()
    for day, kind in session.execute(select(CalendarDay.day, CalendarDay.kind)):
        (makeup if kind == DayKind.WORKDAY else holidays).add(day)
    return _CalendarData(tuple((p.start, p.end) for p in hours.periods), frozenset(holidays), frozenset(makeup),
                         frozenset(hours.weekend))


CALENDARS: ReferenceCache[_CalendarData] = ReferenceCache("calendar", _revision, _read)


@lru_cache(maxsize=16)
def _build(data: _CalendarData, tz: ZoneInfo) -> WorkCalendar:
    return WorkCalendar(tz=tz, periods=data.periods, holidays=data.holidays, makeup_days=data.makeup_days,
                        weekend=data.weekend)


def load_calendar(session: Session, tz: ZoneInfo) -> WorkCalendar:
    """The city's ``WorkCalendar`` in zone ``tz``, rebuilt only when the calendar data changes."""
    return _build(CALENDARS.get(session), tz)


@dataclass(frozen=True)
class Deadline:
    start: datetime
    amount: float
    unit: TimeUnit
    deadline: datetime
    working_seconds: float


def deadline(session: Session, tz: ZoneInfo, start: datetime, amount: float, unit: TimeUnit) -> Deadline:
    """``amount`` of ``unit`` added to ``start`` on the city calendar (what the UI shows next to a limit)."""
    calendar = load_calendar(session, tz)
    due = calendar.add(start, amount, unit)
    return Deadline(start.astimezone(tz), amount, unit, due, calendar.working_seconds_between(start, due))
