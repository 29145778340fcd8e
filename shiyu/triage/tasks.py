"""Background work of smart triage (declared as worker modules of its domain (``declaration.py``)).

- Outbox subscribers, run by the worker's outbox delivery after the change committed: a reported case is
  examined for duplicates and repeats (``case_duplicates``) and may be auto-dispatched (``autodispatch``);
  a person's registration becomes a training example.
- Retraining: runs asked for through the API or CLI are picked up every minute; every night a run is made
  from the day's new decisions. Both are idempotent and safe in several workers (runs are claimed).
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.cases.models import Case
from shiyu.cases.routing import service as routing
from shiyu.core import outbox
from shiyu.core.jobs import JobContext, periodic
from shiyu.org.identity.models import User
from shiyu.triage.classification import learning, training
from shiyu.triage.classification.autodispatch import auto_dispatch_batch
from shiyu.triage.duplicates import case_duplicates

log = logging.getLogger("shiyu.triage")


@outbox.subscribe_batch("case.reported", name="triage.case_reported")
def on_cases_reported(session: Session, events: list[outbox.OutboxEvent]) -> None:
    """Duplicates first: an exact repeat is merged, and a merged case is never auto-dispatched."""
    case_ids = [e.aggregate_id for e in events]
    case_duplicates.on_reported_batch(session, case_ids)
    session.info[routing.MEMO_KEY] = {}  # the batch's cases share grids and categories: route each pair once
    try:
        auto_dispatch_batch(session, case_ids)
    finally:
        session.info.pop(routing.MEMO_KEY, None)


@outbox.subscribe("case.register", name="triage.learn_decision", people_only=True)
def on_case_registered(session: Session, event: outbox.OutboxEvent) -> None:
    """Only people's decisions teach the model: the triage principal's own registrations (and other system
    work) have no actor and are not fanned out to it (``people_only``), or the model would learn from
    itself. Deliveries fanned out before that, still pending or parked and redelivered, are skipped here."""
    if event.actor_id is None:
        return
    case = session.get(Case, event.aggregate_id)
    if case is None:
        return
    username = session.scalar(select(User.username).where(User.id == event.actor_id))
    learning.record_decision(session, case, username)


@periodic(minute="*")
def run_queued_retraining(ctx: JobContext) -> int:
    done = training.run_queued(ctx.session_factory)
    for row in done:
        log.info("triage retraining v%s: %s (%s)", row.version, row.status, row.reason)
    return len(done)


@periodic(hour="3", minute="20")
def retrain_nightly(ctx: JobContext) -> str:
    row = training.retrain_now(ctx.session_factory, "nightly")
    log.info("nightly triage retraining v%s: %s (%s)", row.version, row.status, row.reason)
    return row.status
