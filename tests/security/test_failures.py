"""Failures answered cleanly (security review 2026-12, S9 last bullet, S11): a 500 keeps the client's
connection and carries the security headers; a database that is down or locked is a 503 "unavailable" with
Retry-After, as JSON for the API and as a page for pages; ``/healthz`` is liveness only and ``/readyz`` names
what is not ready."""

from __future__ import annotations

import http.client
import sqlite3
import time

import pytest
from fastapi.testclient import TestClient

from shiyu.app import create_app
from tests.e2e.conftest import Server, free_port
from tests.factories import login, populated

UNREACHABLE_PG = "postgresql://postgres@127.0.0.1:9/nothing_listens_here"


def _boom(app) -> None:
    @app.get("/api/v1/_boom", include_in_schema=False)
    def boom() -> dict:
        raise RuntimeError("a bug")

    @app.get("/_boom_page", include_in_schema=False)
    def boom_page() -> dict:
        raise RuntimeError("a bug in a page")


def test_a_500_keeps_the_connection_and_carries_the_security_headers(app) -> None:
    _boom(app)
    with Server(app, free_port()) as server:
        conn = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]), timeout=10)
        conn.request("GET", "/api/v1/_boom")
        failed = conn.getresponse()
        body = failed.read()
        conn.request("GET", "/healthz")  # the same connection: no "connection reset"
        after = conn.getresponse()
        after.read()
        conn.close()
    assert failed.status == 500 and b'"internal_error"' in body
    assert failed.getheader("content-security-policy") and failed.getheader("x-content-type-options") == "nosniff"
    assert failed.getheader("x-frame-options") == "DENY"
    assert after.status == 200


def test_a_500_on_a_page_is_a_page_with_the_security_headers(app) -> None:
    _boom(app)
    with TestClient(app) as client:
        page = client.get("/_boom_page")
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert "content-security-policy" in page.headers


def test_healthz_is_liveness_and_does_not_touch_the_database(settings) -> None:
    app = create_app(settings.model_copy(update={"database_url": UNREACHABLE_PG, "db_connect_timeout": 1}))
    with TestClient(app) as client:
        live = client.get("/healthz")
        ready = client.get("/readyz")
    assert live.status_code == 200 and live.json()["status"] == "ok"
    assert ready.status_code == 503 and ready.headers["retry-after"]
    assert ready.json()["checks"]["database"]["ok"] is False


def test_readyz_names_its_checks(client) -> None:
    r = client.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ready" and r.json()["checks"]["database"]["ok"] is True
    assert r.json()["outbox_parked"] == 0


def test_readyz_checks_redis_when_configured(settings) -> None:
    app = create_app(settings.model_copy(update={"redis_url": "redis://127.0.0.1:9/0"}))
    with TestClient(app) as client:
        r = client.get("/readyz")
    app.state.engine.dispose()
    assert r.status_code == 503 and r.json()["checks"]["redis"]["ok"] is False
    assert r.json()["checks"]["database"]["ok"] is True


def test_an_unreachable_database_is_503_unavailable_for_api_and_pages(settings) -> None:
    app = create_app(settings.model_copy(update={"database_url": UNREACHABLE_PG, "db_connect_timeout": 1}))
    with TestClient(app) as client:
        api = [client.get("/api/v1/track/ABC"),
               client.post("/api/v1/auth/token", json={"username": "someone", "password": "x" * 12}),
               client.get("/api/v1/cases", headers={"Authorization": "Bearer nope"})]
        page = client.get("/portal")
    for r in api[:2]:
        assert r.status_code == 503 and r.json()["code"] == "unavailable", r.text
        assert r.headers["retry-after"]
    assert api[2].status_code in (401, 503)
    assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
    assert page.headers["retry-after"] and "content-security-policy" in page.headers


def test_a_locked_sqlite_database_answers_503_quickly(settings, system_session, db_url) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("the write lock of one file is SQLite's; PostgreSQL locks rows")
    populated(system_session)
    system_session.commit()
    app = create_app(settings.model_copy(update={"db_lock_timeout": 0.5}))
    holder = sqlite3.connect(db_url.split("///", 1)[1], isolation_level=None)
    try:
        with TestClient(app) as client:
            holder.execute("BEGIN IMMEDIATE")  # another process writing for a long time
            started = time.monotonic()
            r = client.post("/api/v1/auth/token", json={"username": "operator_a", "password": "wrong-password-1"})
            took = time.monotonic() - started
            ready = client.get("/readyz")
            holder.execute("ROLLBACK")
            after = client.post("/api/v1/auth/token", json={"username": "operator_a", "password": "wrong-password-1"})
            assert login(client, "operator_a")
    finally:
        holder.close()
        app.state.engine.dispose()
    assert r.status_code == 503 and r.json()["code"] == "unavailable", r.text
    assert r.headers["retry-after"] and took < 5
    assert ready.status_code == 503 and ready.json()["checks"]["database"]["ok"] is False
    assert after.status_code == 401
