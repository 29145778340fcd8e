"""Routes for centres and departments.

They sit above both ``units`` and ``identity`` because a department's answer names its liaisons (the users
granted over it): units itself knows nothing of users, so identity can build on units without a cycle.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from shiyu.core.http import CurrentPrincipal, Db, Paging
from shiyu.core.paging import Page, PageParams
from shiyu.org.identity.service import liaisons
from shiyu.org.units import service
from shiyu.org.units.schemas import CentreIn, CentreOut, DepartmentIn, DepartmentOut, DepartmentPatch

router = APIRouter(tags=["units"])


def _page(items: list[Any], total: int, paging: PageParams) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": paging.limit, "offset": paging.offset}


@router.get("/centres", response_model=Page[CentreOut], summary="Governance centres within your grants")
def list_centres(db: Db, paging: Paging, q: str | None = None,
                 level: int | None = Query(None, ge=0, le=3, description="0 city … 3 community")) -> dict[str, Any]:
    rows, total = service.list_centres(db, paging, q=q, level=level)
    return _page([CentreOut.model_validate(c, from_attributes=True) for c in rows], total, paging)


@router.get("/centres/{centre_id}", response_model=CentreOut)
def get_centre(centre_id: int, db: Db) -> CentreOut:
    return CentreOut.model_validate(service.get_centre(db, centre_id), from_attributes=True)


@router.post("/centres", response_model=CentreOut, status_code=201)
def create_centre(body: CentreIn, db: Db, principal: CurrentPrincipal) -> CentreOut:
    centre = service.create_centre(db, principal, body.area_id, body.name, body.phone)
    return CentreOut.model_validate(centre, from_attributes=True)


@router.get("/departments", response_model=Page[DepartmentOut], summary="Departments within your grants")
def list_departments(
    db: Db, paging: Paging, q: str | None = None,
    kind: str | None = Query(None, pattern="^(component|incident)$"),
    covers_area_id: int | None = Query(None, description="only departments answering for this area"),
) -> dict[str, Any]:
    rows, total = service.list_departments(db, paging, q=q, kind=kind, covers_area_id=covers_area_id)
    names = liaisons(db, [d.id for d in rows])
    return _page([service.department_out(d, names[d.id]) for d in rows], total, paging)


@router.get("/departments/{department_id}", response_model=DepartmentOut)
def get_department(department_id: int, db: Db) -> dict[str, Any]:
    dept = service.get_department(db, department_id)
    return service.department_out(dept, liaisons(db, [dept.id])[dept.id])


@router.post("/departments", response_model=DepartmentOut, status_code=201)
def create_department(body: DepartmentIn, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    dept = service.create_department(db, principal, **body.model_dump())
    return service.department_out(dept, [])


@router.patch("/departments/{department_id}", response_model=DepartmentOut)
def update_department(department_id: int, body: DepartmentPatch, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    dept = service.update_department(db, principal, department_id, **body.model_dump(exclude_unset=True))
    return service.department_out(dept, liaisons(db, [dept.id])[dept.id])
