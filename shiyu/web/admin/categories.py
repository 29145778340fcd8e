"""Categories with time limits and fields: the tree, a new major or minor class (with a suggested code and the
limits of a sibling to start from), renaming, 停用/启用, and the limits of a minor class (typed, or copied
from a sibling)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError

from shiyu.cases.categories import service
from shiyu.cases.categories.models import CategoryKind, Urgency
from shiyu.cases.categories.schemas import CategoryIn, CategoryPatch
from shiyu.core.errors import ShiyuError
from shiyu.core.http import language
from shiyu.core.scoping import require_citywide
from shiyu.org.calendar.worktime import TimeUnit
from shiyu.web.admin.common import int_or_none, redirect
from shiyu.web.page_deps import PageDb, PagePrincipal, PageRoute, field_errors, page_form, render

router = APIRouter(prefix="/admin/categories", route_class=PageRoute, include_in_schema=False)
# Form field names of the limits editor, in display order (``handle`` has one limit per urgency).
STEPS = ("register", "dispatch", "accept", "handle.normal", "handle.urgent", "handle.critical", "verify")


@router.get("")
def categories_page(request: Request, db: PageDb, principal: PagePrincipal,
                    kind: str = Query("", pattern="^(|component|incident)$"),
                    inactive: bool = Query(False)) -> Response:
    tree = service.tree(db, CategoryKind(kind) if kind else None, include_inactive=inactive)
    return render(request, "admin/categories.html", tree=tree, kind=kind, inactive=inactive,
                  can_edit=principal.has_permission("category.edit"))


def _limits_values(limits: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for step in STEPS:
        node: Any = limits or {}
        for part in step.split("."):
            node = (node or {}).get(part) if isinstance(node, dict) else None
        node = node or {}
        out[f"{step}.amount"] = node.get("amount", "")
        out[f"{step}.unit"] = node.get("unit", TimeUnit.WORKING_DAYS.value)
    out["critical_natural"] = "on" if (limits or {}).get("critical_natural", True) else ""
    return out


def _reraise_refusal(exc: Exception) -> None:
    """No right (403) or no such class (404) is the error page, not a problem of the form."""
    if isinstance(exc, ShiyuError) and exc.status in (403, 404):
        raise exc


def _limits_from(values: dict[str, str]) -> dict[str, Any]:
    """The limits editor's fields (``handle.urgent.amount`` …) as a ``TimeLimits`` dict."""
    limits: dict[str, Any] = {"handle": {}, "critical_natural": values.get("critical_natural") == "on"}
    for step in STEPS:
        entry = {"amount": values.get(f"{step}.amount") or None, "unit": values.get(f"{step}.unit")}
        if step.startswith("handle."):
            limits["handle"][step.split(".")[1]] = entry
        else:
            limits[step] = entry
    return limits


def _detail(request: Request, db: PageDb, principal: PagePrincipal, category_id: int, **extra: Any) -> Response:
    category = service.category_out(service.get_category(db, category_id))
    parent = service.category_out(service.get_category(db, category.parent_id)) if category.parent_id else None
    limits = category.time_limits.model_dump(by_alias=True) if category.time_limits else None
    values = extra.pop("values", None) or _limits_values(limits) | {"default_urgency": category.default_urgency}
    siblings = [m for m in parent.children if m.id != category.id] if parent else []
    return render(request, "admin/category.html", extra.pop("status", 200), c=category, parent=parent, v=values,
                  siblings=siblings,
                  steps=STEPS, units=[u.value for u in TimeUnit], urgencies=[u.value for u in Urgency],
                  can_edit=principal.has_permission("category.edit"), errors=extra.pop("errors", {}),
                  **{"nerrors": {}, "ngeneral": None, "cerrors": {}, "cgeneral": None, "done": None} | extra)


def _new_form(request: Request, db: PageDb, kind: str, parent_id: int | None, copy_from: int | None,
              values: dict[str, Any] | None = None, status: int = 200, **extra: Any) -> Response:
    """The form for a new class: a major class of ``kind``, or a minor class under ``parent_id`` whose limits
    start as those of the sibling ``copy_from`` (the first sibling when none is chosen)."""
    parent = service.category_out(service.get_category(db, parent_id)) if parent_id is not None else None
    if parent is not None and parent.parent_id is not None:
        parent = None  # a minor class has no minor classes: offer a major class instead
    kind = parent.kind.value if parent else kind
    siblings = parent.children if parent else []
    source = next((m for m in siblings if m.id == copy_from), siblings[0] if siblings else None)
    limits = source.time_limits.model_dump(by_alias=True) if source and source.time_limits else None
    code = service.suggest_code(db, CategoryKind(kind), parent.id if parent else None)
    v = values or _limits_values(limits) | {"code": code, "default_urgency": Urgency.NORMAL.value}
    return render(request, "admin/category_new.html", status, parent=parent, kind=kind, siblings=siblings,
                  source=source, v=v, steps=STEPS, units=[u.value for u in TimeUnit],
                  urgencies=[u.value for u in Urgency], can_edit=True, **{"errors": {}, "general": None} | extra)


@router.get("/new")
def new_category(request: Request, db: PageDb, principal: PagePrincipal,
                 kind: str = Query("incident", pattern="^(component|incident)$"), parent_id: int | None = Query(None),
                 copy_from: int | None = Query(None)) -> Response:
    require_citywide(principal, service.EDIT)
    return _new_form(request, db, kind, parent_id, copy_from)


@router.post("/new")
async def create_category(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    form = await page_form(request)
    values = {k: str(v).strip() for k, v in form.items() if k != "csrf_token"}
    parent_id, kind = int_or_none(values.get("parent_id")), values.get("kind", "incident")
    data: dict[str, Any] = {"kind": kind, "parent_id": parent_id, "code": values.get("code", ""),
                            "name_zh": values.get("name_zh", ""), "name_en": values.get("name_en", "")}
    if parent_id is not None:
        data |= {"time_limits": _limits_from(values), "default_urgency": values.get("default_urgency") or "normal"}
    try:
        category = service.create_category(db, principal, CategoryIn.model_validate(data))
        db.flush()
    except (ValidationError, ShiyuError) as exc:
        db.rollback()
        _reraise_refusal(exc)
        general, errors = field_errors(exc, language(request))
        errors = {k.removeprefix("time_limits."): v for k, v in errors.items()}
        kind = kind if kind in ("component", "incident") else "incident"
        return _new_form(request, db, kind, parent_id, None, values=values, errors=errors, general=general,
                         status=422)
    return redirect(request, f"/admin/categories/{category.id}?saved=1")


@router.get("/{category_id}")
def category_page(request: Request, category_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    return _detail(request, db, principal, category_id, saved=request.query_params.get("saved"))


@router.post("/{category_id}")
async def save_limits(request: Request, category_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    form = await page_form(request)
    values = {k: str(v).strip() for k, v in form.items() if k != "csrf_token"}
    try:
        patch = CategoryPatch.model_validate({"time_limits": _limits_from(values),
                                              "default_urgency": values.get("default_urgency") or None})
        service.update_category(db, principal, category_id, patch)
        db.flush()
    except (ValidationError, ShiyuError) as exc:
        db.rollback()
        general, errors = field_errors(exc, language(request))
        errors = {k.removeprefix("time_limits."): v for k, v in errors.items()}
        return _detail(request, db, principal, category_id, values=values, errors=errors, general=general,
                       status=422)
    return _detail(request, db, principal, category_id, saved="1")


def _change(request: Request, db: PageDb, principal: PagePrincipal, category_id: int, patch: dict[str, Any],
            done: str) -> Response:
    """The category page after one change of its name or state, or with the change's problem."""
    try:
        service.update_category(db, principal, category_id, CategoryPatch.model_validate(patch))
        db.flush()
    except (ValidationError, ShiyuError) as exc:
        db.rollback()
        _reraise_refusal(exc)
        general, errors = field_errors(exc, language(request))
        return _detail(request, db, principal, category_id, status=422, nerrors=errors, ngeneral=general)
    db.expire_all()
    return _detail(request, db, principal, category_id, done=done)


@router.post("/{category_id}/rename")
async def rename(request: Request, category_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    form = await page_form(request)
    return _change(request, db, principal, category_id, {"name_zh": str(form.get("name_zh", "")).strip(),
                                                         "name_en": str(form.get("name_en", "")).strip()}, "renamed")


@router.post("/{category_id}/active")
async def set_active(request: Request, category_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    """停用 keeps the class and its cases; it is no longer offered for new reports (nor its minors, for a major)."""
    active = str((await page_form(request)).get("active")) == "1"
    return _change(request, db, principal, category_id, {"active": active}, "enabled" if active else "disabled")


@router.post("/{category_id}/copy-limits")
async def copy_limits(request: Request, category_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    source_id = int_or_none((await page_form(request)).get("source_id"))
    try:
        service.copy_limits(db, principal, category_id, source_id or 0)
        db.flush()
    except ShiyuError as exc:
        db.rollback()
        _reraise_refusal(exc)
        general, errors = field_errors(exc, language(request))
        return _detail(request, db, principal, category_id, status=422, cerrors=errors, cgeneral=general)
    db.expire_all()
    return _detail(request, db, principal, category_id, done="copied")
