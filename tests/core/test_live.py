"""Live updates: announcements leave only after commit (never after a rollback), reach a subscriber of
another app instance through Redis, and the command view's event stream passes on in-scope cases only."""

from __future__ import annotations

import os
import time
import uuid
from datetime import datetime

import httpx
import pytest

from shiyu.cases.models import Case
from shiyu.cases.workflow import deadlines
from shiyu.cases.workflow import engine as workflow
from shiyu.core import live
from tests import aio
from tests.cases.case_fixtures import POINT_B1, SH, case_world, principal, report
from tests.web.test_pages import log_in

REDIS_URL = os.environ.get("SHIYU_TEST_REDIS_URL")


@pytest.fixture
def world(system_session):
    return case_world(system_session)


def test_in_process_broker_announces_after_commit_only(factory, world):
    broker = live.attach(factory.kw["bind"], live.LocalBroker())

    async def scenario() -> None:
        with broker.subscribe() as sub:
            with factory() as s:
                case_id = report(s, world).case.id  # commits
            change = await sub.get(2)
            assert change is not None and (change.topic, change.id) == ("case", case_id)
            assert change.area_path == world.grids["a1"].area_path
            assert change.facts == {
                "department_id": None,
                "reporter_user_id": world.users["worker_a1"].id,
                "urgency": "normal",
            }

            with factory() as s:  # a transition that is flushed, then rolled back: nothing is announced
                s.info["principal"] = p = principal(s, world, "operator_a")
                workflow.apply(s, p, case_id, "register", workflow.ActionInput(expected_version=1), SH)
                s.flush()
                assert await sub.get(0.2) is None  # flushed, not committed: not yet
                s.rollback()
            assert await sub.get(0.3) is None
            with factory() as s:
                s.info["principal"] = s_principal = principal(s, world, "operator_a")
                assert s.get(Case, case_id).version == 1
                workflow.apply(s, s_principal, case_id, "register", workflow.ActionInput(expected_version=1), SH)
                s.commit()
            again = await sub.get(2)
            assert again is not None and again.id == case_id

    aio.run(scenario())


def test_deadline_scan_marking_overdue_is_announced(factory, world):
    broker = live.attach(factory.kw["bind"], live.LocalBroker())
    start = datetime(2026, 9, 14, 9, 0, tzinfo=SH)
    with factory() as s:
        case_id = report(s, world, now=start).case.id

    async def scenario() -> None:
        with broker.subscribe() as sub:
            result = deadlines.scan(factory, SH, datetime(2026, 9, 14, 15, 0, tzinfo=SH))
            assert result.overdue == 1
            change = await sub.get(2)
            assert change is not None and change.id == case_id
            assert deadlines.scan(factory, SH, datetime(2026, 9, 14, 15, 0, tzinfo=SH)).overdue == 0
            assert await sub.get(0.3) is None  # nothing changed, nothing announced

    aio.run(scenario())


@pytest.mark.skipif(not REDIS_URL, reason="set SHIYU_TEST_REDIS_URL to test the Redis broker")
def test_redis_broker_reaches_another_app_instance(settings, world):
    from shiyu.app import create_app

    shared = settings.model_copy(update={"redis_url": REDIS_URL, "job_queue": f"t{uuid.uuid4().hex[:12]}"})
    one, two = create_app(shared), create_app(shared)
    try:
        assert isinstance(two.state.live, live.RedisBroker) and one.state.live is not two.state.live

        async def scenario() -> None:
            with two.state.live.subscribe() as sub:
                with one.state.session_factory() as s:  # committed by app one …
                    case_id = report(s, world).case.id
                change = await sub.get(5)  # … heard by app two
                assert change is not None and change.id == case_id and change.topic == "case"

        aio.run(scenario())
    finally:
        for app in (one, two):
            app.state.live.close()
            app.state.engine.dispose()


def test_event_stream_passes_on_in_scope_cases_only(app, world, monkeypatch):
    from shiyu.web.command import routes
    from tests.e2e.conftest import Server, free_port

    monkeypatch.setattr(routes, "KEEPALIVE_SECONDS", 0.5)
    with Server(app, free_port()) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        log_in(client, "operator_a")
        with client.stream("GET", "/command/events") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.iter_lines()
            assert next(lines).startswith("retry:")
            assert [next(lines), next(lines)] == ["event: ready", "data: {}"]  # subscribed
            with app.state.session_factory() as s:
                case_b = report(s, world, "worker_b1", point=POINT_B1).case.id  # community B: not for A
                case_a = report(s, world).case.id
            seen = []
            for line in lines:
                seen.append(line)
                if line.startswith("data:"):
                    break
            assert seen[-2:] == ["event: case", f'data: {{"id": {case_a}}}'], seen
            assert not any(str(case_b) in line for line in seen if line.startswith("data:"))
            assert ": keep-alive" in [next(lines) for _ in range(3)]


def test_event_stream_ends_soon_after_log_out(app, world, monkeypatch):
    """A log-out revokes the session; a stream already open notices at its next check, not ten minutes later."""
    from shiyu.web.command import routes
    from tests.e2e.conftest import Server, free_port

    monkeypatch.setattr(routes, "KEEPALIVE_SECONDS", 0.3)
    with Server(app, free_port()) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        log_in(client, "operator_a")
        cookies = dict(client.cookies)
        with client.stream("GET", "/command/events") as stream:
            lines = stream.iter_lines()
            assert next(lines).startswith("retry:")
            with httpx.Client(base_url=server.url, cookies=cookies, timeout=10) as other:
                csrf = cookies.get("shiyu_csrf", "")
                assert other.post("/logout", data={"csrf_token": csrf}).status_code in (200, 303)
            started, ended = time.monotonic(), True
            for _ in lines:  # keep-alives until the server ends the stream
                if time.monotonic() - started > 5:
                    ended = False
                    break
            assert ended, "the stream went on after the log-out"
