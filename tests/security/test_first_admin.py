"""S0: the first administrator comes from the command line (``shiyu users …``), and the last city-wide
administrator can neither lose that grant nor be deactivated, through any door."""

from __future__ import annotations

import io
import json
import sys
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, update

from shiyu.cli import build_parser
from shiyu.org.identity.models import Grant, User
from tests.factories import PASSWORD, add_user, login, make_world, populated
from tests.org.data import small_city
from tests.security.test_revocation import page_login

ADMIN_PASSWORD = "Lighthouse-keeper-7"


@pytest.fixture
def shiyu(monkeypatch: pytest.MonkeyPatch, settings: Any, capsys: Any):
    """``shiyu(*argv, stdin="…")`` → (exit code, stdout, stderr), in production mode on the test database."""
    for name, value in {"SHIYU_DATABASE_URL": settings.database_url, "SHIYU_DEMO_MODE": "0",
                        "SHIYU_SECRET_KEY": settings.secret_key, "SHIYU_PII_KEYS": settings.pii_keys,
                        "SHIYU_PASSWORD_TIME_COST": "1", "SHIYU_PASSWORD_MEMORY_KIB": "1024"}.items():
        monkeypatch.setenv(name, value)

    def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        args = build_parser().parse_args(argv)
        code = args.handler(args)
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_from_an_empty_database_to_a_working_log_in(shiyu, app, tmp_path):
    """The steps of docs/deploy.md after `shiyu db upgrade`: import areas, create the administrator, log in."""
    code, _out, err = shiyu("users", "create-admin", "--username", "chief", "--password-stdin",
                            stdin=ADMIN_PASSWORD + "\n")
    assert code == 2 and "shiyu import areas" in err and "请先导入本市区划" in err and "no areas yet" in err
    city = tmp_path / "city.geojson"
    city.write_text(json.dumps(small_city()), encoding="utf-8")
    assert shiyu("import", "areas", str(city))[0] == 0
    code, out, _err = shiyu("users", "create-admin", "--username", "chief", "--password-stdin",
                            stdin=ADMIN_PASSWORD + "\n")
    assert code == 0 and "已创建全市系统管理员 chief" in out and "试验市" in out
    with TestClient(app) as browser:
        page_login(browser, "chief", ADMIN_PASSWORD)
        assert "chief" in browser.get("/").text
        me = browser.get("/api/v1/auth/me").json()
        assert [g["role"] for g in me["grants"]] == ["admin"]
        assert browser.get("/admin/users").status_code == 200


@pytest.mark.parametrize(("password", "rule"), [("short-1", "至少需要10个字符"), ("chief-of-all", "不能包含用户名"),
                                                ("password1234", "最常见的密码")])
def test_create_admin_refuses_a_weak_password(shiyu, system_session, password, rule):
    make_world(system_session)
    system_session.commit()
    code, _out, err = shiyu("users", "create-admin", "--username", "chief", "--password-stdin", stdin=password)
    assert code == 2 and rule in err
    assert shiyu("users", "list")[1].count("chief") == 0


def test_an_existing_username_needs_reset_which_restores_the_account(shiyu, client, system_session, factory):
    w = populated(system_session)
    old = login(client, "admin")
    code, _out, err = shiyu("users", "create-admin", "--username", "admin", "--password-stdin", stdin=ADMIN_PASSWORD)
    assert code == 2 and "--reset" in err and "exists already" in err
    assert login(client, "admin", PASSWORD), "a refused create-admin changes nothing"
    with factory() as s, s.begin():  # the account lost its grant and was deactivated somehow (by SQL)
        s.execute(delete(Grant).where(Grant.user_id == w.users["admin"].id))
        s.execute(update(User).where(User.id == w.users["admin"].id).values(is_active=False))
    code, out, _err = shiyu("users", "create-admin", "--username", "admin", "--password-stdin", "--reset",
                            stdin=ADMIN_PASSWORD)
    assert code == 0 and "已重设 admin 的密码" in out
    assert client.get("/api/v1/auth/me", headers=old).status_code == 401
    me = client.get("/api/v1/auth/me", headers=login(client, "admin", ADMIN_PASSWORD)).json()
    assert me["is_active"] and [(g["role"], g["area_id"]) for g in me["grants"]] == [("admin", w.city.id)]


def test_list_set_password_and_deactivate(shiyu, client, system_session):
    populated(system_session)
    code, out, _err = shiyu("users", "list")
    assert code == 0 and "admin\t启用 active\tadmin@测试市" in out and "worker_a1" in out
    worker = login(client, "worker_a1")
    assert shiyu("users", "set-password", "worker_a1", "--password-stdin", stdin="123")[0] == 2
    assert shiyu("users", "set-password", "worker_a1", "--password-stdin", stdin=ADMIN_PASSWORD)[0] == 0
    assert client.get("/api/v1/auth/me", headers=worker).status_code == 401
    assert login(client, "worker_a1", ADMIN_PASSWORD)
    assert shiyu("users", "deactivate", "worker_a1")[0] == 0
    assert client.post("/api/v1/auth/token", json={"username": "worker_a1",
                                                   "password": ADMIN_PASSWORD}).status_code == 401
    code, _out, err = shiyu("users", "deactivate", "nobody")
    assert code == 2 and "没有用户名为 nobody 的账号" in err


def test_the_last_city_admin_stays_through_the_api(client, system_session):
    w = populated(system_session)
    h = login(client, "admin")
    admin, grant = w.users["admin"].id, w.users["admin"].grants[0].id
    for r in (client.delete(f"/api/v1/users/{admin}/grants/{grant}", headers=h),
              client.patch(f"/api/v1/users/{admin}", json={"is_active": False}, headers=h)):
        assert r.status_code == 409 and r.json()["code"] == "last_city_admin"
        assert "最后一位全市系统管理员" in r.json()["message"]
    r = client.patch(f"/api/v1/users/{admin}", json={"is_active": False}, headers={**h, "Accept-Language": "en"})
    assert r.json()["message"].startswith("This is the last city-wide administrator")
    assert client.get("/api/v1/auth/me", headers=h).json()["grants"], "nothing was removed"


def test_with_a_second_city_admin_the_first_may_go(client, system_session):
    w = populated(system_session)
    second = add_user(system_session, "deputy", w.city, [("admin", w.city)])
    local = add_user(system_session, "local_admin", w.community_a, [("admin", w.community_a)])
    system_session.commit()
    h = login(client, "admin")
    # an admin of a community is not city-wide: it may lose its grant
    assert client.delete(f"/api/v1/users/{local.id}/grants/{local.grants[0].id}", headers=h).status_code == 204
    assert client.patch(f"/api/v1/users/{second.id}", json={"is_active": False}, headers=h).status_code == 200
    r = client.delete(f"/api/v1/users/{w.users['admin'].id}/grants/{w.users['admin'].grants[0].id}", headers=h)
    assert r.status_code == 409, "a deactivated administrator does not count"
    assert client.patch(f"/api/v1/users/{second.id}", json={"is_active": True}, headers=h).status_code == 200
    r = client.delete(f"/api/v1/users/{w.users['admin'].id}/grants/{w.users['admin'].grants[0].id}", headers=h)
    assert r.status_code == 204
    deputy = login(client, "deputy")
    r = client.delete(f"/api/v1/users/{second.id}/grants/{second.grants[0].id}", headers=deputy)
    assert r.status_code == 409 and r.json()["code"] == "last_city_admin"


def test_the_last_city_admin_stays_through_the_pages_and_the_cli(app, shiyu, system_session):
    w = populated(system_session)
    admin, grant = w.users["admin"].id, w.users["admin"].grants[0].id
    with TestClient(app) as browser:
        page_login(browser, "admin")
        csrf = {"X-CSRF-Token": browser.cookies.get("shiyu_csrf")}
        for url in (f"/admin/users/{admin}/deactivate", f"/admin/users/{admin}/grants/{grant}/delete"):
            r = browser.post(url, headers=csrf)
            assert r.status_code == 409 and "最后一位全市系统管理员" in r.text, url
        assert browser.get("/").status_code == 200, "still logged in, still an administrator"
    code, _out, err = shiyu("users", "deactivate", "admin")
    assert code == 2 and "最后一位全市系统管理员" in err and "last city-wide administrator" in err
