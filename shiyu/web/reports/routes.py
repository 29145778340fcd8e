"""``/reports``: a leader exports the weekly or monthly report of an area they hold (.docx with charts, or
.xlsx), and downloads the reports the Monday job filed for their centres.

Scope: the area list holds only areas under the caller's ``indicator.view`` grants, and the export itself is
authorised again by ``shiyu.reports.data`` (an area code typed into the URL outside the grants gets the
page back with a 403 and the reason). Filed reports are read through the scoped session, so another
centre's file is a 404. Bad input (a week written wrongly, an unknown format or code) shows the page again
with the message next to the form, never a server error.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import or_, select

from shiyu.core.errors import ShiyuError
from shiyu.core.http import language
from shiyu.core.storage import LocalStorage
from shiyu.core.timeutil import utcnow
from shiyu.org.areas.models import Area, AreaLevel
from shiyu.reports import export, filing, periods
from shiyu.web.page_deps import PageDb, PagePrincipal, PageRoute, render, require_any

router = APIRouter(prefix="/reports", route_class=PageRoute, include_in_schema=False)
VIEW = "indicator.view"
MAX_AREAS = 600



def _areas(db: PageDb, principal: PagePrincipal) -> list[Area]:
    """Areas with a centre level (city..community) under the caller's grants, in tree order."""
    paths = principal.paths_with(VIEW)
    stmt = select(Area).where(Area.level <= AreaLevel.COMMUNITY).order_by(Area.level, Area.area_path).limit(MAX_AREAS)
    if not principal.is_system:
        stmt = stmt.where(or_(*[Area.area_path.startswith(p, autoescape=True) for p in paths]))
    rows = list(db.scalars(stmt, execution_options={"unscoped": True}))
    return sorted(rows, key=lambda a: a.area_path)


def _page(request: Request, db: PageDb, principal: PagePrincipal, status: int = 200, **form: object) -> Response:
    today = utcnow().astimezone(request.app.state.settings.tz).date()
    areas = _areas(db, principal)
    values = {"area": areas[0].code if areas else "", "week": periods.current(periods.Kind.WEEKLY, today).label,
              "month": periods.current(periods.Kind.MONTHLY, today).label, "format": "docx", "kind": "weekly"}
    values.update({k: v for k, v in form.items() if k in values and isinstance(v, str) and v})
    filed = filing.listed(db)
    names = {a.id: a.name for a in db.scalars(select(Area).where(Area.id.in_({f.area_id for f in filed})),
                                              execution_options={"unscoped": True})}
    return render(request, "reports/reports.html", status, areas=areas, top_level=min((a.level for a in areas),
                  default=0), v=values, error=form.get("error"), filed=filed, area_names=names,
                  formats=list(export.FORMATS))


@router.get("")
def reports_page(request: Request, db: PageDb, principal: PagePrincipal,
                 area: str = Query("", max_length=20)) -> Response:
    """``area``: the area chosen at first (the one map links here with the area it shows)."""
    require_any(principal, VIEW)
    return _page(request, db, principal, area=area)


@router.get("/export")
def export_report(request: Request, db: PageDb, principal: PagePrincipal, area: str = Query("", max_length=20),
                  kind: str = Query("weekly", max_length=10), week: str = Query("", max_length=10),
                  month: str = Query("", max_length=10), format: str = Query("docx", max_length=8)) -> Response:
    """The report as a download; on bad input the page again with the reason (and the status it deserves)."""
    require_any(principal, VIEW)
    try:
        report_kind = periods.Kind(kind) if kind in {k.value for k in periods.Kind} else periods.Kind.WEEKLY
        period = periods.parse(report_kind, week if report_kind is periods.Kind.WEEKLY else month)
        fmt = export.format_named(format)
        report, content = export.make(db, principal, request.app.state.settings.tz, area, period, fmt)
    except ShiyuError as exc:
        db.rollback()
        return _page(request, db, principal, exc.status, area=area, kind=kind, week=week, month=month,
                     format=format, error=exc.message(language(request)))
    return _download(content, fmt.mime, export.file_name(report, fmt))


@router.get("/filed/{report_id}")
def filed_report(request: Request, report_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    require_any(principal, VIEW)
    row = filing.get(db, report_id)
    content = LocalStorage(request.app.state.settings.storage_dir).get(row.storage_key)
    return _download(content, export.FORMATS[row.format].mime, row.file_name)


def _download(content: bytes, mime: str, name: str) -> Response:
    ascii_name = "report." + name.rsplit(".", 1)[-1]
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    return Response(content, media_type=mime, headers={"Content-Disposition": disposition,
                                                       "Cache-Control": "private, no-store"})
