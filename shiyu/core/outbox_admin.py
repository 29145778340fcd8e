"""Parked outbox deliveries, for a city-wide administrator (``outbox.manage``): list, redeliver, discard.

A delivery is parked after ``outbox_max_attempts`` failures (``shiyu.core.outbox``). Parked rows are
bookkeeping of the whole city's background work, not data of an area, so only a grant covering a whole city
(a top-level area, path ``/<city code>/``) may see or touch them. Redelivering and discarding are audited
with the delivery's topic, subscriber and aggregate.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shiyu.core import audit, outbox
from shiyu.core.errors import Forbidden, NotFound, ShiyuError
from shiyu.core.paging import PageParams
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow

PERMISSION = "outbox.manage"


class NotParked(ShiyuError):
    status = 409
    code = "outbox.not_parked"
    zh = "该投递已不在搁置状态"
    en = "This delivery is no longer parked"


def require_manager(principal: Principal) -> None:
    if principal.is_system:
        return
    if not any(path.count("/") == 2 for path in principal.paths_with(PERMISSION)):
        raise Forbidden(detail={"permission": PERMISSION, "scope": "city"})


class Parked(BaseModel):
    """A parked delivery as the page and the API show it."""

    id: int
    event_id: int
    topic: str
    subscriber: str
    aggregate: str
    aggregate_id: int
    attempts: int
    last_error: str | None
    created_at: datetime
    last_attempt_at: datetime | None
    parked_at: datetime | None


def parked(session: Session, principal: Principal, page: PageParams) -> tuple[list[Parked], int]:
    """Parked deliveries, oldest event first."""
    require_manager(principal)
    d, e = outbox.OutboxDelivery, outbox.OutboxEvent
    total = outbox.parked_count(session)
    rows = session.execute(
        select(d.id, d.event_id, e.topic, d.subscriber, d.aggregate, d.aggregate_id, d.attempts, d.last_error,
               e.created_at, d.last_attempt_at, d.finished_at)
        .join(e, e.id == d.event_id).where(d.state == outbox.PARKED)
        .order_by(d.event_id, d.id).offset(page.offset).limit(page.limit)
    ).all()
    return [Parked(**dict(zip(Parked.model_fields, row, strict=True))) for row in rows], total


def _take(session: Session, delivery_id: int) -> tuple[outbox.OutboxDelivery, str]:
    d = session.get(outbox.OutboxDelivery, delivery_id, with_for_update=True)
    if d is None:
        raise NotFound(detail={"object": "outbox_delivery", "id": delivery_id})
    if d.state != outbox.PARKED:
        raise NotParked(detail={"id": delivery_id, "state": d.state})
    topic = session.scalar(select(outbox.OutboxEvent.topic).where(outbox.OutboxEvent.id == d.event_id)) or ""
    return d, topic


def _audit(session: Session, action: str, d: outbox.OutboxDelivery, topic: str) -> None:
    audit.record(session, action, "outbox_delivery", d.id, after={
        "event_id": d.event_id, "topic": topic, "subscriber": d.subscriber, "aggregate": d.aggregate,
        "aggregate_id": d.aggregate_id, "attempts": d.attempts, "last_error": d.last_error})


def redeliver(session: Session, principal: Principal, delivery_id: int) -> None:
    """Put a parked delivery back in line with a fresh set of attempts; the worker runs it at once."""
    require_manager(principal)
    d, topic = _take(session, delivery_id)
    _audit(session, "outbox_redeliver", d, topic)
    table = outbox.OutboxDelivery.__table__
    session.execute(update(table).where(table.c.id == d.id).values(
        state=outbox.PENDING, attempts=0, available_at=utcnow(), finished_at=None))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_notify(outbox.CHANNEL, "")))
    session.expire(d)


def discard(session: Session, principal: Principal, delivery_id: int) -> None:
    """Give up a parked delivery: the subscriber never gets this event."""
    require_manager(principal)
    d, topic = _take(session, delivery_id)
    _audit(session, "outbox_discard", d, topic)
    table = outbox.OutboxDelivery.__table__
    session.execute(update(table).where(table.c.id == d.id).values(state=outbox.DISCARDED, finished_at=utcnow()))
    session.expire(d)
