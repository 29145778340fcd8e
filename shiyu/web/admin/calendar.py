"""The working calendar: a year view of public holidays and make-up working days, the office hours, and a
year's 放假安排 loaded from the State Council's notice (pasted or uploaded; CSV and JSON too) with a dry run."""

from __future__ import annotations

import calendar as cal
from datetime import date
from typing import Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from shiyu.core.errors import ShiyuError
from shiyu.core.http import language
from shiyu.core.scoping import require_citywide
from shiyu.core.timeutil import utcnow
from shiyu.org.calendar import notice
from shiyu.org.calendar import service as service
from shiyu.org.calendar.schemas import DayRange, OfficeHours
from shiyu.web.admin.common import int_or_none
from shiyu.web.page_deps import PageDb, PagePrincipal, PageRoute, field_errors, page_form, render

router = APIRouter(prefix="/admin/calendar", route_class=PageRoute, include_in_schema=False)


def _months(year: int, ranges: list[DayRange], weekend: list[int]) -> list[dict[str, Any]]:
    """Twelve month grids (weeks of (day, css class, title)) for the year view."""
    marks: dict[date, tuple[str, str]] = {}
    for r in ranges:
        day = r.start
        while day <= (r.end or r.start):
            marks[day] = (r.kind.value, r.name_zh or r.name_en)
            day = date.fromordinal(day.toordinal() + 1)
    months = []
    for month in range(1, 13):
        weeks = []
        for week in cal.Calendar(firstweekday=0).monthdatescalendar(year, month):
            row: list[dict[str, object] | None] = []
            for day in week:
                if day.month != month:
                    row.append(None)
                    continue
                kind, name = marks.get(day, ("weekend" if day.weekday() in weekend else "", ""))
                row.append({"d": day.day, "cls": f"day-{kind}" if kind else "", "title": name, "iso": day.isoformat()})
            weeks.append(row)
        months.append({"month": month, "weeks": weeks})
    return months


def _page(request: Request, db: PageDb, principal: PagePrincipal, year: int, status: int = 200,
          **extra: Any) -> Response:
    hours = service.get_office_hours(db)
    ranges = service.year_ranges(db, year)
    periods = [{"start": p.start.strftime("%H:%M"), "end": p.end.strftime("%H:%M")} for p in hours.periods]
    return render(request, "admin/calendar.html", status, year=year, hours=hours, periods=periods, ranges=ranges,
                  months=_months(year, ranges, hours.weekend), can_edit=principal.has_permission("calendar.edit"),
                  **{"errors": {}, "general": None, "rerrors": {}, "rgeneral": None, "saved": None} | extra)


@router.get("")
def calendar_page(request: Request, db: PageDb, principal: PagePrincipal,
                  year: int | None = Query(None, ge=2000, le=2100)) -> Response:
    year = year or utcnow().astimezone(request.app.state.settings.tz).year
    return _page(request, db, principal, year)


@router.post("/office-hours")
async def save_hours(request: Request, db: PageDb, principal: PagePrincipal,
                     year: int = Query(2026, ge=2000, le=2100)) -> Response:
    form = await page_form(request)
    starts, ends = form.getlist("start"), form.getlist("end")
    periods = [{"start": s, "end": e} for s, e in zip(starts, ends, strict=False) if s or e]
    try:
        weekend = [int(str(d)) for d in form.getlist("weekend")]
        data = OfficeHours.model_validate({"periods": periods, "weekend": weekend})
        service.set_office_hours(db, principal, data)
        db.flush()
    except (ValidationError, ShiyuError) as exc:
        db.rollback()
        general, errors = field_errors(exc, language(request))
        return _page(request, db, principal, year, 422, errors=errors, general=general)
    return _page(request, db, principal, year, saved="hours")


@router.post("/years/{year}")
async def save_year(request: Request, db: PageDb, principal: PagePrincipal,
                    year: int = Path(ge=2000, le=2100)) -> Response:
    form = await page_form(request)
    cols = [form.getlist(k) for k in ("r_start", "r_end", "r_kind", "r_name_zh", "r_name_en")]
    rows = [{"start": s, "end": e or None, "kind": k, "name_zh": nz, "name_en": ne}
            for s, e, k, nz, ne in zip(*cols, strict=False) if s]
    try:
        ranges = [DayRange.model_validate(r) for r in rows]
        for r in ranges:
            if r.start.year != year or (r.end and r.end.year != year) or (r.end and r.end < r.start):
                raise ShiyuError("range_outside_year", "日期须在 {year} 年内且结束不早于开始",
                                 "Dates must lie in {year} and end no earlier than they start", year=year,
                                 detail={"field": "ranges"}, status=422)
        service.replace_year(db, principal, year, ranges)
        db.flush()
    except (ValidationError, ShiyuError) as exc:
        db.rollback()
        general, errors = field_errors(exc, language(request))
        return _page(request, db, principal, year, 422, rerrors=errors, rgeneral=general)
    return _page(request, db, principal, year, saved="year")


MAX_UPLOAD = notice.MAX_CHARS * 4  # bytes of UTF-8 text


@router.post("/import")
async def import_notice(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    """The pasted text (or the uploaded file) read and checked: with ``dry_run`` the preview of what the year
    becomes and a button to load it; without, the year is replaced and its page shown."""
    require_citywide(principal, service.EDIT)
    form = await page_form(request)
    upload = form.get("file")
    text = str(form.get("text") or "")
    data = await upload.read(MAX_UPLOAD + 1) if isinstance(upload, UploadFile) and upload.filename else None
    year = int_or_none(form.get("year"))
    dry_run = str(form.get("dry_run", "1")) != "0"
    lang = language(request)
    try:
        if data is not None:
            if len(data) > MAX_UPLOAD:
                raise ShiyuError("upload_too_large", "文件超过 {kb} KB", "The file is larger than {kb} KB",
                                 status=413, kb=MAX_UPLOAD // 1024)
            text = data.decode("utf-8-sig", errors="replace")
        parsed = notice.parse(text, year if year and 2000 <= year <= 2100 else None)
        if not 2000 <= parsed.year <= 2100:
            raise ShiyuError("calendar_year_unclear", "请指定年份", "Name the year", status=422)
        result = service.import_year(db, principal, parsed.year, parsed.ranges, dry_run=dry_run)
        db.flush()
    except ShiyuError as exc:
        db.rollback()
        if exc.status == 403:
            raise
        return render(request, "admin/partials/calendar_import.html", exc.status, result=None, error=exc.message(lang),
                      text=text)
    if dry_run:
        return render(request, "admin/partials/calendar_import.html", result=result, fmt=parsed.format, text=text,
                      error=None)
    return _page(request, db, principal, result.year, saved="imported")
