"""调解组织与调解员 (``/disputes/pool``): the organisations the caller sees with their mediators (workload,
success rate, 在用/已停用), the forms to add and edit both, and 停用/启用 behind a confirmation that says what it
does. For holders of ``dispute.manage``; the pages call the service functions of ``POST``/``PATCH
/api/v1/disputes/orgs`` and ``…/mediators``. A refused form comes back with what was typed and why, and
nothing of it is kept (the transaction is rolled back). The edit forms carry the version they showed, so a
change someone else saved meanwhile is reported (409) instead of overwritten."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from shiyu.core.errors import Forbidden, NotFound, ShiyuError
from shiyu.core.http import language
from shiyu.core.scoping import Principal
from shiyu.disputes import service
from shiyu.disputes.models import MANAGE, MediationOrg, Mediator, OrgKind
from shiyu.disputes.schemas import MediatorIn, MediatorPatch, OrgIn, OrgPatch
from shiyu.org.areas import service as areas
from shiyu.org.identity import people
from shiyu.web.admin.common import int_or_none, redirect
from shiyu.web.page_deps import PageDb, PagePrincipal, PageRoute, field_errors, page_form, render, require_any

router = APIRouter(prefix="/disputes/pool", route_class=PageRoute, include_in_schema=False)
# What the list page confirms after a change (``?done=``); anything else is ignored.
DONE = frozenset({"org_added", "org_saved", "org_deactivated", "org_reactivated", "mediator_added",
                  "mediator_saved", "mediator_deactivated", "mediator_reactivated"})
ORG_FIELDS = ("kind", "name", "phone", "address")
MEDIATOR_FIELDS = ("org_id", "name", "user_id", "specialties", "expert", "intro")


@router.get("")
def pool_page(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    require_any(principal, MANAGE)
    done = request.query_params.get("done")
    return render(request, "disputes/pool.html", orgs=service.pool_listing(db, principal),
                  types=service.type_names(db, language(request)), done=done if done in DONE else None)


# -- the forms -------------------------------------------------------------------------------------------


def _org_form(request: Request, db: PageDb, principal: PagePrincipal, org: MediationOrg | None,
              values: dict[str, Any], status: int = 200, **extra: Any) -> Response:
    return render(request, "disputes/org_form.html", status, org=org, v=values, kinds=list(OrgKind),
                  area_name=_area_name(db, org.area_id if org else int_or_none(values.get("area_id"))),
                  active_mediators=[m.name for m in service.mediators(db, org.id) if m.active] if org else [],
                  **{"errors": {}, "message": None, "state_message": None, **extra})


def _area_name(db: PageDb, area_id: int | None) -> str:
    """The area's name for the form, read in the caller's scope: a typed id of an area they do not see (a
    refused form coming back) stays unnamed."""
    try:
        return areas.get_area(db, area_id).name if area_id else ""
    except NotFound:
        return ""


def _org_values_of(org: MediationOrg) -> dict[str, Any]:
    return {**{k: getattr(org, k) for k in ORG_FIELDS}, "version": org.version}


def _mediator_form(request: Request, db: PageDb, principal: PagePrincipal, mediator: Mediator | None,
                   values: dict[str, Any], status: int = 200, **extra: Any) -> Response:
    orgs = service.managed_orgs(db, principal)
    if mediator is not None and mediator.org_id not in {o.id for o in orgs}:
        orgs.insert(0, service.get_org(db, mediator.org_id))  # its own, even when stopped
    accounts = service.mediator_accounts(db)
    labels = people.labels(db, [a.id for a in accounts], language(request))
    return render(request, "disputes/mediator_form.html", status, mediator=mediator, v=values, orgs=orgs,
                  accounts=[(a.id, a.username, labels.get(a.id, "")) for a in accounts],
                  stats=service.mediator_stats(db, [mediator.id])[mediator.id] if mediator else None,
                  types=service.type_names(db, language(request)),
                  **{"errors": {}, "message": None, "state_message": None, **extra})


def _mediator_values_of(mediator: Mediator) -> dict[str, Any]:
    return {"org_id": str(mediator.org_id), "name": mediator.name, "user_id": str(mediator.user_id or ""),
            "specialties": list(mediator.specialties), "expert": mediator.expert, "intro": mediator.intro,
            "version": mediator.version}


def _org_values(form: FormData) -> dict[str, Any]:
    return {k: str(form.get(k, "")).strip() for k in (*ORG_FIELDS, "area_id", "version")}


def _mediator_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {k: str(form.get(k, "")).strip() for k in ("org_id", "name", "user_id", "intro",
                                                                         "version")}
    values["specialties"] = [str(s) for s in form.getlist("specialties")]
    values["expert"] = form.get("expert") == "on"
    return values


def _mediator_body(values: dict[str, Any]) -> dict[str, Any]:
    """The form's fields as the API's body: a blank account unlinks; a blank organisation is left for the
    model to refuse by its field."""
    return {**{k: values[k] for k in MEDIATOR_FIELDS}, "user_id": values["user_id"] or None,
            "org_id": values["org_id"] or None}


def _refused(db: PageDb, request: Request, exc: ValidationError | ShiyuError) -> tuple[int, str, dict[str, str]]:
    """Roll back whatever the refused form wrote; its status, general message and messages by field."""
    db.rollback()
    message, errors = field_errors(exc, language(request))
    return (exc.status if isinstance(exc, ShiyuError) else 422), message, errors


# -- adding ----------------------------------------------------------------------------------------------


@router.get("/orgs/new")
def new_org(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    require_any(principal, MANAGE)
    return _org_form(request, db, principal, None, {"kind": OrgKind.VILLAGE.value})


@router.post("/orgs/new")
async def create_org(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    require_any(principal, MANAGE)
    values = _org_values(await page_form(request))
    try:
        body = OrgIn.model_validate({k: values[k] for k in (*ORG_FIELDS, "area_id")})
        service.create_org(db, principal, **body.model_dump())
    except (ValidationError, ShiyuError) as exc:
        status, message, errors = _refused(db, request, exc)
        return _org_form(request, db, principal, None, values, status, errors=errors, message=message)
    return redirect(request, "/disputes/pool?done=org_added")


@router.get("/mediators/new")
def new_mediator(request: Request, db: PageDb, principal: PagePrincipal,
                 org_id: int | None = Query(None, ge=1, le=2**31 - 1)) -> Response:
    require_any(principal, MANAGE)
    return _mediator_form(request, db, principal, None, {"org_id": str(org_id or ""), "specialties": []})


@router.post("/mediators/new")
async def create_mediator(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    require_any(principal, MANAGE)
    values = _mediator_values(await page_form(request))
    try:
        body = MediatorIn.model_validate(_mediator_body(values))
        service.create_mediator(db, principal, **{**body.model_dump(), "specialties": tuple(body.specialties)})
    except (ValidationError, ShiyuError) as exc:
        status, message, errors = _refused(db, request, exc)
        return _mediator_form(request, db, principal, None, values, status, errors=errors, message=message)
    return redirect(request, "/disputes/pool?done=mediator_added")


# -- changing --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pages:
    """What differs between changing an organisation and changing a mediator."""

    get: Callable[[Session, int], MediationOrg | Mediator]
    update: Callable[[Session, Principal, int, dict[str, Any], int | None], MediationOrg | Mediator]
    form: Callable[..., Response]
    values_of: Callable[[Any], dict[str, Any]]  # a row as its form shows it
    read: Callable[[FormData], dict[str, Any]]  # the form as typed
    patch: Callable[[dict[str, Any]], dict[str, Any]]  # what was typed as the fields to change (may refuse)
    kind: str  # "org" or "mediator": the list's confirmation is <kind>_saved and so on


ORG = _Pages(service.get_org, service.update_org, _org_form, _org_values_of, _org_values,
             lambda typed: OrgPatch.model_validate({k: typed[k] for k in ORG_FIELDS}).model_dump(exclude_unset=True),
             "org")
MEDIATOR = _Pages(service.get_mediator, service.update_mediator, _mediator_form, _mediator_values_of,
                  _mediator_values,
                  lambda typed: MediatorPatch.model_validate(_mediator_body(typed)).model_dump(exclude_unset=True),
                  "mediator")


def _editable(db: PageDb, principal: PagePrincipal, pages: _Pages, ident: int) -> MediationOrg | Mediator:
    """The row, if the caller sees it (else a 404 page) and may change it (else a 403 page, not a form)."""
    row = pages.get(db, ident)
    if not principal.can(MANAGE, row.area_path):
        raise Forbidden(detail={"permission": MANAGE})
    return row


def _edit_page(request: Request, db: PageDb, principal: PagePrincipal, pages: _Pages, ident: int) -> Response:
    row = _editable(db, principal, pages, ident)
    return pages.form(request, db, principal, row, pages.values_of(row))


def _change(request: Request, db: PageDb, principal: PagePrincipal, pages: _Pages, ident: int,
            changes: Callable[[], dict[str, Any]], version: int | None, done: str,
            typed: dict[str, Any] | None = None) -> Response:
    """Apply one change and go back to the list, or show the form again with why not: a refused edit next to
    its fields with what was ``typed``, a refused 停用/启用 (no ``typed``) next to that button. ``changes``
    builds the fields to change and may refuse them itself (a field too long)."""
    _editable(db, principal, pages, ident)
    try:
        pages.update(db, principal, ident, changes(), version)
    except (ValidationError, ShiyuError) as exc:
        status, message, errors = _refused(db, request, exc)
        row = pages.get(db, ident)
        if typed is None:
            return pages.form(request, db, principal, row, pages.values_of(row), status, state_message=message)
        return pages.form(request, db, principal, row, typed, status, errors=errors, message=message)
    return redirect(request, f"/disputes/pool?done={done}")


async def _save(request: Request, db: PageDb, principal: PagePrincipal, pages: _Pages, ident: int) -> Response:
    """The edit form: every field it shows, at the version it showed."""
    typed = pages.read(await page_form(request))
    return _change(request, db, principal, pages, ident, lambda: pages.patch(typed), int_or_none(typed["version"]),
                   f"{pages.kind}_saved", typed)


async def _set_active(request: Request, db: PageDb, principal: PagePrincipal, pages: _Pages, ident: int
                      ) -> Response:
    """停用 (``active=0``) or 启用 (``active=1``), from the confirmation on the edit page."""
    form = await page_form(request)
    active = str(form.get("active")) == "1"
    return _change(request, db, principal, pages, ident, lambda: {"active": active},
                   int_or_none(form.get("version")), f"{pages.kind}_{'reactivated' if active else 'deactivated'}")


@router.get("/orgs/{org_id}")
def edit_org(request: Request, org_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    return _edit_page(request, db, principal, ORG, org_id)


@router.post("/orgs/{org_id}")
async def save_org(request: Request, org_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    return await _save(request, db, principal, ORG, org_id)


@router.post("/orgs/{org_id}/active")
async def set_org_active(request: Request, org_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    return await _set_active(request, db, principal, ORG, org_id)


@router.get("/mediators/{mediator_id}")
def edit_mediator(request: Request, mediator_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    return _edit_page(request, db, principal, MEDIATOR, mediator_id)


@router.post("/mediators/{mediator_id}")
async def save_mediator(request: Request, mediator_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    return await _save(request, db, principal, MEDIATOR, mediator_id)


@router.post("/mediators/{mediator_id}/active")
async def set_mediator_active(request: Request, mediator_id: int, db: PageDb, principal: PagePrincipal
                              ) -> Response:
    return await _set_active(request, db, principal, MEDIATOR, mediator_id)
