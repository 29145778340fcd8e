"""The field app's pages, manifest, service worker and icons.

Four screens behind a bottom tab bar — 上报 report, 任务 tasks, 巡查 patrol, 我的网格 my grid — each one
server-rendered with the data it needs embedded (categories, the grid outlines, the verification queue),
so that the service worker's cached copy of a page still works with no network. Everything the app sends
goes through the API (``/api/v1/attachments``, ``/cases``, ``/cases/{id}/actions/…``, ``/patrol/…``) with the
page session and the CSRF header, from a queue in IndexedDB (``static/field.js``): the pages only read.

The manifest, the worker and the icons are public: they hold no data, and a phone asks for them outside
any page (installing, updating the worker).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from shiyu.cases import service
from shiyu.cases.categories import service as categories
from shiyu.cases.workflow import queues
from shiyu.core.errors import NotFound
from shiyu.core.http import language
from shiyu.core.paging import PageParams, paginate
from shiyu.core.pii import mask
from shiyu.core.timeutil import utcnow
from shiyu.patrol import service as patrol
from shiyu.registry import export as registry_export
from shiyu.registry import service as registry_service
from shiyu.registry.fields import LABELS, RELATIONS
from shiyu.registry.models import Address
from shiyu.web.field import assets
from shiyu.web.i18n import translate
from shiyu.web.page_deps import PageDb, PagePrincipal, PageRoute, render, require_any, templates
from shiyu.web.tasks.routes import field_items

router = APIRouter(prefix="/field", route_class=PageRoute, include_in_schema=False)
MEMBER_ROWS = 3  # 新增住户: members on the phone's form (more come as a second change)
PERSONS_SHOWN = 500
TASKS_SHOWN = 50
FIELD_ROLES = frozenset({"grid_worker", "grid_leader"})
# Texts the script shows (queue states, errors, location status), handed over once per page.
SCRIPT_TEXTS = (
    "field.js.saved", "field.js.sent", "field.js.failed", "field.js.waiting", "field.js.offline",
    "field.js.login_again", "field.js.locating", "field.js.located", "field.js.no_location",
    "field.js.need_category", "field.js.need_location", "field.js.need_note", "field.js.no_match",
    "field.js.confirm_logout", "field.js.photo_added", "field.js.voice_added", "field.js.kind.case",
    "field.js.kind.checkin", "field.js.kind.verify", "field.js.retry", "field.js.discard",
    "field.js.nothing_waiting", "field.js.checked_in", "field.js.need_photo", "field.js.distance",
    "field.js.distance_km", "field.js.kind.task", "field.js.kind.registry", "field.js.bad_id_number",
    "field.js.need_member",
)



def _page(request: Request, principal: PagePrincipal, name: str, tab: str, **context: Any) -> Response:
    require_any(principal, "patrol.report")
    lang = language(request)
    texts = {k.removeprefix("field.js."): translate(lang, k) for k in SCRIPT_TEXTS}
    response = render(request, f"field/{name}.html", tab=tab, script_texts=texts, **context)
    # Pages are personal: a shared proxy must not keep them; the service worker keeps its own copy.
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _name(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" and en else zh


@router.get("")
def report_page(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    lang = language(request)
    minors = [{"id": m.id, "name": _name(lang, m.name_zh, m.name_en), "zh": m.name_zh,
               "major": _name(lang, major.name_zh, major.name_en)}
              for major in categories.tree(db) for m in major.children]
    return _page(request, principal, "report", "report", categories=minors)


@router.get("/tasks")
def tasks_page(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    lang, tz = language(request), request.app.state.settings.tz
    rows, total = paginate(db, queues.statement(principal, "to_verify"), PageParams(limit=TASKS_SHOWN, offset=0))
    names = {m.id: _name(lang, m.name_zh, m.name_en) for major in categories.tree(db, include_inactive=True)
             for m in major.children}
    now = utcnow()
    return _page(request, principal, "tasks", "tasks", cases=[service.case_out(c, now, lang) for c in rows],
                 facts=service.verification_facts(db, rows, lang), total=total, category_names=names,
                 due=patrol.due_grids(db, principal, tz),
                 work=field_items(db, principal, request.app.state.settings.task_warn_hours))


@router.get("/patrol")
def patrol_page(request: Request, db: PageDb, principal: PagePrincipal, grid: int | None = Query(None)) -> Response:
    due = patrol.due_grids(db, principal, request.app.state.settings.tz)
    chosen = grid if any(g.id == grid for g, _ in due) else (due[0][0].id if len(due) == 1 else None)
    return _page(request, principal, "patrol", "patrol", due=due, chosen=chosen)


@router.get("/grid")
def grid_page(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    tz = request.app.state.settings.tz
    grids = patrol.patrol_grids(db, principal)
    outlines = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": g.geometry, "properties": {"id": g.id, "name": g.name}}
        for g in grids if g.geometry]}
    minutes = patrol.minutes_online(db, principal.user_id, patrol.today(tz)) if principal.user_id else 0
    return _page(request, principal, "grid", "grid", grids=grids, outlines=outlines,
                 minutes=minutes)


@router.get("/manifest.webmanifest")
def manifest(request: Request) -> Response:
    lang = language(request)
    body = assets.manifest(translate(lang, "field.app_name"), translate(lang, "field.app_short"), lang)
    return JSONResponse(body, media_type="application/manifest+json", headers={"Cache-Control": "no-cache"})


@router.get("/sw.js")
def service_worker(request: Request) -> Response:
    """Served from ``/field/`` but controlling ``/field`` itself too (the app's first page has no trailing
    slash), which is one level above the script's folder: ``Service-Worker-Allowed`` permits that scope."""
    response = templates.TemplateResponse(request, "field/sw.js", {
        "version": assets.shell_version(), "shell": list(assets.SHELL), "pages": list(assets.PAGES)},
        media_type="text/javascript")
    response.headers.update({"Service-Worker-Allowed": "/field", "Cache-Control": "no-cache"})
    return response


@router.get("/icon-{size}.png")
def icon(size: int) -> Response:
    if size not in assets.ICON_SIZES:
        raise NotFound(detail={"icon_size": size})
    return Response(assets.icon_png(size), media_type="image/png", headers={"Cache-Control": "public, max-age=86400"})


@router.get("/register")
def register_page(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    """Collecting the registers (新增住户, a person's change, move-out or death, a house, a unit) as change
    records through the offline queue; the grids offered are those the worker collects in."""
    require_any(principal, "registry.collect")
    grids = [g for g in patrol.patrol_grids(db, principal) if principal.can("registry.collect", g.area_path)]
    persons, _ = registry_service.list_persons(db, registry_service.PersonFilter(status="active"),
                                               PageParams(limit=PERSONS_SHOWN, offset=0))
    homes = registry_export.current_addresses(db, [p.id for p in persons])
    mine = {g.id for g in grids}
    choices = [{"id": p.id, "label": " · ".join(x for x in (mask("name", p.name), p.relation, homes.get(p.id, ""))
                                                if x)} for p in persons if p.grid_id in mine]
    roads = db.scalars(select(Address.road).where(Address.grid_id.in_([g.id for g in grids])).distinct()
                       .order_by(Address.road).limit(200)).all()
    return _page(request, principal, "register", "register", grids=grids, persons=choices, roads=roads,
                 members=MEMBER_ROWS, relations=RELATIONS, uses=_choices("use"),
                 residence_types=_choices("residence_type"), unit_kinds=_choices("kind"),
                 place_types=_choices("place_type"))


def _choices(field: str) -> list[tuple[str, str]]:
    return [(str(code), label) for code, label in LABELS[field].items()]
