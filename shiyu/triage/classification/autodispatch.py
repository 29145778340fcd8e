"""Auto-dispatch: a case whose top suggestion is confident enough is registered and dispatched by the
system principal ``triage``, through the workflow engine like a person would do it.

Why after intake and not inside it: intake must stay fast and must not fail because a department rule is
wrong. The intake's ``case.reported`` outbox event reaches ``tasks.on_cases_reported`` through the worker's
continuous outbox delivery (seconds after the report's commit), which calls ``auto_dispatch_batch``. The engine
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
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from shiyu.cases.categories.models import Category
from shiyu.cases.models import Case, CaseState
from shiyu.cases.routing.service import NoRoute, departments_with_jurisdiction, route_many
from shiyu.cases.workflow import engine
from shiyu.cases.workflow.effects import dispatch_refusal
from shiyu.core.db import among
from shiyu.core.errors import ShiyuError
from shiyu.core.scoping import Principal
from shiyu.org.areas.models import Area
from shiyu.triage.classification.models import CaseSuggestion
from shiyu.triage.classification.registry import RUNTIME

log = logging.getLogger("shiyu.triage")
PRINCIPAL = "triage"
UNSCOPED = {"unscoped": True}


def auto_dispatch_batch(session: Session, case_ids: list[int]) -> dict[int, str]:
    """Register and dispatch each of ``case_ids``, in order, if its suggestion allows it; returns the recorded
    outcomes (a case is left out when auto-dispatch is off, it has no suggestion or was decided already).
    The suggestions, cases, categories and grids of the batch are read with one query each (not four per
    case), its cases are routed together (``route_many``), a dispatch the engine would refuse is found by
    the engine's own rule before any transition runs (``dispatch_refusal``), and the outcomes are written
    with one statement per outcome (``_record_outcomes``). Each dispatch still goes through the workflow engine,
    so its timeline, audit entries and events are a person's; a batch of one is the same as a batch of many
    (``tests/triage/test_batches.py``)."""
    threshold = RUNTIME.auto_threshold
    if threshold is None or not case_ids:
        return {}
    found = {s.case_id: s for s in session.scalars(
        select(CaseSuggestion).where(among(session, CaseSuggestion.case_id, case_ids)))}
    todo = [found[i] for i in dict.fromkeys(case_ids)
            if i in found and found[i].auto_action is None and found[i].suggestions]
    if not todo:
        return {}
    cases = {c.id: c for c in session.scalars(select(Case).where(among(session, Case.id, [s.case_id for s in todo])))}
    categories = {c.id: c for c in session.scalars(select(Category).where(
        among(session, Category.id, {s.suggestions[0]["category_id"] for s in todo})))}
    grids = {a.id: a for a in session.scalars(
        select(Area).where(among(session, Area.id, {c.grid_id for c in cases.values()})), execution_options=UNSCOPED)}
    asked = [cases[s.case_id] for s in todo if _eligible(s, cases, categories, threshold) is None]
    decisions = route_many(session, [(categories[found[c.id].suggestions[0]["category_id"]], grids[c.grid_id],
                                      c.attributes or {}) for c in asked])
    routed = {c.id: None if isinstance(d, NoRoute) else d.department_id
              for c, d in zip(asked, decisions, strict=True)}
    receivers = departments_with_jurisdiction(session, {d for d in routed.values() if d is not None})
    chosen: list[_Choice] = []
    decided: list[tuple[CaseSuggestion, str]] = []
    for suggestion in todo:
        outcome = _eligible(suggestion, cases, categories, threshold)
        if outcome is None:
            case, department_id = cases[suggestion.case_id], routed[suggestion.case_id]
            refusal = None if department_id is None else dispatch_refusal(
                receivers, department_id, case.centre_path, case.area_path)
            if department_id is None:
                outcome = "no_department"
            elif refusal is not None:  # what the dispatch transition would say, found without running it
                outcome = _refused(case, refusal)
            else:
                chosen.append(_Choice(suggestion, case, categories[suggestion.suggestions[0]["category_id"]],
                                      department_id))
                continue
        decided.append((suggestion, outcome))
    _record_outcomes(session, decided)  # before the dispatches: the caller's writes, not the triage principal's
    _record_outcomes(session, [(c.suggestion, outcome)
                               for c, outcome in zip(chosen, _dispatch(session, chosen), strict=True)])
    return {s.case_id: s.auto_action for s in todo if s.auto_action is not None}


def _record_outcomes(session: Session, decided: list[tuple[CaseSuggestion, str]]) -> None:
    """Store each case's outcome with one UPDATE per outcome, and on the suggestions held as if loaded so. Not
    through the ORM: a flush of fifty suggestions, each with its audit entry, was a sixth of auto-dispatch's
    CPU. The outcome is the triage's own bookkeeping, like the duplicate findings; what auto-dispatch did to
    a case — register and dispatch — is audited by the workflow engine."""
    table = CaseSuggestion.__table__
    ids: dict[str, list[int]] = {}
    for suggestion, outcome in decided:
        ids.setdefault(outcome, []).append(suggestion.id)
    for outcome, same in ids.items():
        session.connection().execute(update(table).where(among(session, table.c.id, same)).values(auto_action=outcome))
    for suggestion, outcome in decided:
        set_committed_value(suggestion, "auto_action", outcome)


def _eligible(suggestion: CaseSuggestion, cases: dict[int, Case], categories: dict[int, Category],
              threshold: float) -> str | None:
    """The outcome when the case is not for auto-dispatch at all; None when routing decides."""
    top = suggestion.suggestions[0]
    case, category = cases.get(suggestion.case_id), categories.get(top["category_id"])
    if case is None or case.state != CaseState.REPORTED:
        return "case_moved_on"
    if top["confidence"] < threshold:
        return "below_threshold"
    if category is None or not category.selectable:
        return "category_unusable"
    return None


def _refused(case: Case, exc: ShiyuError) -> str:
    log.info("auto-dispatch of case %s refused: %s", case.id, exc.code)
    return f"refused:{exc.code}"[:60]


@dataclass
class _Choice:
    """A case auto-dispatch registers and dispatches, and with what."""

    suggestion: CaseSuggestion
    case: Case
    category: Category
    department_id: int

    def note(self) -> str:
        top, version, name = self.suggestion.suggestions[0], self.suggestion.model_version, self.category.name_zh
        return (f"智能分拨自动处理：类别 {name}，置信度 {top['confidence']:.0%}，模型 v{version} / automatic "
                f"triage: {self.category.name_en or name}, confidence {top['confidence']:.0%}, model v{version}")

    def input(self, fields: dict[str, Any]) -> engine.ActionInput:
        """The input of the next transition (the case's version as it is now)."""
        return engine.ActionInput(expected_version=self.case.version, note=self.note(), fields=fields)


def _dispatch(session: Session, chosen: list[_Choice]) -> list[str]:
    """Register, then dispatch, all of ``chosen`` with the engine's batch path (``engine.apply_each``) in one
    savepoint; if the engine refuses any of them, the savepoint is undone and each case is tried on its own
    savepoint, so one case's refusal leaves the others dispatched. The outcome of each, in order."""
    if not chosen:
        return []
    principal = Principal.system(PRINCIPAL)
    caller = session.info.get("principal")
    session.info["principal"] = principal  # the timeline and the audit name "triage" as the actor
    try:
        try:
            with session.begin_nested():
                engine.apply_each(session, principal, "register", {
                    c.case.id: c.input({"category_id": c.category.id}) for c in chosen}, RUNTIME.tz)
                engine.apply_each(session, principal, "dispatch", {
                    c.case.id: c.input({"department_id": c.department_id}) for c in chosen}, RUNTIME.tz)
            return ["dispatched"] * len(chosen)
        except ShiyuError as exc:
            log.info("auto-dispatch of %d cases together refused (%s): one by one", len(chosen), exc.code)
        return [_apply(session, principal, c) for c in chosen]
    finally:
        session.info["principal"] = caller


def _apply(session: Session, principal: Principal, choice: _Choice) -> str:
    case = choice.case
    try:
        with session.begin_nested():
            engine.apply(session, principal, case.id, "register", choice.input({"category_id": choice.category.id}),
                         RUNTIME.tz)
            engine.apply(session, principal, case.id, "dispatch", choice.input({"department_id": choice.department_id}),
                         RUNTIME.tz)
    except ShiyuError as exc:
        session.expire(case)
        return _refused(case, exc)
    return "dispatched"
