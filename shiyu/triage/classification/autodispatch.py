"""Auto-dispatch: a case whose top suggestion is confident enough is registered and dispatched by the
system principal ``triage``, through the workflow engine like a person would do it.

Why after intake and not inside it: intake must stay fast and must not fail because a department rule is
wrong. The intake's ``case.reported`` outbox event reaches ``tasks.on_cases_reported`` through the worker's
continuous outbox delivery (seconds after the report's commit), which calls ``auto_dispatch``. The engine
then writes the timeline entries (with a note naming the confidence and the model version), the outbox
events, the deadlines and the audit entries exactly as for a person.

Nothing is automatic when the setting is unset, below the threshold, when the routing rules name no
department (a territory centre decides itself), or when the case has moved on (self-resolved, registered by
someone meanwhile). Register and dispatch happen in one savepoint: if the dispatch is refused (the rule's
department is at another level), the registration is undone too and the case waits for a person.
``CaseSuggestion.auto_action`` records the outcome, which also makes a redelivered event a no-op.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.cases.categories.models import Category
from shiyu.cases.models import Case, CaseState
from shiyu.cases.routing.service import NoRoute, route
from shiyu.cases.workflow import engine
from shiyu.core.errors import ShiyuError
from shiyu.core.scoping import Principal
from shiyu.org.areas.models import Area
from shiyu.triage.classification.models import CaseSuggestion
from shiyu.triage.classification.registry import RUNTIME

log = logging.getLogger("shiyu.triage")
PRINCIPAL = "triage"
UNSCOPED = {"unscoped": True}


def _department_for(session: Session, case: Case, category: Category) -> int | None:
    grid = session.scalar(select(Area).where(Area.id == case.grid_id), execution_options=UNSCOPED)
    assert grid is not None
    try:
        return route(session, category, grid, case.attributes or {}).department_id
    except NoRoute:
        return None


def auto_dispatch(session: Session, case_id: int) -> str | None:
    """Register and dispatch ``case_id`` if its suggestion allows it; returns the recorded outcome (None:
    auto-dispatch is off or the case has no suggestion)."""
    threshold = RUNTIME.auto_threshold
    if threshold is None:
        return None
    suggestion = session.scalar(select(CaseSuggestion).where(CaseSuggestion.case_id == case_id))
    if suggestion is None or suggestion.auto_action is not None or not suggestion.suggestions:
        return None
    top = suggestion.suggestions[0]
    case = session.get(Case, case_id)
    category = session.get(Category, top["category_id"])
    if case is None or case.state != CaseState.REPORTED:
        outcome = "case_moved_on"
    elif top["confidence"] < threshold:
        outcome = "below_threshold"
    elif category is None or not category.selectable:
        outcome = "category_unusable"
    else:
        department_id = _department_for(session, case, category)
        outcome = "no_department" if department_id is None else _apply(session, case, category, department_id,
                                                                       top["confidence"], suggestion.model_version)
    suggestion.auto_action = outcome
    session.flush()
    return outcome


def _apply(session: Session, case: Case, category: Category, department_id: int, confidence: float,
           version: int) -> str:
    principal = Principal.system(PRINCIPAL)
    note = (f"智能分拨自动处理：类别 {category.name_zh}，置信度 {confidence:.0%}，模型 v{version} / "
            f"automatic triage: {category.name_en or category.name_zh}, confidence {confidence:.0%}, model v{version}")
    caller = session.info.get("principal")
    session.info["principal"] = principal  # the timeline and the audit name "triage" as the actor
    try:
        with session.begin_nested():
            engine.apply(session, principal, case.id, "register", engine.ActionInput(
                expected_version=case.version, note=note, fields={"category_id": category.id}), RUNTIME.tz)
            engine.apply(session, principal, case.id, "dispatch", engine.ActionInput(
                expected_version=case.version, note=note, fields={"department_id": department_id}), RUNTIME.tz)
    except ShiyuError as exc:
        log.info("auto-dispatch of case %s refused: %s", case.id, exc.code)
        session.expire(case)
        return f"refused:{exc.code}"[:60]
    finally:
        session.info["principal"] = caller
    return "dispatched"
