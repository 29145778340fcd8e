"""Moving through a work queue from the case page (issue 13): the queue a case was opened from travels in the
address (``?queue=``), so J/K on the case page go to the neighbours in that queue, and "办理并打开下一件"
opens the case that is first in line once the action is done.

Neighbours are read in the queue's own order (``queues.statement``: most urgent, least time left), ids only,
through the caller's scoped session. After an action the case usually leaves the queue (registered, it is no
longer 待立案); if it is still there (催办 keeps it), the next one is the one after it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from shiyu.cases.models import Case
from shiyu.cases.workflow import queues
from shiyu.core.scoping import Principal

# The main actions' keys, shown on their buttons and in the ? help (the keys work in static/desk_work.js).
HOTKEYS: dict[str, str] = {
    "register": "R", "dispatch": "D", "forward": "F", "escalate": "E", "accept": "A", "report_result": "H",
    "verify_pass": "V", "close": "C", "supervise": "S", "urge": "U",
}
NEIGHBOUR_LIMIT = 1000  # how far down a queue J/K look; a desk works from the top


@dataclass(frozen=True)
class Around:
    queue: str
    position: int  # 1-based; 0 when the case is not (or no longer) in the queue
    total: int
    previous: int | None
    next: int | None


def work_queue(name: str | None) -> str | None:
    """The queue named in the address, or None for a name that is no queue."""
    return name if name in queues.BY_NAME else None


def _ids(db: Session, principal: Principal, queue: str) -> list[int]:
    stmt = queues.statement(principal, queue).with_only_columns(Case.id).limit(NEIGHBOUR_LIMIT)
    return list(db.scalars(stmt))


def neighbours(db: Session, principal: Principal, queue: str, case_id: int) -> Around:
    ids = _ids(db, principal, queue)
    if case_id not in ids:
        return Around(queue, 0, len(ids), None, ids[0] if ids else None)
    at = ids.index(case_id)
    return Around(queue, at + 1, len(ids), ids[at - 1] if at else None, ids[at + 1] if at + 1 < len(ids) else None)


def after_action(db: Session, principal: Principal, case_id: int, action: str, queue: str | None,
                 open_next: bool) -> str:
    """Where the page goes once ``action`` is done: the same case, or — "办理并打开下一件" — the next case of
    the queue (the queue itself when it is empty)."""
    suffix = f"done={action}" + (f"&queue={queue}" if queue else "")
    if not (open_next and queue):
        return f"/desk/cases/{case_id}?{suffix}"
    db.flush()
    following = neighbours(db, principal, queue, case_id).next
    if following is None:
        return f"/desk?queue={queue}&done={action}"
    return f"/desk/cases/{following}?{suffix}"
