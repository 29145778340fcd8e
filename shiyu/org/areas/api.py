"""Routes for areas and grids. Thin: parse, authorise, call the service, return.

The fixed paths (lookup, export, import, boundary-proposals) are declared before ``/areas/{area_id}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from shiyu.core.errors import Forbidden, ValidationFailed
from shiyu.core.http import CurrentPrincipal, Db, Paging, request_session
from shiyu.core.paging import Page
from shiyu.core.scoping import Principal
from shiyu.org.areas import drawing, importer, service
from shiyu.org.areas.models import Area
from shiyu.org.areas.schemas import (
    AreaDetailOut,
    AreaOut,
    AreaRefOut,
    BoundaryOut,
    DecisionIn,
    ImportReportOut,
    LookupOut,
    ProposalIn,
)

router = APIRouter(tags=["areas"])

# The largest GeoJSON file taken (a whole city's boundaries); SHIYU_MAX_IMPORT_BYTES bounds the request.
MAX_IMPORT_BYTES = 50 * 1024 * 1024

IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "description": "A GeoJSON FeatureCollection, as the JSON body or as the multipart field `file`",
        "content": {
            "application/json": {"schema": {"type": "object", "description": "GeoJSON FeatureCollection"}},
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
            },
        },
    }
}


def _may_import(principal: CurrentPrincipal) -> Principal:
    """Checked before the body is read: a caller without ``area.import`` anywhere is refused at once, not
    after sending (and making the server hold) a 50 MB file."""
    if not principal.has_permission("area.import"):
        raise Forbidden(detail={"permission": "area.import"})
    return principal


async def _import_body(request: Request, _principal: Principal = Depends(_may_import)) -> bytes:
    """The uploaded file or the raw JSON body (read here so that the handler itself stays synchronous); its
    size is bounded by ``SHIYU_MAX_IMPORT_BYTES`` while it streams in (``shiyu.web.limits``)."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        data = await upload.read() if upload is not None and not isinstance(upload, str) else b""
    else:
        data = await request.body()
    if len(data) > MAX_IMPORT_BYTES:
        raise importer.InvalidGeoJSON(reason=f"larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB")
    return data


def _detail(db: Db, area: Area) -> dict[str, Any]:
    out = AreaOut.model_validate(area, from_attributes=True).model_dump()
    chain = [AreaRefOut.model_validate(r).model_dump() for r in service.chain(db, area)]
    return out | {"geometry": area.geometry, "chain": chain}


@router.get("/areas", response_model=Page[AreaOut], summary="Areas within your grants")
def list_areas(
    db: Db, paging: Paging,
    level: int | None = Query(None, ge=0, le=4, description="0 city … 4 grid"),
    parent_id: int | None = Query(None, description="children of this area"),
    q: str | None = Query(None, max_length=100, description="part of the name or code"),
    code: str | None = Query(None, max_length=15, description="exact code"),
) -> dict[str, Any]:
    rows, total = service.list_areas(db, paging, level=level, parent_id=parent_id, q=q, code=code)
    return {"items": rows, "total": total, "limit": paging.limit, "offset": paging.offset}


def _public_session(request: Request) -> Iterator[Session]:
    """The base map is served to anyone (the citizen portal too): it holds only public outlines and names."""
    yield from request_session(request, Principal.system("base-map"))


PublicDb = Annotated[Session, Depends(_public_session, scope="function")]
# How long a browser and a proxy may keep a base-map answer: boundaries change by approved proposals, rarely.
BASE_MAP_MAX_AGE = 300


@router.get("/map/base", summary="The city's own base map: outlines and names of the areas a map at this zoom "
                                 "and box shows (districts zoomed out, grids zoomed in); public, no tiles needed")
def base_map(
    db: PublicDb,
    zoom: int = Query(ge=0, le=22, description="the map's zoom (Web Mercator)"),
    west: float = Query(ge=-180, le=180), south: float = Query(ge=-90, le=90),
    east: float = Query(ge=-180, le=180), north: float = Query(ge=-90, le=90),
) -> JSONResponse:
    if west > east or south > north:
        raise ValidationFailed("bad_box", "地图范围有误：西边界应小于东边界，南边界应小于北边界",
                               "The box must have west ≤ east and south ≤ north", detail={"field": "west"})
    layer = drawing.base_layer(db, zoom, (west, south, east, north))
    return JSONResponse(layer, headers={"Cache-Control": f"public, max-age={BASE_MAP_MAX_AGE}"})


@router.get("/areas/lookup", response_model=LookupOut,
            summary="The grid containing a point, with its community, street, district and city")
def lookup(
    db: Db, principal: CurrentPrincipal,
    lon: float = Query(ge=-180, le=180, description="longitude (WGS 84)"),
    lat: float = Query(ge=-90, le=90, description="latitude (WGS 84)"),
) -> LookupOut:
    record = service.locate(db, principal, lon, lat)
    return LookupOut(grid=AreaRefOut.model_validate(record.ref),
                     chain=[AreaRefOut.model_validate(r) for r in record.chain])


@router.get("/areas/export", summary="A subtree as a GeoJSON FeatureCollection (re-importable)",
            response_class=JSONResponse, responses={200: {"content": {"application/geo+json": {}}}})
def export_areas(db: Db, root_id: int | None = Query(None, description="root area; all of yours if omitted")
                 ) -> JSONResponse:
    return JSONResponse(importer.export_areas(db, root_id), media_type="application/geo+json")


@router.post("/areas/import", response_model=ImportReportOut, openapi_extra=IMPORT_BODY,
             summary="Validate (dry run, the default) or import a GeoJSON file of areas, all or nothing")
def import_areas(
    db: Db, principal: CurrentPrincipal, data: bytes = Depends(_import_body),
    dry_run: bool = Query(True, description="only validate and report"),
    crs: str = Query("wgs84", max_length=20, description="the file's coordinates: wgs84, cgcs2000, gcj02, bd09"),
    field_map: str = Query("", alias="map", max_length=2000,
                           description="property names for our fields, e.g. 网格编码=code,网格名称=name"),
    clip_to_parent: bool = Query(False, description="cut each new area to its parent and report the cut"),
) -> dict[str, Any]:
    options = importer.ImportOptions.parse(crs, field_map, clip_to_parent)
    return importer.import_areas(db, principal, data, dry_run=dry_run, options=options).to_dict()


@router.post("/areas/boundary-proposals/{proposal_id}/approve", response_model=BoundaryOut,
             summary="Approve a boundary proposal (area.approve; not the proposer)")
def approve(proposal_id: int, body: DecisionIn, db: Db, principal: CurrentPrincipal) -> Any:
    return service.approve(db, principal, proposal_id, body.note)


@router.post("/areas/boundary-proposals/{proposal_id}/reject", response_model=BoundaryOut,
             summary="Reject a boundary proposal with a note (area.approve)")
def reject(proposal_id: int, body: DecisionIn, db: Db, principal: CurrentPrincipal) -> Any:
    return service.reject(db, principal, proposal_id, body.note)


@router.get("/areas/{area_id}", response_model=AreaDetailOut, summary="One area with its boundary and chain")
def get_area(area_id: int, db: Db) -> dict[str, Any]:
    return _detail(db, service.get_area(db, area_id))


@router.get("/areas/{area_id}/children", response_model=list[AreaOut], summary="The children of an area")
def children(area_id: int, db: Db) -> Any:
    return service.children(db, area_id)


@router.get("/areas/{area_id}/boundaries", response_model=list[BoundaryOut],
            summary="All boundary versions of an area: approved, superseded, proposed, rejected")
def boundaries(area_id: int, db: Db) -> Any:
    return service.list_boundaries(db, area_id)


@router.post("/areas/{area_id}/boundary-proposals", response_model=BoundaryOut, status_code=201,
             summary="Propose a new boundary (area.propose); it takes effect when someone else approves it")
def propose(area_id: int, body: ProposalIn, db: Db, principal: CurrentPrincipal) -> Any:
    return service.propose_boundary(db, principal, area_id, body.geometry, body.note)
