"""辖区案件: every case of the caller's area, filtered and sorted as the desk's table asks, and the same rows as
a spreadsheet.

The filters are ``service.CaseFilters`` (the API's list uses them too), read from a query string where an
empty value means "all" and a bad one is a ``ValidationFailed`` naming the field in Chinese and English —
pages show it above the form instead of an error page. A chosen major category includes its minor ones.
The sort keys are the table's columns; ties break on the newest report so pages never overlap. The page
counts its rows only up to ``search.COUNT_CAP`` (see ``shiyu.web.desk.area``). The export
(``export_rows``) runs the very statement the page ran, without the page window, up to ``EXPORT_LIMIT``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, select
from sqlalchemy.orm import Session

from shiyu.cases import service
from shiyu.cases.categories.models import Category
from shiyu.cases.models import Case, CaseState, Channel
from shiyu.core.errors import ValidationFailed

EXPORT_LIMIT = 10000
URGENCY_RANK = {"critical": 0, "urgent": 1, "normal": 2}
SORTS: dict[str, Any] = {
    "code": Case.tracking_code,
    "category": Case.category_id,
    "area": Case.area_path,
    "channel": Case.channel,
    "state": Case.state,
    "department": Case.main_department_id,
    "due": Case.step_due_at,
    "urgency": case(URGENCY_RANK, value=Case.urgency, else_=3),
    "reported": Case.reported_at,
}
DEFAULT_SORT = "reported"
# Only these may be empty; the others keep a plain ORDER BY, which their b-tree index can serve backwards.
NULLABLE_SORTS = frozenset({"department", "due"})
# The query-string names of the filters, in the order the form shows them (saved filters keep only these).
FILTER_KEYS = ("state", "category", "area", "channel", "from", "to", "overdue", "department")


@dataclass
class Listing:
    filters: service.CaseFilters
    sort: str = DEFAULT_SORT
    descending: bool = True
    category_ids: list[int] = field(default_factory=list)


def _bad(key: str, zh: str, en: str) -> ValidationFailed:
    return ValidationFailed("bad_filter", zh, en, detail={"field": key})


def _int(params: Mapping[str, str], key: str, zh: str) -> int | None:
    raw = (params.get(key) or "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise _bad(key, f"{zh}选择有误，请重新选择", f"The chosen {key} is not valid")
    return int(raw)


def _day(params: Mapping[str, str], key: str, zh: str) -> date | None:
    raw = (params.get(key) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise _bad(key, f"{zh}应为日期，如 2026-12-01", f"{key} must be a date such as 2026-12-01") from None


def parse(session: Session, params: Mapping[str, str], states: list[str], tz: ZoneInfo) -> Listing:
    """The listing a query string asks for. ``states`` are the repeated ``state`` values."""
    wrong = [s for s in states if s and s not in CaseState.__members__.values()]
    if wrong:
        raise _bad("state", "状态选择有误，请重新选择", "Unknown state")
    channel = (params.get("channel") or "").strip()
    if channel and channel not in Channel.__members__.values():
        raise _bad("channel", "来源选择有误，请重新选择", "Unknown channel")
    overdue = (params.get("overdue") or "").strip()
    if overdue not in ("", "yes", "no"):
        raise _bad("overdue", "超期条件有误，请重新选择", "Overdue must be yes or no")
    start, end = _day(params, "from", "开始日期"), _day(params, "to", "结束日期")
    if start and end and end < start:
        raise _bad("to", "结束日期不能早于开始日期", "The end date is before the start date")
    sort = (params.get("sort") or DEFAULT_SORT).strip()
    if sort not in SORTS:
        raise _bad("sort", "排序方式有误", "Unknown sort")
    category = _int(params, "category", "类别")
    filters = service.CaseFilters(
        state=[s for s in states if s] or None,
        area_id=_int(params, "area", "社区/网格"),
        channel=channel or None,
        reported_from=datetime.combine(start, time(), tz) if start else None,
        reported_to=datetime.combine(end + timedelta(days=1), time(), tz) if end else None,
        overdue={"yes": True, "no": False}.get(overdue),
        department_id=_int(params, "department", "部门"),
    )
    ids = _category_subtree(session, category) if category is not None else []
    return Listing(filters, sort, (params.get("dir") or "desc") != "asc", ids)


def _category_subtree(session: Session, category_id: int) -> list[int]:
    rows = session.execute(select(Category.id).where(
        (Category.id == category_id) | (Category.parent_id == category_id))).scalars().all()
    if not rows:
        raise _bad("category", "类别选择有误，请重新选择", "Unknown category")
    return list(rows)


def statement(session: Session, listing: Listing) -> Select[Any]:
    """The cases, sorted (the scope listener adds the caller's scope)."""
    stmt = service.filtered(session, listing.filters).order_by(None)
    if listing.category_ids:
        stmt = stmt.where(Case.category_id.in_(listing.category_ids))
    key = SORTS[listing.sort]
    primary = key.desc() if listing.descending else key.asc()
    if listing.sort in NULLABLE_SORTS:  # cases without a deadline or a department come last either way
        primary = primary.nulls_last()
    return stmt.order_by(primary, Case.reported_at.desc(), Case.id.desc())


def export_rows(session: Session, listing: Listing) -> tuple[list[Case], bool]:
    """What the page lists, every page of it, up to ``EXPORT_LIMIT`` rows (and whether there were more)."""
    rows = list(session.scalars(statement(session, listing).limit(EXPORT_LIMIT + 1)))
    return rows[:EXPORT_LIMIT], len(rows) > EXPORT_LIMIT

