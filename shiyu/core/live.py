"""Live updates: committed changes, announced to the pages that watch them (the command view).

Why here and how: a page that shows cases on a map should move a marker the moment a case changes, in every
app process, and never announce a change that rolled back. So announcements are collected on the session
while it flushes (``watch`` names the model classes and the facts a subscriber needs to decide whether it
may hear about a row: its ``area_path`` and a few ids) and published only from the session's
``after_commit``; a rollback drops them. Whoever writes a watched model announces it without doing
anything: the case intake, the workflow engine and the deadline scan all flush ``Case`` rows.

A broker carries the announcements. ``LocalBroker`` fans out inside one process (the embedded default: one
app process, no Redis); ``RedisBroker`` publishes on a Redis channel and every app process listening on it
fans out to its own subscribers, so a change committed by any process — or by a worker — reaches every
connected page. A broker is attached to an engine (``attach``): the session's bind finds it after commit.

Announcements carry ids and scope facts, never content: subscribers re-read what they show through their
own scoped session, and must filter announcements by scope before passing anything on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

log = logging.getLogger("shiyu.live")
PENDING = "_live_pending"
QUEUE_SIZE = 1000


@dataclass(frozen=True)
class Change:
    """One committed change of a watched row: what it is, where it belongs, and scope facts (``facts``)."""

    topic: str
    id: int
    area_path: str
    facts: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"topic": self.topic, "id": self.id, "area_path": self.area_path, "facts": self.facts}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Change:
        return cls(str(data["topic"]), int(data["id"]), str(data["area_path"]), dict(data.get("facts") or {}))


class Subscription:
    """One listener (an open page): a bounded queue on the event loop it was made on. A listener that does
    not keep up loses announcements rather than growing without bound; it re-reads on reconnect anyway."""

    def __init__(self, broker: LocalBroker, loop: asyncio.AbstractEventLoop) -> None:
        self._broker = broker
        self._loop = loop
        self._queue: asyncio.Queue[Change] = asyncio.Queue(QUEUE_SIZE)
        self.dropped = 0

    def offer(self, change: Change) -> None:
        """Thread-safe: publishers run in worker threads, the Redis listener in its own thread."""
        self._loop.call_soon_threadsafe(self._put, change)

    def _put(self, change: Change) -> None:
        try:
            self._queue.put_nowait(change)
        except asyncio.QueueFull:
            self.dropped += 1

    async def get(self, timeout: float) -> Change | None:
        """The next change, or None when ``timeout`` seconds pass without one."""
        try:
            return await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None

    def close(self) -> None:
        self._broker.remove(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalBroker:
    """In-process fan-out: every subscription of this process hears every publication of this process."""

    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()
        self._lock = threading.Lock()

    def subscribe(self) -> Subscription:
        """Call from the event loop that will read the subscription."""
        sub = Subscription(self, asyncio.get_running_loop())
        with self._lock:
            self._subscriptions.add(sub)
        return sub

    def remove(self, sub: Subscription) -> None:
        with self._lock:
            self._subscriptions.discard(sub)

    def publish(self, changes: list[Change]) -> None:
        self._fan_out(changes)

    def _fan_out(self, changes: list[Change]) -> None:
        with self._lock:
            subs = list(self._subscriptions)
        for sub in subs:
            for change in changes:
                try:
                    sub.offer(change)
                except RuntimeError:  # its event loop has closed: the page is gone
                    self.remove(sub)

    def close(self) -> None:
        with self._lock:
            self._subscriptions.clear()


class RedisBroker(LocalBroker):
    """Publishes on a Redis channel; one listener thread per process (started with the first subscription)
    fans out what any process published. A Redis outage costs announcements, never a request: publishing
    happens after commit and its failure is only logged; the listener reconnects."""

    def __init__(self, url: str, channel: str) -> None:
        import redis

        super().__init__()
        self.channel = channel
        self._redis = redis.Redis.from_url(url)
        self._listener: threading.Thread | None = None
        self._closed = threading.Event()
        self._start_lock = threading.Lock()

    def publish(self, changes: list[Change]) -> None:
        try:
            self._redis.publish(self.channel, json.dumps([c.as_dict() for c in changes]))
        except Exception as exc:  # the change is committed; a lost announcement only delays a page
            log.warning("live: publishing %d change(s) failed: %s", len(changes), exc)

    def subscribe(self) -> Subscription:
        sub = super().subscribe()
        with self._start_lock:
            if self._listener is None:
                pubsub = self._listening()  # subscribed before returning: nothing published after is missed
                self._listener = threading.Thread(target=self._listen, args=(pubsub,), name="shiyu-live",
                                                  daemon=True)
                self._listener.start()
        return sub

    def _listening(self) -> Any:
        pubsub = self._redis.pubsub()
        pubsub.subscribe(self.channel)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=0.5)
            if message and message["type"] == "subscribe":
                return pubsub
        raise TimeoutError(f"Redis did not confirm the subscription to {self.channel}")

    def _listen(self, pubsub: Any) -> None:
        while not self._closed.is_set():
            try:
                message = pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            except Exception as exc:
                log.warning("live: Redis listener lost its connection (%s); reconnecting", exc)
                pubsub = self._reconnect(pubsub)
                continue
            if message and message["type"] == "message":
                try:
                    changes = [Change.from_dict(d) for d in json.loads(message["data"])]
                except (ValueError, KeyError, TypeError) as exc:
                    log.warning("live: ignored a malformed message: %s", exc)
                    continue
                self._fan_out(changes)
        pubsub.close()

    def _reconnect(self, pubsub: Any) -> Any:
        pubsub.close()
        while not self._closed.is_set():
            try:
                return self._listening()
            except Exception:
                self._closed.wait(1.0)
        return pubsub

    def close(self) -> None:
        self._closed.set()
        if self._listener is not None:
            self._listener.join(timeout=5)
        super().close()
        self._redis.close()



_PROCESS_BROKER = LocalBroker()


def make_broker(redis_url: str | None, job_queue: str) -> LocalBroker:
    """Redis pub/sub when Redis is configured (several processes); otherwise the process's one in-process
    broker, shared by every engine of the process so that jobs run in-process reach its pages too. The
    channel is named after the deployment's job queue, so deployments sharing one Redis stay apart."""
    return RedisBroker(redis_url, f"{job_queue}:live") if redis_url else _PROCESS_BROKER


_BROKERS: weakref.WeakKeyDictionary[Engine, LocalBroker] = weakref.WeakKeyDictionary()


def attach(engine: Engine, broker: LocalBroker) -> LocalBroker:
    """Sessions bound to ``engine`` publish their committed changes to ``broker``."""
    _BROKERS[engine] = broker
    return broker


def broker_for(engine: Engine) -> LocalBroker | None:
    return _BROKERS.get(engine)


# -- collecting on the session, publishing after commit ----------------------------------------------------

Facts = Callable[[Any], dict[str, Any]]
_WATCHED: dict[type, tuple[str, Facts]] = {}


def watch(cls: type, topic: str, facts: Facts) -> None:
    """Announce every committed insert or update of ``cls`` rows (which carry ``id`` and ``area_path``)
    under ``topic``, with ``facts(row)`` for the subscribers' scope checks."""
    _WATCHED[cls] = (topic, facts)


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _ctx: Any) -> None:
    if not _WATCHED:
        return
    for obj in chain(session.new, session.dirty):
        spec = _WATCHED.get(type(obj))
        if spec is None:
            continue
        if obj in session.dirty and not session.is_modified(obj, include_collections=False):
            continue
        _note(session, obj, spec)


def _note(session: Session, obj: Any, spec: tuple[str, Facts]) -> None:
    topic, facts = spec
    pending: dict[tuple[str, int], Change] = session.info.setdefault(PENDING, {})
    pending[(topic, obj.id)] = Change(topic, obj.id, obj.area_path, facts(obj))


def announce(session: Session, obj: Any) -> None:
    """Announce a watched row written below the ORM (``obj`` carries its values, ``id`` included), after
    the session commits, as ``_collect`` does for ORM writes."""
    _note(session, obj, _WATCHED[type(obj)])


@event.listens_for(Session, "after_commit")
def _publish(session: Session) -> None:
    pending: dict[tuple[str, int], Change] | None = session.info.pop(PENDING, None)
    if not pending:
        return
    bind = session.bind
    broker = broker_for(bind.engine) if bind is not None else None
    if broker is not None:
        broker.publish(list(pending.values()))


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(PENDING, None)
