"""Register pages. They call the same service functions as ``/api/v1/registry`` with the caller's scoped
session, so a grid worker sees their grids here exactly as through the API: another grid's house or person
is a 404 page, personal data is masked, every read of a person is audited."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from shiyu.core.errors import NotFound, ShiyuError
from shiyu.core.http import language
from shiyu.core.tabular import xlsx_bytes
from shiyu.org.areas import service as areas
from shiyu.org.areas.models import AreaLevel
from shiyu.registry import changes, export, layers, quality, service
from shiyu.registry.bulk import rows as bulk_rows
from shiyu.registry.bulk import service as bulk
from shiyu.registry.changes import Submission
from shiyu.registry.fields import LABELS, RELATIONS
from shiyu.web.admin.common import paging, redirect
from shiyu.web.page_deps import (
    PageDb,
    PagePrincipal,
    PageRoute,
    field_errors,
    page_form,
    render,
    require_any,
    reveal_answer,
)

router = APIRouter(prefix="/registry", route_class=PageRoute, include_in_schema=False)
VIEW = "registry.view"
MEMBER_ROWS = 4
STATUSES = ("submitted", "reviewed", "accepted", "returned")


@router.get("")
def browser(request: Request, db: PageDb, principal: PagePrincipal, area: int | None = Query(None, ge=1),
            offset: int = Query(0, ge=0)) -> Response:
    """Areas down to the grid; in a grid, its buildings, houses without a building, and units."""
    require_any(principal, VIEW)
    current = areas.get_area(db, area) if area else None
    context: dict[str, Any] = {"current": current, "chain": areas.chain(db, current) if current else [],
                               "children": areas.children(db, current.id) if current else areas.roots(db, principal)}
    if current is not None and current.level == int(AreaLevel.GRID):
        page = paging(offset)
        context["buildings"], context["building_total"] = service.list_buildings(db, current.id, page)
        context["houses"], _ = service.list_houses(db, paging(0, 200), grid_id=current.id)
        units, _ = service.list_units(db, paging(0, 200), current.id)
        context["units"] = [service.unit_out(u) for u in units]
    return render(request, "registry/browser.html", labels=LABELS, can_import=principal.has_permission(bulk.IMPORT),
                  can_reveal=current is not None and principal.can(service.REVEAL, current.area_path), **context)


@router.get("/map.geojson")
def map_points(db: PageDb, principal: PagePrincipal, area: int = Query(ge=1, le=2**62)) -> Response:
    """Buildings, units and components under an area as points for the one map (no personal data)."""
    require_any(principal, VIEW)
    focus = areas.get_area(db, area)
    return JSONResponse(layers.points(db, principal, focus.area_path), media_type="application/geo+json",
                        headers={"Cache-Control": "private, max-age=300"})


@router.get("/quality")
def quality_page(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    """Completeness, staleness and possible duplicates per grid and per worker (counts, no personal data)."""
    require_any(principal, VIEW)
    return render(request, "registry/quality.html", q=quality.report(db, principal), counts=quality.COUNTS)


@router.post("/export")
def export_page(request: Request, db: PageDb, principal: PagePrincipal, grid_id: int = Form(ge=1, le=2**62),
                reason: str = Form("", max_length=500)) -> Response:
    """The grid's residents as XLSX (masked unless a reason is given by someone who may reveal them)."""
    require_any(principal, VIEW)
    table = export.export_persons(db, principal, grid_id, reason)
    return Response(xlsx_bytes(table), media_type=export.XLSX, headers={
        "Content-Disposition": f'attachment; filename="registry-persons-{grid_id}.xlsx"', "Cache-Control": "no-store"})


@router.get("/buildings/{building_id}")
def building_page(request: Request, building_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    require_any(principal, VIEW)
    building = service.get_building(db, building_id)
    houses, total = service.list_houses(db, paging(0, 500), building_id=building.id)
    return render(request, "registry/building.html", building=building, houses=houses, total=total,
                  grid=areas.get_area(db, building.grid_id), labels=LABELS)


@router.get("/houses/{house_id}")
def house_page(request: Request, house_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    require_any(principal, VIEW)
    house = service.house_detail(db, principal, house_id)
    return render(request, "registry/house.html", house=house, grid=areas.get_area(db, house["grid_id"]),
                  labels=LABELS)


@router.get("/persons/{person_id}")
def person_page(request: Request, person_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    require_any(principal, VIEW)
    person = service.profile(db, principal, person_id)
    return render(request, "registry/person.html", p=person, labels=LABELS,
                  can_reveal=principal.can(service.REVEAL, person["area_path"]),
                  can_police=principal.can(service.POLICE, person["area_path"]))


@router.post("/persons/{person_id}/reveal")
def reveal(request: Request, person_id: int, db: PageDb, principal: PagePrincipal, field: str = Form(""),
           reason: str = Form("")) -> Response:
    return reveal_answer(request, db, field, lambda: service.reveal_person(db, principal, person_id, field, reason))


@router.get("/changes")
def queue(request: Request, db: PageDb, principal: PagePrincipal, status: str = Query("submitted", max_length=12),
          offset: int = Query(0, ge=0)) -> Response:
    require_any(principal, "registry.collect", "registry.review")
    current = status if status in STATUSES else "submitted"
    page = paging(offset)
    rows, total = changes.list_changes(db, current, page)
    grids = areas.areas_by_id(db, [r.grid_id for r in rows])
    items = [changes.change_out(r, principal) for r in rows]
    return render(request, "registry/changes.html", items=items, total=total, limit=page.limit, offset=offset,
                  current=current, statuses=STATUSES,
                  grids={k: v.name for k, v in grids.items()},
                  can_review=principal.has_permission("registry.review"),
                  can_collect=principal.has_permission("registry.collect"))


@router.post("/changes/{change_id}/{verb}")
def decide(request: Request, change_id: int, verb: str, db: PageDb, principal: PagePrincipal,
           note: str = Form("", max_length=500)) -> Response:
    if verb not in changes.VERBS:
        raise NotFound(detail={"object": "action", "id": verb[:20]})
    changes.decide(db, principal, change_id, verb, note)
    return redirect(request, f"/registry/changes?status={'accepted' if verb == 'accept' else 'submitted'}")


def _grids(db: PageDb, principal: PagePrincipal) -> list[Any]:
    """The grids the caller collects in, for the new-family form."""
    out = []
    for root in areas.roots(db, principal):
        stack = [root]
        while stack:
            node = stack.pop()
            if node.level == int(AreaLevel.GRID):
                if principal.can("registry.collect", node.area_path):
                    out.append(node)
            else:
                stack.extend(areas.children(db, node.id))
    return sorted(out, key=lambda a: a.code)


@router.get("/changes/new")
def new_family(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    require_any(principal, "registry.collect")
    return render(request, "registry/new_family.html", grids=_grids(db, principal), rows=MEMBER_ROWS,
                  relations=RELATIONS, labels=LABELS, values={}, errors={}, message=None)


@router.post("/changes/new")
async def submit_family(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    require_any(principal, "registry.collect")
    form = {k: str(v) for k, v in (await request.form()).items()}
    members = [{f: form.get(f"m{i}_{f}", "") for f in ("name", "id_number", "phone", "ethnicity", "residence_type",
                                                        "relation")} for i in range(MEMBER_ROWS)]
    data = {"address": {k: form.get(k, "") for k in ("road", "building_no", "unit_no", "room_no")},
            "house": {"use": form.get("use", "")}, "members": [m for m in members if m["name"] or m["id_number"]]}
    grid = form.get("grid_id", "")
    try:
        record, _ = changes.submit(db, principal, Submission(
            "household", "create", data, grid_id=int(grid) if grid.isdigit() else None,
            client_key=form.get("client_key") or None))
    except ShiyuError as exc:
        db.rollback()
        message, errors = field_errors(exc, language(request))
        return render(request, "registry/new_family.html", exc.status, grids=_grids(db, principal), rows=MEMBER_ROWS,
                      relations=RELATIONS, labels=LABELS, values=form, errors=errors, message=message)
    return redirect(request, f"/registry/changes?status=submitted#change-{record.id}")


@router.get("/import")
def import_page(request: Request, principal: PagePrincipal) -> Response:
    require_any(principal, bulk.IMPORT)
    return render(request, "registry/import.html", kinds=bulk_rows.KINDS, columns=bulk_rows.COLUMNS,
                  max_mb=bulk.MAX_BYTES // 2**20)


@router.post("/import")
async def import_run(request: Request, principal: PagePrincipal) -> Response:
    """The permission is checked before the (up to 50 MB) multipart body is parsed (security review S7)."""
    require_any(principal, bulk.IMPORT)
    form = await page_form(request)
    file = form.get("file")
    upload = bulk.Upload((file.filename or "")[:200], raw=await file.read(bulk.MAX_BYTES + 1)) \
        if isinstance(file, UploadFile) else bulk.Upload("", raw=b"")
    kind, mode = str(form.get("kind", ""))[:8], str(form.get("mode", "check"))[:8]
    return await run_in_threadpool(_import, request, principal, kind, mode, upload)


def _import(request: Request, principal: PagePrincipal, kind: str, mode: str, upload: bulk.Upload) -> Response:
    """The database work of the import, in its own scoped transaction (committed only when it succeeded)."""
    session = request.app.state.session_factory()
    session.info.update(principal=principal, client_ip=request.client.host if request.client else None)
    report, general, status = None, None, 200
    try:
        report = bulk.summary(bulk.import_upload(session, principal, kind, upload, mode), mode)
        session.commit()
    except ShiyuError as exc:
        session.rollback()
        general, status = exc.message(language(request)), exc.status
    finally:
        session.close()
    return render(request, "registry/import_report.html", status, report=report, general=general)
