"""``/analysis/cases``: the cases behind one number — a 当前态势 figure (``figure=overdue``, now, of an area and
optionally one main department) or an indicator (``indicator=on_time_closure_rate&part=numerator`` over a
period, as the statistics page and the rankings link it) — as the desk's dense table, with "导出 Excel".

The list is the very statement the number was counted with (``shiyu.reports.situation.statement``,
``shiyu.cases.indicators.service.cases_statement``), read through the caller's scoped session, and its
total is an exact count of it: the number clicked and the rows listed are the same cases. An area outside
the caller's grants is a 404 page, as everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import Select

from shiyu.cases.indicators import service as indicators
from shiyu.cases.models import OPEN_STATES
from shiyu.core import audit
from shiyu.core.bounds import INT32_MAX
from shiyu.core.errors import NotFound
from shiyu.core.http import language
from shiyu.core.paging import PageParams, paginate
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.units.service import department_names
from shiyu.reports import situation
from shiyu.web.command import service as command
from shiyu.web.desk import table
from shiyu.web.desk.routes import DESK_PERMISSIONS
from shiyu.web.i18n import translate
from shiyu.web.page_deps import PageDb, PagePrincipal, PageRoute, render, require_any

router = APIRouter(prefix="/cases", route_class=PageRoute, include_in_schema=False)
PAGE_SIZE = 50
EXPORT_LIMIT = 10000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
READERS = ("case.view", "indicator.view", "indicator.view_department")


@dataclass
class Drill:
    """What was clicked: a title for the page and the statement of its cases."""

    title: str
    stmt: Select[Any]
    params: dict[str, Any]
    desk: str | None = None  # the same cases in 辖区案件, where the desk's filters can say them


def may_use_desk(principal: Principal) -> bool:
    return any(principal.has_permission(p) for p in DESK_PERMISSIONS)


def desk_query(figure: str, area_id: int, department_id: int | None, moment: situation.Moment,
               part: situation.Slice = situation.ALL) -> str | None:
    """The 辖区案件 filters (``shiyu.cases.listing``) that select exactly the cases of ``figure``, for those
    the desk's filters can express (the others have no such link)."""
    today = moment.local.date().isoformat()
    filters: dict[str, list[tuple[str, str]]] = {
        "new_today": [("from", today), ("to", today)],
        "in_progress": [("state", s.value) for s in OPEN_STATES],
        "overdue": [("overdue", "yes"), *[("state", s.value) for s in OPEN_STATES]],
    }
    if figure not in filters:
        return None
    chosen = [("area", str(area_id)), *filters[figure]]
    if department_id is not None:
        chosen.append(("department", str(department_id)))
    chosen += [("category" if k == "category_id" else k, str(v)) for k, v in part.query().items()]
    return "/desk/area?" + urlencode(chosen)


def _live(request: Request, db: PageDb, principal: Principal, figure: str, area_id: int | None,
          department_id: int | None, category_id: int | None, channel: str | None) -> Drill:
    require_any(principal, situation.VIEW)
    lang, tz = language(request), request.app.state.settings.tz
    area = (situation.area_in_grants(db, principal, area_id) if area_id is not None
            else command.focus_area(db, principal, None))
    moment = situation.Moment(utcnow(), tz)
    f = command.filters(command.DEFAULT_DAYS, category_id, channel)
    part = situation.Slice(command.category_ids(db, f.category_id), f.channel)
    stmt = situation.statement(figure, area, moment, department_id, part)
    label = situation.LABELS[figure][1 if lang == "en" else 0]
    parts = [label, area.name]
    if department_id is not None:
        parts.append(department_names(db, [department_id]).get(department_id, ""))
    if f.category_id is not None:
        parts.append(table.category_names(db, lang).get(f.category_id, ""))
    if f.channel:
        parts.append(translate(lang, "desk.channel." + f.channel))
    parts.append(translate(lang, "leader.as_of", time=moment.local.strftime("%H:%M")))
    params = {"figure": figure, "area_id": area.id, "department_id": department_id, **part.query()}
    desk = desk_query(figure, area.id, department_id, moment, part) if may_use_desk(principal) else None
    return Drill(" · ".join(p for p in parts if p), stmt, params, desk)


def _indicator(request: Request, db: PageDb, principal: Principal, name: str, part: str, area_id: int | None,
               department_id: int | None, category_id: int | None, start: date | None, end: date | None) -> Drill:
    lang = language(request)
    q = indicators.resolve(db, principal, request.app.state.settings.tz, area_id=area_id,
                           department_id=department_id, category_id=category_id, start=start, end=end)
    which = indicators.Part(part) if part in {p.value for p in indicators.Part} else indicators.Part.NUMERATOR
    stmt = indicators.cases_statement(q, name, which)
    ind = indicators.indicator(name)
    label = ind.en if lang == "en" else ind.zh
    if ind.is_rate:
        label += translate(lang, "leader.part." + which.value)
    parts = [label, translate(lang, "leader.period", start=q.period.start.isoformat(), end=q.period.end.isoformat())]
    if department_id is not None:
        parts.append(department_names(db, [department_id]).get(department_id, ""))
    params = {**q.params, "indicator": name, "part": which.value}
    return Drill(" · ".join(p for p in parts if p), stmt, params)


def _drill(request: Request, db: PageDb, principal: Principal) -> Drill:
    p = request.query_params

    def number(key: str) -> int | None:
        """An id; past what the database stores it names nothing (404), a word is no filter."""
        raw = p.get(key, "")
        if not raw.isdigit():
            return None
        if int(raw) > INT32_MAX:
            raise NotFound(detail={"field": key})
        return int(raw)

    def day(key: str) -> date | None:
        try:
            return date.fromisoformat(p.get(key, ""))
        except ValueError:
            return None

    if p.get("figure"):
        return _live(request, db, principal, p["figure"], number("area_id"), number("department_id"),
                     number("category_id"), p.get("channel") or None)
    return _indicator(request, db, principal, p.get("indicator", "reported"), p.get("part", "numerator"),
                      number("area_id"), number("department_id"), number("category_id"), day("start"), day("end"))


@router.get("")
def cases_page(request: Request, db: PageDb, principal: PagePrincipal, offset: int = Query(0, ge=0)) -> Response:
    require_any(principal, *READERS)
    lang = language(request)
    drill = _drill(request, db, principal)
    cases, total = paginate(db, drill.stmt, PageParams(limit=PAGE_SIZE, offset=offset))
    query = urlencode({k: v for k, v in drill.params.items() if v is not None})
    return render(request, "analysis/cases.html", title=drill.title, rows=table.rows(db, cases, utcnow(), lang),
                  total=total, limit=PAGE_SIZE, offset=offset, query=query, base=f"?{query}&", desk=drill.desk)


@router.get("/export.xlsx")
def export(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    """The whole list (up to ``EXPORT_LIMIT`` rows), with the page's columns; recorded in the audit log."""
    require_any(principal, *READERS)
    lang = language(request)
    drill = _drill(request, db, principal)
    cases = list(db.scalars(drill.stmt.limit(EXPORT_LIMIT + 1)))
    audit.record(db, "case.export", "case", None, after={"filters": drill.params, "rows": min(len(cases),
                                                                                              EXPORT_LIMIT)})
    more = translate(lang, "desk.export.more", n=EXPORT_LIMIT) if len(cases) > EXPORT_LIMIT else None
    data = table.workbook(db, cases[:EXPORT_LIMIT], lang, translate(lang, "leader.cases.sheet"), above=[drill.title],
                          more=more)
    return download(data, translate(lang, "leader.cases.filename",
                                    at=utcnow().astimezone(request.app.state.settings.tz).strftime("%Y%m%d-%H%M")))


def download(content: bytes, name: str) -> Response:
    """An Excel file as an attachment, named in Chinese for browsers that take it."""
    return Response(content, media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename=export.xlsx; filename*=UTF-8''{quote(name)}",
        "Cache-Control": "no-store"})
