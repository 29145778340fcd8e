"""Categories with time limits and fields: the tree, and the limits of a minor class."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError

from shiyu.cases.categories import service
from shiyu.cases.categories.models import CategoryKind, Urgency
from shiyu.cases.categories.schemas import CategoryPatch
from shiyu.core.errors import ShiyuError
from shiyu.core.http import language
from shiyu.org.calendar.worktime import TimeUnit
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


def _detail(request: Request, db: PageDb, principal: PagePrincipal, category_id: int, **extra: Any) -> Response:
    category = service.category_out(service.get_category(db, category_id))
    parent = service.category_out(service.get_category(db, category.parent_id)) if category.parent_id else None
    limits = category.time_limits.model_dump(by_alias=True) if category.time_limits else None
    values = extra.pop("values", None) or _limits_values(limits) | {"default_urgency": category.default_urgency}
    return render(request, "admin/category.html", extra.pop("status", 200), c=category, parent=parent, v=values,
                  steps=STEPS, units=[u.value for u in TimeUnit], urgencies=[u.value for u in Urgency],
                  can_edit=principal.has_permission("category.edit"), errors=extra.pop("errors", {}), **extra)


@router.get("/{category_id}")
def category_page(request: Request, category_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    return _detail(request, db, principal, category_id, saved=request.query_params.get("saved"))


@router.post("/{category_id}")
async def save_limits(request: Request, category_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    form = await page_form(request)
    values = {k: str(v).strip() for k, v in form.items() if k != "csrf_token"}
    limits: dict[str, Any] = {"handle": {}, "critical_natural": values.get("critical_natural") == "on"}
    for step in STEPS:
        entry = {"amount": values.get(f"{step}.amount") or None, "unit": values.get(f"{step}.unit")}
        if step.startswith("handle."):
            limits["handle"][step.split(".")[1]] = entry
        else:
            limits[step] = entry
    try:
        patch = CategoryPatch.model_validate({"time_limits": limits,
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
