"""``/healthz`` and ``/readyz``: the two questions a load balancer or orchestrator asks.

``/healthz`` is liveness: the process is up and answering (200, touches nothing). Restarting a process
because its database is down would not help, so it does not look at the database. ``/readyz`` is
readiness: may this process be sent requests now? It answers 200 only when the database is reachable and
writable within a short timeout (and Redis answers, when one is configured); otherwise 503 with
``Retry-After`` and the named check that failed, so traffic goes elsewhere until it recovers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text

from shiyu import __version__
from shiyu.core import outbox
from shiyu.core.scoping import Principal
from shiyu.web.errors import RETRY_AFTER_SECONDS

router = APIRouter(tags=["meta"])
CHECK_TIMEOUT_SECONDS = 2


@router.get("/healthz", summary="Liveness: the process answers (the database is not consulted)")
def healthz() -> dict[str, Any]:
    return {"status": "ok", "version": __version__}


def database_writable(engine: Engine, lock_timeout: float) -> None:
    """Open a connection and take the write lock (then give it back), within ``CHECK_TIMEOUT_SECONDS``;
    the pooled SQLite connection gets the app's ``lock_timeout`` back afterwards."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql(f"PRAGMA busy_timeout={CHECK_TIMEOUT_SECONDS * 1000}")
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                conn.exec_driver_sql("ROLLBACK")
            finally:
                conn.exec_driver_sql(f"PRAGMA busy_timeout={int(lock_timeout * 1000)}")
        else:
            conn.execute(text(f"SET LOCAL statement_timeout = {CHECK_TIMEOUT_SECONDS * 1000}"))
            if conn.execute(text("SELECT pg_is_in_recovery()")).scalar():
                raise RuntimeError("the database is a read-only standby")
            conn.rollback()


def redis_answers(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=CHECK_TIMEOUT_SECONDS,
                                  socket_connect_timeout=CHECK_TIMEOUT_SECONDS)
    try:
        client.ping()
    finally:
        client.close()


def _run(check: Callable[[], None]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__, "ms": round((time.perf_counter() - started) * 1000)}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000)}


def _parked(request: Request) -> int:
    with request.app.state.session_factory() as session:
        session.info["principal"] = Principal.system("readyz")
        return outbox.parked_count(session)


@router.get("/readyz", summary="Readiness: the database is reachable and writable (and Redis, when configured)",
            responses={503: {"description": "Not ready: a named check failed"}})
def readyz(request: Request) -> JSONResponse:
    settings = request.app.state.settings
    engine: Engine = request.app.state.engine
    checks = {"database": _run(lambda: database_writable(engine, settings.db_lock_timeout))}
    if settings.redis_url:
        checks["redis"] = _run(lambda: redis_answers(settings.redis_url))
    ready = all(c["ok"] for c in checks.values())
    body: dict[str, Any] = {"status": "ready" if ready else "unavailable", "version": __version__, "checks": checks}
    if ready:  # work waiting for an administrator (/admin/outbox): worth an alert, no reason to take traffic away
        body["outbox_parked"] = _parked(request)
    return JSONResponse(body,
                        status_code=200 if ready else 503,
                        headers={} if ready else {"Retry-After": str(RETRY_AFTER_SECONDS)})
