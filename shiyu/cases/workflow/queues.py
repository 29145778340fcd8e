"""Work queues per role: what is waiting for the caller, under the same scope as every other read.

Every queue is worked from the top: 特急 cases first, then 紧急, each by the time left (``statement``); the
open 特急 cases of the caller's queues are also pinned above them all (``critical``).

A work queue is the set of cases on which the caller has one of the queue's actions available — derived from
the workflow table (``workflow.clause``: the transition's states, scope rules and guards as SQL), so the desk
never lists a case the caller cannot act on, nor hides one they can. Centre queues therefore hold the cases
whose *current* centre is one where the caller holds the permission by an area grant (each level works its
own queue); department queues the cases dispatched to the caller's departments; the verification queue the
cases in the caller's grids that neither they nor their department handled. Overdue and supervised are
watch lists, not work: everything in scope that is overdue or under supervision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from shiyu.cases.categories.models import Urgency
from shiyu.cases.models import OPEN_STATES, Case
from shiyu.cases.workflow import table as workflow
from shiyu.cases.workflow.deadlines import Alert
from shiyu.core.errors import NotFound
from shiyu.core.scoping import Principal


@dataclass(frozen=True)
class Queue:
    name: str
    label_zh: str
    label_en: str
    actions: tuple[str, ...] = ()  # a work queue: cases with one of these actions available to the caller
    watch: Callable[[Principal], Any] | None = field(default=None, compare=False)  # a watch list instead

    def __post_init__(self) -> None:
        for action in self.actions:  # fail at import, not on a desk, if an action cannot be expressed in SQL
            workflow.clause(workflow.ACTIONS[action], Principal.system("queues"))

    def where(self, principal: Principal) -> Any:
        if self.watch is not None:
            return self.watch(principal)
        return or_(*[workflow.clause(workflow.ACTIONS[a], principal) for a in self.actions])


def _open() -> Any:
    return Case.state.in_([s.value for s in OPEN_STATES])


QUEUES: tuple[Queue, ...] = (
    Queue("to_register", "待立案", "to register", ("register",)),
    Queue("to_dispatch", "待派遣", "to dispatch", ("dispatch",)),
    Queue("to_accept", "待签收", "to accept", ("accept",)),
    Queue("to_handle", "待处置", "to handle", ("report_result", "assist_report")),
    Queue("to_verify", "待核查", "to verify", ("verify_pass",)),
    Queue("to_close", "待结案", "to close", ("close",)),
    # 回访: a closed case the citizen has not evaluated; the centre calls them back and records the rating.
    Queue("to_follow_up", "待回访", "to follow up", ("evaluate",)),
    Queue("to_approve", "待审批", "to approve", ("approve_extension", "approve_suspension")),
    Queue("overdue", "超期", "overdue", watch=lambda p: and_(_open(), Case.step_alert >= Alert.OVERDUE)),
    Queue("supervised", "督办", "supervised", watch=lambda p: and_(_open(), Case.supervised.is_(True))),
)
BY_NAME = {q.name: q for q in QUEUES}


def queue(name: str) -> Queue:
    if name not in BY_NAME:
        raise NotFound("unknown_queue", "没有这个工作队列", "No such queue", detail={"queue": name})
    return BY_NAME[name]


# 特急 first, then 紧急, then the rest: a queue is worked from the top.
URGENCY_RANK = case({Urgency.CRITICAL.value: 0, Urgency.URGENT.value: 1}, value=Case.urgency, else_=2)


def statement(principal: Principal, name: str) -> Select[Any]:
    """The queue's cases, most urgent first and, within one urgency, the least time left first (the earliest
    due instant; a stopped clock last). The scope listener adds the caller's scope."""
    return (select(Case).where(queue(name).where(principal))
            .order_by(URGENCY_RANK, Case.step_due_at.asc().nulls_last(), Case.id))


def critical(session: Session, principal: Principal, names: list[str], limit: int = 20) -> list[Case]:
    """The open 特急 cases of the queues ``names``, least time left first: what the desk pins above every
    queue, so an emergency is in sight whichever queue the operator is working."""
    if not names:
        return []
    stmt = (select(Case).where(or_(*[queue(n).where(principal) for n in names]), _open(),
                               Case.urgency == Urgency.CRITICAL.value)
            .order_by(Case.step_due_at.asc().nulls_last(), Case.id).limit(limit))
    return list(session.scalars(stmt))


def counts(session: Session, principal: Principal) -> list[tuple[Queue, int]]:
    """Every queue's count in one round trip (one aggregate per queue over the scoped case table)."""
    columns = [func.count(Case.id).filter(q.where(principal)).label(q.name) for q in QUEUES]
    row = session.execute(select(*columns).select_from(Case)).one()
    return [(q, int(row._mapping[q.name] or 0)) for q in QUEUES]
