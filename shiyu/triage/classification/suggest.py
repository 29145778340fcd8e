"""Category suggestions: made once at intake, shown on the desk, read through the API.

``on_reported`` is the intake's single call into triage: the intake writes the suggestion in the case's
transaction, so it exists exactly when the case does. Predicting one message costs a few milliseconds; a
model that cannot be used (file gone, corrupt) is logged and the case is filed without suggestions —
triage must never stop a report.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.cases.categories.models import Category
from shiyu.cases.categories.selectable import selectable_by_code
from shiyu.cases.models import Case, CaseState
from shiyu.cases.routing.service import NoRoute, route
from shiyu.core.errors import NotFound
from shiyu.org.areas.models import Area
from shiyu.triage import TriageError
from shiyu.triage.classification.models import CaseSuggestion
from shiyu.triage.classification.registry import active_model

log = logging.getLogger("shiyu.triage")
TOP = 3
UNSCOPED = {"unscoped": True}


def rank(session: Session, model: Any, text: str, top: int = TOP) -> list[dict[str, Any]]:
    """The ``top`` selectable categories for ``text``, best first. Labels are minor-class codes; a label
    whose category was since removed or deactivated is skipped rather than suggested."""
    proba = model.proba_one(text)
    labels = [str(c) for c in model.svm_.classes_]
    out = []
    for i in sorted(range(len(labels)), key=lambda i: -proba[i]):
        category = selectable_by_code(session, labels[i])
        if category is not None:
            out.append({"category_id": category.id, "code": category.code, "confidence": round(float(proba[i]), 4)})
        if len(out) == top:
            break
    return out


def propose(session: Session, text: str) -> list[int]:
    """Category ids the active model proposes for a citizen's description, best first ([] with no usable
    model): the portal files a tile's report under the best one the tile allows."""
    try:
        found = active_model(session)
        return [] if found is None else [s["category_id"] for s in rank(session, found[1], text, top=10)]
    except (TriageError, OSError) as exc:
        log.warning("triage proposal skipped for a citizen's report: %s", exc)
        return []


def on_reported(session: Session, case: Case) -> dict[str, Any] | None:
    """The row of the active model's suggestions for a case being filed (None when no model is active);
    the intake writes it with the case."""
    try:
        found = active_model(session)
        if found is None:
            return None
        version, model = found
        ranked = rank(session, model, case.description)
    except (TriageError, OSError) as exc:
        log.warning("triage suggestions skipped for a new case: %s", exc)
        return None
    if not ranked:
        return None
    return {"case_id": case.id, "area_path": case.area_path, "model_version_id": version.id,
            "model_version": version.version, "suggestions": ranked}


def of_case(session: Session, case_id: int) -> CaseSuggestion | None:
    """The suggestion of a case the caller can see (404 for a case outside the caller's scope)."""
    if session.scalar(select(Case.id).where(Case.id == case_id)) is None:
        raise NotFound(detail={"object": "case", "id": case_id})
    return session.scalar(select(CaseSuggestion).where(CaseSuggestion.case_id == case_id))


@dataclass
class Choice:
    category_id: int
    code: str
    name_zh: str
    name_en: str
    confidence: float
    department_id: int | None
    target_name: str


@dataclass
class Choices:
    model_version: int
    items: list[Choice]


def choices(session: Session, case: Case) -> Choices | None:
    """The suggestions of a case not yet registered, each with whom the routing rules would send it to,
    so the operator sees where each choice leads before registering."""
    if case.state != CaseState.REPORTED:
        return None
    suggestion = session.scalar(select(CaseSuggestion).where(CaseSuggestion.case_id == case.id))
    if suggestion is None:
        return None
    grid = session.scalar(select(Area).where(Area.id == case.grid_id), execution_options=UNSCOPED)
    assert grid is not None
    out = []
    for item in suggestion.suggestions:
        category = session.get(Category, item["category_id"])
        if category is None:
            continue
        try:
            decision = route(session, category, grid, case.attributes or {})
            department_id, target = decision.department_id, decision.target_name
        except NoRoute:
            department_id, target = None, ""
        out.append(Choice(category.id, category.code, category.name_zh, category.name_en or category.name_zh,
                          item["confidence"], department_id, target))
    return Choices(suggestion.model_version, out)
