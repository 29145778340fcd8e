"""L2: the CSRF token is bound to the session (an HMAC of its id with the secret key), and before log-in to a
pre-session value, so a cookie and token planted by an attacker (from a sibling subdomain, or over plain
http) do not pass, and neither does a token of another session."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import populated
from tests.security.test_revocation import page_login


def _plant(client: TestClient, value: str) -> None:
    """Replace the browser's CSRF cookie, as a cookie injected from elsewhere would."""
    client.cookies.delete("shiyu_csrf")
    client.cookies.set("shiyu_csrf", value, domain="testserver.local")


def test_a_planted_cookie_and_token_pair_does_not_pass(app, system_session):
    w = populated(system_session)
    with TestClient(app) as victim:
        page_login(victim, "admin")
        _plant(victim, "attacker")
        r = victim.post(f"/admin/users/{w.users['worker_a1'].id}/grants",
                        data={"role": "grid_leader", "area_id": str(w.grids["a1"].id), "csrf_token": "attacker"})
        assert r.status_code == 403
        r = victim.post(f"/api/v1/users/{w.users['worker_a1'].id}/grants", headers={"X-CSRF-Token": "attacker"},
                        json={"role": "grid_leader", "area_id": w.grids["a1"].id})
        assert r.status_code == 403 and r.json()["code"] == "csrf_failed"


def test_a_token_of_another_session_does_not_pass(app, system_session):
    w = populated(system_session)
    with TestClient(app) as victim, TestClient(app) as attacker:
        page_login(victim, "admin")
        page_login(attacker, "leader_a")
        theirs = attacker.cookies.get("shiyu_csrf")
        assert theirs != victim.cookies.get("shiyu_csrf")
        _plant(victim, theirs)
        r = victim.post(f"/api/v1/users/{w.users['worker_a1'].id}/grants", headers={"X-CSRF-Token": theirs},
                        json={"role": "grid_leader", "area_id": w.grids["a1"].id})
        assert r.status_code == 403
        mine = victim.get("/").text.split('"X-CSRF-Token": "', 1)[1].split('"', 1)[0]
        r = victim.post(f"/api/v1/users/{w.users['worker_a1'].id}/grants", headers={"X-CSRF-Token": mine},
                        json={"role": "grid_leader", "area_id": w.grids["a1"].id})
        assert r.status_code == 201, "the page's own token still works"


def test_anonymous_forms_bind_to_a_pre_session_value(client, system_session):
    populated(system_session)
    page = client.get("/login")
    assert any("shiyu_presession=" in c and "HttpOnly" in c for c in page.headers.get_list("set-cookie"))
    before_login = client.cookies.get("shiyu_csrf")
    _plant(client, "attacker")
    r = client.post("/login", data={"username": "admin", "password": "whatever-it-is", "csrf_token": "attacker"})
    assert r.status_code == 403
    r = client.post("/portal/report", data={"csrf_token": "attacker", "description": "x"})
    assert r.status_code == 403
    _plant(client, before_login)
    page_login(client, "admin")
    assert client.cookies.get("shiyu_csrf") != before_login, "logging in binds the token to the new session"
