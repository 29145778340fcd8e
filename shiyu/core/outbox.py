"""The transactional outbox: events written in the same transaction as the change they describe, delivered
after commit by a job.

Why: a notification or webhook sent from inside a transaction that later rolls back announces something
that never happened, and one sent after commit from the request is lost if the process dies in between.
Writing the event as a row next to the change makes both impossible; ``deliver_pending`` hands committed
rows to the subscribers and marks them delivered. Delivery is at-least-once: a subscriber that fails
leaves the row pending (with the error and a later retry time), so subscribers must be idempotent on the
event id.

Rows are written with a Core INSERT: they are bookkeeping of an already audited change, not a business
record of their own, so they bypass the audit listener.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, Index, String, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from shiyu.core.db import Base
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow

log = logging.getLogger("shiyu.outbox")
MAX_ATTEMPTS = 10

Subscriber = Callable[[Session, "OutboxEvent"], None]
_SUBSCRIBERS: list[tuple[str, Subscriber]] = []


class OutboxEvent(Base):
    __tablename__ = "outbox_event"
    __table_args__ = (Index("ix_outbox_event_pending", "delivered_at", "available_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(64), index=True)
    aggregate: Mapped[str] = mapped_column(String(32))
    aggregate_id: Mapped[int]
    area_path: Mapped[str] = mapped_column(String(160))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    available_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))


_INSERT = insert(OutboxEvent.__table__)  # built once: intake emits on every case


def event_row(
    session: Session, topic: str, aggregate: str, aggregate_id: int, area_path: str, payload: dict[str, Any],
) -> dict[str, Any]:
    """The row of an event by the session's principal, for ``emit_rows``."""
    principal: Principal | None = session.info.get("principal")
    now = utcnow()
    return {"topic": topic, "aggregate": aggregate, "aggregate_id": aggregate_id, "area_path": area_path,
            "actor_id": principal.user_id if principal else None, "payload": payload, "created_at": now,
            "available_at": now, "attempts": 0}


def emit_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Queue events in the caller's transaction (one statement for all); delivered only if it commits."""
    if rows:
        session.execute(_INSERT, rows)


def emit(
    session: Session, topic: str, aggregate: str, aggregate_id: int, area_path: str, payload: dict[str, Any],
) -> None:
    """Queue an event in the caller's transaction; it is delivered only if that transaction commits."""
    emit_rows(session, [event_row(session, topic, aggregate, aggregate_id, area_path, payload)])


def subscribe(topic_prefix: str) -> Callable[[Subscriber], Subscriber]:
    """Register a subscriber for every topic starting with ``topic_prefix`` (``""`` for all)."""

    def decorate(fn: Subscriber) -> Subscriber:
        _SUBSCRIBERS.append((topic_prefix, fn))
        return fn

    return decorate


def subscribers_for(topic: str) -> list[Subscriber]:
    return [fn for prefix, fn in _SUBSCRIBERS if topic.startswith(prefix)]


def deliver_pending(factory: sessionmaker[Session], *, batch: int = 200) -> int:
    """Deliver up to ``batch`` committed events, oldest first; returns how many were delivered.

    Each event is claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers share the
    backlog without delivering an event twice at once (SQLite has one writer anyway). A failing subscriber
    rolls back that event's delivery only, and the event is retried later with a growing delay."""
    delivered = 0
    with factory() as session:
        session.info["principal"] = Principal.system("outbox")
        now = utcnow()
        stmt = (
            select(OutboxEvent)
            .where(OutboxEvent.delivered_at.is_(None), OutboxEvent.available_at <= now,
                   OutboxEvent.attempts < MAX_ATTEMPTS)
            .order_by(OutboxEvent.id)
            .limit(batch)
        )
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        for event in session.scalars(stmt).all():
            table = OutboxEvent.__table__
            try:
                with session.begin_nested():
                    for fn in subscribers_for(event.topic):
                        fn(session, event)
                marks: dict[str, Any] = {"delivered_at": utcnow()}
                delivered += 1
            except Exception as exc:  # a subscriber's failure must not stop the others' events
                log.warning("outbox event %s (%s) failed: %s", event.id, event.topic, exc)
                attempts = event.attempts + 1
                marks = {"attempts": attempts, "last_error": str(exc)[:500],
                         "available_at": utcnow() + timedelta(seconds=30 * 2 ** min(attempts, 8))}
            # Core UPDATE: delivery bookkeeping is not an audited change (what subscribers write still is).
            session.execute(update(table).where(table.c.id == event.id).values(**marks))
        session.commit()
    return delivered
