"""当前态势: what stands *now* in a leader's area — today's new and closed cases, the cases in progress,
overdue, on yellow warning and under supervision — with the streets (or the level below) and the
departments ranked by their overdue cases, and the hottest issues.

Unlike the indicators (a cohort of the cases *reported* in a period, see ``shiyu.cases.indicators``), these
figures describe the moment they are read, so "超期" here is the same number as the desk's 超期 queue: the
open cases whose running step the deadline scan marked red (``workflow.queues``). "Today" is the city's
local day from 00:00 to the moment of reading; the page says "截至 HH:MM".

Every figure is a predicate over the case row (``predicate``); the count (``counts``) and the list of the
cases behind a number (``statement``) are built from the same predicate and the same area and department
filters, so a drill-down always lists exactly the cases counted. All reads go through the caller's scoped
session; the rankings only name areas lying wholly inside the caller's ``case.view`` grants.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session

from shiyu.cases.indicators import service as indicators
from shiyu.cases.models import OPEN_STATES, Case, CaseState
from shiyu.cases.workflow import queues
from shiyu.cases.workflow.deadlines import Alert
from shiyu.core.errors import NotFound
from shiyu.core.scoping import Principal
from shiyu.org.areas.models import Area, AreaLevel
from shiyu.org.units.models import Department
from shiyu.triage.hot.models import HotIssue, HotIssueStatus

VIEW = "case.view"
UNSCOPED = {"unscoped": True}
FIGURES = ("new_today", "closed_today", "in_progress", "overdue", "warning", "supervised")
LABELS = {
    "new_today": ("今日新增", "new today"), "closed_today": ("今日办结", "closed today"),
    "in_progress": ("当前在办", "in progress"), "overdue": ("当前超期", "overdue now"),
    "warning": ("黄灯预警", "yellow warning"), "supervised": ("督办中", "supervised"),
}
# The level ranked under an area: a city or district leader compares streets, below that the next level.
RANK_LEVEL = {AreaLevel.CITY: AreaLevel.STREET, AreaLevel.DISTRICT: AreaLevel.STREET,
              AreaLevel.STREET: AreaLevel.COMMUNITY, AreaLevel.COMMUNITY: AreaLevel.GRID}
INDICATOR_LEVEL = {AreaLevel.STREET: indicators.RankLevel.STREET, AreaLevel.COMMUNITY: indicators.RankLevel.COMMUNITY,
                   AreaLevel.GRID: indicators.RankLevel.GRID}
HOT_TOP = 5


@dataclass(frozen=True)
class Moment:
    """The instant of reading and the city's zone: "today" is the local day up to ``at``."""

    at: datetime
    tz: ZoneInfo

    def today(self) -> tuple[datetime, datetime]:
        local = self.at.astimezone(self.tz)
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return start, start + timedelta(days=1)

    @property
    def local(self) -> datetime:
        return self.at.astimezone(self.tz)


def _open() -> ColumnElement[bool]:
    return Case.state.in_([s.value for s in OPEN_STATES])


def predicate(name: str, moment: Moment) -> ColumnElement[bool]:
    """The figure ``name`` as a condition on one case row; an unknown name is a 404."""
    start, end = moment.today()
    everyone = Principal.system("situation")  # the watch lists do not depend on who reads them
    conditions: dict[str, Any] = {
        "new_today": and_(Case.reported_at >= start, Case.reported_at < end),
        "closed_today": and_(Case.state == CaseState.CLOSED.value, Case.closed_at >= start, Case.closed_at < end),
        "in_progress": _open(),
        "overdue": queues.queue("overdue").where(everyone),
        "warning": and_(_open(), Case.step_alert == Alert.WARNED),
        "supervised": queues.queue("supervised").where(everyone),
    }
    if name not in conditions:
        raise NotFound("unknown_figure", "没有这个态势指标", "No such figure", detail={"figure": name})
    return conditions[name]  # type: ignore[no-any-return]


def area_in_grants(session: Session, principal: Principal, area_id: int) -> Area:
    """An area the caller may watch (inside a ``case.view`` grant); any other id is a 404."""
    area = session.get(Area, area_id, execution_options=UNSCOPED)
    if area is None or not principal.can(VIEW, area.area_path):
        raise NotFound(detail={"object": "area", "id": area_id})
    return area


@dataclass(frozen=True)
class Slice:
    """Which of an area's cases the figures count, as the command view's filter bar chose: a category with
    its subcategories (``category_ids``) and a channel; None is all of them."""

    category_ids: tuple[int, ...] | None = None
    channel: str | None = None

    def query(self) -> dict[str, Any]:
        """The slice as the parameters of a drill-down link (the chosen category is the first id)."""
        out: dict[str, Any] = {}
        if self.category_ids:
            out["category_id"] = self.category_ids[0]
        if self.channel:
            out["channel"] = self.channel
        return out


ALL = Slice()


def _where(area: Area, department_id: int | None, part: Slice = ALL) -> list[ColumnElement[bool]]:
    where = [Case.area_path.startswith(area.area_path, autoescape=True)]
    if department_id is not None:
        where.append(Case.main_department_id == department_id)
    if part.category_ids is not None:
        where.append(Case.category_id.in_(part.category_ids))
    if part.channel:
        where.append(Case.channel == part.channel)
    return where


def counts(session: Session, area: Area, moment: Moment, department_id: int | None = None,
           part: Slice = ALL) -> dict[str, int]:
    """Every figure of ``area`` (and one main department, and the slice) in one round trip."""
    columns = [func.count(Case.id).filter(predicate(n, moment)).label(n) for n in FIGURES]
    row = session.execute(select(*columns).select_from(Case).where(*_where(area, department_id, part))).one()
    return {n: int(row._mapping[n] or 0) for n in FIGURES}


def statement(name: str, area: Area, moment: Moment, department_id: int | None = None,
              part: Slice = ALL) -> Select[Any]:
    """The cases behind figure ``name``: the most urgent first, then the least time left, then the newest."""
    return (select(Case).where(predicate(name, moment), *_where(area, department_id, part))
            .order_by(queues.URGENCY_RANK, Case.step_due_at.asc().nulls_last(), Case.reported_at.desc(),
                      Case.id.desc()))


# -- rankings -------------------------------------------------------------------------------------------


@dataclass
class RankRow:
    id: int
    code: str
    name: str
    overdue: int  # open and overdue now
    in_progress: int
    warning: int
    on_time_closure_rate: float | None  # of the cases reported in the chosen period (None: no rights, or none due)
    closure_rate: float | None


def _ancestor(path: str, depth: int) -> str | None:
    codes = [c for c in path.split("/") if c]
    return "/" + "/".join(codes[:depth]) + "/" if len(codes) >= depth else None


def _open_groups(session: Session, key: Any, where: list[Any]) -> dict[Any, tuple[int, int, int]]:
    """(open, overdue, warning) of the open cases per ``key``."""
    stmt = (select(key.label("key"), func.count(Case.id),
                   func.count(Case.id).filter(Case.step_alert >= Alert.OVERDUE),
                   func.count(Case.id).filter(Case.step_alert == Alert.WARNED))
            .where(_open(), *where).group_by(key))
    return {row[0]: (int(row[1]), int(row[2]), int(row[3])) for row in session.execute(stmt)}


def _sorted(rows: list[RankRow]) -> list[RankRow]:
    """Most overdue first; among equals the better on-time closure first, then by code."""
    return sorted(rows, key=lambda r: (-r.overdue, -(r.on_time_closure_rate or 0.0), r.code))


def area_ranking(session: Session, principal: Principal, area: Area, moment: Moment,
                 q: indicators.Query | None, part: Slice = ALL) -> tuple[AreaLevel | None, list[RankRow]]:
    """The areas of the ranked level under ``area`` (streets for a city or district); ``q`` (the period's
    indicator query of the same category, None without indicator rights or for a channel, which the
    indicator facts do not hold) adds their rates."""
    level = RANK_LEVEL.get(AreaLevel(area.level))
    if level is None:
        return None, []
    children = [a for a in session.scalars(
        select(Area).where(Area.level == level, Area.area_path.startswith(area.area_path, autoescape=True))
        .order_by(Area.code), execution_options=UNSCOPED) if principal.can(VIEW, a.area_path)]
    live: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for path, numbers in _open_groups(session, Case.area_path, _where(area, None, part)).items():
        parent = _ancestor(path, level + 1)
        if parent is not None:
            live[parent] = [a + b for a, b in zip(live[parent], numbers, strict=True)]
    ranked = indicators.ranking(session, principal, q, INDICATOR_LEVEL[level]) if q else []
    rates = {r["id"]: r["values"] for r in ranked}
    rows = []
    for child in children:
        opened, overdue, warning = live.get(child.area_path, [0, 0, 0])
        values = rates.get(child.id, {})
        rows.append(RankRow(child.id, child.code, child.name, overdue, opened, warning,
                            values.get("on_time_closure_rate"), values.get("closure_rate")))
    return level, _sorted(rows)


def department_ranking(session: Session, principal: Principal, area: Area, moment: Moment,
                       q: indicators.Query | None, part: Slice = ALL) -> list[RankRow]:
    """The main departments of the area's cases: those with open cases now, or figures in the period."""
    live = _open_groups(session, Case.main_department_id,
                        [*_where(area, None, part), Case.main_department_id.is_not(None)])
    ranked = indicators.ranking(session, principal, q, indicators.RankLevel.DEPARTMENT) if q else []
    rates = {r["id"]: r["values"] for r in ranked}
    ids = set(live) | set(rates)
    names = {d.id: (d.code, d.name) for d in session.scalars(
        select(Department).where(Department.id.in_(ids)), execution_options=UNSCOPED)} if ids else {}
    rows = []
    for dept_id in ids:
        if dept_id not in names:
            continue
        opened, overdue, warning = live.get(dept_id, (0, 0, 0))
        values = rates.get(dept_id, {})
        rows.append(RankRow(dept_id, names[dept_id][0], names[dept_id][1], overdue, opened, warning,
                            values.get("on_time_closure_rate"), values.get("closure_rate")))
    return _sorted(rows)


def hot_issues(session: Session, area: Area, limit: int = HOT_TOP) -> list[HotIssue]:
    """The hottest issues of the area now (dismissed ones left out)."""
    return list(session.scalars(
        select(HotIssue).where(HotIssue.area_path.startswith(area.area_path, autoescape=True),
                               HotIssue.status != HotIssueStatus.DISMISSED.value)
        .order_by(HotIssue.heat.desc(), HotIssue.id).limit(limit)))
