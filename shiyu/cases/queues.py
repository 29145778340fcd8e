"""Work queues per role: what is waiting for the caller, under the same scope as every other read.

Centre queues hold the cases whose *current* centre is one where the caller holds the permission by an
area grant (each level works its own queue); department queues hold the cases dispatched to the caller's
departments; the verification queue holds the cases in the caller's grids that someone else handled;
overdue and supervised show everything in scope that is overdue or under supervision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, exists, false, func, or_, select, true
from sqlalchemy.orm import Session

from shiyu.cases.deadlines import Alert
from shiyu.cases.models import (
    OPEN_STATES,
    AssignmentRole,
    Case,
    CaseAssignment,
    CaseRequest,
    CaseState,
    RequestStatus,
)
from shiyu.cases.workflow import exact_paths
from shiyu.core.errors import NotFound
from shiyu.core.scoping import Principal

S = CaseState


def _at_my_centres(principal: Principal, permission: str) -> Any:
    if principal.is_system:
        return true()
    paths = exact_paths(principal, permission)
    return Case.centre_path.in_(paths) if paths else false()


def _my_departments(principal: Principal, role: AssignmentRole | None = None) -> Any:
    ids = principal.departments_with("case.handle")
    if not ids:
        return false()
    clauses = [CaseAssignment.case_id == Case.id, CaseAssignment.active.is_(True),
               CaseAssignment.department_id.in_(ids)]
    if role is not None:
        clauses.append(CaseAssignment.role == role.value)
    if role is AssignmentRole.ASSIST:
        clauses.append(CaseAssignment.reported_at.is_(None))
    return exists().where(*clauses)


def _to_verify(principal: Principal) -> Any:
    paths = principal.paths_with("case.verify")
    if not paths and not principal.is_system:
        return false()
    where = [Case.state == S.TO_VERIFY]
    if not principal.is_system:
        where.append(or_(*[Case.area_path.startswith(p, autoescape=True) for p in paths]))
    if principal.user_id is not None:
        where.append(or_(Case.handled_by_id.is_(None), Case.handled_by_id != principal.user_id))
    return and_(*where)


def _to_approve(principal: Principal) -> Any:
    pending = exists().where(CaseRequest.case_id == Case.id, CaseRequest.status == RequestStatus.PENDING)
    return and_(Case.state == S.HANDLING, pending, _at_my_centres(principal, "case.approve"))


@dataclass(frozen=True)
class Queue:
    name: str
    label_zh: str
    label_en: str
    where: Callable[[Principal], Any]


QUEUES: tuple[Queue, ...] = (
    Queue("to_register", "待立案", "to register",
          lambda p: and_(Case.state == S.REPORTED, _at_my_centres(p, "case.register"))),
    Queue("to_dispatch", "待派遣", "to dispatch",
          lambda p: and_(Case.state == S.TO_DISPATCH, _at_my_centres(p, "case.dispatch"))),
    Queue("to_accept", "待签收", "to accept",
          lambda p: and_(Case.state == S.TO_ACCEPT, _my_departments(p, AssignmentRole.MAIN))),
    Queue("to_handle", "待处置", "to handle",
          lambda p: and_(Case.state == S.HANDLING,
                         or_(_my_departments(p, AssignmentRole.MAIN), _my_departments(p, AssignmentRole.ASSIST)))),
    Queue("to_verify", "待核查", "to verify", _to_verify),
    Queue("to_close", "待结案", "to close",
          lambda p: and_(Case.state == S.TO_CLOSE, _at_my_centres(p, "case.close"))),
    Queue("to_approve", "待审批", "to approve", _to_approve),
    Queue("overdue", "超期", "overdue",
          lambda p: and_(Case.state.in_([s.value for s in OPEN_STATES]), Case.step_alert >= Alert.OVERDUE)),
    Queue("supervised", "督办", "supervised",
          lambda p: and_(Case.state.in_([s.value for s in OPEN_STATES]), Case.supervised.is_(True))),
)
BY_NAME = {q.name: q for q in QUEUES}


def queue(name: str) -> Queue:
    if name not in BY_NAME:
        raise NotFound("unknown_queue", "没有这个工作队列", "No such queue", detail={"queue": name})
    return BY_NAME[name]


def statement(principal: Principal, name: str) -> Select[Any]:
    """The queue's cases, oldest deadline first (the scope listener adds the caller's scope)."""
    return select(Case).where(queue(name).where(principal)).order_by(Case.step_due_at.asc().nulls_last(), Case.id)


def counts(session: Session, principal: Principal) -> list[tuple[Queue, int]]:
    """Every queue's count in one round trip (one aggregate per queue over the scoped case table)."""
    columns = [func.count(Case.id).filter(q.where(principal)).label(q.name) for q in QUEUES]
    row = session.execute(select(*columns).select_from(Case)).one()
    return [(q, int(row._mapping[q.name] or 0)) for q in QUEUES]
