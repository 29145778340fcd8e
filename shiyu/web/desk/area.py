"""辖区案件 (``/desk/area``): every case of the operator's area with filters, saved filters, a card or a dense
sortable table view, and "导出 Excel" of what is listed.

The filters travel in the query string (``shiyu.cases.listing.parse``): an empty value means "all", a bad
one renders the page with the problem in words above the form and no rows (never an error page or JSON).
The export runs the page's own statement (same filters, same order, same columns as the table) without the
page window, up to ``listing.EXPORT_LIMIT`` rows, and is recorded in the audit log with its filters.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from shiyu.cases import listing, saved_filters, search
from shiyu.cases.categories import service as categories
from shiyu.cases.models import CaseState, Channel
from shiyu.cases.workflow.table import STATE_LABELS
from shiyu.core import audit
from shiyu.core.errors import ShiyuError
from shiyu.core.http import language
from shiyu.core.paging import PageParams
from shiyu.core.timeutil import utcnow
from shiyu.org.areas import service as areas
from shiyu.org.units import service as units
from shiyu.web.desk import table
from shiyu.web.desk.routes import DESK_PERMISSIONS
from shiyu.web.i18n import translate
from shiyu.web.page_deps import PageDb, PagePrincipal, PageRoute, page_form, render, require_any

router = APIRouter(prefix="/area", route_class=PageRoute, include_in_schema=False)
PAGE_SIZE = 50
DEPARTMENT_CHOICES = 500
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"



def _query(request: Request, *drop: str) -> str:
    """The current query string without ``drop`` (to build sort, page and export links on it)."""
    return urlencode([(k, v) for k, v in request.query_params.multi_items() if k not in drop and v])


def _choices(db: PageDb, lang: str) -> dict[str, Any]:
    depts, _ = units.list_departments(db, PageParams(limit=DEPARTMENT_CHOICES, offset=0))
    return {
        "states": [(s.value, STATE_LABELS[s][1 if lang == "en" else 0]) for s in CaseState],
        "channels": [(c.value, translate(lang, "desk.channel." + c.value)) for c in Channel],
        "tree": categories.tree(db),
        "departments": [(d.id, d.name) for d in depts],
    }


def _listing(request: Request, db: PageDb) -> listing.Listing:
    tz = request.app.state.settings.tz
    return listing.parse(db, request.query_params, request.query_params.getlist("state"), tz)


@router.get("")
def area_cases(request: Request, db: PageDb, principal: PagePrincipal, offset: int = Query(0, ge=0)) -> Response:
    require_any(principal, *DESK_PERMISSIONS)
    lang, params = language(request), request.query_params
    view = "cards" if params.get("view") == "cards" else "table"
    context: dict[str, Any] = {
        "f": params, "states": params.getlist("state"), "view": view, "choices": _choices(db, lang),
        "saved": saved_filters.mine(db, principal), "query": _query(request, "offset"),
        "filter_query": saved_filters.clean_query(str(request.url.query)), "limit": PAGE_SIZE, "offset": offset,
        "area_label": "", "rows": [], "total": 0, "capped": False, "problem": None,
    }
    area_id = params.get("area", "")
    if area_id.isdigit():
        found = areas.areas_by_id(db, [int(area_id)]).get(int(area_id))
        context["area_label"] = found.name if found else ""
    try:
        chosen = _listing(request, db)
        stmt = listing.statement(db, chosen)
        cases = list(db.scalars(stmt.limit(PAGE_SIZE).offset(offset)))
        # Counted up to a cap: an exact count of a whole district's cases would cost more than the page.
        total, capped = search.capped_count(db, stmt)
    except ShiyuError as exc:
        db.rollback()
        return render(request, "desk/area.html", 422, **context | {"problem": exc.message(lang), "sort": "reported",
                                                                   "descending": True})
    return render(request, "desk/area.html", **context | {
        "rows": table.rows(db, cases, utcnow(), lang), "total": total, "capped": capped, "sort": chosen.sort,
        "descending": chosen.descending, "base": "?" + (_query(request, "offset") + "&").lstrip("&")})


@router.get("/export.xlsx")
def export(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    require_any(principal, *DESK_PERMISSIONS)
    lang = language(request)
    chosen = _listing(request, db)
    cases, more = listing.export_rows(db, chosen)
    audit.record(db, "case.export", "case", None, after={"filters": _query(request), "rows": len(cases)})
    more_note = translate(lang, "desk.export.more", n=listing.EXPORT_LIMIT) if more else None
    data = table.workbook(db, cases, lang, translate(lang, "nav.desk_area"), more=more_note,
                          widths=(18, 18, 24, 12, 10, 20, 16, 8))
    name = translate(lang, "desk.export.filename", at=utcnow().astimezone(request.app.state.settings.tz)
                     .strftime("%Y%m%d-%H%M"))
    return Response(data, media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename=cases.xlsx; filename*=UTF-8''{quote(name)}",
        "Cache-Control": "no-store"})


@router.post("/filters")
async def save_filter(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    require_any(principal, *DESK_PERMISSIONS)
    form = await page_form(request)
    query = str(form.get("query") or "")
    try:
        saved = saved_filters.save(db, principal, str(form.get("name") or ""), query)
    except ShiyuError as exc:
        db.rollback()
        target = f"/desk/area?{saved_filters.clean_query(query)}&saved_error={quote(exc.code)}"
        return Response(status_code=303, headers={"Location": target})
    return Response(status_code=303, headers={"Location": f"/desk/area?{saved.query}"})


@router.post("/filters/{filter_id}/delete")
def delete_filter(filter_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    require_any(principal, *DESK_PERMISSIONS)
    saved_filters.delete(db, principal, filter_id)
    return Response(status_code=303, headers={"Location": "/desk/area"})
