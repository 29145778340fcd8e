"""Petition pages. They call the same service functions as ``/api/v1/petitions`` with the caller's scoped
session: only petition roles and the centres' leaders see anything, another area's petition is a 404 page,
petitioners are masked, every read of them is audited, and the papers (Word or PDF) print their names only as an
audited reveal. A refused action shows the petition again with why."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from shiyu.core.errors import ShiyuError
from shiyu.core.http import attachment, language
from shiyu.core.timeutil import utcnow
from shiyu.disputes import service as dispute_service
from shiyu.disputes.models import VIEW as DISPUTE_VIEW
from shiyu.org.areas import service as areas
from shiyu.org.areas.models import AreaLevel
from shiyu.petitions import papers, service
from shiyu.petitions.models import HANDLE, OPEN_STATES, REVEAL, VIEW, Channel, State
from shiyu.petitions.workflow import TABLE
from shiyu.web.admin.common import paging, redirect
from shiyu.web.page_deps import PageDb, PagePrincipal, PageRoute, field_errors, render, require_any, reveal_answer

router = APIRouter(prefix="/petitions", route_class=PageRoute, include_in_schema=False)
PETITIONER_ROWS = 3
NEEDS = {t.action.value: sorted(n.value for n in t.needs) for t in TABLE}
LINKS = tuple(service.LINKS)


FLAGS = ("overdue", "repeat", "first_time", "collective", "skip_level")


@router.get("")
def desk(request: Request, db: PageDb, principal: PagePrincipal, state: str = Query("", max_length=16),
         channel: str = Query("", max_length=16), flag: str = Query("", max_length=16),
         q: str = Query("", max_length=100), offset: int = Query(0, ge=0)) -> Response:
    """Queues by state (open ones first), nearest deadline first, with filters and the indicators."""
    require_any(principal, VIEW)
    chosen: dict[str, Any] = {f: True for f in FLAGS if f == flag}
    if flag == "mine":  # 我包案的: the petitions the caller answers for as 包案 leader
        chosen["leader_id"] = principal.user_id
    filters = service.Filters(state=state or None, channel=channel or None, text=q or None, **chosen)
    page = paging(offset)
    rows, total = service.list_petitions(db, filters, page)
    return render(request, "petitions/desk.html", items=service.outs(db, rows), total=total, limit=page.limit,
                  offset=offset, state=state, channel=channel, flag=flag, q=q, states=OPEN_STATES,
                  closed=(State.NOT_ACCEPTED, State.CONCLUDED), channels=list(Channel), flags=(*FLAGS, "mine"),
                  now=utcnow(),
                  figures=service.indicators(db, request.app.state.settings.tz),
                  can_handle=principal.has_permission(HANDLE))


def _areas(db: PageDb, principal: PagePrincipal) -> list[Any]:
    """The areas down to the communities where the caller handles petitions, for the forms."""
    out = []
    stack = list(areas.roots(db, principal))
    while stack:
        node = stack.pop()
        if principal.can(HANDLE, node.area_path):
            out.append(node)
        if node.level < int(AreaLevel.COMMUNITY):
            stack.extend(areas.children(db, node.id))
    return sorted(out, key=lambda a: a.code)


def _form(request: Request, db: PageDb, principal: PagePrincipal, status: int = 200,
          values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
          message: str | None = None) -> Response:
    return render(request, "petitions/new.html", status, areas=_areas(db, principal), channels=list(Channel),
                  rows=PETITIONER_ROWS, values=values or {}, errors=errors or {}, message=message)


@router.get("/new")
def new(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    require_any(principal, HANDLE)
    return _form(request, db, principal)


@router.post("/new")
async def register(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    require_any(principal, HANDLE)
    form = {k: str(v) for k, v in (await request.form()).items()}
    people = [service.PetitionerIn(form.get(f"p{i}_name", "").strip()[:50],
                                   form.get(f"p{i}_id_number", "")[:30] or None,
                                   form.get(f"p{i}_phone", "")[:30] or None) for i in range(PETITIONER_ROWS)]
    area, size = form.get("area_id", ""), form.get("group_size", "1")
    try:
        petition = service.register(db, principal, request.app.state.settings.tz, service.Registration(
            area_id=int(area) if area.isdigit() and len(area) < 10 else 0, channel=form.get("channel", "")[:16],
            demands=form.get("demands", "")[:4000], complained_unit=form.get("complained_unit", "")[:200],
            group_size=int(size) if size.isdigit() and len(size) < 6 else 1, skip_level=form.get("skip_level") == "1",
            petitioners=[p for p in people if p.name or p.id_number]))
    except ShiyuError as exc:
        db.rollback()
        message, errors = field_errors(exc, language(request))
        return _form(request, db, principal, exc.status, form, errors, message)
    return redirect(request, f"/petitions/{petition.id}")


def _page(request: Request, db: PageDb, principal: PagePrincipal, petition_id: int, status: int = 200,
          message: str | None = None) -> Response:
    p = service.detail(db, petition_id)
    return render(request, "petitions/petition.html", status, p=p, needs=NEEDS, links=LINKS, message=message,
                  leaders=service.leaders(db, p["area_path"]), now=utcnow(),
                  dispute_types=list(dispute_service.type_names(db, language(request)).items()),
                  sees_disputes=principal.has_permission(DISPUTE_VIEW),
                  dispute_asked=any(e["action"] == "spawn_dispute" for e in p["timeline"]),
                  papers=papers.available(service.get(db, petition_id)),
                  can_handle=principal.can(HANDLE, p["area_path"]), can_reveal=principal.can(REVEAL, p["area_path"]))


@router.get("/backlog")
def backlog(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    require_any(principal, VIEW)
    return render(request, "petitions/backlog.html", groups=service.backlog(db), now=utcnow())


@router.get("/receptions")
def receptions(request: Request, db: PageDb, principal: PagePrincipal, offset: int = Query(0, ge=0)) -> Response:
    require_any(principal, VIEW)
    return _receptions(request, db, principal, offset)


def _receptions(request: Request, db: PageDb, principal: PagePrincipal, offset: int = 0, status: int = 200,
                values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                message: str | None = None) -> Response:
    page = paging(offset)
    items, total = service.receptions(db, page)
    places = _areas(db, principal) if principal.has_permission(HANDLE) else []
    choices = sorted({x for a in places for x in service.leaders(db, a.area_path)}, key=lambda x: x[1])
    return render(request, "petitions/receptions.html", status, items=items, total=total, limit=page.limit,
                  offset=offset, areas=places, leaders=choices, values=values or {}, errors=errors or {},
                  message=message, today=date.today().isoformat())


@router.post("/receptions")
async def add_reception(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    require_any(principal, HANDLE)
    form = await request.form()
    values = {k: str(v) for k, v in form.items()}
    tokens = [v.strip() for v in values.get("petition_ids", "").replace("，", ",").split(",") if v.strip()]
    try:
        day = date.fromisoformat(values.get("day", "")[:10])
    except ValueError:
        return _receptions(request, db, principal, 0, 422, values, {"day": "请填写日期"}, None)
    area, leader = values.get("area_id", ""), values.get("leader_id", "")
    try:
        service.add_reception(db, principal, service.ReceptionIn(
            area_id=int(area) if area.isdigit() and len(area) < 10 else 0,
            leader_id=int(leader) if leader.isdigit() and len(leader) < 10 else 0, day=day,
            place=values.get("place", "")[:200], note=values.get("note", "")[:2000],
            petition_ids=tuple(service.ids_for(db, tokens[:100]))))
    except ShiyuError as exc:
        db.rollback()
        message, errors = field_errors(exc, language(request))
        return _receptions(request, db, principal, 0, exc.status, values, errors, message)
    return redirect(request, "/petitions/receptions")


@router.get("/{petition_id}")
def petition_page(request: Request, petition_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    require_any(principal, VIEW)
    return _page(request, db, principal, petition_id)


def _attempt(request: Request, db: PageDb, principal: PagePrincipal, petition_id: int,
             change: Callable[[], object]) -> Response:
    """Do one change of the petition and go back to its timeline; refused, the page again with why (a 404
    stays one)."""
    try:
        change()
    except ShiyuError as exc:
        return _refused(request, db, principal, petition_id, exc)
    return redirect(request, f"/petitions/{petition_id}#timeline")


def _refused(request: Request, db: PageDb, principal: PagePrincipal, petition_id: int, exc: ShiyuError) -> Response:
    """The petition's page again with why the form was refused (nothing of it kept); a 404 stays one."""
    if exc.status == 404:
        raise exc
    db.rollback()
    return _page(request, db, principal, petition_id, exc.status, exc.message(language(request)))


@router.post("/{petition_id}/actions/{action}")
def act(request: Request, petition_id: int, action: str, db: PageDb, principal: PagePrincipal,
        note: str = Form("", max_length=4000), assigned_unit: str = Form("", max_length=200),
        leader_id: str = Form("", max_length=10), satisfied: str = Form("", max_length=3),
        version: str = Form("", max_length=10)) -> Response:
    step = service.Step(note=note, assigned_unit=assigned_unit,
                        leader_id=int(leader_id) if leader_id.isdigit() else None,
                        satisfied={"yes": True, "no": False}.get(satisfied),
                        expected_version=int(version) if version.isdigit() else None)
    return _attempt(request, db, principal, petition_id, lambda: service.act(
        db, principal, request.app.state.settings.tz, petition_id, action[:24], step))


@router.post("/{petition_id}/links")
def add_link(request: Request, petition_id: int, db: PageDb, principal: PagePrincipal,
             kind: str = Form("", max_length=24), reason: str = Form("", max_length=1000),
             dispute_type: str = Form("", max_length=24)) -> Response:
    return _attempt(request, db, principal, petition_id,
                    lambda: service.link(db, principal, petition_id, kind, reason, dispute_type))


@router.post("/{petition_id}/reveal")
def reveal(request: Request, petition_id: int, db: PageDb, principal: PagePrincipal,
           field: str = Form("", max_length=60), reason: str = Form("", max_length=500)) -> Response:
    """``field`` is ``<petitioner id>-<field>`` (one reveal form per petitioner and field on the page)."""
    who, _, name = field.partition("-")
    return reveal_answer(request, db, field, lambda: service.reveal(
        db, principal, petition_id, int(who) if who.isdigit() and len(who) < 10 else 0, name, reason))


@router.post("/{petition_id}/documents/{kind}")
def document(request: Request, petition_id: int, kind: str, db: PageDb, principal: PagePrincipal,
             reason: str = Form("", max_length=500), fmt: str = Form("docx", alias="format", max_length=8)) -> Response:
    """The paper in the format of the button pressed (Word or PDF)."""
    try:
        paper = papers.generate(db, principal, petition_id, kind[:20], reason, request.app.state.settings.tz, fmt)
    except ShiyuError as exc:
        return _refused(request, db, principal, petition_id, exc)
    return attachment(paper.name, paper.media_type, paper.content)
