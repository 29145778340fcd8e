"""People in bulk, in the browser: upload → dry-run report (per row, in the reader's language) → confirm
(with the rows to leave out) → download the activation codes once. The work is identity's
(``shiyu.org.identity.bulk.service``); this module only moves it between forms and pages.

Mounted before ``users`` so that ``/admin/users/import`` is not taken for a user id."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUploadFile

from shiyu.core.errors import ShiyuError
from shiyu.core.http import language
from shiyu.core.pii import mask
from shiyu.core.tabular import parse_table, xlsx_bytes
from shiyu.org.identity.bulk import rows as bulk_rows
from shiyu.org.identity.bulk import service
from shiyu.web.admin.common import redirect
from shiyu.web.page_deps import PageDb, PagePrincipal, PageRoute, page_form, render, require_any

router = APIRouter(prefix="/admin/users/import", route_class=PageRoute, include_in_schema=False)
MAX_BYTES = 10 * 1024 * 1024
SHOWN_OK_ROWS = 200
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("")
def upload_page(request: Request, principal: PagePrincipal) -> Response:
    require_any(principal, "user.manage")
    return render(request, "admin/user_import.html", report=None, error=None, max_mb=MAX_BYTES // 2**20)


@router.post("")
async def upload(request: Request, principal: PagePrincipal) -> Response:
    """The permission is checked before the multipart body is parsed."""
    require_any(principal, "user.manage")
    form = await page_form(request)
    file = form.get("file")
    data = await file.read(MAX_BYTES + 1) if isinstance(file, StarletteUploadFile) else b""
    name = (file.filename or "") if isinstance(file, StarletteUploadFile) else ""
    return await run_in_threadpool(_start, request, principal, name, data)


def _start(request: Request, principal: PagePrincipal, name: str, data: bytes) -> Response:
    lang = language(request)
    session = request.app.state.session_factory()
    session.info.update(principal=principal, client_ip=request.client.host if request.client else None)
    try:
        if not data:
            raise ShiyuError("empty_upload", "请选择要上传的文件", "Choose a file to upload", status=422)
        if len(data) > MAX_BYTES:
            raise ShiyuError("upload_too_large", "文件超过 {mb} MB", "The file is larger than {mb} MB", status=413,
                             mb=MAX_BYTES // 2**20)
        report = service.start(session, principal, name, bulk_rows.rows_from_table(parse_table(data, name)))
        session.commit()
    except ShiyuError as exc:
        session.rollback()
        return render(request, "admin/user_import.html", exc.status, report=None, error=exc.message(lang),
                      max_mb=MAX_BYTES // 2**20)
    finally:
        session.close()
    return redirect(request, f"/admin/users/import/{report.import_id}")


@router.get("/{import_id}")
def report_page(request: Request, import_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    return _report(request, db, principal, import_id)


def _report(request: Request, db: PageDb, principal: PagePrincipal, import_id: int, status: int = 200,
            error: str | None = None, excluded: set[int] | None = None) -> Response:
    draft = service.get_import(db, principal, import_id)
    context: dict[str, Any] = {"draft": draft, "error": error, "excluded": excluded or set(),
                               "max_mb": MAX_BYTES // 2**20}
    if draft.status == "draft":
        report = service.report(db, principal, import_id)
        context["report"] = _view(report, language(request))
    else:
        context["report"] = None
    return render(request, "admin/user_import.html", status, **context)


def _view(report: service.Report, lang: str) -> dict[str, Any]:
    """What the report page shows of each row: the name as uploaded, the phone masked, the problems."""
    def row(c: bulk_rows.Checked) -> dict[str, Any]:
        return {"number": c.row.number, "full_name": c.row.full_name, "phone": mask("phone", c.row.phone) or "",
                "role": c.role.value if c.role else c.row.role, "place": c.place or c.row.area_code or c.row.department,
                "problems": [p.message(lang) for p in c.problems]}

    ok = [c for c in report.rows if c.ok]
    return {"total": len(report.rows), "valid": len(ok), "bad": [row(c) for c in report.invalid],
            "ok": [row(c) for c in ok[:SHOWN_OK_ROWS]], "more_ok": max(0, len(ok) - SHOWN_OK_ROWS)}


@router.post("/{import_id}/confirm")
def confirm(request: Request, import_id: int, db: PageDb, principal: PagePrincipal,
            exclude: list[str] = Form([])) -> Response:
    """All or none: when a row still has a problem (and was not excluded) the report comes back, 422."""
    excluded = {int(v) for v in exclude if v.isdigit()}
    try:
        service.confirm(db, principal, import_id, excluded, ZoneInfo(request.app.state.settings.timezone))
    except service.ImportHasErrors as exc:
        db.rollback()
        return _report(request, db, principal, import_id, exc.status, exc.message(language(request)), excluded)
    return redirect(request, f"/admin/users/import/{import_id}")


@router.get("/{import_id}/codes")
def codes(import_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    table = service.take_codes(db, principal, import_id)
    return Response(xlsx_bytes(table), media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="activation-codes-{import_id}.xlsx"',
        "Cache-Control": "no-store"})
