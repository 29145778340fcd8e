"""Task pages. They call the same service functions as ``/api/v1/tasks`` with the caller's scoped session:
a centre sees its subtree's campaigns and items, a department its own proposals, nothing of a neighbour."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.core.db import get_or_not_found
from shiyu.core.errors import ShiyuError, ValidationFailed
from shiyu.core.http import language
from shiyu.core.paging import paginate
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.areas import service as areas
from shiyu.org.areas.models import AreaLevel
from shiyu.org.units.models import Department
from shiyu.org.units.service import department_names
from shiyu.tasks import forms, service
from shiyu.tasks.models import ASSIGN, PROPOSE, VIEW, Assignment, TaskType, WorkItem
from shiyu.web.admin.common import end_of_day, paging, redirect
from shiyu.web.page_deps import PageDb, PagePrincipal, PageRoute, field_errors, render, require_any

router = APIRouter(prefix="/tasks", route_class=PageRoute, include_in_schema=False)
FORM_ROWS = 6


@router.get("")
def campaigns(request: Request, db: PageDb, principal: PagePrincipal, offset: int = Query(0, ge=0)) -> Response:
    """The campaigns of the caller's area, newest first, each with its items and how far it is."""
    require_any(principal, VIEW)
    page = paging(offset)
    rows, total = paginate(db, service.assignments_statement(), page)
    summary = {a.id: _total(service.progress(db, principal, a.id)) for a in rows}
    types = {t.id: t for t in service.list_types(db, principal)}
    return render(request, "tasks/campaigns.html", rows=rows, total=total, limit=page.limit, offset=offset,
                  summary=summary, types=types, can_assign=principal.has_permission(ASSIGN))


def _total(rows: list[service.ProgressRow]) -> dict[str, int]:
    items, finished = sum(r.items for r in rows), sum(r.finished for r in rows)
    return {"items": items, "finished": finished, "overdue": sum(r.overdue for r in rows),
            "percent": round(100 * finished / items) if items else 0}


@router.get("/assignments/{assignment_id}")
def campaign(request: Request, assignment_id: int, db: PageDb, principal: PagePrincipal,
             area: int | None = Query(None, ge=1)) -> Response:
    """Progress by area (street → community → grid); at a grid, its items with review and return."""
    require_any(principal, VIEW)
    assignment = get_or_not_found(db, Assignment, assignment_id, "task_assignment")
    current = areas.get_area(db, area or assignment.issuer_area_id)
    rows = service.progress(db, principal, assignment.id, under_area_id=current.id)
    items: list[WorkItem] = []
    if current is not None and current.level == int(AreaLevel.GRID):
        items = list(db.scalars(service.items_statement(db, service.ItemFilter(
            assignment_id=assignment.id, area_id=current.id)).limit(200)))
    task_type = db.get(TaskType, assignment.type_id)
    return render(request, "tasks/campaign.html", assignment=assignment, task_type=task_type, rows=rows,
                  total=_total(rows), current=current, chain=areas.chain(db, current) if current else [],
                  items=items, actions={i.id: service.allowed_actions(principal, i) for i in items})


@router.post("/items/{item_id}/{action}")
def act(request: Request, item_id: int, action: str, db: PageDb, principal: PagePrincipal,
        reason: str = Form("", max_length=2000), back: str = Form("/tasks", max_length=200)) -> Response:
    """Review (销号) or return (退回) from the campaign page."""
    if action not in ("review", "return"):
        raise ValidationFailed("task_page_action", "页面只能审核或退回", "Pages review or return only")
    service.act(db, principal, item_id, action, reason=reason or None)
    return redirect(request, back if back.startswith("/tasks") else "/tasks")


# -- the assignment wizard ----------------------------------------------------------------------------------

def _tree(db: Session, principal: Principal) -> list[dict[str, Any]]:
    """The areas the caller may assign to, as an indented list from their centre down to the grids."""
    out: list[dict[str, Any]] = []

    def walk(area: Any, depth: int) -> None:
        if principal.can(ASSIGN, area.area_path):
            out.append({"id": area.id, "name": area.name, "depth": depth, "grid": area.level == int(AreaLevel.GRID)})
        if area.level < int(AreaLevel.GRID):
            for child in areas.children(db, area.id):
                walk(child, depth + 1)

    for root in areas.roots(db, principal):
        walk(root, 0)
    return out


def _wizard(request: Request, db: Session, principal: Principal, status: int = 200, **context: Any) -> Response:
    admitted = service.list_types(db, principal, status="admitted")
    return render(request, "tasks/new.html", status, types=admitted, tree=_tree(db, principal),
                  values=context.pop("values", {}), errors=context.pop("errors", {}),
                  message=context.pop("message", None), **context)


@router.get("/new")
def new_assignment(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    require_any(principal, ASSIGN)
    return _wizard(request, db, principal)


@router.post("/new")
async def create_assignment(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    require_any(principal, ASSIGN)
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if k != "grid_ids"}
    grid_ids = [int(v) for v in form.getlist("grid_ids") if isinstance(v, str) and v.isdigit() and len(v) < 18]
    try:
        due = end_of_day(values.get("due_date", ""), request)
        assignment = service.assign(db, principal, type_code=values.get("type_code", ""),
                                    title=values.get("title", ""), due_at=due, grid_ids=grid_ids,
                                    instructions=values.get("instructions", ""),
                                    priority=values.get("priority", "normal"))
    except ShiyuError as exc:
        db.rollback()
        message, errors = field_errors(exc, language(request))
        return _wizard(request, db, principal, exc.status, values=values, errors=errors, message=message,
                       chosen=set(grid_ids))
    return redirect(request, f"/tasks/assignments/{assignment.id}")


# -- the admitted list ----------------------------------------------------------------------------------------

def _departments(db: Session, principal: Principal) -> list[Department]:
    own = set(principal.departments_with(PROPOSE))
    return [d for d in db.scalars(select(Department).order_by(Department.name))
            if d.id in own or principal.can(PROPOSE, d.area_path)]


def _types_page(request: Request, db: Session, principal: Principal, status: int = 200, **context: Any) -> Response:
    types = service.list_types(db, principal)
    names = {d.id: d.name for d in _departments(db, principal)}
    names.update(department_names(db, [t.owner_department_id for t in types if t.owner_department_id]))
    deciders = {t.id: service.may_decide(db, principal, t) for t in types}
    return render(request, "tasks/types.html", status, types=types, departments=_departments(db, principal),
                  department_names=names, deciders=deciders, field_types=forms.FIELD_TYPES, rows=FORM_ROWS,
                  values=context.pop("values", {}), errors=context.pop("errors", {}),
                  message=context.pop("message", None), can_propose=principal.has_permission(PROPOSE))


@router.get("/types")
def types_page(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    require_any(principal, VIEW, PROPOSE)
    return _types_page(request, db, principal)


@router.post("/types")
async def propose(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    require_any(principal, PROPOSE)
    form = {k: str(v) for k, v in (await request.form()).items()}
    fields = []
    for i in range(FORM_ROWS):
        label = form.get(f"f{i}_label", "").strip()
        if not label:
            continue
        fields.append({"name": form.get(f"f{i}_name", "").strip() or f"field_{i + 1}", "label": label,
                       "type": form.get(f"f{i}_type", "text"), "required": form.get(f"f{i}_required") == "1",
                       "options": [o.strip() for o in form.get(f"f{i}_options", "").replace("，", ",").split(",")
                                   if o.strip()]})
    department = form.get("department_id", "")
    cycle = form.get("cycle_days", "")
    try:
        service.propose_type(db, principal, code=form.get("code", ""), name=form.get("name", ""),
                             department_id=int(department) if department.isdigit() and len(department) < 18 else 0,
                             form=fields, legal_basis=form.get("legal_basis", ""),
                             cycle_days=int(cycle) if cycle.isdigit() and len(cycle) < 6 else None,
                             funding_note=form.get("funding_note", ""))
    except ShiyuError as exc:
        db.rollback()
        message, errors = field_errors(exc, language(request))
        return _types_page(request, db, principal, exc.status, values=form, errors=errors, message=message)
    return redirect(request, "/tasks/types")


@router.post("/types/{type_id}/decision")
def decide(request: Request, type_id: int, db: PageDb, principal: PagePrincipal,
           decision: str = Form("", max_length=10), note: str = Form("", max_length=2000)) -> Response:
    service.decide_type(db, principal, type_id, decision, note)
    return redirect(request, "/tasks/types")


# -- the field app's work items --------------------------------------------------------------------------------

def field_items(db: Session, principal: Principal, near_hours: int) -> list[dict[str, Any]]:
    """The grid worker's open items with their type's form and a colour (yellow due soon, red overdue), for
    the field app's tab: the page embeds them so the cached page works offline."""
    if not principal.has_permission("task.work"):
        return []
    now = utcnow()
    items = service.items_for_worker(db, principal)
    types = service.types_of(db, items)
    return [{"item": i, "type": types[i.type_id],
             "colour": service.warning_level(i.due_at, now, timedelta(hours=near_hours)).value} for i in items]
