"""The time limits of a petition, as data: defaults from 《信访工作条例》(2022), each changeable per city
(``petition_time_limit``), counted on the city calendar (``shiyu.org.calendar``).

The regulation counts its limits in 日 (days) without saying 工作日, so the defaults are natural days: a
weekend or a holiday counts. A city that counts working days changes the unit. Which figures were checked
against the text, and which are configurable defaults, is in docs/petitions.md ("Time limits").

Yellow (a warning) at ``WARN_AT`` of a limit, as for cases; red once the limit has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.core.errors import ValidationFailed
from shiyu.core.scoping import Principal, require_citywide
from shiyu.core.timeutil import utcnow
from shiyu.org.calendar.service import load_calendar
from shiyu.org.calendar.worktime import TimeUnit
from shiyu.petitions.models import CONFIGURE, TimeLimit

WARN_AT = 0.8
UNITS = (TimeUnit.NATURAL_DAYS, TimeUnit.WORKING_DAYS)


class Limit(StrEnum):
    ACCEPT = "accept"  # 是否受理的决定（告知）
    HANDLE = "handle"  # 受理后办结
    EXTEND = "extend"  # 延长办理期限（至多一次）
    REVIEW_REQUEST = "review_request"  # 收到处理意见后请求复查
    REVIEW = "review"  # 提出复查意见
    RE_REVIEW_REQUEST = "re_review_request"  # 收到复查意见后请求复核
    RE_REVIEW = "re_review"  # 提出复核意见


@dataclass(frozen=True)
class Figure:
    amount: int
    unit: TimeUnit


DEFAULTS: dict[Limit, Figure] = {
    Limit.ACCEPT: Figure(15, TimeUnit.NATURAL_DAYS),
    Limit.HANDLE: Figure(60, TimeUnit.NATURAL_DAYS),
    Limit.EXTEND: Figure(30, TimeUnit.NATURAL_DAYS),
    Limit.REVIEW_REQUEST: Figure(30, TimeUnit.NATURAL_DAYS),
    Limit.REVIEW: Figure(30, TimeUnit.NATURAL_DAYS),
    Limit.RE_REVIEW_REQUEST: Figure(30, TimeUnit.NATURAL_DAYS),
    Limit.RE_REVIEW: Figure(30, TimeUnit.NATURAL_DAYS),
}


def current(session: Session) -> dict[Limit, Figure]:
    """Every limit: the city's figure where it set one, else the default."""
    rows = {r.key: r for r in session.scalars(select(TimeLimit))}
    return {k: Figure(rows[k].amount, TimeUnit(rows[k].unit)) if k in rows else d for k, d in DEFAULTS.items()}


def set_limit(session: Session, principal: Principal, key: str, amount: int, unit: str) -> dict[Limit, Figure]:
    """A city's own figure for one limit (city-wide: every district's petitions count with it)."""
    require_citywide(principal, CONFIGURE)
    if key not in Limit.__members__.values():
        raise ValidationFailed("unknown_limit", "没有该时限", "No such time limit", detail={"field": "key"})
    if unit not in UNITS:
        raise ValidationFailed("unknown_unit", "时限单位须为自然日或工作日", "The unit is natural or working days",
                               detail={"field": "unit"})
    row = session.get(TimeLimit, key)
    if row is None:
        row = TimeLimit(key=key, amount=amount, unit=unit, updated_at=utcnow())
        session.add(row)
    else:
        row.amount, row.unit, row.updated_at = amount, unit, utcnow()
    session.flush()
    return current(session)


def due(session: Session, tz: ZoneInfo, start: datetime, key: Limit, figures: dict[Limit, Figure] | None = None,
        ) -> datetime:
    """``start`` plus the limit ``key`` on the city calendar."""
    figure = (figures or current(session))[key]
    return load_calendar(session, tz).add(start, figure.amount, figure.unit)


def warn_at(started: datetime, due_at: datetime) -> datetime:
    """The instant a clock from ``started`` to ``due_at`` turns yellow."""
    return started + (due_at - started) * WARN_AT


def colour(started: datetime | None, due_at: datetime | None, now: datetime) -> str:
    """green, yellow (past ``WARN_AT`` of the limit) or red (past the limit); "" when no clock runs."""
    if started is None or due_at is None:
        return ""
    if now > due_at:
        return "red"
    span = (due_at - started).total_seconds()
    return "yellow" if span <= 0 or (now - started).total_seconds() >= WARN_AT * span else "green"
