"""Centres (综治中心) and departments (职能部门): lists, create and edit a department with its jurisdictions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError

from shiyu.core.errors import ShiyuError
from shiyu.core.http import language
from shiyu.org.areas.service import areas_by_id
from shiyu.org.identity.service import liaisons
from shiyu.org.units import service
from shiyu.org.units.schemas import DepartmentIn, DepartmentPatch
from shiyu.web.admin.common import base_query, int_or_none, paging, redirect
from shiyu.web.page_deps import PageDb, PagePrincipal, PageRoute, field_errors, page_form, render, require_any

router = APIRouter(prefix="/admin/units", route_class=PageRoute, include_in_schema=False)


@router.get("")
def units_page(request: Request, db: PageDb, principal: PagePrincipal,
               tab: str = Query("departments", pattern="^(centres|departments)$"), q: str = Query("", max_length=100),
               kind: str = Query("", pattern="^(|component|incident)$"), offset: int = Query(0, ge=0)) -> Response:
    require_any(principal, "centre.edit", "department.edit", "centre.view", "department.view")
    page = paging(offset)
    if tab == "centres":
        rows, total = service.list_centres(db, page, q=q or None)
        areas = areas_by_id(db, [c.area_id for c in rows])
        items: list[Any] = [{"c": c, "area": areas.get(c.area_id)} for c in rows]
    else:
        depts, total = service.list_departments(db, page, q=q or None, kind=kind or None)
        names = liaisons(db, [d.id for d in depts])
        areas = areas_by_id(db, [d.area_id for d in depts] + [j.area_id for d in depts for j in d.jurisdictions])
        items = [{"d": d, "area": areas.get(d.area_id), "liaisons": sorted(names[d.id]),
                  "jurisdictions": [areas[j.area_id].name for j in d.jurisdictions if j.area_id in areas]}
                 for d in depts]
    return render(request, "admin/units.html", tab=tab, items=items, total=total, limit=page.limit, offset=offset,
                  q=q, kind=kind, base=base_query(request),
                  can_edit=principal.has_permission("department.edit"))


def _form(request: Request, dept: Any = None, values: dict[str, Any] | None = None,
          errors: dict[str, str] | None = None, general: str | None = None, status: int = 200) -> Response:
    return render(request, "admin/department_form.html", status, dept=dept, v=values or {}, errors=errors or {},
                  general=general)


def _values_of(dept: Any, db: PageDb) -> dict[str, Any]:
    areas = areas_by_id(db, [dept.area_id] + [j.area_id for j in dept.jurisdictions])
    return {"code": dept.code, "name": dept.name, "phone": dept.phone, "category_kinds": dept.category_kinds,
            "area_id": dept.area_id, "area_label": areas[dept.area_id].name if dept.area_id in areas else "",
            "jurisdictions": [{"id": j.area_id, "name": areas[j.area_id].name} for j in dept.jurisdictions
                              if j.area_id in areas]}


async def _posted(request: Request) -> dict[str, Any]:
    form = await page_form(request)
    return {
        "code": str(form.get("code", "")).strip(), "name": str(form.get("name", "")).strip(),
        "phone": str(form.get("phone", "")).strip(), "category_kinds": [str(k) for k in form.getlist("category_kinds")],
        "area_id": int_or_none(form.get("area_id")),
        "jurisdiction_area_ids": [i for i in (int_or_none(x) for x in form.getlist("jurisdiction_area_ids")) if i],
    }


def _echo(db: PageDb, data: dict[str, Any]) -> dict[str, Any]:
    """What the user sent, for re-rendering the form after an error."""
    areas = areas_by_id(db, [data.get("area_id")] + data["jurisdiction_area_ids"])
    area = areas.get(data.get("area_id") or 0)
    return data | {"area_label": area.name if area else "",
                   "jurisdictions": [{"id": i, "name": areas[i].name} for i in data["jurisdiction_area_ids"]
                                     if i in areas]}


@router.get("/departments/new")
def new_department(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    require_any(principal, "department.edit")
    return _form(request, values={"category_kinds": ["incident"], "jurisdictions": []})


@router.post("/departments/new")
async def create_department(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    data = await _posted(request)
    lang = language(request)
    try:
        body = DepartmentIn.model_validate({k: v for k, v in data.items() if v is not None})
        dept = service.create_department(db, principal, **body.model_dump())
        db.flush()
    except (ValidationError, ShiyuError) as exc:
        db.rollback()
        general, errors = field_errors(exc, lang)
        return _form(request, values=_echo(db, data), errors=errors, general=general, status=422)
    return redirect(request, f"/admin/units/departments/{dept.id}?saved=1")


@router.get("/departments/{department_id}")
def edit_department(request: Request, department_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    dept = service.get_department(db, department_id)
    return _form(request, dept=dept, values=_values_of(dept, db))


@router.post("/departments/{department_id}")
async def update_department(request: Request, department_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    dept = service.get_department(db, department_id)
    data = await _posted(request)
    lang = language(request)
    try:
        body = DepartmentPatch.model_validate({"name": data["name"], "phone": data["phone"],
                                               "category_kinds": data["category_kinds"],
                                               "jurisdiction_area_ids": data["jurisdiction_area_ids"]})
        service.update_department(db, principal, department_id, **body.model_dump(exclude_unset=True))
        db.flush()
    except (ValidationError, ShiyuError) as exc:
        db.rollback()
        general, errors = field_errors(exc, lang)
        dept = service.get_department(db, department_id)
        values = _echo(db, data | {"code": dept.code, "area_id": dept.area_id})
        return _form(request, dept=dept, values=values, errors=errors, general=general, status=422)
    return redirect(request, f"/admin/units/departments/{department_id}?saved=1")
