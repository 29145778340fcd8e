"""The key persons' background work: every night the due dates are recomputed for the whole city, the
warnings raised (set-based) and the visits due within a week opened as work items; every hour the missed
visits past the limit become cases; closed records past the retention period lose their personal data. The
task engine's "item done" event records a visit, a person found again or a census finding."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.core import outbox
from shiyu.core.db import transaction
from shiyu.core.jobs import JobContext, periodic
from shiyu.core.scoping import Principal
from shiyu.keypersons import census, escalation, items, plans, retention, service
from shiyu.keypersons.models import GRADES, KeyPersonGroup, KeyPersonRecord, State

log = logging.getLogger(__name__)


def limits_of(ctx: JobContext) -> plans.Limits:
    return plans.Limits(ctx.settings.keyperson_red_after_days, ctx.settings.keyperson_case_after_days)


@periodic(hour="1", minute="10")
def recompute(ctx: JobContext) -> dict[str, int]:
    """Nightly: due dates from the plan table (a plan edited during the day applies to every record)."""
    today = datetime.now(ctx.settings.tz).date()
    with transaction(ctx.session_factory, principal=Principal.system("keypersons")) as session:
        changed = plans.recompute_due(session)
        raised = plans.raise_warnings(session, today, limits_of(ctx))
        opened = items.open_due_items(session, today, ctx.settings.tz)
    return {"scheduled": changed, "items": opened, **raised}


@periodic(minute="25")
def warn_and_escalate(ctx: JobContext) -> int:
    """Hourly: warnings for visits missed since the last run, then cases for those missed past the limit."""
    today = datetime.now(ctx.settings.tz).date()
    with transaction(ctx.session_factory, principal=Principal.system("keypersons")) as session:
        plans.raise_warnings(session, today, limits_of(ctx))
    filed = escalation.file_cases(ctx.session_factory, ctx.settings.tz, today, limits_of(ctx))
    if filed:
        log.info("keypersons: %d missed visits filed as cases", len(filed))
    return len(filed)


@periodic(hour="3", minute="50")
def erase_closed(ctx: JobContext) -> int:
    """Nightly: the retention rule for closed records (setting ``keyperson_retention_days``)."""
    today = datetime.now(ctx.settings.tz).date()
    with transaction(ctx.session_factory, principal=Principal.system("keypersons")) as session:
        return retention.erase(session, today, ctx.settings.keyperson_retention_days)


@outbox.subscribe("task.item_done", name="keypersons.item_done")
def item_done(session: Session, event: outbox.OutboxEvent) -> None:
    """A visit item done records the visit on the record (once: the visit's ``client_uuid`` is the item's); a
    search item done with "found" restores contact; a census item done writes its finding on the record (once:
    the timeline entry names the item; ``census.record_finding``). Items of other types, or for a due date the
    record has moved past (the visit was recorded on the record directly), change nothing."""
    payload = event.payload
    data = payload.get("data") or {}
    done_on = datetime.fromisoformat(payload["done_at"]).astimezone(items.TZ).date()
    system = Principal.system("keypersons")
    if payload.get("type_code") == items.VISIT:
        ref = items.parse_ref(payload.get("source_ref"))
        record = _record(session, ref[0]) if ref else None
        if record is None or ref is None or record.state not in plans.VISITED_STATES or record.next_due_on != ref[1]:
            return
        grade = items.GRADE_OPTIONS.get(data.get("assessed_grade") or "")
        group = session.scalar(select(KeyPersonGroup).where(KeyPersonGroup.code == record.group_code))
        if group is None or grade not in GRADES[group.grade_scheme]:
            grade = None
        raw = data.get("position")
        point: dict[str, Any] = raw if isinstance(raw, dict) else {}
        service.record_visit(session, system, record.id, service.VisitReport(
            visited_on=done_on, findings={k: data[k] for k in ("met", "findings") if k in data},
            assessed_grade=grade, lon=point.get("lon"), lat=point.get("lat"), photos=tuple(data.get("photos") or ()),
            client_uuid=f"task-{payload['item_id']}", task_item_id=payload["item_id"], by_id=payload.get("by")),
            done_on)
    elif payload.get("type_code") == items.SEARCH:
        record_id = items.search_ref_record(payload.get("source_ref"))
        record = _record(session, record_id) if record_id else None
        if record is not None and record.state == State.LOST_CONTACT.value and data.get("found") is True:
            service.act(session, system, record.id, "regain", note=str(data.get("whereabouts", ""))[:500],
                        today=done_on)
    elif payload.get("type_code") == census.TYPE_CODE:
        census.record_finding(session, payload, done_on)


def _record(session: Session, record_id: int) -> KeyPersonRecord | None:
    return session.scalar(select(KeyPersonRecord).where(KeyPersonRecord.id == record_id))
