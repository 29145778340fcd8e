"""A team member's key-person visits on the home page's to-do list (``Domain.todo``, ``shiyu.web.todo``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from shiyu.core.domains import TodoItem
from shiyu.core.scoping import Principal
from shiyu.keypersons import items, plans
from shiyu.keypersons.models import VISIT

SOON = timedelta(days=7)


def visits(session: Session, principal: Principal) -> list[TodoItem]:
    """The visits overdue (first, marked) and those due within the week, as 我的走访 lists them; the records
    are the caller's own (the team's grid worker), never named here."""
    if principal.user_id is None or not principal.has_permission(VISIT):
        return []
    today = datetime.now(items.TZ).date()
    due = [r.next_due_on for r in plans.worker_visits(session, principal.user_id, today) if r.next_due_on is not None]
    return [TodoItem("走访已超期的重点人员", "key-person visits overdue", sum(1 for d in due if d < today),
                     "/keypersons/visits", urgent=True),
            TodoItem("本周要走访的重点人员", "key-person visits due this week",
                     sum(1 for d in due if today <= d <= today + SOON), "/keypersons/visits")]
