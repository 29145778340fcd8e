"""The deadline scan in production shape: two real ``shiyu worker`` processes on Redis and PostgreSQL.

Issue 3 asks that the periodic overdue job be idempotent and safe in several processes. The unit tests run
the scan twice in one process; here the same scan runs at once in two huey consumers (two threads each)
and in two threads of the test process, all racing over the same overdue cases. Each case must still
cross each alert level exactly once — one timeline entry, one outbox event per level, one version bump —
and a run afterwards must change nothing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from shiyu import domains
from shiyu.cases.models import Case, CaseEvent
from shiyu.cases.workflow import deadlines
from shiyu.core import migrate, pii
from shiyu.core.config import Settings
from shiyu.core.db import Base, make_engine, make_session_factory
from shiyu.core.jobs import build_queue
from shiyu.core.outbox import OutboxEvent
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.identity import passwords
from shiyu.platform_cli import WORKER_NICE
from tests.cases.case_fixtures import SH, case_world, report
from tests.conftest import drop_database, pg_database_url

REDIS_URL = os.environ.get("SHIYU_TEST_REDIS_URL")
PG_URL = os.environ.get("SHIYU_TEST_POSTGRES_URL")
CASES = 40
WORKERS = 2
THREADS = 2  # per worker: every thread blocks on its own Redis connection, so all tasks start at once
QUEUED_SCANS = WORKERS * THREADS
DIRECT_SCANS = 2

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (REDIS_URL and PG_URL),
                       reason="needs SHIYU_TEST_REDIS_URL and SHIYU_TEST_POSTGRES_URL (CI sets both)"),
]


@pytest.fixture
def pg_url(test_keys: dict[str, str]):
    """A database of its own: the workers are other processes, so the shared per-test truncation of
    tests/conftest.py cannot be used while they run."""
    url = pg_database_url("workers")
    migrate.upgrade(url)
    engine = make_engine(url)
    Base.metadata.create_all(engine, checkfirst=True)  # tables still without a migration, as tests/conftest.py
    engine.dispose()
    yield url
    drop_database(url)


@pytest.fixture
def overdue_cases(pg_url: str, test_keys: dict[str, str]):
    """``CASES`` grid reports filed thirty days ago, so every register step is past warning, due and
    escalation; nothing has scanned them yet."""
    settings = Settings(database_url=pg_url, password_time_cost=1, password_memory_kib=1024, **test_keys)
    pii.configure(settings.pii_keys, settings.pii_hash_key, settings.secret_key)
    passwords.configure(settings.password_time_cost, settings.password_memory_kib)
    engine = make_engine(pg_url)
    factory = make_session_factory(engine)
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        w = case_world(s)
        reported = utcnow() - timedelta(days=30)
        ids = [report(s, w, now=reported + timedelta(minutes=i)).case.id for i in range(CASES)]
    yield factory, ids
    engine.dispose()


def _snapshot(factory) -> dict[str, object]:
    """Everything the scan writes: each case's lock version and alert fields, its timeline entries by
    action and step, its outbox events by topic."""
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        cases = {c.id: (c.version, c.step_alert, c.overdue_steps, c.supervised) for c in s.scalars(select(Case))}
        events = Counter((case_id, action, (data or {}).get("step"))
                         for case_id, action, data in s.execute(select(CaseEvent.case_id, CaseEvent.action,
                                                                        CaseEvent.data)))
        outbox = Counter({(aid, topic): n for aid, topic, n in s.execute(
            select(OutboxEvent.aggregate_id, OutboxEvent.topic, func.count())
            .where(OutboxEvent.aggregate == "case").group_by(OutboxEvent.aggregate_id, OutboxEvent.topic))})
    return {"cases": cases, "events": events, "outbox": outbox}


START_UP_SECONDS = 120


def _start_workers(env: dict[str, str], logs: Path) -> list[subprocess.Popen]:
    """``shiyu worker`` with INFO logging: huey logs each task it runs ("<name>: <id> executed in …"), which
    is how the test learns which process ran which scan (huey keeps no results of periodic tasks)."""
    boot = ("import logging, sys; logging.basicConfig(level=logging.INFO); "
            "from shiyu.cli import main; main(sys.argv[1:])")
    command = [sys.executable, "-c", boot, "worker", "--workers", str(THREADS)]
    procs = []
    for n in range(WORKERS):
        out = (logs / f"worker{n}.log").open("w")
        procs.append(subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                      start_new_session=True))
    return procs


def _wait_until_listening(client: redis.Redis, procs: list[subprocess.Popen], logs: Path) -> None:
    """Ready when every consumer thread blocks on the queue (one BRPOP connection each). The wait is for that
    condition; its bound only ends a hung start-up: two processes importing the platform beside CI's other
    worker running bench smokes took more than 20 s once (CI of 2026-12-07)."""
    deadline = time.monotonic() + START_UP_SECONDS
    while time.monotonic() < deadline:
        dead = [p for p in procs if p.poll() is not None]
        assert not dead, "a worker exited early:\n" + "\n".join(f.read_text() for f in logs.glob("worker*.log"))
        if sum(1 for c in client.client_list() if c.get("cmd") == "brpop") >= QUEUED_SCANS:
            return
        time.sleep(0.1)
    raise AssertionError(f"workers did not start listening within {START_UP_SECONDS} s")


def _wait_until_done(client: redis.Redis, queue_key: str, factory, ids: list[int]) -> None:
    """Until the queue is drained and every case has reached its last level; scans still running finish
    during the graceful stop."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with factory() as s:
            s.info["principal"] = Principal.system("test")
            pending = s.scalar(select(func.count()).select_from(Case).where(
                Case.id.in_(ids), Case.step_alert < deadlines.Alert.ESCALATED))
        if not pending and not client.llen(queue_key):
            return
        time.sleep(0.1)
    raise AssertionError("the scans did not finish within 20 s")


def _stop(procs: list[subprocess.Popen]) -> None:
    """SIGINT is huey's graceful stop: running tasks finish first."""
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGINT)
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def test_scan_in_two_workers_marks_each_case_once(overdue_cases, pg_url, test_keys, tmp_path) -> None:
    factory, ids = overdue_cases
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    client.flushdb()
    env = {**os.environ, "SHIYU_DATABASE_URL": pg_url, "SHIYU_REDIS_URL": REDIS_URL,
           "SHIYU_SECRET_KEY": test_keys["secret_key"], "SHIYU_PII_KEYS": test_keys["pii_keys"],
           "SHIYU_STORAGE_DIR": str(tmp_path / "files")}
    env.pop("SHIYU_DEMO_MODE", None)
    queue = build_queue(Settings(database_url=pg_url, redis_url=REDIS_URL, **test_keys), configure=domains.configure)
    before = _snapshot(factory)
    procs = _start_workers(env, tmp_path)
    try:
        _wait_until_listening(client, procs, tmp_path)
        # background work yields the cores to the web server's requests
        assert [os.getpriority(os.PRIO_PROCESS, p.pid) for p in procs] == [WORKER_NICE] * WORKERS
        handles = [queue.enqueue(deadlines.scan_deadlines) for _ in range(QUEUED_SCANS)]
        direct: list[deadlines.ScanResult] = []
        threads = [threading.Thread(target=lambda: direct.append(deadlines.scan(factory, SH)))
                   for _ in range(DIRECT_SCANS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=20)
        _wait_until_done(client, queue.huey.storage.queue_key, factory, ids)
    finally:
        _stop(procs)
        client.flushdb()
        client.close()
    logs = [(tmp_path / f"worker{n}.log").read_text() for n in range(WORKERS)]
    assert not any("Unhandled exception" in log for log in logs), "\n".join(logs)
    ran = [sum(f"{h.id} executed in" in log for h in handles) for log in logs]
    # Four tasks pushed at once to four blocked threads: each process runs some, racing the direct calls.
    assert sum(ran) == QUEUED_SCANS and all(ran), ran
    assert len(direct) == DIRECT_SCANS
    # The direct scans may have found every case already taken by the workers, never more than all of them.
    assert sum(r.overdue for r in direct) <= CASES

    after = _snapshot(factory)
    for case_id in ids:
        version, alert, overdue_steps, supervised = after["cases"][case_id]
        assert version == before["cases"][case_id][0] + 1, case_id
        assert (alert, overdue_steps, supervised) == (deadlines.Alert.ESCALATED, 1, True), case_id
        assert after["events"][(case_id, "overdue", "register")] == 1, case_id
        assert after["events"][(case_id, "auto_supervise", "register")] == 1, case_id
        for topic in ("case.deadline_warning", "case.overdue", "case.auto_supervised"):
            assert after["outbox"][(case_id, topic)] == 1, (case_id, topic)
    assert after["events"] - before["events"] == Counter(
        {(i, a, "register"): 1 for i in ids for a in ("overdue", "auto_supervise")})

    assert deadlines.scan(factory, SH) == deadlines.ScanResult()
    assert _snapshot(factory) == after
