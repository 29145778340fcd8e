"""Comparing two ways of doing the same work (a batch path and the one-at-a-time path it replaces): each runs
on the same data in a transaction rolled back afterwards, and everything written is compared — cases,
duplicate findings, auto-dispatch outcomes, timeline, audit and outbox events — without what differs between
two runs (new rows' ids and clock times)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shiyu.cases.models import Case, CaseAssignment, CaseEvent
from shiyu.core.audit import AuditEntry
from shiyu.core.outbox import OutboxEvent
from shiyu.core.scoping import Principal
from shiyu.triage.classification.models import CaseSuggestion
from shiyu.triage.duplicates.models import DuplicateCandidate, RepeatComplaint


def plain(value: Any) -> Any:
    """A record's content without what differs between two runs: new rows' ids and clock times."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if k != "id"}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime | date):
        return "<time>"
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] in "T ":
        return "<time>"
    return value


def bag(rows: list[Any]) -> list[str]:
    return sorted(json.dumps(plain(r), sort_keys=True, ensure_ascii=False, default=str) for r in rows)


def written(s: Session, ids: list[int], marks: dict[str, int]) -> dict[str, Any]:
    """Everything the run wrote about the cases ``ids`` and every timeline entry, audit entry and event after
    ``marks``."""
    s.flush()
    cases = s.scalars(select(Case).where(Case.id.in_(ids)).order_by(Case.id)).all()
    return {
        "cases": [(c.id, c.state, c.category_id, c.main_department_id, c.merged_into_id, c.version, c.step,
                   c.urgency, plain(c.step_due_at), c.routing) for c in cases],
        "assignments": bag([(a.case_id, a.department_id, a.role, a.active) for a in s.scalars(
            select(CaseAssignment).where(CaseAssignment.case_id.in_(ids)))]),
        "candidates": bag([(d.case_id, d.candidate_id, d.score, d.similarity, d.reasons) for d in s.scalars(
            select(DuplicateCandidate).where(DuplicateCandidate.case_id.in_(ids)))]),
        "repeats": bag([(r.case_id, r.earlier, r.earlier_count) for r in s.scalars(
            select(RepeatComplaint).where(RepeatComplaint.case_id.in_(ids)))]),
        "auto": sorted(tuple(r) for r in s.execute(select(CaseSuggestion.case_id, CaseSuggestion.auto_action)
                                 .where(CaseSuggestion.case_id.in_(ids))).all()),
        "timeline": bag([(e.case_id, e.action, e.from_state, e.to_state, e.note, e.actor_name, e.data)
                          for e in s.scalars(select(CaseEvent).where(CaseEvent.id > marks["timeline"]))]),
        "audit": bag([(a.action, a.object_type, a.object_id if a.object_type == "case" else None, a.actor_name,
                        a.before, a.after)
                       for a in s.scalars(select(AuditEntry).where(AuditEntry.id > marks["audit"]))]),
        "events": bag([(e.topic, e.aggregate_id, e.payload) for e in s.scalars(
            select(OutboxEvent).where(OutboxEvent.id > marks["events"]))]),
    }


Run = Callable[[Session], Any]


def both_ways(s: Session, ids: list[int], batch: Run, one_by_one: Run) -> tuple[dict[str, Any], dict[str, Any]]:
    """What ``batch`` wrote and what ``one_by_one`` wrote, each run by the outbox's principal (unless it
    sets its own) from the same committed state."""
    s.info["principal"] = Principal.system("test")
    marks = {"timeline": s.scalar(select(func.max(CaseEvent.id))) or 0,
             "audit": s.scalar(select(func.max(AuditEntry.id))) or 0,
             "events": s.scalar(select(func.max(OutboxEvent.id))) or 0}
    s.commit()
    results = []
    for run in (batch, one_by_one):
        s.info["principal"] = Principal.system("outbox")
        run(s)
        s.info["principal"] = Principal.system("test")
        results.append(written(s, ids, marks))
        s.rollback()
    return results[0], results[1]


