"""The reads behind the command view: the caller's area, boundaries per level, the cases as map points, the
KPIs and the scope check for live announcements.

Every read goes through the caller's scoped session, so the map of a community operator holds only that
community's cases and areas, exactly as the API would answer. Points are read as plain columns (no ORM
objects, no personal data) and written out as compact GeoJSON: the demo city's 20,000 cases are one query
and a string join.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.cases.categories import service as categories
from shiyu.cases.categories.models import Category
from shiyu.cases.indicators import service as indicators
from shiyu.cases.indicators.definitions import COMPONENTS, INDICATORS, Period, rate, score
from shiyu.cases.indicators.facts import component_sums
from shiyu.cases.indicators.weights import current as current_weights
from shiyu.cases.models import Case, Channel
from shiyu.cases.workflow import deadlines
from shiyu.core.errors import NotFound
from shiyu.core.live import Change
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.areas.drawing import DRAWINGS
from shiyu.org.areas.models import Area, AreaLevel
from shiyu.org.units.models import Department, DepartmentJurisdiction

PERIODS = (1, 7, 30, 90, 180)  # days back from today (local), today included
DEFAULT_DAYS = 30
KPI_NAMES = ("reported", "closure_rate", "on_time_closure_rate", "satisfaction_rate", "overdue")
COUNTED = frozenset({"overdue"})  # shown as the number of cases, not as the indicator's share
WARNING = {deadlines.Colour.YELLOW: 1, deadlines.Colour.RED: 2}
MAX_IDS = 200
MAX_JURISDICTIONS = 500


@dataclass(frozen=True)
class Filters:
    """What the page's filter bar chose: the period (days back), a category (major or minor), a channel."""

    days: int = DEFAULT_DAYS
    category_id: int | None = None
    channel: str | None = None

    def period(self, tz: ZoneInfo) -> Period:
        end = utcnow().astimezone(tz).date()
        return Period(end - timedelta(days=self.days - 1), end)

    def query(self) -> dict[str, Any]:
        out: dict[str, Any] = {"days": self.days}
        if self.category_id is not None:
            out["category"] = self.category_id
        if self.channel:
            out["channel"] = self.channel
        return out


def filters(days: int, category_id: int | None, channel: str | None) -> Filters:
    """Unknown periods fall back to the default and unknown channels are ignored (a stale bookmark still
    shows a map)."""
    return Filters(days if days in PERIODS else DEFAULT_DAYS, category_id,
                   channel if channel in {c.value for c in Channel} else None)


# -- the area --------------------------------------------------------------------------------------------


def top_areas(session: Session, principal: Principal) -> list[Area]:
    """The areas the caller watches: the top of each subtree where they may view cases (the city for the
    system), coarsest first."""
    if principal.is_system:
        stmt = select(Area).where(Area.parent_id.is_(None))
    else:
        codes = [p.rstrip("/").rsplit("/", 1)[-1] for p in principal.paths_with("case.view")]
        if not codes:
            return []
        stmt = select(Area).where(Area.code.in_(codes))
    return list(session.scalars(stmt.order_by(Area.level, Area.code)))


def focus_area(session: Session, principal: Principal, area_id: int | None) -> Area:
    """The chosen top area, or the first; one that is not among the caller's top areas is a 404."""
    tops = top_areas(session, principal)
    chosen = next((a for a in tops if area_id is None or a.id == area_id), None)
    if chosen is None:
        raise NotFound(detail={"object": "area", "id": area_id})
    return chosen


def boundaries(session: Session, area: Area, level: int) -> dict[str, Any]:
    """The areas of one level inside ``area`` (the area itself at its own level), simplified for that level,
    as a GeoJSON FeatureCollection. The client loads coarse levels zoomed out and grids zoomed in."""
    level = max(area.level, min(level, AreaLevel.GRID))
    stmt = select(Area.id, Area.name, Area.code, Area.level, Area.updated_at, Area.geometry).where(
        Area.level == level, Area.area_path.startswith(area.area_path, autoescape=True),
        Area.geometry.is_not(None)).order_by(Area.code)
    features = [{"type": "Feature", "geometry": DRAWINGS.get((row.id, row.updated_at, level), row.geometry),
                 "properties": {"id": row.id, "name": row.name, "code": row.code, "level": row.level}}
                for row in session.execute(stmt)]
    return {"type": "FeatureCollection", "features": features}


def jurisdictions(session: Session, area: Area) -> dict[str, Any]:
    """The departments' jurisdiction areas inside ``area`` (itself included; a jurisdiction above it would
    cover the whole map and say nothing), one feature per area naming every department that covers it."""
    stmt = (
        select(Area.id, Area.name, Area.level, Area.updated_at, Area.geometry, Department.name.label("department"))
        .join(DepartmentJurisdiction, DepartmentJurisdiction.area_id == Area.id)
        .join(Department, Department.id == DepartmentJurisdiction.department_id)
        .where(DepartmentJurisdiction.area_path.startswith(area.area_path, autoescape=True),
               Area.geometry.is_not(None))
        .order_by(Area.level, Area.code, Department.name).limit(MAX_JURISDICTIONS)
    )
    features: dict[int, dict[str, Any]] = {}
    for row in session.execute(stmt):
        if row.id not in features:
            features[row.id] = {"type": "Feature",
                                "geometry": DRAWINGS.get((row.id, row.updated_at, row.level), row.geometry),
                                "properties": {"area": row.name, "departments": []}}
        features[row.id]["properties"]["departments"].append(row.department)
    return {"type": "FeatureCollection", "features": list(features.values())}


# -- cases as points -------------------------------------------------------------------------------------


def category_ids(session: Session, category_id: int | None) -> tuple[int, ...] | None:
    """The chosen category and its subcategories (None: every category); an unknown id is a 404."""
    if category_id is None:
        return None
    category = session.get(Category, category_id)
    if category is None:
        raise NotFound(detail={"object": "category", "id": category_id})
    return (category.id, *(c.id for c in category.children))


def case_points(session: Session, f: Filters, tz: ZoneInfo, area: Area, ids: list[int] | None = None) -> str:
    """The cases reported in the period under ``area`` that match the filters, as GeoJSON text: per case
    its id, point, state (``s``), time-limit warning (``w``: 0 none, 1 yellow, 2 red), category (``c``) and
    whether it is supervised (``v``). With ``ids``, only those cases (a live update re-reading them)."""
    start, end = f.period(tz).bounds(tz)
    stmt = select(Case.id, Case.lon, Case.lat, Case.state, Case.category_id, Case.supervised, Case.step_warn_at,
                  Case.step_due_at, Case.step_escalate_at).where(
        Case.reported_at >= start, Case.reported_at < end,
        Case.area_path.startswith(area.area_path, autoescape=True))
    chosen = category_ids(session, f.category_id)
    if chosen is not None:
        stmt = stmt.where(Case.category_id.in_(chosen))
    if f.channel:
        stmt = stmt.where(Case.channel == f.channel)
    if ids is not None:
        stmt = stmt.where(Case.id.in_(ids[:MAX_IDS]))
    now = utcnow()
    parts = []
    for row in session.execute(stmt.order_by(Case.id)):
        warning = WARNING.get(deadlines.colour(row, now), 0)  # type: ignore[arg-type]  # the row has its columns
        parts.append(f'{{"type":"Feature","id":{row.id},"geometry":{{"type":"Point","coordinates":'
                     f'[{row.lon:.6f},{row.lat:.6f}]}},"properties":{{"s":"{row.state}","w":{warning},'
                     f'"c":{row.category_id},"v":{int(row.supervised)}}}}}')
    return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"


# -- KPIs ------------------------------------------------------------------------------------------------


def kpis(session: Session, principal: Principal, f: Filters, tz: ZoneInfo, area: Area,
         lang: str) -> dict[str, Any] | None:
    """The headline figures and the composite score of the period, and their trend (per day, per week past
    a month), from the indicator service; None for callers without indicator rights. A channel filter has
    no fact rollup, so its figures are counted from the cases and its trend is left out."""
    if not principal.is_system and not principal.paths_with("indicator.view"):
        return None
    period = f.period(tz)
    q = indicators.resolve(session, principal, tz, area_id=area.id, category_id=f.category_id, start=period.start,
                           end=period.end)
    weights = current_weights(session)
    if f.channel:
        row = session.execute(select(*component_sums()).select_from(Case)
                              .where(*indicators.case_where(q), Case.channel == f.channel)).one()
        counts = {name: int(row._mapping[name] or 0) for name in COMPONENTS}
        trend: list[dict[str, Any]] = []
    else:
        counts = indicators.totals(session, q)
        bucket = indicators.Bucket.DAY if f.days <= 31 else indicators.Bucket.WEEK
        trend = indicators.trend(session, q, bucket)
    by_name = {i.name: i for i in INDICATORS}
    cards = []
    for name in KPI_NAMES:
        ind = by_name[name]
        is_rate = ind.is_rate and name not in COUNTED
        cards.append({"name": name, "label": ind.en if lang == "en" else ind.zh, "is_rate": is_rate,
                      "value": rate(counts, ind) if is_rate else counts[ind.numerator],
                      "higher_is_better": ind.higher_is_better})
    return {
        "start": period.start.isoformat(), "end": period.end.isoformat(), "cards": cards,
        "score": score(counts, weights),
        "trend": {"labels": [_label(p["start"]) for p in trend],
                  "reported": [p["values"]["reported"] for p in trend],
                  "closure_rate": [p["values"]["closure_rate"] for p in trend],
                  "score": [p["score"] for p in trend]},
    }


def _label(day: date) -> str:
    return day.strftime("%m-%d")


# -- legend ----------------------------------------------------------------------------------------------


def category_legend(session: Session, lang: str) -> dict[str, Any]:
    """Major classes (colour groups) with names, and each minor class's major class."""
    majors, minor_of = [], {}
    for major in categories.tree(session, include_inactive=True):
        majors.append({"id": major.id, "name": major.name_en if lang == "en" and major.name_en else major.name_zh,
                       "children": [{"id": c.id, "name": c.name_en if lang == "en" and c.name_en else c.name_zh}
                                    for c in major.children]})
        minor_of[major.id] = major.id
        for c in major.children:
            minor_of[c.id] = major.id
    return {"majors": majors, "major_of": minor_of}


# -- live announcements ----------------------------------------------------------------------------------


def may_hear(principal: Principal, change: Change) -> bool:
    """Whether an announced case change may be passed to this caller: the case scope of
    ``shiyu.cases.models`` applied to the facts the announcement carries (its area; its main department for
    department staff; its reporter). Never wider than the scoped session, so no id leaks; the caller then
    re-reads the case through that session."""
    if change.topic != "case":
        return False
    if principal.is_system or principal.can("case.view", change.area_path):
        return True
    department = change.facts.get("department_id")
    if department is not None and department in principal.departments_with("case.handle"):
        return True
    reporter = change.facts.get("reporter_user_id")
    return reporter is not None and reporter == principal.user_id


def event_text(change: Change) -> str:
    """One server-sent event: only the case id (the page re-reads the case through its scoped session)."""
    return f"event: case\ndata: {json.dumps({'id': change.id})}\n\n"
