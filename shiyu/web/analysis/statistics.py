"""``/analysis/statistics`` (统计分析): the GB/T 30428 indicators of an area for a period with 环比 and 同比, by
area level and by department (``shiyu.reports.statistics``); every number links to its cases
(``/analysis/cases``) and every table has "导出 Excel" (audited, the same tables read through the same
scoped session, so an export never holds more than the page showed).

Filters (area, category, period, level) travel in the query string; an empty value means "all" and the
period defaults to this month so far. Areas offered are those under the caller's indicator grants.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import or_, select

from shiyu.cases.categories import service as categories
from shiyu.cases.indicators import service as indicators
from shiyu.core import audit
from shiyu.core.http import language
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.areas.models import Area, AreaLevel
from shiyu.reports import statistics
from shiyu.web.analysis.drill import download
from shiyu.web.i18n import translate
from shiyu.web.page_deps import PageDb, PagePrincipal, PageRoute, render, require_any

router = APIRouter(prefix="/statistics", route_class=PageRoute, include_in_schema=False)
VIEW = ("indicator.view", "indicator.view_department")
MAX_AREAS = 600


def _areas(db: PageDb, principal: Principal) -> list[Area]:
    """Areas (city..street: a table of communities or grids under each) under the caller's indicator grants."""
    stmt = select(Area).where(Area.level <= AreaLevel.COMMUNITY).order_by(Area.area_path).limit(MAX_AREAS)
    if not principal.is_system:
        paths = principal.paths_with("indicator.view")
        if not paths:
            return []
        stmt = stmt.where(or_(*[Area.area_path.startswith(p, autoescape=True) for p in paths]))
    return list(db.scalars(stmt, execution_options={"unscoped": True}))


def _build(request: Request, db: PageDb, principal: Principal, area: int | None, category: int | None,
           start: date | None, end: date | None, level: str) -> tuple[statistics.Statistics, dict[str, Any]]:
    tz = request.app.state.settings.tz
    period = indicators.default_period(tz, start, end)
    stats = statistics.build(db, principal, tz, area_id=area, category_id=category, start=period.start,
                             end=period.end, level=level, lang=language(request))
    chosen = {"area": area, "category": category, "start": period.start.isoformat(), "end": period.end.isoformat(),
              "level": stats.level}
    return stats, chosen


def drill_url(drill: dict[str, Any] | None) -> str | None:
    """The link to the cases behind a number."""
    if not drill:
        return None
    return "/analysis/cases?" + urlencode({k: v for k, v in drill.items() if v is not None})


@router.get("")
def statistics_page(request: Request, db: PageDb, principal: PagePrincipal, area: int | None = Query(None),
                    category: int | None = Query(None), start: date | None = Query(None),
                    end: date | None = Query(None), level: str = Query("", max_length=12)) -> Response:
    require_any(principal, *VIEW)
    stats, chosen = _build(request, db, principal, area, category, start, end, level)
    lang = language(request)
    return render(request, "analysis/statistics.html", stats=stats, chosen=chosen, areas=_areas(db, principal),
                  tree=categories.tree(db), levels=list(statistics.LEVELS), drill_url=drill_url,
                  query=urlencode({k: v for k, v in chosen.items() if v is not None}),
                  today=utcnow().astimezone(request.app.state.settings.tz).date(),
                  level_names={k: translate(lang, "leader.level." + k) for k in statistics.LEVELS})


@router.get("/export.xlsx")
def export(request: Request, db: PageDb, principal: PagePrincipal, table: str = Query("all", max_length=12),
           area: int | None = Query(None), category: int | None = Query(None), start: date | None = Query(None),
           end: date | None = Query(None), level: str = Query("", max_length=12)) -> Response:
    """One table (``overview``, ``areas``, ``departments``) or ``all`` as a workbook."""
    require_any(principal, *VIEW)
    stats, chosen = _build(request, db, principal, area, category, start, end, level)
    lang = language(request)
    tables = [stats.tables[table]] if table in stats.tables else list(stats.tables.values())
    audit.record(db, "indicator.export", "indicator", None,
                 after={"filters": chosen, "tables": [t.name for t in tables]})
    heading = translate(lang, "leader.stats.heading", start=chosen["start"], end=chosen["end"])
    name = translate(lang, "leader.stats.filename", start=chosen["start"], end=chosen["end"])
    return download(statistics.workbook(tables, heading), name)
