"""The home page's to-do list (待办): what waits for the person who logs in, with how many and a link to do
it — the desk's queues for an operator or a handler, the cases to verify for a grid worker, the reports to
evaluate for a citizen, and whatever the other domains declare (``Domain.todo``; ``shiyu.domains.install``
registers them). Every count is read through the caller's scoped session, so it is what their pages list.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shiyu.cases.models import Case, CaseState, Channel
from shiyu.core.domains import TodoItem, TodoSource
from shiyu.core.scoping import Principal
from shiyu.web.desk.routes import QUEUE_PERMISSION, desk_queues
from shiyu.web.field.routes import FIELD_ROLES

_SOURCES: list[TodoSource] = []


def register(source: TodoSource) -> None:
    if source not in _SOURCES:
        _SOURCES.append(source)


def items_for(session: Session, principal: Principal) -> list[TodoItem]:
    """Every line with something waiting, the urgent ones first, then the larger counts."""
    found = [item for source in _SOURCES for item in source(session, principal) if item.count > 0]
    return sorted(found, key=lambda i: (not i.urgent, -i.count))


def _works_in_the_field(principal: Principal) -> bool:
    """A grid worker does the case work in the field app (待核查 there), not at the desk."""
    return any(g.role in FIELD_ROLES for g in principal.grants) and not principal.has_permission("case.register")


def desk(session: Session, principal: Principal) -> list[TodoItem]:
    """The desk's queues with cases in them (超期 and 督办 marked urgent), or for a grid worker the cases
    waiting for their on-site verification in the field app."""
    if not any(principal.has_permission(p) for p in (*QUEUE_PERMISSION.values(), "case.supervise")):
        return []
    field = _works_in_the_field(principal)
    out = []
    for queue, count in desk_queues(session, principal):
        if field and queue.name != "to_verify":
            continue
        href = "/field/tasks" if field else f"/desk?queue={queue.name}"
        out.append(TodoItem(queue.label_zh, queue.label_en, count, href, urgent=queue.name == "overdue"))
    return out


def evaluations(session: Session, principal: Principal) -> list[TodoItem]:
    """A citizen's closed reports that wait for their evaluation (满意度评价): those sent through the portal
    (a grid worker's own reports are evaluated by the citizens concerned, not by the worker)."""
    if principal.user_id is None:
        return []
    count = session.scalar(select(func.count(Case.id)).where(
        Case.reporter_user_id == principal.user_id, Case.channel == Channel.CITIZEN.value,
        Case.state == CaseState.CLOSED.value, Case.rating.is_(None)))
    return [TodoItem("待评价的反映", "reports to evaluate", int(count or 0), "/portal/mine")]
