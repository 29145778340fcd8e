"""S4: wrong passwords slow down the guesser, per account at one address and per address, with growing
delays — instead of a lock anyone could set off that also ended the owner's sessions — and unknown
usernames answer like real ones, in words and in time."""

from __future__ import annotations

import statistics
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from shiyu.app import create_app
from shiyu.org.identity import passwords
from shiyu.org.identity.models import User
from tests.factories import PASSWORD, populated
from tests.security.conftest import pass_time

TOKEN = "/api/v1/auth/token"


def _try(client: TestClient, username: str, password: str = "wrong-password", lang: str = "zh") -> tuple:
    r = client.post(TOKEN, json={"username": username, "password": password}, headers={"Accept-Language": lang})
    body = r.json()
    return r.status_code, body.get("code"), body.get("message"), body.get("detail")


def _me(client: TestClient, token: str) -> int:
    return client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code


def _token(client: TestClient, username: str) -> str:
    r = client.post(TOKEN, json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def test_a_guesser_neither_ends_the_owners_sessions_nor_keeps_the_owner_out(system_session, client_at, settings):
    populated(system_session)
    with client_at("10.0.0.5") as owner, client_at("10.6.6.6") as guesser:
        token = _token(owner, "leader_a")
        answers = [_try(guesser, "leader_a")[:2] for _ in range(12)]
        assert answers[0] == (401, "login_failed") and (429, "login_throttled") in answers
        assert _me(owner, token) == 200, "a lock-out must not end the account's sessions"
        assert _try(owner, "leader_a", PASSWORD)[0] == 200, "the owner at another address must not wait"
        assert _me(owner, token) == 200


def test_delays_grow_and_a_waiting_attempt_is_not_even_checked(system_session, client_at, settings, factory):
    populated(system_session)
    free = settings.login_free_failures
    with client_at("10.0.0.7") as c:
        for _ in range(free + 1):
            assert _try(c, "worker_a1")[:2] == (401, "login_failed")
        waits = []
        for _ in range(4):
            status, code, _message, detail = _try(c, "worker_a1", PASSWORD)  # the right password, refused unchecked
            assert (status, code) == (429, "login_throttled")
            waits.append(detail["retry_after"])
            pass_time(factory, detail["retry_after"] + 0.5)
            assert _try(c, "worker_a1")[:2] == (401, "login_failed")
        assert waits == [1, 2, 4, 8]
        pass_time(factory, 16.5)
        assert _try(c, "worker_a1", PASSWORD)[0] == 200
        # a right password starts this account at this address afresh
        assert [_try(c, "worker_a1")[0] for _ in range(free)] == [401] * free


def test_the_longest_wait_is_capped(system_session, client_at, app, factory):
    populated(system_session)
    capped = app.state.settings.login_max_delay_seconds
    with client_at("10.0.0.8") as c:
        for _ in range(40):
            if _try(c, "operator_a")[0] == 429:
                pass_time(factory, capped + 1)
        assert _try(c, "operator_a")[3]["retry_after"] == capped


def test_failures_are_forgotten_after_a_quiet_spell(system_session, client_at, settings, factory):
    populated(system_session)
    free = settings.login_free_failures
    with client_at("10.0.0.9") as c:
        for _ in range(free):
            _try(c, "leader_b")
        pass_time(factory, settings.login_failure_memory_minutes * 60 + 1)
        assert [_try(c, "leader_b")[0] for _ in range(free + 1)] == [401] * (free + 1)
        assert _try(c, "leader_b")[0] == 429


def test_one_address_spraying_many_accounts_is_slowed(system_session, settings):
    populated(system_session)
    app = create_app(settings.model_copy(update={"login_address_free_failures": 4}))
    with TestClient(app, client=("10.9.9.9", 1)) as sprayer, TestClient(app, client=("10.0.0.1", 1)) as other:
        names = ["admin", "leader_a", "leader_b", "operator_a", "worker_a1", "worker_b1"]
        answers = [_try(sprayer, name)[0] for name in names]
        assert answers == [401, 401, 401, 401, 401, 429]  # one try each, but from one address
        assert _try(sprayer, "auditor", PASSWORD)[1] == "login_throttled"
        assert _try(other, "auditor", PASSWORD)[0] == 200
    app.state.engine.dispose()


def test_throttling_is_shared_by_every_app_process(system_session, settings, monkeypatch):
    """The counters live in the database: a second process (another app on the same database) refuses too.
    The clock stands still, so the first delay (one second) cannot run out on a slow machine before ``b`` asks."""
    from shiyu.org.identity import sessions

    populated(system_session)
    frozen = sessions.utcnow()
    monkeypatch.setattr(sessions, "utcnow", lambda: frozen)
    first, second = create_app(settings), create_app(settings)
    with TestClient(first, client=("10.1.1.1", 1)) as a, TestClient(second, client=("10.1.1.1", 2)) as b:
        for _ in range(settings.login_free_failures + 1):
            assert _try(a, "leader_a")[0] == 401
        assert _try(b, "leader_a", PASSWORD)[:2] == (429, "login_throttled")
    for app in (first, second):
        app.state.engine.dispose()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_unknown_and_real_usernames_answer_alike(system_session, client_at, settings, lang):
    populated(system_session)
    with client_at("10.2.0.1") as real, client_at("10.2.0.2") as unknown:
        tries = settings.login_free_failures + 2
        seen_real = [_try(real, "leader_a", lang=lang) for _ in range(tries)]
        seen_unknown = [_try(unknown, "no_such_person", lang=lang) for _ in range(tries)]
    assert seen_real == seen_unknown
    assert seen_real[-1][:2] == (429, "login_throttled")
    assert "leader_a" not in str(seen_real) and ("请" in seen_real[-1][2] if lang == "zh" else "try again" in
                                                 seen_real[-1][2])


def test_unknown_usernames_take_as_long_as_real_ones(system_session, client_at, settings, monkeypatch):
    """A dummy hash is checked for unknown names. With production-like hashing, an unknown name once
    answered in a few milliseconds and a real one in a fifth of a second (the timing oracle of S4)."""
    populated(system_session)
    checks = []
    real_verify = passwords.PasswordHasher.verify
    monkeypatch.setattr(passwords.PasswordHasher, "verify",
                        lambda self, h, p: checks.append(p) or real_verify(self, h, p))
    passwords.configure(time_cost=3, memory_kib=32 * 1024)
    try:
        def timed(client: TestClient, username: str) -> float:
            start = time.perf_counter()
            assert _try(client, username)[0] == 401
            return time.perf_counter() - start

        with client_at("10.3.0.1") as c1, client_at("10.3.0.2") as c2:
            # the factories hash cheaply: give leader_a a hash at this cost
            with c1.app.state.session_factory() as s, s.begin():
                s.info["audit_off"] = True
                s.execute(update(User).where(User.username == "leader_a")
                          .values(password_hash=passwords.hash_password(PASSWORD)))
            timed(c2, "warm_up_the_dummy")
            known = statistics.median(timed(c1, "leader_a") for _ in range(3))
            unknown = statistics.median(timed(c2, "nobody_at_all") for _ in range(3))
    finally:
        passwords.configure(settings.password_time_cost, settings.password_memory_kib)
    assert checks.count("wrong-password") == 7, "every attempt, known name or not, checks one hash"
    assert unknown > 0.4 * known, (unknown, known)


def test_the_log_in_page_is_throttled_too(system_session, client_at, settings):
    populated(system_session)
    with client_at("10.4.0.1") as c:
        c.get("/login")
        for _ in range(settings.login_free_failures + 2):
            r = c.post("/login", data={"username": "leader_a", "password": "nope-nope",
                                       "csrf_token": c.cookies.get("shiyu_csrf")}, follow_redirects=False)
        assert r.status_code == 429 and "登录尝试过于频繁" in r.text
