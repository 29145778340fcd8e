"""The periods a report covers: an ISO week (``2026-W48``, Monday..Sunday) or a calendar month (``2026-11``),
in the city's local days, and the period before it for 环比 (the previous week, the previous month).

Text from a command line or a form is parsed strictly: anything else is a ``ValidationFailed`` whose
Chinese message shows the expected form, so a typo never becomes a traceback or a silently wrong week.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from shiyu.cases.indicators.definitions import Period
from shiyu.core.errors import ValidationFailed

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
FIRST_YEAR, LAST_YEAR = 2000, 2100


class Kind(StrEnum):
    WEEKLY = "weekly"  # 周报
    MONTHLY = "monthly"  # 月报


KIND_ZH = {Kind.WEEKLY: "周报", Kind.MONTHLY: "月报"}
KIND_EN = {Kind.WEEKLY: "weekly report", Kind.MONTHLY: "monthly report"}


@dataclass(frozen=True)
class ReportPeriod:
    kind: Kind
    start: date
    end: date  # included

    @property
    def label(self) -> str:
        """``2026-W48`` or ``2026-11``: the form the command line takes and file names carry."""
        if self.kind is Kind.WEEKLY:
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def title_zh(self) -> str:
        if self.kind is Kind.WEEKLY:
            year, week, _ = self.start.isocalendar()
            return (f"{year}年第{week}周（{self.start.month}月{self.start.day}日—"
                    f"{self.end.month}月{self.end.day}日）")
        return f"{self.start.year}年{self.start.month}月"

    @property
    def span(self) -> Period:
        return Period(self.start, self.end)

    def previous(self) -> ReportPeriod:
        if self.kind is Kind.WEEKLY:
            return week_of(self.start - timedelta(days=7))
        return month_of(self.start - timedelta(days=1))

    def days(self) -> list[date]:
        return self.span.days()


def week_of(day: date) -> ReportPeriod:
    monday = day - timedelta(days=day.weekday())
    return ReportPeriod(Kind.WEEKLY, monday, monday + timedelta(days=6))


def month_of(day: date) -> ReportPeriod:
    first = day.replace(day=1)
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return ReportPeriod(Kind.MONTHLY, first, following - timedelta(days=1))


def current(kind: Kind, today: date) -> ReportPeriod:
    """The period ``today`` lies in (this week so far, this month so far)."""
    return week_of(today) if kind is Kind.WEEKLY else month_of(today)


def last_complete(kind: Kind, today: date) -> ReportPeriod:
    """The last period that ended before ``today``."""
    return current(kind, today).previous()


def parse(kind: Kind | str, text: str) -> ReportPeriod:
    kind = Kind(kind)
    value = (text or "").strip().upper() if kind is Kind.WEEKLY else (text or "").strip()
    if kind is Kind.WEEKLY:
        m = _WEEK.match(value)
        if m and FIRST_YEAR <= int(m[1]) <= LAST_YEAR:
            try:
                return week_of(date.fromisocalendar(int(m[1]), int(m[2]), 1))
            except ValueError:
                pass
        raise ValidationFailed("report_week_invalid", "周的格式应为 YYYY-Www（ISO 周，例如 2026-W48），收到“{text}”",
                               "A week is written YYYY-Www (ISO week, e.g. 2026-W48); got '{text}'",
                               detail={"field": "week"}, text=text)
    m = _MONTH.match(value)
    if m and FIRST_YEAR <= int(m[1]) <= LAST_YEAR and 1 <= int(m[2]) <= 12:
        return month_of(date(int(m[1]), int(m[2]), 1))
    raise ValidationFailed("report_month_invalid", "月份的格式应为 YYYY-MM（例如 2026-11），收到“{text}”",
                           "A month is written YYYY-MM (e.g. 2026-11); got '{text}'", detail={"field": "month"},
                           text=text)
