"""Waking the outbox's delivery loops through Redis when the database cannot (SQLite with ``SHIYU_REDIS_URL``).

Why: on PostgreSQL every event-writing transaction sends a ``NOTIFY`` that the workers ``LISTEN`` to; SQLite
has nothing of the kind, so a worker would find new events only at its next poll. With Redis configured, a
session that wrote events publishes one message on ``<job queue>:outbox`` after it commits (never before: a
worker woken before the commit would find nothing), and each worker's listener thread wakes its loops.

A publisher is attached to an engine (``attach``, by the app and the worker), like the live-update broker,
so the session's bind finds it after commit. Losing a message (Redis down) only costs the poll interval:
publishing failures are logged, and the listener reconnects.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

log = logging.getLogger("shiyu.outbox")
WROTE_EVENTS = "_outbox_wrote_events"  # set on the session by ``outbox.emit_rows``


def channel(job_queue: str) -> str:
    """The channel of a deployment (named after its job queue, so deployments sharing a Redis stay apart)."""
    return f"{job_queue}:outbox"


class Publisher:
    def __init__(self, url: str, name: str) -> None:
        import redis

        self.channel = name
        self._redis = redis.Redis.from_url(url, socket_timeout=2.0)

    def publish(self) -> None:
        try:
            self._redis.publish(self.channel, b"1")
        except Exception as exc:  # the events are committed; the poll delivers them a little later
            log.warning("outbox: the Redis wake-up was not sent (%s); the workers' poll finds the events", exc)


_PUBLISHERS: weakref.WeakKeyDictionary[Engine, Publisher] = weakref.WeakKeyDictionary()


def attach(engine: Engine, settings: Any) -> None:
    """Sessions bound to ``engine`` wake the workers through Redis after committing events — only where it is
    needed: Redis is configured and the database is not PostgreSQL (which has ``NOTIFY``)."""
    if settings.redis_url and engine.dialect.name != "postgresql":
        _PUBLISHERS[engine] = Publisher(settings.redis_url, channel(settings.job_queue))


@event.listens_for(Session, "after_commit")
def _publish(session: Session) -> None:
    if not session.info.pop(WROTE_EVENTS, False):
        return
    bind = session.bind
    engine = bind.engine if bind is not None else None  # a Connection's engine, or the Engine itself
    publisher = _PUBLISHERS.get(engine) if engine is not None else None
    if publisher is not None:
        publisher.publish()


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(WROTE_EVENTS, None)


class RedisWaker:
    """Sets ``wake`` whenever a message arrives on the deployment's channel (the worker side)."""

    def __init__(self, url: str, name: str, wake: threading.Event, stop: threading.Event) -> None:
        self.url, self.channel, self.wake, self.stop = url, name, wake, stop
        self.thread = threading.Thread(target=self._listen, name="outbox-redis", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _listen(self) -> None:
        import redis

        while not self.stop.is_set():
            try:
                client = redis.Redis.from_url(self.url, socket_timeout=5.0)
                with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    pubsub.subscribe(self.channel)
                    self.wake.set()  # events written while we were not listening
                    while not self.stop.is_set():
                        if pubsub.get_message(timeout=1.0) is not None:
                            self.wake.set()
            except redis.RedisError as exc:
                log.warning("outbox: the Redis wake-up listener lost its connection (%s); polling until it is back",
                            exc)
                self.stop.wait(5.0)
