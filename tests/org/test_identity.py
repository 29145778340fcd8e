"""Log-in, tokens, session cookies with CSRF, grants without escalation, audit of logins. (Throttling,
revocation, the password rule and the CSRF binding: tests/security.)"""


from sqlalchemy import select

from shiyu.core.audit import AuditEntry
from shiyu.core.scoping import Principal
from shiyu.org.identity import tokens
from tests.factories import PASSWORD, login, populated


def _audit(factory, action):
    with factory() as s:
        s.info["principal"] = Principal.system()
        return s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all()


def test_wrong_password_is_401_with_code_in_both_languages(client, system_session):
    populated(system_session)
    r = client.post("/api/v1/auth/token", json={"username": "leader_a", "password": "nope"})
    assert r.status_code == 401 and r.json()["code"] == "login_failed" and r.json()["message"] == "用户名或密码错误"
    r = client.post("/api/v1/auth/token", json={"username": "leader_a", "password": "nope"},
                    headers={"Accept-Language": "en"})
    assert r.json()["message"] == "Wrong username or password"
    r = client.post("/api/v1/auth/token", json={"username": "ghost", "password": "nope"})
    assert r.status_code == 401 and r.json()["code"] == "login_failed"  # no hint that the user does not exist


def test_successful_login_is_audited_with_ip(client, system_session, factory):
    populated(system_session)
    login(client, "worker_a1")
    entries = _audit(factory, "login")
    assert len(entries) == 1 and entries[0].actor_name == "worker_a1" and entries[0].ip == "testclient"


def test_expired_and_forged_tokens(client, system_session, settings):
    w = populated(system_session)
    uid = w.users["admin"].id
    expired = tokens.issue(settings.secret_key, uid, 0, "access", -1)
    r = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401 and r.json()["code"] == "token_expired"
    forged = tokens.issue("x" * 40, uid, 0, "access", 5)
    r = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"})
    assert r.json()["code"] == "token_invalid"
    session_token = tokens.issue(settings.secret_key, uid, 0, "session", 5)
    r = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {session_token}"})
    assert r.json()["code"] == "token_invalid"  # a page session token is not an API token


def test_unauthenticated_api_is_401(client, system_session):
    populated(system_session)
    r = client.get("/api/v1/users")
    assert r.status_code == 401 and r.json() == {"code": "unauthenticated", "message": "请先登录", "detail": None}


def test_page_login_sets_http_only_cookie_and_requires_csrf(client, system_session):
    populated(system_session)
    page = client.get("/login")
    assert page.status_code == 200 and "登录" in page.text
    csrf = client.cookies.get("shiyu_csrf")
    bad = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": "wrong"},
                      follow_redirects=False)
    assert bad.status_code == 403
    ok = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": csrf,
                                     "next": "https://evil.example/"}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/"
    set_cookie = ok.headers.get_list("set-cookie")
    assert any("shiyu_session=" in c and "HttpOnly" in c and "SameSite=lax" in c for c in set_cookie)
    home = client.get("/")
    assert home.status_code == 200 and "admin" in home.text
    # Cookie-authenticated API writes need the CSRF header; reads do not.
    assert client.get("/api/v1/auth/me").status_code == 200
    w_body = {"role": "grid_worker", "area_id": 1}
    uid = client.get("/api/v1/auth/me").json()["id"]
    assert client.post(f"/api/v1/users/{uid}/grants", json=w_body).json()["code"] == "csrf_failed"
    r = client.post(f"/api/v1/users/{uid}/grants", json=w_body,
                    headers={"X-CSRF-Token": client.cookies.get("shiyu_csrf")})
    assert r.status_code == 201


def test_logout_needs_csrf_and_clears_session(client, system_session):
    populated(system_session)
    client.get("/login")
    client.post("/login", data={"username": "admin", "password": PASSWORD,
                                "csrf_token": client.cookies.get("shiyu_csrf")})
    assert client.post("/logout", data={"csrf_token": "x"}, follow_redirects=False).status_code == 403
    r = client.post("/logout", data={"csrf_token": client.cookies.get("shiyu_csrf")}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/", follow_redirects=False).headers["location"].startswith("/login")


def test_create_user_in_own_area_and_grant_without_escalation(client, system_session, factory):
    w = populated(system_session)
    h = login(client, "leader_a")
    body = {"username": "new_worker", "password": "Grid2026ok", "home_area_id": w.grids["a2"].id,
            "full_name": "赵六", "phone": "13600002222", "id_number": "11010519491231002X",
            "grants": [{"role": "grid_worker", "area_id": w.grids["a2"].id}]}
    r = client.post("/api/v1/users", json=body, headers=h)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["full_name"] == "赵*" and out["id_number"] == "1101**********002X"
    assert out["grants"][0]["role"] == "grid_worker"
    # A centre leader cannot make anyone an admin, and cannot create users in community B.
    r = client.post(f"/api/v1/users/{out['id']}/grants", json={"role": "admin", "area_id": w.community_a.id},
                    headers=h)
    assert r.status_code == 403 and r.json()["code"] == "grant_exceeds_own"
    r = client.post("/api/v1/users", json={**body, "username": "intruder", "home_area_id": w.grids["b1"].id,
                                           "grants": []}, headers=h)
    assert r.status_code == 404
    audit = _audit(factory, "create")
    created = [e for e in audit if e.object_type == "user_account" and e.actor_name == "leader_a"]
    assert len(created) == 1 and created[0].after["phone"] == "***" and created[0].after["password_hash"] == "***"


def test_bad_input_is_422_with_fields(client, system_session):
    w = populated(system_session)
    h = login(client, "admin")
    r = client.post("/api/v1/users", json={"username": "x", "password": "short", "home_area_id": w.city.id},
                    headers=h)
    assert r.status_code == 422 and r.json()["code"] == "validation_failed"
    assert {d["field"] for d in r.json()["detail"]} == {"username", "password"}
    r = client.post("/api/v1/users", json={"username": "okname", "password": "Longenough1", "home_area_id": w.city.id,
                                           "id_number": "110105194912310021"}, headers=h)
    assert r.status_code == 422 and r.json()["code"] == "invalid_id_number"
    r = client.post("/api/v1/users", json={"username": "okname", "password": "password123",
                                           "home_area_id": w.city.id}, headers=h)
    assert r.status_code == 422 and r.json()["code"] == "weak_password"
    assert r.json()["detail"] == {"field": "password", "rule": "common"}


def test_who_may_grant_what(client, system_session):
    """Leaders delegate the everyday roles; only holders (or admins) grant power; admins grant any role."""
    w = populated(system_session)
    target = w.users["worker_a1"].id
    leader = login(client, "leader_a")
    for role, status in (("centre_operator", 201), ("grid_leader", 201), ("centre_leader", 201),
                         ("auditor", 403), ("admin", 403)):
        r = client.post(f"/api/v1/users/{target}/grants", json={"role": role, "area_id": w.grids["a1"].id},
                        headers=leader)
        assert r.status_code == status, (role, r.text)
    admin = login(client, "admin")
    r = client.post(f"/api/v1/users/{target}/grants", json={"role": "auditor", "area_id": w.grids["a1"].id},
                    headers=admin)
    assert r.status_code == 201
