"""Centres and departments in bulk over the API (``shiyu.org.units.bulk``): ``?dry_run=true`` (the default)
reports every row and writes nothing; ``?dry_run=false`` creates them all, or — when any row is refused —
none, answering 422 ``import_has_errors`` with the same report."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from shiyu.core.errors import ValidationFailed
from shiyu.core.http import CurrentPrincipal, Db, language
from shiyu.org.units import bulk

router = APIRouter(tags=["units"])
MAX_ROWS = 5_000


class UnitsImportIn(BaseModel):
    rows: list[dict[str, str | int | None]] = Field(
        max_length=MAX_ROWS, description="centres: 区域编码/area_code, 名称/name, 电话/phone; departments: "
                                         "部门编码/code, 部门名称/name, 区域编码/area_code, 类别/category_kinds, "
                                         "电话/phone, 管辖区域/jurisdictions")


def _run(kind: str, body: UnitsImportIn, dry_run: bool, request: Request, db: Db,
         principal: CurrentPrincipal) -> dict[str, Any]:
    report = bulk.import_units(db, principal, kind, bulk.rows_from_records(kind, body.rows), dry_run=dry_run)
    answer = report.as_dict(language(request))
    if report.invalid and not dry_run:
        raise ValidationFailed("import_has_errors", "有 {count} 行存在问题，未导入任何数据",
                               "{count} rows have problems; nothing was imported", count=report.invalid,
                               detail=answer)
    return answer


@router.post("/centres/import", summary="Import centres (dry run by default; all or none)")
def import_centres(body: UnitsImportIn, request: Request, db: Db, principal: CurrentPrincipal,
                   dry_run: bool = Query(True)) -> dict[str, Any]:
    return _run("centres", body, dry_run, request, db, principal)


@router.post("/departments/import", summary="Import departments (dry run by default; all or none)")
def import_departments(body: UnitsImportIn, request: Request, db: Db, principal: CurrentPrincipal,
                       dry_run: bool = Query(True)) -> dict[str, Any]:
    return _run("departments", body, dry_run, request, db, principal)
