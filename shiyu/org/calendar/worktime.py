"""Working-time arithmetic: the pure engine behind every deadline and every yellow/red warning.

A ``WorkCalendar`` is a value object (office periods, weekend days, public holidays, make-up working days,
time zone); the database copy lives in ``shiyu.org.calendar.models`` and is turned into this object by
``shiyu.org.calendar.service.load_calendar``. Nothing here touches the database, so the rules can be
tested exhaustively and reused by background jobs.

Definitions (all in the calendar's zone; every input and output is an aware datetime):

- A *working day* is a make-up working day (调休上班), or else a day that is neither a public holiday nor a
  weekend day.
- *Office time* is the union of the office periods (e.g. 08:30–12:00 and 14:00–17:30) on working days;
  ``working_seconds_between(a, b)`` is the office time inside ``[a, b)`` (negative when ``b < a``).
- ``add_working_hours(start, h)`` is the earliest instant ``t >= start`` with exactly ``h`` hours of office
  time inside ``[start, t)``. Started outside office time, counting begins at the next office period; a
  result that lands exactly on a closing time stays there (12:00, not 14:00).
- ``add_working_days(start, n)`` is ``add_working_hours(start, n × one working day's office time)``. Hence:
  started inside office time, the deadline is the same clock time on the n-th following working day;
  started in the evening, on a weekend or a holiday, it is the closing time of the n-th working day
  (reported Friday 18:00 with 1 working day → Monday 17:30); started exactly at an opening time, it is the
  closing time of the (n-1)-th following working day (Monday 08:30 + 1 day → Monday 17:30); started
  during the lunch break, counting begins at 14:00 and ends at the n-th following working day's 12:00.
  The same office time always separates start and deadline, so the elapsed fraction of a limit
  (``working_seconds_between(start, now) / limit``) is exact for both units.

Iteration is per calendar day (never per minute), so adding 1,000 working hours looks at ~180 days.

*Natural time* (自然小时/自然日) is the clock on the wall: weekends, holidays and nights count. A limit in
``natural_hours``/``natural_days`` is plain elapsed time (a natural day is 24 hours), for the matters that
cannot wait for Monday — a road collapse reported on Saturday night. ``add`` and ``seconds_between`` take the
basis (``TimeBasis``) and answer in it; the working-time methods above are unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum

SATURDAY, SUNDAY = 5, 6
DEFAULT_PERIODS = ((time(8, 30), time(12, 0)), (time(14, 0), time(17, 30)))


NATURAL_DAY_SECONDS = 86400.0


class TimeBasis(StrEnum):
    """What a limit counts: office time on working days, or every hour of the clock."""

    WORKING = "working"
    NATURAL = "natural"


class TimeUnit(StrEnum):
    WORKING_HOURS = "working_hours"
    WORKING_DAYS = "working_days"
    NATURAL_HOURS = "natural_hours"
    NATURAL_DAYS = "natural_days"

    @property
    def basis(self) -> TimeBasis:
        return TimeBasis.NATURAL if self in (TimeUnit.NATURAL_HOURS, TimeUnit.NATURAL_DAYS) else TimeBasis.WORKING

    @property
    def in_days(self) -> bool:
        return self in (TimeUnit.WORKING_DAYS, TimeUnit.NATURAL_DAYS)

    def in_basis(self, basis: TimeBasis | str) -> TimeUnit:
        """The unit of the same size (hours or days) counted in ``basis``."""
        if TimeBasis(basis) is TimeBasis.NATURAL:
            return TimeUnit.NATURAL_DAYS if self.in_days else TimeUnit.NATURAL_HOURS
        return TimeUnit.WORKING_DAYS if self.in_days else TimeUnit.WORKING_HOURS


@dataclass(frozen=True)
class WorkCalendar:
    """Office periods (local wall-clock ``(start, end)`` pairs, sorted, not overlapping), weekend weekdays
    (Monday = 0), public holidays and make-up working days, in zone ``tz``."""

    tz: tzinfo
    periods: tuple[tuple[time, time], ...] = DEFAULT_PERIODS
    holidays: frozenset[date] = frozenset()
    makeup_days: frozenset[date] = frozenset()
    weekend: frozenset[int] = frozenset({SATURDAY, SUNDAY})
    _day_seconds: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_periods(self.periods)
        if not self.weekend <= set(range(7)) or len(self.weekend) == 7:
            raise ValueError("weekend must be a proper subset of the weekdays 0..6")
        both = self.holidays & self.makeup_days
        if both:
            raise ValueError(f"dates both holiday and make-up working day: {sorted(both)}")
        nominal = sum(_clock_seconds(end) - _clock_seconds(start) for start, end in self.periods)
        object.__setattr__(self, "_day_seconds", float(nominal))

    @property
    def day_seconds(self) -> float:
        """Office seconds of one ordinary working day (wall-clock; the unit of ``working_days``)."""
        return self._day_seconds

    def is_working_day(self, day: date) -> bool:
        if day in self.makeup_days:
            return True
        return day not in self.holidays and day.weekday() not in self.weekend

    def is_office_time(self, at: datetime) -> bool:
        at = self._utc(at)
        return any(s <= at < e for s, e in self._office_spans(at.astimezone(self.tz).date()))

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        if hours < 0:
            raise ValueError("hours must not be negative")
        return self._add_seconds(start, hours * 3600)

    def add_working_days(self, start: datetime, days: float) -> datetime:
        if days < 0:
            raise ValueError("days must not be negative")
        return self._add_seconds(start, days * self.day_seconds)

    def add(self, start: datetime, amount: float, unit: TimeUnit | str) -> datetime:
        """A time limit given as ``amount`` of ``unit`` (how categories store them)."""
        if amount < 0:
            raise ValueError("amount must not be negative")
        return self.add_seconds(start, amount * self.unit_seconds(unit), TimeUnit(unit).basis)

    def unit_seconds(self, unit: TimeUnit | str) -> float:
        """One ``unit`` in seconds of its basis: a working day is one day's office time, a natural day 24 h."""
        unit = TimeUnit(unit)
        if not unit.in_days:
            return 3600.0
        return self.day_seconds if unit.basis is TimeBasis.WORKING else NATURAL_DAY_SECONDS

    def add_seconds(self, start: datetime, seconds: float, basis: TimeBasis | str) -> datetime:
        """The instant ``seconds`` of ``basis`` time after ``start``."""
        if TimeBasis(basis) is TimeBasis.NATURAL:
            return (self._utc(start) + timedelta(microseconds=round(seconds * 1_000_000))).astimezone(self.tz)
        return self._add_seconds(start, seconds)

    def seconds_between(self, a: datetime, b: datetime, basis: TimeBasis | str) -> float:
        """The ``basis`` time inside ``[a, b)`` (negative when ``b < a``)."""
        if TimeBasis(basis) is TimeBasis.NATURAL:
            return (self._utc(b) - self._utc(a)).total_seconds()
        return self.working_seconds_between(a, b)

    def working_seconds_between(self, a: datetime, b: datetime) -> float:
        a, b = self._utc(a), self._utc(b)
        if b < a:
            return -self.working_seconds_between(b, a)
        total = timedelta()
        for day in _days(a.astimezone(self.tz).date(), b.astimezone(self.tz).date()):
            for s, e in self._office_spans(day):
                lo, hi = max(s, a), min(e, b)
                if lo < hi:
                    total += hi - lo
        return total.total_seconds()

    def _add_seconds(self, start: datetime, seconds: float) -> datetime:
        start = self._utc(start)
        remaining = timedelta(microseconds=round(seconds * 1_000_000))
        if not remaining:
            return start.astimezone(self.tz)
        day = start.astimezone(self.tz).date()
        while True:
            for s, e in self._office_spans(day):
                lo = max(s, start)
                if lo >= e:
                    continue
                if remaining <= e - lo:
                    return (lo + remaining).astimezone(self.tz)
                remaining -= e - lo
            day += timedelta(days=1)

    def _office_spans(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """The day's office periods as UTC instants: comparing and subtracting in UTC stays right on days
        with a clock change, where local wall-clock comparisons would not."""
        if not self.is_working_day(day):
            return
        for s, e in self.periods:
            yield (datetime.combine(day, s, self.tz).astimezone(UTC),
                   datetime.combine(day, e, self.tz).astimezone(UTC))

    @staticmethod
    def _utc(at: datetime) -> datetime:
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("naive datetime refused: working time needs aware datetimes")
        return at.astimezone(UTC)


def check_periods(periods: Iterable[tuple[time, time]]) -> None:
    """Office periods must be non-empty, each start before its end, sorted and not overlapping."""
    items = list(periods)
    if not items:
        raise ValueError("at least one office period is required")
    previous_end: time | None = None
    for start, end in items:
        if start >= end:
            raise ValueError(f"office period {start:%H:%M}–{end:%H:%M} ends before it starts")
        if previous_end is not None and start < previous_end:
            raise ValueError(f"office period {start:%H:%M}–{end:%H:%M} overlaps or is out of order")
        previous_end = end


def _clock_seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)
