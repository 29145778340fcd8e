"""S5 and L3: logging out ends the token or session it is called with; changing one's password ends every
other one; an administrator's deactivation ends them all and refuses log-ins; tokens without an expiry (or
without an id) are refused."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from shiyu.core.audit import AuditEntry
from shiyu.core.jobs import JobContext
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.identity import sessions, tasks, tokens
from shiyu.org.identity.models import LoginThrottle, RevokedToken
from tests.factories import PASSWORD, login, populated

NEW_PASSWORD = "Harbour-lights-42"


def _me(client: TestClient, headers: dict[str, str] | None = None) -> tuple[int, str | None]:
    r = client.get("/api/v1/auth/me", headers=headers or {})
    return r.status_code, r.json().get("code")


def page_login(client: TestClient, username: str, password: str = PASSWORD) -> None:
    client.get("/login")
    r = client.post("/login", data={"username": username, "password": password,
                                    "csrf_token": client.cookies.get("shiyu_csrf")}, follow_redirects=False)
    assert r.status_code == 303, r.text


def test_api_log_out_ends_that_token_only(client, system_session):
    populated(system_session)
    first, second = login(client, "worker_a1"), login(client, "worker_a1")
    assert client.post("/api/v1/auth/logout", headers=first).status_code == 204
    assert _me(client, first) == (401, "token_revoked")
    assert _me(client, second)[0] == 200
    assert client.post("/api/v1/auth/logout", headers=first).status_code == 401


def test_page_log_out_ends_the_session_not_only_the_cookie(app, system_session):
    populated(system_session)
    with TestClient(app) as browser, TestClient(app) as thief:
        page_login(browser, "leader_a")
        stolen = browser.cookies.get("shiyu_session")
        thief.cookies.set("shiyu_session", stolen)
        assert _me(thief)[0] == 200
        assert browser.post("/logout", data={"csrf_token": browser.cookies.get("shiyu_csrf")},
                            follow_redirects=False).status_code == 303
        assert _me(thief) == (401, "token_revoked"), "the copied cookie must die with the log-out"
        assert thief.get("/", follow_redirects=False).headers["location"].startswith("/login")


def test_cookie_session_logs_out_through_the_api(client, system_session):
    populated(system_session)
    page_login(client, "leader_a")
    cookie = client.cookies.get("shiyu_session")
    assert client.post("/api/v1/auth/logout").json()["code"] == "csrf_failed"
    r = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": client.cookies.get("shiyu_csrf")})
    assert r.status_code == 204
    client.cookies.set("shiyu_session", cookie)
    assert _me(client) == (401, "token_revoked")


def test_changing_ones_password_through_the_api(client, system_session, factory):
    populated(system_session)
    caller, elsewhere = login(client, "worker_a1"), login(client, "worker_a1")
    url = "/api/v1/auth/password"
    r = client.post(url, json={"current_password": "not-it-at-all", "new_password": NEW_PASSWORD}, headers=caller)
    assert r.status_code == 422 and r.json()["code"] == "wrong_password"
    r = client.post(url, json={"current_password": PASSWORD, "new_password": "worker_a1-2026"}, headers=caller)
    assert r.status_code == 422 and r.json()["detail"] == {"field": "new_password", "rule": "username"}
    assert _me(client, caller)[0] == 200, "a refused change ends nothing"
    r = client.post(url, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}, headers=caller)
    assert r.status_code == 200, r.text
    fresh = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert _me(client, fresh)[0] == 200
    assert _me(client, caller) == (401, "token_revoked") and _me(client, elsewhere) == (401, "token_revoked")
    assert client.post("/api/v1/auth/token", json={"username": "worker_a1", "password": PASSWORD}).status_code == 401
    assert login(client, "worker_a1", NEW_PASSWORD)
    with factory() as s:
        s.info["principal"] = Principal.system()
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action.like("password_change%"))).all()
        assert [(e.action, e.actor_name) for e in entries] == [("password_change_failed", "worker_a1"),
                                                                ("password_change", "worker_a1")]


def test_guessing_the_current_password_is_throttled(client, system_session, settings):
    populated(system_session)
    h = login(client, "worker_a1")
    codes = [client.post("/api/v1/auth/password", headers=h,
                         json={"current_password": f"guess-{i}", "new_password": NEW_PASSWORD}).json()["code"]
             for i in range(settings.login_free_failures + 2)]
    assert codes[0] == "wrong_password" and codes[-1] == "login_throttled"


def test_changing_ones_password_in_the_browser_ends_the_other_sessions(app, system_session):
    populated(system_session)
    with TestClient(app) as here, TestClient(app) as there:
        page_login(here, "worker_a1")
        page_login(there, "worker_a1")
        form = here.get("/account/password")
        assert form.status_code == 200 and 'name="current_password"' in form.text
        r = here.post("/account/password", data={"current_password": "wrong-one-here", "new_password": NEW_PASSWORD,
                                                  "confirm_password": NEW_PASSWORD,
                                                  "csrf_token": here.cookies.get("shiyu_csrf")})
        assert r.status_code == 422 and "当前密码不正确" in r.text
        r = here.post("/account/password", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                                  "confirm_password": NEW_PASSWORD,
                                                  "csrf_token": here.cookies.get("shiyu_csrf")},
                      follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/account/password?changed=1"
        assert here.get("/account/password?changed=1").status_code == 200, "this browser stays logged in"
        assert there.get("/", follow_redirects=False).headers["location"].startswith("/login")


def test_deactivation_ends_every_session_and_refuses_log_in(client, system_session):
    w = populated(system_session)
    admin, worker = login(client, "admin"), login(client, "worker_a1")
    uid = w.users["worker_a1"].id
    r = client.patch(f"/api/v1/users/{uid}", json={"is_active": False}, headers=admin)
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert _me(client, worker) == (401, "token_revoked")
    r = client.post("/api/v1/auth/token", json={"username": "worker_a1", "password": PASSWORD})
    assert r.status_code == 401 and r.json()["code"] == "login_failed"
    assert client.patch(f"/api/v1/users/{uid}", json={"is_active": True}, headers=admin).json()["is_active"]
    assert _me(client, worker) == (401, "token_revoked"), "activating again does not revive old tokens"
    assert login(client, "worker_a1")


def test_a_leader_deactivates_only_within_their_area(client, system_session):
    w = populated(system_session)
    leader = login(client, "leader_a")
    assert client.patch(f"/api/v1/users/{w.users['worker_b1'].id}", json={"is_active": False},
                        headers=leader).status_code == 404
    r = client.patch(f"/api/v1/users/{w.users['worker_a1'].id}", json={"is_active": False}, headers=leader)
    assert r.status_code == 200


def test_deactivation_on_the_admin_page_ends_an_open_page_session(app, system_session):
    w = populated(system_session)
    with TestClient(app) as admin, TestClient(app) as worker:
        page_login(admin, "admin")
        page_login(worker, "worker_a1")
        uid = w.users["worker_a1"].id
        page = admin.get(f"/admin/users/{uid}")
        assert 'id="deactivate"' in page.text
        r = admin.post(f"/admin/users/{uid}/deactivate", headers={"X-CSRF-Token": admin.cookies.get("shiyu_csrf")})
        assert r.status_code == 200 and "账号已停用" in r.text and 'id="activate"' in r.text
        assert worker.get("/", follow_redirects=False).headers["location"].startswith("/login")


@pytest.mark.parametrize("missing", ["exp", "jti"])
def test_tokens_without_expiry_or_id_are_refused(client, system_session, settings, missing):
    w = populated(system_session)
    claims = {"sub": str(w.users["admin"].id), "ver": 0, "kind": "access", "jti": "a" * 32,
              "iat": utcnow(), "exp": utcnow() + timedelta(minutes=5)}
    del claims[missing]
    forged = jwt.encode(claims, settings.secret_key, algorithm="HS256")
    assert _me(client, {"Authorization": f"Bearer {forged}"}) == (401, "token_invalid")


def test_malformed_claims_are_refused_not_a_server_error(client, system_session, settings):
    populated(system_session)
    claims = {"sub": "admin", "ver": "x", "kind": "access", "jti": "b" * 32, "iat": utcnow(),
              "exp": utcnow() + timedelta(minutes=5)}
    forged = jwt.encode(claims, settings.secret_key, algorithm="HS256")
    assert _me(client, {"Authorization": f"Bearer {forged}"}) == (401, "token_invalid")


def test_the_revocation_check_costs_no_extra_round_trip(factory, system_session, settings):
    w = populated(system_session)
    claims = tokens.read(settings.secret_key, tokens.issue(settings.secret_key, w.users["admin"].id, 0, "access", 5),
                         "access")
    statements = []
    with factory() as s:
        event.listen(s.get_bind(), "before_cursor_execute", lambda *a: statements.append(a[2]))
        principal = sessions.load_principal(s, claims)
    assert principal.username == "admin" and len(statements) == 1


def test_the_hourly_clean_up_forgets_what_no_longer_matters(factory, settings):
    now = utcnow()
    with factory() as s, s.begin():
        s.info["audit_off"] = True
        s.add_all([RevokedToken(jti="expired", expires_at=now - timedelta(minutes=1)),
                   RevokedToken(jti="current", expires_at=now + timedelta(minutes=30)),
                   LoginThrottle(key="old", failures=3, last_failure_at=now - timedelta(hours=2)),
                   LoginThrottle(key="recent", failures=3, last_failure_at=now - timedelta(minutes=5))])
    assert tasks.forget_old_logins(JobContext(settings, factory)) == 2
    with factory() as s:
        assert set(s.scalars(select(RevokedToken.jti))) == {"current"}
        assert set(s.scalars(select(LoginThrottle.key))) == {"recent"}
