"""Centres and departments in bulk, in the browser: upload an XLSX/CSV file → the dry-run report of every row
(in the reader's language) → confirm, all or none. The work is the units' import service
(``shiyu.org.units.bulk``), the same the API and ``shiyu import centres|departments`` use; the rows travel
back with the confirmation (they hold no personal data) and are checked again there.

Mounted before ``units`` so that ``/admin/units/import`` is not taken for anything else."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from shiyu.core.errors import ShiyuError, ValidationFailed
from shiyu.core.http import language
from shiyu.core.tabular import parse_table
from shiyu.org.units import bulk
from shiyu.web.page_deps import PageDb, PagePrincipal, PageRoute, page_form, render, require_any

router = APIRouter(prefix="/admin/units/import", route_class=PageRoute, include_in_schema=False)
MAX_BYTES = 5 * 1024 * 1024
PERMISSIONS = ("centre.edit", "department.edit")


def _render(request: Request, kind: str, status: int = 200, **context: Any) -> Response:
    return render(request, "admin/unit_import.html", status, kind=kind, columns=list(bulk.COLUMNS[kind]),
                  max_mb=MAX_BYTES // 2**20, **{"report": None, "error": None, "rows": "", "done": None} | context)


def _kind(value: object) -> str:
    return str(value) if str(value) in bulk.KINDS else "departments"


@router.get("")
def upload_page(request: Request, principal: PagePrincipal, kind: str = "departments") -> Response:
    require_any(principal, *PERMISSIONS)
    return _render(request, _kind(kind))


@router.post("")
async def upload(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    """The dry run of the uploaded file: every row checked by creating it in a savepoint, nothing kept."""
    require_any(principal, *PERMISSIONS)
    form = await page_form(request)
    kind, file = _kind(form.get("kind")), form.get("file")
    data = await file.read(MAX_BYTES + 1) if isinstance(file, UploadFile) else b""
    lang = language(request)
    try:
        if not data:
            raise ShiyuError("empty_upload", "请选择要上传的文件", "Choose a file to upload", status=422)
        if len(data) > MAX_BYTES:
            raise ShiyuError("upload_too_large", "文件超过 {mb} MB", "The file is larger than {mb} MB", status=413,
                             mb=MAX_BYTES // 2**20)
        assert isinstance(file, UploadFile)
        table = parse_table(data, file.filename or "")
        records = [dict(zip(table.columns, cells, strict=True)) for cells in table.rows]
        rows = bulk.rows_from_records(kind, records, first=2)
        report = bulk.import_units(db, principal, kind, rows, dry_run=True)
    except ShiyuError as exc:
        db.rollback()
        if exc.status == 403:
            raise
        return _render(request, kind, exc.status, error=exc.message(lang))
    kept = json.dumps([{"number": r.number, "values": r.values} for r in rows], ensure_ascii=False)
    return _render(request, kind, report=report.as_dict(lang), rows=kept)


@router.post("/confirm")
async def confirm(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    """All or none: when a row has a problem now, the report comes back (422) and nothing is created."""
    require_any(principal, *PERMISSIONS)
    form = await page_form(request)
    kind, lang = _kind(form.get("kind")), language(request)
    try:
        kept = json.loads(str(form.get("rows") or "[]"))
        rows = [bulk.UnitRow(int(r["number"]), {str(k): str(v) for k, v in r["values"].items()}) for r in kept]
    except (ValueError, TypeError, KeyError, AttributeError):
        return _render(request, kind, 422, error=ValidationFailed("bad_rows", "请重新上传文件",
                                                                  "Upload the file again").message(lang))
    if not rows:
        return _render(request, kind, 422, error=ValidationFailed(
            "no_rows", "文件中没有数据行", "The file has no rows").message(lang))
    report = bulk.import_units(db, principal, kind, rows, dry_run=False)
    answer = report.as_dict(lang)
    if report.invalid:
        db.rollback()
        return _render(request, kind, 422, report=answer, rows=str(form.get("rows")),
                       error=ValidationFailed("import_has_errors", "有 {count} 行存在问题，未导入任何数据",
                                                   "{count} rows have problems; nothing was imported",
                                                   count=report.invalid).message(lang))
    db.flush()
    return _render(request, kind, done=answer)
