"""``/api/v1/registry``: the registers (read, masked and audited), the audited reveal, change records
(submit, review, accept, return) and the merge of duplicates. Thin: parse, call one service function."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.datastructures import UploadFile

from shiyu.core.errors import Forbidden
from shiyu.core.http import CurrentPrincipal, Db, Paging
from shiyu.core.paging import Page
from shiyu.core.scoping import Principal
from shiyu.core.tabular import xlsx_bytes
from shiyu.registry import changes, dedupe, export, quality, service
from shiyu.registry.bulk import service as bulk
from shiyu.registry.changes import Submission
from shiyu.registry.schemas import (
    BuildingOut,
    ChangeIn,
    ChangeOut,
    ComponentOut,
    DecisionIn,
    ExportIn,
    HouseDetail,
    HouseOut,
    ImportReportOut,
    MergeIn,
    PersonOut,
    PersonProfile,
    RevealIn,
    RevealOut,
    UnitOut,
)

router = APIRouter(prefix="/registry", tags=["registry"])


def _page(items: list[Any], total: int, paging: Any) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": paging.limit, "offset": paging.offset}


@router.get("/persons", response_model=Page[PersonOut],
            summary="Persons in your grids (masked; the read is audited); exact ID number or full name via the "
                    "blind index")
def list_persons(db: Db, principal: CurrentPrincipal, paging: Paging, grid_id: int | None = Query(None, ge=1),
                 id_number: str | None = Query(None, max_length=30), name: str | None = Query(None, max_length=50),
                 status: str | None = Query(None, max_length=12)) -> dict[str, Any]:
    rows, total = service.list_persons(db, service.PersonFilter(grid_id=grid_id, id_number=id_number, name=name,
                                                                status=status), paging)
    return _page([service.person_out(p, principal) for p in rows], total, paging)


@router.post("/persons/export", response_class=Response,
             summary="Persons of a grid (or all yours) as XLSX: masked unless you may reveal and give a reason; "
                     "audited")
def export_persons(body: ExportIn, db: Db, principal: CurrentPrincipal) -> Response:
    table = export.export_persons(db, principal, body.grid_id, body.reason)
    return Response(xlsx_bytes(table), media_type=export.XLSX, headers={
        "Content-Disposition": f'attachment; filename="registry-persons-{body.grid_id or "all"}.xlsx"',
        "Cache-Control": "no-store"})


@router.get("/persons/{person_id}", response_model=PersonProfile,
            summary="A person's profile with residences and household (masked; audited)")
def get_person(person_id: int, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return service.profile(db, principal, person_id)


@router.post("/persons/{person_id}/reveal", response_model=RevealOut,
             summary="One personal-data field in the clear (registry.reveal; police_note: registry.police_view; "
                     "audited)")
def reveal(person_id: int, body: RevealIn, db: Db, principal: CurrentPrincipal) -> RevealOut:
    return RevealOut(field=body.field, value=service.reveal_person(db, principal, person_id, body.field, body.reason))


@router.post("/persons/{person_id}/merge", response_model=ChangeOut,
             summary="Merge a duplicate record (same ID number) into this one, keeping the history")
def merge(person_id: int, body: MergeIn, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return changes.change_out(dedupe.merge(db, principal, person_id, body.duplicate_id), principal)


@router.get("/duplicates", response_model=list[list[PersonOut]],
            summary="Groups of active persons in your scope sharing an ID number")
def duplicates(db: Db, principal: CurrentPrincipal) -> list[list[dict[str, Any]]]:
    return [[service.person_out(p, principal) for p in group] for group in dedupe.groups(db)]


@router.get("/quality", summary="Data quality per grid and per grid worker: missing fields, records not confirmed "
                                 "for 12 months, possible duplicates (counts only, as counted at computed_at: "
                                 "the worker counts again every 15 minutes)")
def data_quality(db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return quality.report(db, principal)


@router.get("/buildings", response_model=Page[BuildingOut], summary="Buildings in your grids")
def list_buildings(db: Db, paging: Paging, grid_id: int | None = Query(None, ge=1)) -> dict[str, Any]:
    rows, total = service.list_buildings(db, grid_id, paging)
    return _page(rows, total, paging)


@router.get("/houses", response_model=Page[HouseOut], summary="Houses in your grids, by grid or building")
def list_houses(db: Db, paging: Paging, grid_id: int | None = Query(None, ge=1),
                building_id: int | None = Query(None, ge=1)) -> dict[str, Any]:
    rows, total = service.list_houses(db, paging, grid_id=grid_id, building_id=building_id)
    return _page(rows, total, paging)


@router.get("/houses/{house_id}", response_model=HouseDetail,
            summary="A house with its current residents (masked; audited) and the units at its address")
def get_house(house_id: int, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return service.house_detail(db, principal, house_id)


@router.get("/units", response_model=Page[UnitOut], summary="Units in your grids")
def list_units(db: Db, paging: Paging, grid_id: int | None = Query(None, ge=1),
               place_type: str | None = Query(None, max_length=16)) -> dict[str, Any]:
    rows, total = service.list_units(db, paging, grid_id, place_type)
    return _page([service.unit_out(u) for u in rows], total, paging)


@router.get("/units/{unit_id}", response_model=UnitOut, summary="One unit (legal representative masked)")
def get_unit(unit_id: int, db: Db) -> dict[str, Any]:
    return service.unit_out(service.get_unit(db, unit_id))


@router.get("/components", response_model=Page[ComponentOut], summary="Components in your grids")
def list_components(db: Db, paging: Paging, grid_id: int | None = Query(None, ge=1),
                    class_code: str | None = Query(None, max_length=4)) -> dict[str, Any]:
    rows, total = service.list_components(db, paging, grid_id, class_code)
    return _page(rows, total, paging)


@router.post("/changes", response_model=ChangeOut, status_code=201,
             summary="Submit a change for review; a resend with the same client_key answers 200 with the first")
def submit_change(body: ChangeIn, db: Db, principal: CurrentPrincipal, response: Response) -> dict[str, Any]:
    record, created = changes.submit(db, principal, Submission(
        entity=body.entity, action=body.action, data=body.data, target_id=body.target_id, grid_id=body.grid_id,
        photos=tuple(body.photos), client_key=body.client_key))
    if not created:
        response.status_code = 200
    return changes.change_out(record, principal)


@router.get("/changes", response_model=Page[ChangeOut], summary="Change records in your scope, newest first")
def list_changes(db: Db, principal: CurrentPrincipal, paging: Paging,
                 status: str | None = Query(None, max_length=12)) -> dict[str, Any]:
    rows, total = changes.list_changes(db, status, paging)
    return _page([changes.change_out(r, principal) for r in rows], total, paging)


@router.get("/changes/{change_id}", response_model=ChangeOut, summary="One change record (masked)")
def get_change(change_id: int, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return changes.change_out(changes.get(db, change_id), principal)


def _decide(verb: str) -> Any:
    def handler(change_id: int, body: DecisionIn, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
        return changes.change_out(changes.decide(db, principal, change_id, verb, body.note), principal)
    return handler


for _verb, _summary in (("review", "Mark a submitted change as reviewed"),
                        ("accept", "Accept a reviewed change: it is written into the register"),
                        ("return", "Return a change to its collector with a reason")):
    router.add_api_route(f"/changes/{{change_id}}/{_verb}", _decide(_verb), methods=["POST"],
                         response_model=ChangeOut, summary=_summary, name=f"change_{_verb}")


IMPORT_BODY = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {"type": "object", "properties": {"file": {
        "type": "string", "format": "binary", "description": "XLSX or CSV, columns as `shiyu import` takes"}}}},
    "application/json": {"schema": {"type": "object", "properties": {"rows": {
        "type": "array", "items": {"type": "object"},
        "description": "one object per row, keyed by the file's Chinese column names or the field names"}}}}}}}


def _may_import(principal: CurrentPrincipal) -> Principal:
    """Checked before the body is read: a caller who may not import is refused before sending a 50 MB file."""
    if not principal.has_permission(bulk.IMPORT):
        raise Forbidden(detail={"permission": bulk.IMPORT})
    return principal


async def _upload(request: Request, _principal: Principal = Depends(_may_import)) -> bulk.Upload:
    """The uploaded file, or the rows of a JSON body (read here so that the handler stays synchronous)."""
    if request.headers.get("content-type", "").startswith("application/json"):
        return bulk.Upload("api", records=bulk.json_records(await request.body()))
    form = await request.form()
    file = form.get("file")
    if not isinstance(file, UploadFile):
        return bulk.Upload("", raw=b"")
    return bulk.Upload((file.filename or "")[:200], raw=await file.read(bulk.MAX_BYTES + 1))


@router.post("/imports", response_model=ImportReportOut, openapi_extra=IMPORT_BODY,
             summary="Import persons, houses or units from XLSX/CSV (or JSON rows): check (a report per row, nothing "
                     "written), import (the good rows; the bad ones reported) or all (every row or none: 422)")
def import_file(db: Db, principal: CurrentPrincipal, upload: bulk.Upload = Depends(_upload),
                kind: str = Query(max_length=8, description="persons, houses or units"),
                mode: str = Query("check", max_length=8, description="check, import or all")) -> dict[str, Any]:
    return bulk.summary(bulk.import_upload(db, principal, kind, upload, mode), mode)
