"""Users and grants: list with masked personal data, create, add/remove grants, audited reveal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError

from shiyu.core.errors import ShiyuError
from shiyu.core.http import language
from shiyu.org.areas.service import areas_by_id
from shiyu.org.identity import service
from shiyu.org.identity.bulk import service as bulk
from shiyu.org.identity.roles import DEPARTMENT_ROLES, Role
from shiyu.org.identity.schemas import UserIn
from shiyu.org.units.service import department_names, list_departments
from shiyu.web.admin.common import base_query, int_or_none, paging, redirect
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

router = APIRouter(prefix="/admin/users", route_class=PageRoute, include_in_schema=False)
ROLES = [r.value for r in Role]
PERSONAL = ("full_name", "phone", "id_number")


def _grant_labels(db: PageDb, users: list[dict[str, Any]]) -> dict[str, Any]:
    grants = [g for u in users for g in u["grants"]]
    areas = areas_by_id(db, [g["area_id"] for g in grants])
    depts = department_names(db, [g["department_id"] for g in grants])
    return {"areas": {k: v.name for k, v in areas.items()}, "departments": depts}


@router.get("")
def users_page(request: Request, db: PageDb, principal: PagePrincipal, q: str = Query("", max_length=64),
               role: str = Query(""), offset: int = Query(0, ge=0)) -> Response:
    require_any(principal, "user.manage", "pii.reveal")
    page = paging(offset)
    rows, total = service.list_users(db, page, q=q or None, role=role if role in ROLES else None)
    users = [service.masked_user(u) for u in rows]
    return render(request, "admin/users.html", users=users, labels=_grant_labels(db, users), total=total,
                  limit=page.limit, offset=offset, q=q, role=role, roles=ROLES, base=base_query(request),
                  can_manage=principal.has_permission("user.manage"))


@router.get("/new")
def new_user(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    require_any(principal, "user.manage")
    return render(request, "admin/user_new.html", v={}, errors={}, general=None, roles=ROLES)


@router.post("/new")
async def create_user(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    form = {k: str(v).strip() for k, v in (await page_form(request)).items() if k != "csrf_token"}
    lang = language(request)
    try:
        body = UserIn.model_validate({
            "username": form.get("username", ""), "password": form.get("password", ""),
            "home_area_id": int_or_none(form.get("home_area_id")), "full_name": form.get("full_name") or None,
            "phone": form.get("phone") or None, "id_number": form.get("id_number") or None,
            "language": form.get("language") or "zh"})
        user = service.create_user(db, principal, username=body.username, password=body.password,
                                   home_area_id=body.home_area_id, full_name=body.full_name, phone=body.phone,
                                   id_number=body.id_number, language=body.language)
        if form.get("role"):
            service.add_grant(db, principal, user, form["role"], area_id=body.home_area_id)
        db.flush()
    except (ValidationError, ShiyuError) as exc:
        db.rollback()
        general, errors = field_errors(exc, lang)
        if "area_id" in errors:
            errors["home_area_id"] = errors.pop("area_id")
        form.pop("password", None)
        areas = areas_by_id(db, [int_or_none(form.get("home_area_id"))])
        form["home_area_label"] = next((a.name for a in areas.values()), "")
        return render(request, "admin/user_new.html", 422, v=form, errors=errors, general=general, roles=ROLES)
    return redirect(request, f"/admin/users/{user.id}?created=1")


def _detail(request: Request, db: PageDb, principal: PagePrincipal, user_id: int, status: int = 200,
            **extra: Any) -> Response:
    account = service.get_user(db, user_id)
    pending = bulk.awaiting_activation(account)
    user = service.masked_user(account)
    departments, _ = list_departments(db, paging(0, limit=500))
    return render(request, "admin/user.html", status, u=user, labels=_grant_labels(db, [user]), roles=ROLES,
                  department_roles=[r.value for r in DEPARTMENT_ROLES], departments=departments,
                  personal=PERSONAL, pending=pending, can_manage=principal.can("user.manage", user["area_path"]),
                  can_reveal=principal.can("pii.reveal", user["area_path"]),
                  **{"errors": {}, "general": None, "refusal": None, "gv": {}, "reissued": None} | extra)


@router.get("/{user_id}")
def user_page(request: Request, user_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    return _detail(request, db, principal, user_id, created=request.query_params.get("created"))


@router.post("/{user_id}/grants")
def add_grant(request: Request, user_id: int, db: PageDb, principal: PagePrincipal, role: str = Form(""),
              area_id: str = Form(""), department_id: str = Form("")) -> Response:
    user = service.get_user(db, user_id)
    try:
        is_dept = role in {r.value for r in DEPARTMENT_ROLES}
        service.add_grant(db, principal, user, role, area_id=None if is_dept else int_or_none(area_id),
                          department_id=int_or_none(department_id) if is_dept else None)
        db.flush()
    except ShiyuError as exc:
        db.rollback()
        general, errors = field_errors(exc, language(request))
        return _detail(request, db, principal, user_id, 422, errors=errors, general=general,
                       gv={"role": role, "department_id": department_id})
    db.expire_all()
    return _detail(request, db, principal, user_id, granted=True)


@router.post("/{user_id}/grants/{grant_id}/delete")
def remove_grant(request: Request, user_id: int, grant_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    return _change(request, db, principal, user_id, "removed",
                   lambda: service.remove_grant(db, principal, user_id, grant_id))


@router.post("/{user_id}/deactivate")
def deactivate(request: Request, user_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    """Ends every session and token of the account at once and refuses its log-ins."""
    return _change(request, db, principal, user_id, "deactivated",
                   lambda: service.update_user(db, principal, user_id, is_active=False))


@router.post("/{user_id}/activate")
def activate(request: Request, user_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    return _change(request, db, principal, user_id, "activated",
                   lambda: service.update_user(db, principal, user_id, is_active=True))


def _change(request: Request, db: PageDb, principal: PagePrincipal, user_id: int, done: str,
            action: Callable[[], object]) -> Response:
    """The user page after ``action``, with ``done`` confirmed, or with the refusal (the last city-wide
    administrator, 409) above the page. Objects out of scope stay a 404 page."""
    try:
        action()
        db.flush()
    except ShiyuError as exc:
        db.rollback()
        if exc.status == 404:
            raise
        return _detail(request, db, principal, user_id, exc.status, refusal=exc.message(language(request)))
    db.expire_all()
    return _detail(request, db, principal, user_id, **{done: True})


@router.post("/{user_id}/activation-code")
def reissue_code(request: Request, user_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    """A lost activation code replaced: the new one is shown on this answer only (audited)."""
    try:
        reissued = bulk.reissue_code(db, principal, user_id, ZoneInfo(request.app.state.settings.timezone))
        db.flush()
    except ShiyuError as exc:
        db.rollback()
        if exc.status == 404:
            raise
        return _detail(request, db, principal, user_id, exc.status, refusal=exc.message(language(request)))
    return _detail(request, db, principal, user_id, reissued=reissued)


@router.post("/{user_id}/reveal")
def reveal(request: Request, user_id: int, db: PageDb, principal: PagePrincipal, field: str = Form(""),
           reason: str = Form("")) -> Response:
    return reveal_answer(request, db, field, lambda: service.reveal(db, principal, user_id, field, reason))
