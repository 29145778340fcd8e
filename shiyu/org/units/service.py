"""Centres (综治中心) and departments (职能部门): reads and writes within the caller's scope."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session, selectinload

from shiyu.core.db import get_or_not_found
from shiyu.core.errors import NotFound, ValidationFailed
from shiyu.core.paging import PageParams, paginate
from shiyu.core.scoping import Principal
from shiyu.org.areas.models import Area, AreaLevel
from shiyu.org.units.models import Centre, Department, DepartmentJurisdiction
from shiyu.org.units.schemas import CATEGORY_KINDS


def _area(session: Session, area_id: int) -> Area:
    area = session.get(Area, area_id)
    if area is None:
        raise NotFound(detail={"object": "area", "id": area_id})
    return area


def list_centres(session: Session, params: PageParams, *, q: str | None = None,
                 level: int | None = None) -> tuple[list[Centre], int]:
    stmt = select(Centre).order_by(Centre.area_path)
    if q:
        stmt = stmt.where(Centre.name.contains(q, autoescape=True))
    if level is not None:
        stmt = stmt.join(Centre.area).where(Area.level == level)
    return paginate(session, stmt, params)


def get_centre(session: Session, centre_id: int) -> Centre:
    return get_or_not_found(session, Centre, centre_id, "centre")


def create_centre(session: Session, principal: Principal, area_id: int, name: str, phone: str = "") -> Centre:
    area = _area(session, area_id)
    principal.require("centre.edit", area.area_path)
    if area.level == AreaLevel.GRID:
        raise ValidationFailed("centre_on_grid", "网格不设综治中心", "Grids have no governance centre",
                               detail={"field": "area_id"})
    if session.scalar(select(Centre.id).where(Centre.area_id == area_id)) is not None:
        raise ValidationFailed("centre_exists", "该区域已有综治中心", "This area already has a centre",
                               detail={"field": "area_id"})
    centre = Centre(area_id=area.id, name=name, phone=phone, area_path=area.area_path)
    session.add(centre)
    session.flush()
    return centre


def _check_kinds(kinds: list[str]) -> list[str]:
    bad = [k for k in kinds if k not in CATEGORY_KINDS]
    if bad or not kinds:
        raise ValidationFailed("bad_category_kind", "类别须为部件(component)或事件(incident)",
                               "Category kinds are component and/or incident", detail={"field": "category_kinds"})
    return sorted(set(kinds))


def _set_jurisdictions(session: Session, principal: Principal, dept: Department, area_ids: list[int]) -> None:
    areas = [_area(session, a) for a in dict.fromkeys(area_ids)]
    for area in areas:
        if not area.area_path.startswith(dept.area_path):
            raise ValidationFailed("jurisdiction_outside", "管辖区域须在部门所属区域之内",
                                   "A jurisdiction must lie within the department's own area",
                                   detail={"field": "jurisdiction_area_ids", "area_id": area.id})
    # Rows of areas kept stay as they are: replacing them too would insert the new row before the unit of work
    # deletes the old one, and (department, area) is unique.
    kept = {j.area_id: j for j in dept.jurisdictions}
    dept.jurisdictions = [kept.get(a.id) or DepartmentJurisdiction(area_id=a.id, area_path=a.area_path) for a in areas]


def list_departments(session: Session, params: PageParams, *, q: str | None = None, kind: str | None = None,
                     covers_area_id: int | None = None) -> tuple[list[Department], int]:
    """Departments in scope; ``covers_area_id`` keeps those whose jurisdiction contains that area."""
    stmt = select(Department).options(selectinload(Department.jurisdictions)).order_by(Department.code)
    if q:
        stmt = stmt.where(Department.name.contains(q, autoescape=True))
    if kind:
        stmt = stmt.where(cast(Department.category_kinds, String).contains(f'"{kind}"'))
    if covers_area_id is not None:
        area = _area(session, covers_area_id)
        stmt = stmt.where(
            Department.jurisdictions.any(
                DepartmentJurisdiction.area_id.in_(_chain_ids(session, area))
            )
        )
    return paginate(session, stmt, params)


def _chain_ids(session: Session, area: Area) -> list[int]:
    codes = [c for c in area.area_path.strip("/").split("/") if c]
    return list(session.scalars(select(Area.id).where(Area.code.in_(codes)), execution_options={"unscoped": True}))


def get_department(session: Session, department_id: int) -> Department:
    dept = session.scalar(
        select(Department).options(selectinload(Department.jurisdictions)).where(Department.id == department_id)
    )
    if dept is None:
        raise NotFound(detail={"object": "department", "id": department_id})
    return dept


def create_department(session: Session, principal: Principal, **data: Any) -> Department:
    area = _area(session, data["area_id"])
    principal.require("department.edit", area.area_path)
    if session.scalar(select(Department.id).where(Department.code == data["code"]),
                      execution_options={"unscoped": True}) is not None:
        raise ValidationFailed("department_code_taken", "部门编码已存在", "This department code is taken",
                               detail={"field": "code"})
    dept = Department(code=data["code"], name=data["name"], area_id=area.id, area_path=area.area_path,
                      category_kinds=_check_kinds(data["category_kinds"]), phone=data.get("phone", ""))
    _set_jurisdictions(session, principal, dept, data.get("jurisdiction_area_ids") or [area.id])
    session.add(dept)
    session.flush()
    return dept


def update_department(session: Session, principal: Principal, department_id: int, **changes: Any) -> Department:
    dept = get_department(session, department_id)
    principal.require("department.edit", dept.area_path)
    if changes.get("name") is not None:
        dept.name = changes["name"]
    if changes.get("phone") is not None:
        dept.phone = changes["phone"]
    if changes.get("category_kinds") is not None:
        dept.category_kinds = _check_kinds(changes["category_kinds"])
    if changes.get("jurisdiction_area_ids") is not None:
        _set_jurisdictions(session, principal, dept, changes["jurisdiction_area_ids"])
    session.flush()
    return dept


def department_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Department names by id, read unscoped, for labelling rows the caller may see that point at departments
    they may not (a routing rule's target, a grant): only ids taken from such rows come here, and only the
    name is read."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    stmt = select(Department.id, Department.name).where(Department.id.in_(wanted))
    return {r.id: r.name for r in session.execute(stmt, execution_options={"unscoped": True})}


def department_out(dept: Department, names: list[str]) -> dict[str, Any]:
    return {
        "id": dept.id, "code": dept.code, "name": dept.name, "area_id": dept.area_id, "area_path": dept.area_path,
        "category_kinds": dept.category_kinds, "phone": dept.phone,
        "jurisdiction_area_ids": [j.area_id for j in dept.jurisdictions], "liaisons": sorted(names),
    }
