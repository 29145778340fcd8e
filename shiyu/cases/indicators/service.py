"""Indicator queries: the figures of an area subtree / department / category over a period, their trend, a
ranking by composite score, and the cases behind each figure.

Figures come from the fact tables (``facts``); ``raw_totals`` computes the same totals straight from the
case table with the same predicates — the reference the tests and the benchmark compare the facts with.
The cases behind a figure are listed with those predicates too, so a drill-down always shows exactly the
cases that were counted (up to changes not yet refreshed into the facts, at most a minute or two old).

Scope: the fact tables and the case table are scoped by the ORM like everything else. On top of that an
explicit area outside the caller's indicator grants answers 404 (instead of silently shrinking to the part
they may see), and department staff always get their own departments' figures.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from shiyu.cases.categories.models import Category
from shiyu.cases.indicators import weights as weights_data
from shiyu.cases.indicators.definitions import BY_NAME, COMPONENTS, INDICATORS, Indicator, Period, rate, score
from shiyu.cases.indicators.facts import NO_DEPARTMENT, IndicatorFact, IndicatorGridFact, component_sums
from shiyu.cases.models import Case
from shiyu.core.errors import Forbidden, NotFound, ValidationFailed
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.areas.models import Area, AreaLevel
from shiyu.org.units.models import Department

UNSCOPED = {"unscoped": True}


class Bucket(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class RankLevel(StrEnum):
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"
    DEPARTMENT = "department"


class Part(StrEnum):
    NUMERATOR = "numerator"
    DENOMINATOR = "denominator"


@dataclass(frozen=True)
class Query:
    """A resolved, authorised request: the period, and the filters as fact and case predicates take them."""

    period: Period
    tz: ZoneInfo
    area_path: str | None = None
    department_ids: tuple[int, ...] | None = None
    category_ids: tuple[int, ...] | None = None
    params: dict[str, Any] = field(default_factory=dict)  # the request's own filters, for drill-down links


def default_period(tz: ZoneInfo, start: date | None, end: date | None) -> Period:
    """Missing ends default to this month so far (in the city's zone)."""
    end = end or utcnow().astimezone(tz).date()
    return Period(start or end.replace(day=1), end)


def resolve(
    session: Session, principal: Principal, tz: ZoneInfo, *, area_id: int | None = None,
    department_id: int | None = None, category_id: int | None = None, start: date | None = None,
    end: date | None = None,
) -> Query:
    area_paths = principal.paths_with("indicator.view")
    own_departments = principal.departments_with("indicator.view_department")
    if not principal.is_system and not area_paths and not own_departments:
        raise Forbidden(detail={"permission": "indicator.view"})
    period = default_period(tz, start, end)
    area_path = None
    if area_id is not None:
        area = session.get(Area, area_id)
        if area is None or not principal.can("indicator.view", area.area_path):
            raise NotFound(detail={"object": "area", "id": area_id})
        area_path = area.area_path
    department_ids: tuple[int, ...] | None = None
    if department_id is not None:
        mine = department_id in own_departments
        area_user = bool(area_paths) or principal.is_system
        if not mine and not (area_user and session.get(Department, department_id) is not None):
            raise NotFound(detail={"object": "department", "id": department_id})
        department_ids = (department_id,)
    elif not area_paths and not principal.is_system:
        department_ids = own_departments
    category_ids = None
    if category_id is not None:
        category = session.get(Category, category_id)
        if category is None:
            raise NotFound(detail={"object": "category", "id": category_id})
        category_ids = (category.id, *(c.id for c in category.children))
    params: dict[str, Any] = {k: v for k, v in (("area_id", area_id), ("department_id", department_id),
                                ("category_id", category_id)) if v is not None}
    params.update(start=period.start.isoformat(), end=period.end.isoformat())
    return Query(period, tz, area_path, department_ids, category_ids, params)


# -- totals ---------------------------------------------------------------------------------------------


def _fact_table(q: Query) -> type[IndicatorFact] | type[IndicatorGridFact]:
    """The per-grid rollup answers area-only questions; department or category filters need the full grain."""
    return IndicatorGridFact if q.department_ids is None and q.category_ids is None else IndicatorFact


def _fact_where(table: Any, q: Query, start: date, end: date) -> list[Any]:
    where = [table.day >= start, table.day <= end]
    if q.area_path is not None:
        where.append(table.area_path.startswith(q.area_path, autoescape=True))
    if q.department_ids is not None:
        where.append(table.department_id.in_(q.department_ids))
    if q.category_ids is not None:
        where.append(table.category_id.in_(q.category_ids))
    return where


def _sum_columns(table: Any) -> list[Any]:
    return [func.coalesce(func.sum(getattr(table, name)), 0).label(name) for name in COMPONENTS]


def _as_totals(row: Any) -> dict[str, int]:
    return {name: int(row._mapping[name] or 0) for name in COMPONENTS}


def totals(session: Session, q: Query) -> dict[str, int]:
    table = _fact_table(q)
    row = session.execute(select(*_sum_columns(table)).where(*_fact_where(table, q, q.period.start,
                                                                          q.period.end))).one()
    return _as_totals(row)


def case_where(q: Query) -> list[Any]:
    """The filters of ``q`` as predicates over the case table (the report-time cohort of the period)."""
    start, end = q.period.bounds(q.tz)
    where = [Case.reported_at >= start, Case.reported_at < end]
    if q.area_path is not None:
        where.append(Case.area_path.startswith(q.area_path, autoescape=True))
    if q.department_ids is not None:
        where.append(Case.main_department_id.in_(q.department_ids))
    if q.category_ids is not None:
        where.append(Case.category_id.in_(q.category_ids))
    return where


def raw_totals(session: Session, q: Query) -> dict[str, int]:
    """The same totals computed from the case rows themselves (no facts)."""
    row = session.execute(select(*component_sums()).select_from(Case).where(*case_where(q))).one()
    return _as_totals(row)


# -- figures --------------------------------------------------------------------------------------------


def _label(indicator: Indicator, lang: str) -> tuple[str, str]:
    return (indicator.en, indicator.formula_en) if lang == "en" else (indicator.zh, indicator.formula_zh)


def figures(counts: dict[str, int], lang: str) -> list[dict[str, Any]]:
    out = []
    for indicator in INDICATORS:
        label, formula = _label(indicator, lang)
        out.append({
            "name": indicator.name, "label": label, "formula": formula, "is_rate": indicator.is_rate,
            "higher_is_better": indicator.higher_is_better, "numerator": counts[indicator.numerator],
            "denominator": counts[indicator.denominator] if indicator.denominator else None,
            "rate": rate(counts, indicator),
        })
    return out


def overview(session: Session, q: Query, lang: str) -> dict[str, Any]:
    counts = totals(session, q)
    weights = weights_data.current(session)
    return {"start": q.period.start, "end": q.period.end, "filters": q.params, "figures": figures(counts, lang),
            "score": score(counts, weights), "weights": weights}


def _values(counts: dict[str, int]) -> dict[str, float | int | None]:
    return {i.name: rate(counts, i) if i.is_rate else counts[i.numerator] for i in INDICATORS}


# -- trend ----------------------------------------------------------------------------------------------


def _bucket_start(day: date, bucket: Bucket) -> date:
    if bucket is Bucket.WEEK:
        return day - timedelta(days=day.weekday())
    if bucket is Bucket.MONTH:
        return day.replace(day=1)
    return day


def _next_bucket(first: date, bucket: Bucket) -> date:
    if bucket is Bucket.WEEK:
        return first + timedelta(days=7)
    if bucket is Bucket.MONTH:
        return (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first + timedelta(days=1)


def trend(session: Session, q: Query, bucket: Bucket) -> list[dict[str, Any]]:
    """One point per day / ISO week / month of the period (clipped to it), empty buckets included."""
    table = _fact_table(q)
    rows = session.execute(
        select(table.day, *_sum_columns(table)).where(*_fact_where(table, q, q.period.start, q.period.end))
        .group_by(table.day)
    )
    per_bucket: dict[date, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COMPONENTS, 0))
    for row in rows:
        sums = per_bucket[_bucket_start(row.day, bucket)]
        for name, value in _as_totals(row).items():
            sums[name] += value
    weights = weights_data.current(session)
    points = []
    first = _bucket_start(q.period.start, bucket)
    while first <= q.period.end:
        following = _next_bucket(first, bucket)
        counts = per_bucket[first]
        points.append({"start": max(first, q.period.start), "end": min(following - timedelta(days=1), q.period.end),
                       "values": _values(counts), "score": score(counts, weights)})
        first = following
    return points


# -- ranking --------------------------------------------------------------------------------------------

_DEPTH = {RankLevel.DISTRICT: AreaLevel.DISTRICT + 1, RankLevel.STREET: AreaLevel.STREET + 1,
          RankLevel.COMMUNITY: AreaLevel.COMMUNITY + 1, RankLevel.GRID: AreaLevel.GRID + 1}


def _ancestor(path: str, depth: int) -> str | None:
    codes = [c for c in path.split("/") if c]
    return "/" + "/".join(codes[:depth]) + "/" if len(codes) >= depth else None


def _department_groups(session: Session, q: Query) -> dict[int, dict[str, int]]:
    table = IndicatorFact
    rows = session.execute(select(table.department_id.label("key"), *_sum_columns(table))
                           .where(*_fact_where(table, q, q.period.start, q.period.end),
                                  table.department_id != NO_DEPARTMENT).group_by(table.department_id))
    return {row.key: _as_totals(row) for row in rows}


def category_groups(session: Session, q: Query) -> dict[int, dict[str, int]]:
    """Totals per minor category of the cases ``q`` selects (the same facts as ``totals``, grouped)."""
    table = IndicatorFact
    rows = session.execute(select(table.category_id.label("key"), *_sum_columns(table))
                           .where(*_fact_where(table, q, q.period.start, q.period.end)).group_by(table.category_id))
    return {row.key: _as_totals(row) for row in rows}


def _area_groups(session: Session, principal: Principal, q: Query, depth: int) -> dict[str, dict[str, int]]:
    """Totals per ancestor area path at ``depth``, for ancestors wholly inside the caller's grants."""
    table = _fact_table(q)
    rows = session.execute(select(table.area_path.label("key"), *_sum_columns(table))
                           .where(*_fact_where(table, q, q.period.start, q.period.end)).group_by(table.area_path))
    groups: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COMPONENTS, 0))
    for row in rows:
        path = _ancestor(row.key, depth)
        if path is None or not principal.can("indicator.view", path):
            continue
        sums = groups[path]
        for name, value in _as_totals(row).items():
            sums[name] += value
    return dict(groups)


def ranking(session: Session, principal: Principal, q: Query, level: RankLevel) -> list[dict[str, Any]]:
    """Areas of one level (or departments) ranked by composite score, best first; unscored ones last.

    An area is ranked only when it lies wholly inside the caller's indicator grants, so nobody sees a
    partial figure labelled with a larger area's name. Names are read unscoped: they belong to areas and
    departments whose figures the caller may see anyway."""
    if level is RankLevel.DEPARTMENT:
        groups = _department_groups(session, q)
        names = {d.id: (d.code, d.name) for d in session.scalars(
            select(Department).where(Department.id.in_(list(groups))), execution_options=UNSCOPED)}
    else:
        by_path = _area_groups(session, principal, q, _DEPTH[level])
        areas = list(session.scalars(select(Area).where(Area.area_path.in_(list(by_path))),
                                     execution_options=UNSCOPED))
        groups = {a.id: by_path[a.area_path] for a in areas}
        names = {a.id: (a.code, a.name) for a in areas}
    weights = weights_data.current(session)
    scored = [(score(counts, weights), key, counts) for key, counts in groups.items() if key in names]
    scored.sort(key=lambda t: (t[0] is None, -(t[0] or 0.0), names[t[1]][0]))
    return [{"rank": n, "level": level.value, "id": key, "code": names[key][0], "name": names[key][1],
             "score": value, "values": _values(counts), "counts": counts}
            for n, (value, key, counts) in enumerate(scored, 1)]


# -- the cases behind a figure --------------------------------------------------------------------------


def indicator(name: str) -> Indicator:
    if name not in BY_NAME:
        raise NotFound("unknown_indicator", "没有这个指标", "No such indicator", detail={"indicator": name})
    return BY_NAME[name]


def cases_statement(q: Query, name: str, part: Part) -> Select[Any]:
    """The cases counted in the numerator (or denominator) of indicator ``name``, newest first."""
    ind = indicator(name)
    component = ind.numerator if part is Part.NUMERATOR else ind.denominator
    if component is None:
        raise ValidationFailed("indicator_has_no_denominator", "该指标是计数，没有分母",
                               "This indicator is a count and has no denominator", detail={"indicator": name})
    return (select(Case).where(COMPONENTS[component], *case_where(q))
            .order_by(Case.reported_at.desc(), Case.id.desc()))
