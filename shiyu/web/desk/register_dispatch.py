"""立案并派遣 (issue 13): the operator registers a report and sends it on in one form, as 数字城管 受理员 screens
do — two transitions of the table (``register``, then ``dispatch`` or ``forward``) applied by the engine one
after the other in the request's one transaction, so either both are done or neither.

The form is offered only to a caller who may do both at the case's centre, and only when there is somewhere
to send it: a department of the centre covering the place, or the higher department the routing rules name.
The routing suggestion is previewed with the rules as they are (registering computes it again and keeps it).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.cases.categories.models import Category
from shiyu.cases.models import Case
from shiyu.cases.routing.service import NoRoute, RoutingDecision, route
from shiyu.cases.workflow import effects
from shiyu.cases.workflow.table import holds_exactly_at
from shiyu.core.errors import ValidationFailed
from shiyu.core.scoping import Principal
from shiyu.org.areas.models import Area

ACTION = "register_dispatch"
FORWARD = "forward:"
UNSCOPED = {"unscoped": True}


def preview(db: Session, case: Case) -> RoutingDecision | None:
    """What the routing rules say for the case as it is now (None when nothing can take it)."""
    category = db.scalar(select(Category).where(Category.id == case.category_id), execution_options=UNSCOPED)
    grid = db.scalar(select(Area).where(Area.id == case.grid_id), execution_options=UNSCOPED)
    if category is None or grid is None:
        return None
    try:
        return route(db, category, grid, case.attributes or {})
    except NoRoute:
        return None


def offer(db: Session, principal: Principal, case: Case, allowed: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The one form's choices, or None when it is not for this caller and case."""
    if not any(a["action"] == "register" for a in allowed):
        return None
    if not holds_exactly_at(principal, "case.dispatch", case.centre_path):
        return None
    departments = effects.dispatch_departments(db, case.centre_path, case.area_path)
    decision = preview(db, case)
    suggested = decision.department_id if decision else None
    higher = effects.forward_target(db, case, suggested) if suggested else None
    if not departments and higher is None:
        return None
    return {"departments": departments, "suggested": suggested, "forward": higher}


def second_step(target: str) -> tuple[str, int]:
    """The form's ``target``: a department id (派遣) or ``forward:<id>`` (转派上级部门)."""
    action, raw = ("forward", target.removeprefix(FORWARD)) if target.startswith(FORWARD) else ("dispatch", target)
    if not raw.isdigit():
        raise ValidationFailed("action_fields_invalid", "请选择派遣或转派的部门", "Choose where to send the case",
                               detail=[{"field": "department_id", "problem": "required"}])
    return action, int(raw)
