"""Group commit for intake: reports arriving together are written in one transaction.

Why: at a hotline's or a sensor network's peak, most of a report's cost was not the report but its
transaction — taking a connection, one round trip per row, the commit — paid again for every case, and
request threads fighting for the interpreter while they waited. Here a writer thread (two per process) takes
every report queued while it was busy, checks each (``intake.prepare``), writes them all with one
statement per table (``intake.write``) and commits once; each request waits for its own answer, which is
given only after the commit. When the process is idle a report is written at once, alone: batching adds
no delay, it only forms under load.

One report's problem never costs the others: a report refused by its checks (outside the city, no
grants, reused key) is answered with its error and left out of the batch; if the batch's transaction
fails anyway (the database refused a row), every report of it is retried alone. A grid worker's
self-resolution runs the workflow engine, which can refuse it after the case is written, so such a report
is always written alone.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from shiyu.cases.intake import service as intake
from shiyu.cases.schemas import IntakeIn
from shiyu.core.errors import ShiyuError
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow

log = logging.getLogger("shiyu.intake")
MAX_BATCH = 64
IDLE_SECONDS = 60.0  # an idle writer's thread ends; the next report starts a new one
WRITER_THREADS = 2

Caller = Callable[[Session], Principal]


@dataclass
class Report:
    """One request's report: who sends it (resolved in the writer's session) and where its answer goes."""

    caller: Caller
    client_ip: str | None
    data: IntakeIn
    # Reports sent with the same bearer token or API key in one batch share one lookup of their caller.
    credentials: str | None = None
    received_at: datetime = field(default_factory=utcnow)
    answer: Future[dict[str, Any]] = field(default_factory=Future)


class IntakeWriter:
    """``threads`` writer threads share the queue: while one waits for its commit to reach the disk, another
    takes the reports that arrived meanwhile, so one slow commit does not hold up the whole process."""

    def __init__(self, factory: sessionmaker[Session], tz: ZoneInfo, max_batch: int = MAX_BATCH,
                 threads: int = WRITER_THREADS) -> None:
        self.factory, self.tz, self.max_batch, self.threads = factory, tz, max_batch, threads
        self._queue: queue.Queue[Report | None] = queue.Queue()
        self._running: set[threading.Thread] = set()
        self._lock = threading.Lock()

    def submit(self, caller: Caller, client_ip: str | None, data: IntakeIn,
               credentials: str | None = None) -> Future[dict[str, Any]]:
        """Queue a report; the future gives ``intake.outcome`` of its case once committed, or its error."""
        report = Report(caller, client_ip, data, credentials)
        with self._lock:  # a thread about to end for idleness checks the queue under the same lock
            self._queue.put(report)
            if len(self._running) < self.threads:
                thread = threading.Thread(target=self._run, name="shiyu-intake", daemon=True)
                self._running.add(thread)
                thread.start()
        return report.answer

    def close(self) -> None:
        """Write what is queued, then stop the threads."""
        with self._lock:
            running = list(self._running)
            self._running.clear()
            for _ in running:
                self._queue.put(None)
        for thread in running:
            thread.join(timeout=30)

    def _next(self) -> Report | None:
        """The next report; None to stop (closed, or idle for ``IDLE_SECONDS``)."""
        while True:
            try:
                return self._queue.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._running.discard(threading.current_thread())
                        return None

    def _run(self) -> None:
        while True:
            first = self._next()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(more)
            alone = [r for r in batch if r.data.self_resolved]
            together = [r for r in batch if not r.data.self_resolved]
            if together:
                self.write_batch(together)
            for report in alone:
                self._write_alone(report)

    def write_batch(self, reports: list[Report]) -> None:
        """Write ``reports`` in one transaction and answer each (the thread calls it; tests may too)."""
        answers: list[tuple[Report, dict[str, Any]]] = []
        try:
            with self.factory() as session:
                filings, filed = [], []
                callers: dict[str, Principal] = {}
                for report in reports:
                    try:
                        principal = callers.get(report.credentials) if report.credentials else None
                        if principal is None:
                            principal = report.caller(session)
                            if report.credentials:
                                callers[report.credentials] = principal
                        session.info.update(principal=principal, client_ip=report.client_ip)
                        filings.append(intake.prepare(session, session.info["principal"], report.data, self.tz,
                                                      now=report.received_at))
                        filed.append(report)
                    except ShiyuError as error:
                        report.answer.set_exception(error)
                for report, result in zip(filed, intake.write(session, filings), strict=True):
                    if isinstance(result, ShiyuError):
                        report.answer.set_exception(result)
                    else:
                        answers.append((report, intake.outcome(result)))
                session.commit()
        except Exception as exc:  # the database refused something: each report on its own finds out what
            log.warning("intake batch of %d failed (%s); writing each alone", len(reports), exc)
            for report in reports:
                if not report.answer.done():
                    self._write_alone(report)
            return
        for report, answer in answers:
            report.answer.set_result(answer)

    def _write_alone(self, report: Report) -> None:
        session = self.factory()
        try:
            session.info.update(principal=report.caller(session), client_ip=report.client_ip)
            result = intake.intake(session, session.info["principal"], report.data, self.tz, now=report.received_at)
            answer = intake.outcome(result)
            session.commit()
        except Exception as exc:
            session.rollback()
            report.answer.set_exception(exc)
            return
        finally:
            session.close()
        report.answer.set_result(answer)
