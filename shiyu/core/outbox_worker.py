"""The delivery loops of ``shiyu worker``: drain the outbox until it is empty, then sleep until woken.

A loop runs ``outbox.deliver_batch`` back to back while there is work (each batch its own transaction), so a
backlog drains at the speed of the subscribers, not of a schedule. When a batch finds nothing it waits for a
wake-up: on PostgreSQL a listener thread ``LISTEN``s to the channel that every event-writing transaction
``NOTIFY``s at commit; on SQLite with Redis configured, a listener thread subscribes to the channel every
event-writing commit publishes on (``shiyu.core.outbox_wake``); otherwise the short poll interval is the
wake-up. The poll always runs, so a missed wake-up or a retry coming due costs at most one interval.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from shiyu.core import outbox, outbox_wake

log = logging.getLogger("shiyu.outbox")
PARKED_LOG_SECONDS = 60.0


class PostgresWaker:
    """Sets ``wake`` whenever a transaction that wrote events commits (PostgreSQL ``LISTEN``)."""

    def __init__(self, url: str, wake: threading.Event, stop: threading.Event) -> None:
        self.url = url.replace("postgresql+psycopg://", "postgresql://", 1)
        self.wake, self.stop = wake, stop
        self.thread = threading.Thread(target=self._listen, name="outbox-listen", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _listen(self) -> None:
        import psycopg

        while not self.stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {outbox.CHANNEL}")
                    self.wake.set()  # events written while we were not listening
                    while not self.stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self.wake.set()
            except psycopg.Error as exc:
                log.warning("outbox listener lost its connection (%s); polling until it is back", exc)
                self.stop.wait(5.0)


def delivery_loop(factory: sessionmaker[Session], stop: threading.Event, wake: threading.Event, *, batch: int,
                  poll_seconds: float, report_parked: bool = False,
                  clock: Callable[[], float] = time.monotonic) -> None:
    """Deliver until ``stop`` is set. ``report_parked``: this loop logs the parked count once a minute."""
    last_report = clock() - PARKED_LOG_SECONDS
    while not stop.is_set():
        wake.clear()  # a wake-up arriving during the batch is kept for the wait below
        try:
            work = outbox.deliver_batch(factory, batch=batch).work
        except Exception:  # a lost connection or a bug must not end the worker's deliveries
            log.exception("outbox delivery batch failed")
            work = 0
        if report_parked and clock() - last_report >= PARKED_LOG_SECONDS:
            last_report = clock()
            _log_parked(factory)
        if not work:
            wake.wait(poll_seconds)


def _log_parked(factory: sessionmaker[Session]) -> None:
    try:
        with factory() as session:
            count = outbox.parked_count(session)
    except Exception:
        log.exception("outbox parked count failed")
        return
    if count:
        log.warning("outbox: %d parked deliveries wait for an administrator (/admin/outbox)", count)


def start(factory: sessionmaker[Session], database_url: str, *, loops: int, batch: int,
          poll_seconds: float, redis_url: str | None = None, job_queue: str = "shiyu") -> threading.Event:
    """Start ``loops`` delivery threads (and the PostgreSQL or Redis listener); returns the event that stops
    them."""
    stop, wake = threading.Event(), threading.Event()
    if database_url.startswith("postgresql"):
        PostgresWaker(database_url, wake, stop).start()
    elif redis_url:
        outbox_wake.RedisWaker(redis_url, outbox_wake.channel(job_queue), wake, stop).start()
    for i in range(loops):
        threading.Thread(target=delivery_loop, args=(factory, stop, wake),
                         kwargs={"batch": batch, "poll_seconds": poll_seconds, "report_parked": i == 0},
                         name=f"outbox-{i}", daemon=True).start()
    return stop
