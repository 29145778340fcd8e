"""Routing rules: list, create, delete, and a preview of who would handle a case and why."""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError

from shiyu.cases.categories import service as categories
from shiyu.cases.routing import service
from shiyu.cases.routing.schemas import RuleIn
from shiyu.core.errors import ShiyuError, ValidationFailed
from shiyu.core.http import language
from shiyu.org.areas.service import areas_by_id
from shiyu.org.areas.service import roots as area_roots
from shiyu.org.units.service import department_names, list_departments
from shiyu.web.admin.common import base_query, int_or_none, paging, redirect
from shiyu.web.i18n import translate
from shiyu.web.page_deps import PageDb, PagePrincipal, PageRoute, field_errors, page_form, render

router = APIRouter(prefix="/admin/routing", route_class=PageRoute, include_in_schema=False)


def _conditions(text: str) -> dict[str, str]:
    """``key=value`` per line (or ``key：value``) into a dict; blank lines ignored."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        sep = "=" if "=" in line else "：" if "：" in line else ":" if ":" in line else None
        if sep is None:
            raise ValidationFailed("bad_conditions", "每行须为 名称=值", "Each line must be name=value",
                                   detail={"field": "conditions"})
        key, value = line.split(sep, 1)
        out[key.strip()] = value.strip()
    return out


def _choices(db: PageDb) -> dict[str, Any]:
    tree = categories.tree(db)
    departments, _ = list_departments(db, paging(0, limit=500))
    return {"tree": tree, "departments": departments}


def _page(request: Request, db: PageDb, principal: PagePrincipal, offset: int = 0, status: int = 200,
          **extra: Any) -> Response:
    page = paging(offset)
    rules, total = service.list_rules(db, principal, page)
    cats = {c.id: c for major in categories.tree(db, include_inactive=True) for c in [major, *major.children]}
    depts = department_names(db, [r.department_id for r in rules])
    areas = areas_by_id(db, [r.area_id for r in rules])
    items = [{"r": r, "category": cats.get(r.category_id or 0), "department": depts.get(r.department_id or 0),
              "area": areas.get(r.area_id or 0)} for r in rules]
    roots = area_roots(db, principal)
    return render(request, "admin/routing.html", status, items=items, map_area=roots[0] if roots else None,
                  total=total, limit=page.limit, offset=offset,
                  base=base_query(request), can_edit=principal.has_permission("routing.edit"), **_choices(db),
                  **{"v": {}, "errors": {}, "general": None, "preview": None, "pv": {}, "perrors": {}} | extra)


@router.get("")
def routing_page(request: Request, db: PageDb, principal: PagePrincipal, offset: int = Query(0, ge=0)) -> Response:
    return _page(request, db, principal, offset, created=request.query_params.get("created"))


@router.post("/rules")
async def create_rule(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    form = {k: str(v).strip() for k, v in (await page_form(request)).items()}
    target = form.get("target", "department")
    try:
        data = {
            "name": form.get("name", ""), "category_id": int_or_none(form.get("category_id")),
            "kind": form.get("kind") or None, "area_id": int_or_none(form.get("area_id")),
            "conditions": _conditions(form.get("conditions", "")),
            "department_id": int_or_none(form.get("department_id")) if target == "department" else None,
            "territory_level": int_or_none(form.get("territory_level")) if target == "territory" else None,
            "priority": int_or_none(form.get("priority")) or 0, "active": form.get("active") == "on",
        }
        rule = service.create_rule(db, principal, RuleIn.model_validate(data))
        db.flush()
    except (ValidationError, ShiyuError) as exc:
        db.rollback()
        general, errors = field_errors(exc, language(request))
        if "form" in errors or any(k.startswith("department") or k.startswith("territory") for k in errors):
            errors.setdefault("target", errors.pop("form", general))
        return _page(request, db, principal, status=422, v=form, errors=errors, general=general, open_form=True)
    return redirect(request, f"/admin/routing?created={rule.id}")


@router.post("/rules/{rule_id}/delete")
def delete_rule(request: Request, rule_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    service.delete_rule(db, principal, rule_id)
    return Response("", status_code=200)


@router.post("/preview")
async def preview(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    """这个类别在这个位置 → 哪个部门，依据哪条规则: the routing service's own decision for a grid (area
    search) or a point (map click or typed coordinates), as intake and registration would make it."""
    form = {k: str(v).strip() for k, v in (await page_form(request)).items()}
    lang = language(request)
    errors: dict[str, str] = {}
    result: dict[str, Any] | None = None
    by_point = form.get("mode") == "point"
    category_id, area_id = int_or_none(form.get("category_id")), int_or_none(form.get("area_id"))
    lon, lat = _coordinate(form.get("lon"), 180), _coordinate(form.get("lat"), 90)
    try:
        if category_id is None:
            errors["category_id"] = ""
        if by_point and (lon is None or lat is None):
            errors["point"] = translate(lang, "routing.preview.point_missing")
        if not by_point and area_id is None:
            errors["area_id"] = translate(lang, "form.error.area")
        if errors:
            raise ValidationFailed(detail=[{"field": k, "message": v} for k, v in errors.items()])
        attributes = _conditions(form.get("attributes", ""))
        if by_point:
            assert lon is not None and lat is not None and category_id is not None
            placed = service.preview_at(db, principal, category_id, lon, lat, attributes)
            result = {"decision": placed.decision, "place": placed.place}
        else:
            assert area_id is not None and category_id is not None
            decision = service.preview(db, category_id, area_id, attributes)
            area = areas_by_id(db, [area_id]).get(area_id)
            result = {"decision": decision, "place": area.name if area else ""}
        result["rule"] = _rule(db, principal, result["decision"].rule_id)
    except ShiyuError as exc:
        db.rollback()
        general, errors = field_errors(exc, lang)
        if exc.status == 404:
            errors = {"point" if by_point else "area_id": general}
        errors = {k: v or general for k, v in errors.items()}
    return render(request, "admin/partials/routing_preview.html", 422 if errors else 200, result=result,
                  perrors=errors)


def _coordinate(value: str | None, bound: float) -> float | None:
    try:
        number = float(value) if value else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) and abs(number) <= bound else None


def _rule(db: PageDb, principal: PagePrincipal, rule_id: int | None) -> Any:
    """The deciding rule, to name and link it; None for the territory fallback (or a rule the reader cannot
    list, which the explanation still numbers)."""
    if rule_id is None:
        return None
    try:
        return service.get_rule(db, principal, rule_id)
    except ShiyuError:
        return None
