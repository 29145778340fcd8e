"""The outbox delivers each (event, subscriber) on its own: exactly once, in order per aggregate, with
retries and parking, and with the subscriber's writes and its delivery mark in one transaction."""

from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from shiyu.core import audit, outbox, outbox_wake, outbox_worker
from shiyu.core.audit import AuditEntry
from shiyu.core.outbox import OutboxDelivery, OutboxEvent
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow

EFFECT = "outbox_test_effect"
REDIS_URL = os.environ.get("SHIYU_TEST_REDIS_URL")


class Flaky:
    """A test subscriber: writes one audit entry per event (its "effect"), after failing as told."""

    def __init__(self, name: str, prefix: str = "t.") -> None:
        self.name, self.prefix = name, prefix
        self.fail_for: set[int] = set()  # event ids that raise
        self.seen: list[int] = []

    def __call__(self, session, events) -> None:
        for event in events:
            audit.record(session, EFFECT, self.name, event.id)
            if event.id in self.fail_for:
                raise RuntimeError(f"{self.name} cannot take event {event.id}")
            self.seen.append(event.id)

    def install(self, monkeypatch) -> Flaky:
        monkeypatch.setitem(outbox._SUBSCRIBERS, self.name, outbox.Subscriber(self.name, self.prefix, self))
        return self


@pytest.fixture
def quick_retries(monkeypatch):
    monkeypatch.setitem(outbox._POLICY, "current", outbox.Policy(max_attempts=3, backoff_base_seconds=0.0,
                                                                  backoff_max_seconds=0.0))


def _emit(factory, *items: tuple[str, int]) -> list[int]:
    """Events ``(topic, aggregate id)`` in one transaction; returns their ids in order."""
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        outbox.emit_rows(s, [outbox.event_row(s, topic, "thing", agg, "/", {}) for topic, agg in items])
        s.commit()
        return list(s.scalars(select(OutboxEvent.id).order_by(OutboxEvent.id.desc()).limit(len(items))))[::-1]


def _effects(factory, name: str) -> dict[int, int]:
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        rows = s.execute(select(AuditEntry.object_id, func.count()).where(
            AuditEntry.action == EFFECT, AuditEntry.object_type == name).group_by(AuditEntry.object_id))
        return {int(i): n for i, n in rows}


def _deliveries(factory, name: str) -> dict[int, OutboxDelivery]:
    with factory() as s:
        return {d.event_id: d for d in s.scalars(select(OutboxDelivery).where(OutboxDelivery.subscriber == name))}


def test_each_subscriber_retries_on_its_own(factory, monkeypatch, quick_retries):
    Flaky("good").install(monkeypatch)
    bad = Flaky("bad").install(monkeypatch)
    other = Flaky("other", prefix="u.").install(monkeypatch)
    ids = _emit(factory, ("t.a", 1), ("t.b", 2))
    bad.fail_for = {ids[0]}
    assert outbox.deliver_batch(factory).delivered == 3
    assert _effects(factory, "good") == {ids[0]: 1, ids[1]: 1}
    assert _effects(factory, "bad") == {ids[1]: 1}  # the failing event's write was rolled back
    assert _effects(factory, "other") == {}  # a topic it did not subscribe to: no delivery row at all
    assert ids[0] not in _deliveries(factory, "other")
    failed = _deliveries(factory, "bad")[ids[0]]
    assert (failed.state, failed.attempts) == ("pending", 1)
    assert "cannot take event" in failed.last_error

    bad.fail_for = set()
    assert outbox.deliver_pending(factory) == 1
    assert _effects(factory, "good") == {ids[0]: 1, ids[1]: 1}  # not run again for the other's retry
    assert _effects(factory, "bad") == {ids[0]: 1, ids[1]: 1}
    assert {d.state for d in _deliveries(factory, "bad").values()} == {"done"}
    assert other.seen == []


def test_a_people_only_subscriber_gets_no_delivery_for_the_systems_events(factory, monkeypatch):
    """Auto-dispatch registers a case as the system: the subscriber learning from people's registrations
    would only skip it, so no delivery is made for it at all."""
    everyone = Flaky("everyone").install(monkeypatch)
    people = Flaky("people")
    monkeypatch.setitem(outbox._SUBSCRIBERS, "people", outbox.Subscriber("people", "t.", people, people_only=True))
    [system_event] = _emit(factory, ("t.a", 1))
    assert outbox.deliver_pending(factory) == 1
    assert everyone.seen == [system_event] and people.seen == []
    assert system_event not in _deliveries(factory, "people")
    assert {s.name for s in outbox.subscribers_for("t.a", actor_id=7)} >= {"everyone", "people"}
    assert "people" not in {s.name for s in outbox.subscribers_for("t.a")}


def test_backoff_grows_and_parks_after_the_last_attempt(factory, monkeypatch):
    monkeypatch.setitem(outbox._POLICY, "current", outbox.Policy(max_attempts=3, backoff_base_seconds=2.0,
                                                                  backoff_max_seconds=5.0))
    bad = Flaky("bad").install(monkeypatch)
    [event_id] = _emit(factory, ("t.a", 1))
    bad.fail_for = {event_id}
    waits = []
    for _ in range(3):
        before = utcnow()
        outbox.deliver_batch(factory)
        d = _deliveries(factory, "bad")[event_id]
        waits.append(round((d.available_at - before).total_seconds()))
        with factory() as s:  # the wait is over
            s.execute(update(OutboxDelivery).where(OutboxDelivery.id == d.id).values(available_at=utcnow()))
            s.commit()
    assert waits[:2] == [2, 4]
    d = _deliveries(factory, "bad")[event_id]
    assert (d.state, d.attempts) == ("parked", 3) and d.finished_at is not None
    assert outbox.deliver_pending(factory) == 0  # parked: nobody tries again by himself
    with factory() as s:
        assert outbox.parked_count(s) == 1


def test_events_of_one_aggregate_arrive_in_order(factory, monkeypatch, quick_retries):
    sub = Flaky("ordered").install(monkeypatch)
    ids = _emit(factory, ("t.a", 7), ("t.b", 7), ("t.c", 8), ("t.d", 7))
    sub.fail_for = {ids[0]}
    outbox.deliver_batch(factory)
    # The first event of aggregate 7 retries: the later ones of 7 wait, aggregate 8 goes on.
    assert sub.seen == [ids[2]]
    with factory() as s:
        s.execute(update(OutboxDelivery).values(available_at=utcnow() + timedelta(hours=1))
                  .where(OutboxDelivery.event_id == ids[0]))
        s.commit()
    assert outbox.deliver_pending(factory) == 0  # still waiting for the retry
    sub.fail_for = set()
    with factory() as s:
        s.execute(update(OutboxDelivery).values(available_at=utcnow()).where(OutboxDelivery.event_id == ids[0]))
        s.commit()
    outbox.deliver_pending(factory)
    assert sub.seen == [ids[2], ids[0], ids[1], ids[3]]


def test_a_parked_delivery_releases_the_order(factory, monkeypatch, quick_retries):
    sub = Flaky("ordered").install(monkeypatch)
    ids = _emit(factory, ("t.a", 7), ("t.b", 7))
    sub.fail_for = {ids[0]}
    outbox.deliver_pending(factory)
    assert _deliveries(factory, "ordered")[ids[0]].state == "parked"
    assert sub.seen == [ids[1]]


class Crash(BaseException):
    """The process dying: not an ``Exception``, so nothing on the way catches it."""


def test_a_crash_between_the_write_and_the_mark_has_no_double_effect(factory, monkeypatch):
    Flaky("once").install(monkeypatch)
    [event_id] = _emit(factory, ("t.a", 1))
    real_finish = outbox._finish

    def crash(session, outcome):
        assert outcome.done  # the subscriber has written its effect in this transaction
        raise Crash()

    monkeypatch.setattr(outbox, "_finish", crash)
    with pytest.raises(Crash):
        outbox.deliver_batch(factory)
    assert _effects(factory, "once") == {}
    monkeypatch.setattr(outbox, "_finish", real_finish)
    assert outbox.deliver_pending(factory) == 1
    assert _effects(factory, "once") == {event_id: 1}
    assert outbox.deliver_pending(factory) == 0


def test_two_workers_deliver_each_pair_exactly_once(factory, monkeypatch):
    Flaky("a").install(monkeypatch)
    Flaky("b").install(monkeypatch)
    ids = []
    for start in range(0, 300, 100):
        ids += _emit(factory, *[("t.x", n % 37) for n in range(start, start + 100)])
    go, errors = threading.Barrier(2), []

    def work() -> None:
        try:
            go.wait()
            outbox.deliver_pending(factory, batch=16)
        except Exception as exc:  # reported below: a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for name in ("a", "b"):
        assert _effects(factory, name) == dict.fromkeys(ids, 1)
        assert {d.state for d in _deliveries(factory, name).values()} == {"done"}


def test_the_delivery_loop_is_woken_by_a_commit(factory, settings, monkeypatch):
    """With a poll of a minute, only the wake-up (PostgreSQL NOTIFY) or a short poll (SQLite) delivers fast."""
    sub = Flaky("woken").install(monkeypatch)
    postgres = settings.database_url.startswith("postgresql")
    stop = outbox_worker.start(factory, settings.database_url, loops=1, batch=50,
                               poll_seconds=60.0 if postgres else 0.2)
    try:
        time.sleep(0.5)  # the loop has found nothing and waits; the listener listens
        [event_id] = _emit(factory, ("t.a", 1))
        deadline = time.monotonic() + 10
        while event_id not in sub.seen and time.monotonic() < deadline:
            time.sleep(0.05)
        assert event_id in sub.seen
    finally:
        stop.set()


def test_old_finished_events_are_dropped(factory, monkeypatch, quick_retries):
    sub = Flaky("old").install(monkeypatch)
    ids = _emit(factory, ("t.a", 1), ("t.b", 2), ("z.none", 3))
    sub.fail_for = {ids[1]}
    outbox.deliver_pending(factory)
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        assert outbox.drop_old(s, utcnow() + timedelta(seconds=1)) == 2  # the parked one's event stays
        s.commit()
        assert list(s.scalars(select(OutboxEvent.id).where(OutboxEvent.id.in_(ids)))) == [ids[1]]
        assert list(s.scalars(select(OutboxDelivery.event_id))) == [ids[1]]


def test_a_slow_subscriber_does_not_hold_back_the_others(factory, monkeypatch):
    """Each subscriber's deliveries commit in a transaction of their own: while one is still working on its
    batch, another's effects are already stored."""
    fast = Flaky("a.fast").install(monkeypatch)
    release, started = threading.Event(), threading.Event()

    def slow(session, events) -> None:
        started.set()
        assert release.wait(20)

    monkeypatch.setitem(outbox._SUBSCRIBERS, "z.slow", outbox.Subscriber("z.slow", "t.", slow))
    [event_id] = _emit(factory, ("t.a", 1))
    worker = threading.Thread(target=outbox.deliver_batch, args=(factory,))
    worker.start()
    try:
        assert started.wait(20)
        assert fast.seen == [event_id] and _effects(factory, "a.fast") == {event_id: 1}
    finally:
        release.set()
        worker.join()
    assert {d.state for d in _deliveries(factory, "z.slow").values()} == {"done"}


def test_a_batch_claims_for_the_subscribers_with_deliveries_waiting_only(factory, monkeypatch):
    """A claim costs a walk of the pending deliveries: a batch asks once which subscribers have any and claims
    for those, and looks for deliveries to unknown names only when it had nothing else to do."""
    Flaky("a.cases", "c.").install(monkeypatch)
    Flaky("b.tasks", "t.").install(monkeypatch)
    Flaky("c.idle", "x.").install(monkeypatch)
    claims: list[str | None] = []
    claim = outbox._claim
    monkeypatch.setattr(outbox, "_claim", lambda s, batch, name: claims.append(name) or claim(s, batch, name))
    _emit(factory, ("c.a", 1), ("t.a", 2))
    monkeypatch.setattr(outbox, "_SUBSCRIBERS", {n: outbox._SUBSCRIBERS[n] for n in ("a.cases", "b.tasks", "c.idle")})
    assert outbox.deliver_batch(factory).delivered == 2
    assert claims == ["a.cases", "b.tasks"]
    claims.clear()
    assert outbox.deliver_batch(factory).work == 0
    assert claims == [None]


def test_the_claim_probes_each_chain_instead_of_joining_the_pending_deliveries(factory):
    """PostgreSQL turned the claim's NOT EXISTS (an earlier pending delivery of the same chain) into an
    anti-join, and with statistics that thought the pending deliveries few it compared each with every
    other: 13 s a claim with 5,700 retries waiting. Planned as a subplan it is one index probe a row."""
    with factory() as s:
        if s.get_bind().dialect.name != "postgresql":
            pytest.skip("the plan is PostgreSQL's")
        statement = outbox._claim_statement(50, "a.cases").compile(s.get_bind())
        plan = "\n".join(s.connection().exec_driver_sql("EXPLAIN " + statement.string, statement.params).scalars())
    assert "Anti Join" not in plan and "SubPlan" in plan, plan


def test_by_default_a_failing_delivery_is_retried_for_half_an_hour_before_it_parks():
    """A department's system down for ten minutes must not leave deliveries for an administrator to
    redeliver by hand: the default retries span more than half an hour."""
    rules = outbox.Policy()
    waited = sum((rules.delay(attempt) for attempt in range(1, rules.max_attempts)), timedelta())
    assert waited >= timedelta(minutes=30)
    assert rules.delay(rules.max_attempts) <= timedelta(minutes=5)


def test_a_delivery_of_an_unknown_subscriber_fails_and_parks(factory, monkeypatch, quick_retries):
    Flaky("renamed").install(monkeypatch)
    [event_id] = _emit(factory, ("t.a", 1))
    outbox.deliver_batch(factory)  # fanned out and delivered to "renamed"
    with factory() as s:
        s.execute(update(OutboxDelivery).values(subscriber="gone", state="pending"))
        s.commit()
    outbox.deliver_pending(factory)
    d = _deliveries(factory, "gone")[event_id]
    assert d.state == "parked" and "no subscriber named 'gone'" in d.last_error


@pytest.mark.skipif(not REDIS_URL, reason="set SHIYU_TEST_REDIS_URL to test the Redis wake-up")
def test_on_sqlite_a_commit_wakes_the_delivery_loop_through_redis(factory, settings, monkeypatch):
    """SQLite has no NOTIFY: with Redis configured, the commit that wrote events publishes a wake-up, so a
    loop polling once a minute delivers within seconds; a rolled-back write wakes nobody."""
    if settings.database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL wakes its loops with NOTIFY (test_the_delivery_loop_is_woken_by_a_commit)")
    queue = f"test-{uuid.uuid4().hex[:12]}"
    engine = factory.kw["bind"]
    monkeypatch.setitem(outbox_wake._PUBLISHERS, engine, outbox_wake.Publisher(REDIS_URL, outbox_wake.channel(queue)))
    sub = Flaky("redis-woken").install(monkeypatch)
    stop = outbox_worker.start(factory, settings.database_url, loops=1, batch=50, poll_seconds=60.0,
                               redis_url=REDIS_URL, job_queue=queue)
    try:
        time.sleep(1.0)  # the listener's first wake-up has run the loop once; it waits now
        with factory() as s:  # rolled back: flag dropped, nothing published
            s.info["principal"] = Principal.system("test")
            outbox.emit(s, "t.a", "thing", 1, "/", {})
            assert s.info[outbox_wake.WROTE_EVENTS]
            s.rollback()
            assert outbox_wake.WROTE_EVENTS not in s.info
        [event_id] = _emit(factory, ("t.a", 1))
        deadline = time.monotonic() + 10
        while event_id not in sub.seen and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sub.seen == [event_id]
    finally:
        stop.set()
