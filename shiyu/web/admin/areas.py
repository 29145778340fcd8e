"""Areas and grids: tree navigation with a map of the selected area's children, GeoJSON import with the
dry-run report, and boundary proposals (propose, approve, reject)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile as StarletteUploadFile

from shiyu.core.errors import NotFound, ShiyuError, ValidationFailed
from shiyu.core.http import language
from shiyu.org.areas import importer, service
from shiyu.org.areas.api import MAX_IMPORT_BYTES
from shiyu.org.areas.crs import CRS_NAMES
from shiyu.org.areas.geometry import DRAW_TOLERANCE, for_drawing
from shiyu.org.areas.models import Area, AreaBoundary, AreaLevel
from shiyu.org.identity.service import usernames
from shiyu.registry import sizing
from shiyu.web.page_deps import PageDb, PagePrincipal, PageRoute, field_errors, page_form, render, require_any

router = APIRouter(prefix="/admin/areas", route_class=PageRoute, include_in_schema=False)
TOLERANCE = {AreaLevel(level): tolerance for level, tolerance in DRAW_TOLERANCE.items()}
EDIT_PERMISSIONS = ("area.edit", "area.import", "area.propose", "area.approve")


def _closed(area: Area, has_children: bool) -> dict[str, Any]:
    """A tree node shown without its children (they load when it is opened)."""
    return {"area": area, "children": None, "leaf": not has_children}


def _tree(db: PageDb, principal: PagePrincipal, selected: Area | None) -> list[dict[str, Any]]:
    """Root nodes; the branch down to the selected area comes expanded."""
    open_codes = set(selected.area_path.strip("/").split("/")) if selected else set()

    def node(area: Area) -> dict[str, Any]:
        entry: dict[str, Any] = {"area": area, "children": None}
        if area.code in open_codes and area.level < AreaLevel.GRID:
            entry["children"] = [node(k) if k.code in open_codes else _closed(k, has_children)
                                 for k, has_children in service.children_with_flags(db, area.id)]
        entry["leaf"] = area.level == AreaLevel.GRID
        return entry

    return [node(r) for r in service.roots(db, principal)]


@router.get("")
def areas_page(request: Request, db: PageDb, principal: PagePrincipal, area: int | None = None) -> Response:
    require_any(principal, *EDIT_PERMISSIONS)
    roots = service.roots(db, principal)
    selected = service.get_area(db, area) if area is not None else (roots[0] if len(roots) == 1 else None)
    context: dict[str, Any] = {"tree": _tree(db, principal, selected), "selected": selected}
    if selected is not None:
        context.update(
            chain=list(reversed(service.chain(db, selected))),
            kids=service.children(db, selected.id),
            boundaries=service.list_boundaries(db, selected.id),
            can_propose=principal.can("area.propose", selected.area_path),
            can_approve=principal.can("area.approve", selected.area_path),
            can_draw=principal.can("area.edit", selected.area_path) and selected.level < AreaLevel.GRID,
            suggested_code=service.suggest_child_code(db, selected),
        )
        context["counted"] = sizing.counted(db, [selected, *context["kids"]])
    return render(request, "admin/areas.html", **context)


@router.get("/tree/{area_id}")
def tree_fragment(request: Request, area_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    nodes = [_closed(k, has_children) for k, has_children in service.children_with_flags(db, area_id)]
    return render(request, "admin/partials/area_tree.html", nodes=nodes, selected=None)


def _feature(area: Area | AreaBoundary, role: str, tolerance: float, **props: Any) -> dict[str, Any] | None:
    if area.geometry is None:
        return None
    return {"type": "Feature", "geometry": for_drawing(area.geometry, tolerance), "properties": {"role": role, **props}}


@router.get("/{area_id}/map.json")
def area_map(area_id: int, db: PageDb, principal: PagePrincipal, edit: bool = False) -> Response:
    """The selected area's outline, its children's boundaries (simplified for their level) and the
    boundary proposals awaiting a decision, as GeoJSON for the page's map. ``edit``: the outline exactly as
    stored, for reshaping it on the map (a simplified one would move the edges nobody touched)."""
    area = service.get_area(db, area_id)
    features = []
    kids = service.children(db, area.id)
    tolerance = TOLERANCE[AreaLevel(min(area.level + 1, AreaLevel.GRID))]
    for kid in kids:
        features.append(_feature(kid, "child", tolerance, id=kid.id, name=kid.name, code=kid.code,
                                 href=f"/admin/areas?area={kid.id}"))
    features.append(_feature(area, "self", 0 if edit else TOLERANCE[AreaLevel(area.level)] / 2, id=area.id,
                             name=area.name, code=area.code))
    for p in service.open_proposals(db, [area.id, *[k.id for k in kids]]):
        features.append(_feature(p, "proposed", 0, id=p.id, name="", code=""))
    body = {"type": "FeatureCollection", "features": [f for f in features if f]}
    return JSONResponse(body, headers={"Cache-Control": "private, max-age=60"})


@router.get("/search.json")
def search(db: PageDb, principal: PagePrincipal, q: str = Query("", max_length=100),
           max_level: int = Query(4, ge=0, le=4)) -> Response:
    """Areas in scope for the area picker (name contains ``q`` or code starts with it)."""
    rows = service.search_areas(db, q, max_level)
    return JSONResponse([{"id": r.id, "code": r.code, "name": r.name, "level": r.level} for r in rows])


# -- import ------------------------------------------------------------------------------------------------


@router.get("/import")
def import_page(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    require_any(principal, "area.import")
    return render(request, "admin/area_import.html", max_mb=MAX_IMPORT_BYTES // (1024 * 1024),
                  crs_names=CRS_NAMES)


@router.post("/import")
async def import_run(request: Request, principal: PagePrincipal) -> Response:
    """The permission is checked before the (up to 50 MB) multipart body is parsed (security review S7)."""
    require_any(principal, "area.import")
    form = await page_form(request)
    file = form.get("file")
    data = await file.read(MAX_IMPORT_BYTES + 1) if isinstance(file, StarletteUploadFile) else b""
    options = {"crs_name": str(form.get("crs") or "wgs84"), "mapping": str(form.get("map") or "")[:2000],
               "clip_to_parent": form.get("clip_to_parent") in ("1", "on")}
    return await run_in_threadpool(_import, request, principal, data, str(form.get("dry_run", "1")) != "0",
                                   options)


def _import(request: Request, principal: PagePrincipal, data: bytes, dry_run: bool,
            options: dict[str, Any]) -> Response:
    """Synchronous part (the database work) of the import, in its own scoped transaction."""
    lang = language(request)
    errors: dict[str, str] = {}
    report: dict[str, Any] | None = None
    general = None
    status = 200
    session = request.app.state.session_factory()
    session.info.update(principal=principal, client_ip=request.client.host if request.client else None)
    try:
        if not data:
            raise importer.InvalidGeoJSON(reason="empty" if lang == "en" else "文件为空", detail={"field": "file"})
        if len(data) > MAX_IMPORT_BYTES:
            raise importer.InvalidGeoJSON(reason=f"> {MAX_IMPORT_BYTES // (1024 * 1024)} MB",
                                          detail={"field": "file"})
        parsed = importer.ImportOptions.parse(**options)
        report = importer.import_areas(session, principal, data, dry_run=dry_run, options=parsed).to_dict()
        session.commit()
    except importer.ImportInvalid as exc:
        session.rollback()
        report, general, status = exc.detail, exc.message(lang), 422
    except ShiyuError as exc:
        session.rollback()
        general, fields = field_errors(exc, lang)
        errors = fields or {"file": general}
        status = exc.status
    finally:
        session.close()
    return render(request, "admin/partials/import_report.html", status, report=report, errors=errors,
                  general=general)


# -- boundary proposals ------------------------------------------------------------------------------------


@router.get("/proposals")
def proposals_page(request: Request, db: PageDb, principal: PagePrincipal,
                   status: str = Query("proposed", pattern="^(proposed|approved|rejected|superseded)$")) -> Response:
    require_any(principal, "area.approve", "area.propose")
    rows = service.list_proposals(db, status)
    users = usernames(db, [b.proposed_by_id for b, _ in rows] + [b.decided_by_id for b, _ in rows])
    items = [{"b": b, "area": a, "proposer": users.get(b.proposed_by_id or 0, ""),
              "decider": users.get(b.decided_by_id or 0, ""),
              "can_decide": principal.can("area.approve", b.area_path) and b.proposed_by_id != principal.user_id}
             for b, a in rows]
    return render(request, "admin/proposals.html", items=items, current=status)


@router.post("/proposals/{proposal_id}/{decision}")
def decide(request: Request, proposal_id: int, decision: str, db: PageDb, principal: PagePrincipal,
           note: str = Form("")) -> Response:
    lang = language(request)
    error: str | None = None
    errors: dict[str, str] = {}
    if decision not in ("approve", "reject"):
        return Response(status_code=404)
    try:
        if decision == "approve":
            boundary = service.approve(db, principal, proposal_id, note)
        else:
            boundary = service.reject(db, principal, proposal_id, note)
        db.flush()
    except ShiyuError as exc:
        db.rollback()
        error, errors = field_errors(exc, lang)
        issues = exc.detail.get("issues") if isinstance(exc.detail, dict) else None
        boundary = service.get_proposal(db, proposal_id)
        area = service.get_area(db, boundary.area_id)
        return render(request, "admin/partials/proposal_row.html", 422 if exc.status == 422 else exc.status,
                      item={"b": boundary, "area": area, "proposer": "", "decider": "", "can_decide": True},
                      error=error, errors=errors, issues=issues or [])
    area = service.get_area(db, boundary.area_id)
    users = usernames(db, [boundary.proposed_by_id, boundary.decided_by_id])
    item = {"b": boundary, "area": area, "proposer": users.get(boundary.proposed_by_id or 0, ""),
            "decider": users.get(boundary.decided_by_id or 0, ""), "can_decide": False}
    return render(request, "admin/partials/proposal_row.html", item=item, done=decision, error=None, errors={},
                  issues=[])


def _visible_area(db: PageDb, area_id: int | None) -> Area | None:
    """The area if the caller sees it (the parent of an area may lie outside their grants), else None."""
    try:
        return service.get_area(db, area_id) if area_id else None
    except NotFound:
        return None


@router.get("/proposals/{proposal_id}/map.json")
def proposal_map(proposal_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    """Before and after for an approval card: the area's boundary in force (none for a newly drawn area) and
    the proposed one, exactly as stored, inside its parent's outline for where it is."""
    require_any(principal, "area.approve", "area.propose")
    proposal = service.get_proposal(db, proposal_id)
    area = service.get_area(db, proposal.area_id)
    parent = _visible_area(db, area.parent_id)
    features = [_feature(parent, "context", TOLERANCE[AreaLevel(parent.level)], id=parent.id, name=parent.name,
                         code=parent.code) if parent else None,
                _feature(area, "self", 0, id=area.id, name=area.name, code=area.code),
                _feature(proposal, "proposed", 0, id=proposal.id, name="", code="")]
    return JSONResponse({"type": "FeatureCollection", "features": [f for f in features if f]},
                        headers={"Cache-Control": "private, max-age=60"})


@router.post("/{area_id}/draw")
def draw(request: Request, area_id: int, db: PageDb, principal: PagePrincipal, code: str = Form(""),
         name: str = Form(""), geometry: str = Form(""), note: str = Form("")) -> Response:
    """A new child area drawn on the map: created without a boundary, its outline a proposal to approve."""
    lang = language(request)
    require_any(principal, "area.edit")
    try:
        try:
            drawn = json.loads(geometry) if geometry.strip() else None
        except ValueError:
            drawn = None
        if drawn is None:
            raise ValidationFailed("nothing_drawn", "请先在地图上画出区域范围", "Draw the area on the map first",
                                   detail={"field": "geometry"})
        proposal = service.propose_new_area(db, principal, area_id, code, name, drawn, note)
        db.flush()
    except ShiyuError as exc:
        db.rollback()
        if exc.status == 404:
            raise
        general, errors = field_errors(exc, lang)
        issues = exc.detail.get("issues") if isinstance(exc.detail, dict) else None
        return render(request, "admin/partials/draw_result.html", exc.status, created=None, general=general,
                      errors=errors, issues=issues or [])
    return render(request, "admin/partials/draw_result.html", created={"name": name.strip(), "id": proposal.area_id},
                  general=None, errors={}, issues=[])


def _geometry_from(text: str) -> Any:
    """A geometry from pasted/uploaded GeoJSON: a geometry, a Feature or the first feature of a collection."""
    obj = json.loads(text)
    if isinstance(obj, dict) and obj.get("type") == "FeatureCollection":
        obj = (obj.get("features") or [None])[0]
    if isinstance(obj, dict) and obj.get("type") == "Feature":
        obj = obj.get("geometry")
    return obj


@router.post("/{area_id}/propose")
async def propose(request: Request, area_id: int, principal: PagePrincipal) -> Response:
    """Who may propose a boundary at all is checked before the form (a file of up to 50 MB) is parsed; whether
    this area is theirs, by the service in the caller's scope."""
    require_any(principal, "area.propose")
    form = await page_form(request)
    text = str(form.get("geometry", "")).strip()
    file = form.get("file")
    if isinstance(file, StarletteUploadFile) and file.filename:
        text = (await file.read(MAX_IMPORT_BYTES)).decode("utf-8", "replace")
    return await run_in_threadpool(_propose, request, principal, area_id, text, str(form.get("note", "")))


def _propose(request: Request, principal: PagePrincipal, area_id: int, text: str, note: str) -> Response:
    from shiyu.web.i18n import translate

    lang = language(request)
    session = request.app.state.session_factory()
    session.info.update(principal=principal, client_ip=request.client.host if request.client else None)
    errors: dict[str, str] = {}
    general = None
    status = 200
    created = None
    try:
        try:
            geom = _geometry_from(text)
        except ValueError:
            errors["geometry"] = translate(lang, "areas.propose.not_json")
            raise
        proposal = service.propose_boundary(session, principal, area_id, geom, note)
        created = {"id": proposal.id, "version": proposal.version}
        session.commit()
    except ValueError:
        session.rollback()
        status = 422
    except ShiyuError as exc:
        session.rollback()
        general, errors = field_errors(exc, lang)
        status = exc.status
        if status == 404:
            session.close()
            raise
    finally:
        session.close()
    return render(request, "admin/partials/propose_result.html", status, created=created, errors=errors,
                  general=general, area_id=area_id)
