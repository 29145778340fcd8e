"""The transactional outbox: events written in the same transaction as the change they describe, delivered
after commit to every subscriber on its own (docs/adr/0006-outbox-delivery.md).

Why: a notification or webhook sent from inside a transaction that later rolls back announces something
that never happened, and one sent after commit from the request is lost if the process dies in between.
Writing the event as a row next to the change makes both impossible.

Delivery is bookkept per (event, subscriber) in ``outbox_delivery``: a delivery loop first *fans out* new
events (one delivery row per subscriber whose topic prefix matches), then claims due deliveries in bounded
batches. Each batch is one transaction holding the subscribers' writes *and* the marks of their deliveries,
so a crash between the two leaves neither and the redelivery has no double effect. A failing subscriber
retries with exponential backoff on its own rows only, and is parked after ``max_attempts`` for an
administrator (``/admin/outbox``). Per aggregate (a case) a subscriber gets events in order: a delivery waits
while an earlier one of the same aggregate for the same subscriber is pending or retrying (a parked one no
longer holds the chain: the administrator decides about it). Subscribers are registered under stable names,
which the delivery rows keep.

Event rows are written with a Core INSERT: they are bookkeeping of an already audited change, not a business
record of their own, so they bypass the audit listener. On PostgreSQL the writing transaction also sends a
``NOTIFY`` (delivered at commit, once per transaction), which wakes the workers' delivery loops at once;
elsewhere, with Redis configured, a message published after the commit does (``shiyu.core.outbox_wake``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    Select,
    String,
    UniqueConstraint,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column, sessionmaker

from shiyu.core import outbox_wake
from shiyu.core.db import Base, among, rowcount
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow

log = logging.getLogger("shiyu.outbox")
CHANNEL = "shiyu_outbox"
PENDING, DONE, PARKED, DISCARDED = "pending", "done", "parked", "discarded"
FAN_OUT_LOCK = 0x5359_0B0C  # PostgreSQL advisory lock: one fan-out at a time keeps per-aggregate order


class OutboxEvent(Base):
    __tablename__ = "outbox_event"
    __table_args__ = (Index("ix_outbox_event_new", "id", postgresql_where=text("fanned_out_at IS NULL"),
                            sqlite_where=text("fanned_out_at IS NULL")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(64), index=True)
    aggregate: Mapped[str] = mapped_column(String(32))
    aggregate_id: Mapped[int]
    area_path: Mapped[str] = mapped_column(String(160))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    fanned_out_at: Mapped[datetime | None]


class OutboxDelivery(Base):
    """One event for one subscriber: pending (maybe retrying later), done, parked or discarded."""

    __tablename__ = "outbox_delivery"
    __table_args__ = (
        UniqueConstraint("event_id", "subscriber"),
        Index("ix_outbox_delivery_due", "event_id", postgresql_where=text("state = 'pending'"),
              sqlite_where=text("state = 'pending'")),
        Index("ix_outbox_delivery_chain", "subscriber", "aggregate", "aggregate_id", "event_id",
              postgresql_where=text("state = 'pending'"), sqlite_where=text("state = 'pending'")),
        Index("ix_outbox_delivery_parked", "event_id", postgresql_where=text("state = 'parked'"),
              sqlite_where=text("state = 'parked'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_event.id", ondelete="CASCADE"))
    subscriber: Mapped[str] = mapped_column(String(64))
    aggregate: Mapped[str] = mapped_column(String(32))
    aggregate_id: Mapped[int]
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    available_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]  # delivered, parked or discarded


@dataclass(frozen=True)
class Policy:
    """How a failing delivery retries. The defaults wait out about 40 minutes of failure (1 s, 2 s … 256 s,
    then every 5 minutes: sixteen attempts) before parking it for an administrator; with ten attempts a
    subscriber down for ten minutes parked the deliveries of its first minutes (bench/pipeline.py phase c)."""

    max_attempts: int = 16
    backoff_base_seconds: float = 1.0
    backoff_max_seconds: float = 300.0

    def delay(self, attempts: int) -> timedelta:
        """1 s, 2 s, 4 s … after the first, second, third failure, capped."""
        return timedelta(seconds=min(self.backoff_max_seconds, self.backoff_base_seconds * 2 ** (attempts - 1)))


_POLICY: dict[str, Policy] = {"current": Policy()}


def configure(settings: Any) -> None:
    """Take the retry policy from the settings (the worker and ``create_app`` call this)."""
    _POLICY["current"] = Policy(settings.outbox_max_attempts, backoff_max_seconds=settings.outbox_backoff_max_seconds)


def policy() -> Policy:
    return _POLICY["current"]


# -- writing events ---------------------------------------------------------------------------------------

_INSERT = insert(OutboxEvent.__table__)  # built once: intake emits on every case
_NOTIFY = text(f"NOTIFY {CHANNEL}")


def event_row(
    session: Session, topic: str, aggregate: str, aggregate_id: int, area_path: str, payload: dict[str, Any],
) -> dict[str, Any]:
    """The row of an event by the session's principal, for ``emit_rows``."""
    principal: Principal | None = session.info.get("principal")
    return {"topic": topic, "aggregate": aggregate, "aggregate_id": aggregate_id, "area_path": area_path,
            "actor_id": principal.user_id if principal else None, "payload": payload, "created_at": utcnow(),
            "fanned_out_at": None}


def emit_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Queue events in the caller's transaction (one statement for all); delivered only if it commits."""
    if rows:
        # On the session's connection, not through ``session.execute``: that would flush the session first,
        # and an event row needs nothing flushed (a batch of merges flushed once per merge for it).
        connection = session.connection()
        connection.execute(_INSERT, rows)
        if connection.dialect.name == "postgresql":
            connection.execute(_NOTIFY)
        else:
            session.info[outbox_wake.WROTE_EVENTS] = True


def emit(
    session: Session, topic: str, aggregate: str, aggregate_id: int, area_path: str, payload: dict[str, Any],
) -> None:
    """Queue an event in the caller's transaction; it is delivered only if that transaction commits."""
    emit_rows(session, [event_row(session, topic, aggregate, aggregate_id, area_path, payload)])


# -- subscribers ------------------------------------------------------------------------------------------

BatchHandler = Callable[[Session, list[OutboxEvent]], None]


@dataclass(frozen=True)
class Subscriber:
    """``handle`` gets the events of one batch in order (at most one per aggregate); it must write through
    the session it is given, so that its writes commit with the marks of its deliveries. ``people_only``:
    only events a person caused (with an actor) are delivered to it; the system's own are not even fanned
    out to it."""

    name: str
    topic_prefix: str
    handle: BatchHandler
    people_only: bool = False


_SUBSCRIBERS: dict[str, Subscriber] = {}


def _register(name: str, topic_prefix: str, handle: BatchHandler, people_only: bool = False) -> None:
    if name in _SUBSCRIBERS and _SUBSCRIBERS[name].handle.__qualname__ != handle.__qualname__:
        raise ValueError(f"outbox subscriber name {name!r} is taken")
    _SUBSCRIBERS[name] = Subscriber(name, topic_prefix, handle, people_only)


def subscribe(topic_prefix: str, *, name: str, people_only: bool = False
              ) -> Callable[[Callable[[Session, OutboxEvent], None]], Any]:
    """Register ``fn(session, event)`` under ``name`` for every topic starting with ``topic_prefix``
    (``""`` for all; ``people_only``: see ``Subscriber``). The name is stored with each delivery: renaming a
    subscriber orphans its backlog."""

    def decorate(fn: Callable[[Session, OutboxEvent], None]) -> Callable[[Session, OutboxEvent], None]:
        def each(session: Session, events: list[OutboxEvent]) -> None:
            for event in events:
                fn(session, event)

        each.__qualname__ = fn.__qualname__
        _register(name, topic_prefix, each, people_only)
        return fn

    return decorate


def subscribe_batch(topic_prefix: str, *, name: str) -> Callable[[BatchHandler], BatchHandler]:
    """Like ``subscribe`` for a handler taking a whole batch of events at once (one query for all)."""

    def decorate(fn: BatchHandler) -> BatchHandler:
        _register(name, topic_prefix, fn)
        return fn

    return decorate


def subscribers_for(topic: str, actor_id: int | None = None) -> list[Subscriber]:
    """The subscribers an event of ``topic`` by ``actor_id`` (None: the system) is delivered to."""
    return [s for s in _SUBSCRIBERS.values()
            if topic.startswith(s.topic_prefix) and (actor_id is not None or not s.people_only)]


# -- delivering -------------------------------------------------------------------------------------------


def _take_write_lock(session: Session) -> None:
    """SQLite: take the database's write lock before reading what to claim, so two workers never claim the
    same rows (PostgreSQL claims with ``FOR UPDATE SKIP LOCKED`` instead). A write matching no row is enough."""
    table = OutboxDelivery.__table__
    session.execute(update(table).where(table.c.id == -1).values(attempts=table.c.attempts))


def _fan_out(session: Session, limit: int) -> int:
    """Make the delivery rows of up to ``limit`` new events, oldest first. One worker at a time (an advisory
    lock; the others skip this step), so an aggregate's deliveries appear in the order of its events."""
    if session.get_bind().dialect.name == "postgresql" and not session.scalar(
            select(func.pg_try_advisory_xact_lock(FAN_OUT_LOCK))):
        return 0
    event = OutboxEvent.__table__
    new = session.execute(select(event.c.id, event.c.topic, event.c.aggregate, event.c.aggregate_id, event.c.actor_id)
                          .where(event.c.fanned_out_at.is_(None)).order_by(event.c.id).limit(limit)).all()
    if not new:
        return 0
    now = utcnow()
    rows = [{"event_id": e.id, "subscriber": s.name, "aggregate": e.aggregate, "aggregate_id": e.aggregate_id,
             "state": PENDING, "attempts": 0, "available_at": now, "created_at": now}
            for e in new for s in subscribers_for(e.topic, e.actor_id)]
    if rows:
        session.execute(insert(OutboxDelivery.__table__), rows)
    session.execute(update(event).where(among(session, event.c.id, [e.id for e in new])).values(fanned_out_at=now))
    return len(new)


def _waiting(session: Session) -> list[str]:
    """This worker's subscribers that have a pending delivery, in one statement of index probes (the chain
    index leads with the subscriber). A claim of a subscriber with nothing to do is not free: it walks the
    pending deliveries in event order looking for its own, and most batches have work for two or three of
    the subscribers only."""
    d = OutboxDelivery.__table__
    probes = [select(literal(name)).where(exists().where(d.c.subscriber == name, d.c.state == PENDING))
              for name in sorted(_SUBSCRIBERS)]
    return sorted(session.scalars(union_all(*probes))) if probes else []


def _claim(session: Session, batch: int, subscriber: str | None) -> list[OutboxDelivery]:
    """Due deliveries of ``subscriber`` (None: of any name no subscriber of this worker has) that head their
    (subscriber, aggregate) chain, oldest event first."""
    stmt = _claim_statement(batch, subscriber)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=OutboxDelivery)
    return list(session.scalars(stmt))


def _claim_statement(batch: int, subscriber: str | None) -> Select[OutboxDelivery]:
    d, earlier = OutboxDelivery, aliased(OutboxDelivery)
    # OFFSET 0 keeps PostgreSQL from turning the NOT EXISTS into an anti-join: with statistics that think the
    # pending deliveries few (autovacuum behind a burst, or off), it chose one that compared every pending
    # delivery of the subscriber with every other — 13 s a claim with 5,700 retries waiting (phase c of
    # bench/pipeline.py). As a subplan it is one probe of the chain index per row, whatever the statistics.
    waiting = (select(literal(1)).where(earlier.subscriber == d.subscriber, earlier.aggregate == d.aggregate,
                                        earlier.aggregate_id == d.aggregate_id, earlier.event_id < d.event_id,
                                        earlier.state == PENDING)
               .offset(0).exists())
    whose = d.subscriber == subscriber if subscriber is not None else d.subscriber.not_in(list(_SUBSCRIBERS))
    return (select(d).where(d.state == PENDING, d.available_at <= utcnow(), whose, ~waiting)
            .order_by(d.event_id).limit(batch))


@dataclass
class Outcome:
    done: list[int]
    failed: list[tuple[OutboxDelivery, str]]


def _run(session: Session, claimed: list[OutboxDelivery]) -> Outcome:
    """Hand each subscriber its events, each subscriber in a savepoint; when a batch fails, its events go one
    by one so that only the failing ones retry."""
    events = {e.id: e for e in session.scalars(select(OutboxEvent).where(
        among(session, OutboxEvent.id, {d.event_id for d in claimed})))}
    outcome = Outcome([], [])
    by_subscriber = sorted(claimed, key=lambda d: (d.subscriber, d.event_id))
    for name, group in groupby(by_subscriber, key=lambda d: d.subscriber):
        deliveries = list(group)
        subscriber = _SUBSCRIBERS.get(name)
        if subscriber is None:
            outcome.failed += [(d, f"no subscriber named {name!r} in this worker") for d in deliveries]
            continue
        try:
            with session.begin_nested():
                subscriber.handle(session, [events[d.event_id] for d in deliveries])
            outcome.done += [d.id for d in deliveries]
            continue
        except Exception as exc:  # one failing subscriber must not stop the others
            if len(deliveries) == 1:
                outcome.failed.append((deliveries[0], _describe(exc)))
                continue
        for d in deliveries:
            try:
                with session.begin_nested():
                    subscriber.handle(session, [events[d.event_id]])
                outcome.done.append(d.id)
            except Exception as exc:
                outcome.failed.append((d, _describe(exc)))
    return outcome


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _finish(session: Session, outcome: Outcome) -> None:
    """Mark the deliveries in the subscribers' transaction. Core UPDATEs: delivery bookkeeping is not an
    audited change (what subscribers write still is)."""
    table, now, rules = OutboxDelivery.__table__, utcnow(), policy()
    if outcome.done:
        session.execute(update(table).where(among(session, table.c.id, outcome.done))
                        .values(state=DONE, attempts=table.c.attempts + 1, last_attempt_at=now, finished_at=now))
    for d, error in outcome.failed:
        attempts = d.attempts + 1
        parked = attempts >= rules.max_attempts
        log.warning("outbox delivery %s (event %s to %s) failed, attempt %d%s: %s", d.id, d.event_id, d.subscriber,
                    attempts, ", parked" if parked else "", error)
        session.execute(update(table).where(table.c.id == d.id).values(
            attempts=attempts, last_error=error, last_attempt_at=now, available_at=now + rules.delay(attempts),
            state=PARKED if parked else PENDING, finished_at=now if parked else None))


@dataclass
class BatchResult:
    fanned_out: int = 0
    delivered: int = 0
    failed: int = 0

    @property
    def work(self) -> int:
        return self.fanned_out + self.delivered + self.failed


def _session(factory: sessionmaker[Session]) -> Session:
    session = factory()
    session.info["principal"] = Principal.system("outbox")
    if session.get_bind().dialect.name == "sqlite":
        _take_write_lock(session)
    return session


def deliver_batch(factory: sessionmaker[Session], *, batch: int = 50) -> BatchResult:
    """Fan out up to ``batch`` new events (a short transaction of its own, so the fan-out lock is never held
    while subscribers work), then, for each subscriber with deliveries waiting, in a transaction of its own,
    run up to ``batch`` of its due deliveries and mark them: a slow subscriber's batch does not hold back the
    others' commits. Deliveries to a name no subscriber of this worker has (one renamed or removed) are
    claimed, to fail and in the end park, only by a batch that had nothing else to do: looking for them
    walks every pending delivery."""
    with _session(factory) as session:
        result = BatchResult(fanned_out=_fan_out(session, batch))
        waiting = _waiting(session)
        session.commit()
    for subscriber in waiting:
        _deliver(factory, batch, subscriber, result)
    if not result.work:
        _deliver(factory, batch, None, result)
    return result


def _deliver(factory: sessionmaker[Session], batch: int, subscriber: str | None, result: BatchResult) -> None:
    with _session(factory) as session:
        claimed = _claim(session, batch, subscriber)
        if claimed:
            outcome = _run(session, claimed)
            _finish(session, outcome)
            result.delivered += len(outcome.done)
            result.failed += len(outcome.failed)
        session.commit()


def deliver_pending(factory: sessionmaker[Session], *, batch: int = 50) -> int:
    """Deliver until nothing is due (tests, the CLI); returns how many deliveries succeeded."""
    delivered = 0
    while (result := deliver_batch(factory, batch=batch)).work:
        delivered += result.delivered
    return delivered


# -- parked deliveries (the administrator's page and API) -------------------------------------------------


def parked_count(session: Session) -> int:
    """How many deliveries wait for an administrator (``/readyz`` and the worker's log show it)."""
    return session.scalar(select(func.count()).select_from(OutboxDelivery).where(OutboxDelivery.state == PARKED)) or 0


def drop_old(session: Session, before: datetime) -> int:
    """Forget events older than ``before`` whose every delivery is finished (done, parked rows keep theirs)."""
    d = OutboxDelivery
    unfinished = exists().where(d.event_id == OutboxEvent.id, d.state.in_([PENDING, PARKED]))
    ids = select(OutboxEvent.id).where(OutboxEvent.created_at < before, OutboxEvent.fanned_out_at.is_not(None),
                                       ~unfinished)
    return rowcount(session.execute(delete(OutboxEvent.__table__).where(OutboxEvent.__table__.c.id.in_(ids))))
