"""``/api/v1/tasks``: the admitted list (propose, decide, exit), assignments with their progress by area, work
items and the one action endpoint. Thin: parse, call one service function, shape the answer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from shiyu.core.db import get_or_not_found
from shiyu.core.http import CurrentPrincipal, Db, Paging
from shiyu.core.paging import Page, paginate
from shiyu.core.scoping import Principal
from shiyu.tasks import service
from shiyu.tasks.models import Assignment, TaskType, WorkItem
from shiyu.tasks.schemas import (
    ActionIn,
    AssignmentIn,
    AssignmentOut,
    DecisionIn,
    ExitIn,
    ItemOut,
    ProgressOut,
    TypeIn,
    TypeOut,
)

router = APIRouter(prefix="/tasks", tags=["tasks"])
STATES = "^(open|in_progress|done|unable|reviewed)$"


def item_out(item: WorkItem, task_type: TaskType, principal: Principal) -> dict[str, Any]:
    """An item as the API and the field app show it: with its type's form and what the caller may do now."""
    return {**{c: getattr(item, c) for c in ItemOut.model_fields if hasattr(item, c)},
            "type_code": task_type.code, "type_name": task_type.name, "form": task_type.form,
            "actions": service.allowed_actions(principal, item)}


def _items_out(db: Session, principal: Principal, items: list[WorkItem]) -> list[dict[str, Any]]:
    types = service.types_of(db, items)
    return [item_out(i, types[i.type_id], principal) for i in items]


@router.get("/types", response_model=list[TypeOut], summary="The admitted list (准入事项清单) as it concerns you")
def list_types(db: Db, principal: CurrentPrincipal,
               status: str | None = Query(None, pattern="^(proposed|admitted|refused|exited)$")) -> list[TaskType]:
    return service.list_types(db, principal, status=status)


@router.post("/types", response_model=TypeOut, status_code=201,
             summary="Propose a task type for a department (task.propose); the same-level centre decides")
def propose_type(body: TypeIn, db: Db, principal: CurrentPrincipal) -> TaskType:
    return service.propose_type(db, principal, code=body.code, name=body.name, department_id=body.department_id,
                                form=[f.model_dump() for f in body.form], legal_basis=body.legal_basis,
                                cycle_days=body.cycle_days, funding_note=body.funding_note)


@router.get("/types/{type_id}", response_model=TypeOut, summary="One task type with its form")
def get_type(type_id: int, db: Db, principal: CurrentPrincipal) -> TaskType:
    return service.get_type(db, principal, type_id)


@router.post("/types/{type_id}/decision", response_model=TypeOut,
             summary="Admit or refuse a proposed type (task.admit at its own level; not by the proposer)")
def decide_type(type_id: int, body: DecisionIn, db: Db, principal: CurrentPrincipal) -> TaskType:
    return service.decide_type(db, principal, type_id, body.decision, body.note)


@router.post("/types/{type_id}/exit", response_model=TypeOut, summary="Take an admitted type off the list")
def exit_type(type_id: int, body: ExitIn, db: Db, principal: CurrentPrincipal) -> TaskType:
    return service.exit_type(db, principal, type_id, body.note)


@router.get("/assignments", response_model=Page[AssignmentOut], summary="Assignments (campaigns) in your area")
def list_assignments(db: Db, paging: Paging) -> dict[str, Any]:
    rows, total = paginate(db, service.assignments_statement(), paging)
    counts = service.item_counts(db, [a.id for a in rows])
    items = [{**AssignmentOut.model_validate(a).model_dump(), "items": counts.get(a.id, 0)} for a in rows]
    return {"items": items, "total": total, "limit": paging.limit, "offset": paging.offset}


@router.post("/assignments", response_model=AssignmentOut, status_code=201,
             summary="Send an admitted type to grids (areas above a grid stand for their grids) or records")
def create_assignment(body: AssignmentIn, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    assignment = service.assign(
        db, principal, type_code=body.type_code, title=body.title, due_at=body.due_at, grid_ids=body.grid_ids,
        targets=[service.TargetRef(t.kind, t.id, t.area_id, t.label) for t in body.targets],
        instructions=body.instructions, priority=body.priority)
    return {**AssignmentOut.model_validate(assignment).model_dump(),
            "items": service.item_counts(db, [assignment.id]).get(assignment.id, 0)}


@router.get("/assignments/{assignment_id}/progress", response_model=list[ProgressOut],
            summary="Items, done, unable, overdue and % complete per area one level below under_area_id")
def assignment_progress(assignment_id: int, db: Db, principal: CurrentPrincipal,
                        under_area_id: int | None = Query(None, ge=1, le=2**62)) -> list[dict[str, Any]]:
    get_or_not_found(db, Assignment, assignment_id, "task_assignment")
    return [{**r.__dict__, "percent": r.percent}
            for r in service.progress(db, principal, assignment_id, under_area_id=under_area_id)]


@router.get("/items", response_model=Page[ItemOut],
            summary="Work items in your scope; mine=true: the ones you work on (open and in progress)")
def list_items(db: Db, principal: CurrentPrincipal, paging: Paging, mine: bool = False,
               assignment_id: int | None = Query(None, ge=1, le=2**62),
               type_code: str | None = Query(None, max_length=60),
               state: str | None = Query(None, pattern=STATES),
               warning: str | None = Query(None, pattern="^(none|yellow|red)$"),
               area_id: int | None = Query(None, ge=1, le=2**62)) -> dict[str, Any]:
    if mine:
        rows = service.items_for_worker(db, principal, limit=paging.limit)
        total = len(rows)
    else:
        rows, total = paginate(db, service.items_statement(db, service.ItemFilter(
            assignment_id=assignment_id, type_code=type_code, state=state, area_id=area_id, warning=warning)), paging)
    return {"items": _items_out(db, principal, rows), "total": total, "limit": paging.limit,
            "offset": paging.offset}


@router.get("/items/{item_id}", response_model=ItemOut, summary="One work item with its form")
def get_item(item_id: int, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return _items_out(db, principal, [service.get_item(db, item_id)])[0]


@router.post("/items/{item_id}/actions", response_model=ItemOut,
             summary="start | submit (form data) | unable (reason) | review | return (reason); client_uuid makes a "
                     "resend answer the first result")
def act(item_id: int, body: ActionIn, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    item = service.act(db, principal, item_id, body.action, data=body.data, reason=body.reason,
                       client_uuid=body.client_uuid)
    return _items_out(db, principal, [item])[0]
