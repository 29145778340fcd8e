"""S6 (cookies and proxies): ``Secure`` on every cookie comes from a setting (on by default outside demo
mode), not from the scheme the app happens to see; the proxies whose forwarded headers are believed are a
setting that ``shiyu serve`` hands to uvicorn."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from shiyu.app import create_app
from shiyu.cli import build_parser
from shiyu.core.audit import AuditEntry
from shiyu.core.config import Settings
from shiyu.core.scoping import Principal
from tests.factories import PASSWORD, populated


def _cookies(settings: Settings) -> list[str]:
    """Set-Cookie lines of the log-in form and of a log-in, as an app behind a TLS proxy sees them: http."""
    app = create_app(settings)
    with TestClient(app) as c:
        form = c.get("/login")
        cookies = {k: v for k, v in form.cookies.items()}
        done = c.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": cookies["shiyu_csrf"]},
                      headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}, follow_redirects=False)
        assert done.status_code == 303, done.text
    app.state.engine.dispose()
    return form.headers.get_list("set-cookie") + done.headers.get_list("set-cookie")


def _named(lines: list[str]) -> dict[str, str]:
    return {line.split("=", 1)[0]: line for line in lines}


@pytest.mark.parametrize(("demo", "setting", "secure"), [
    (False, None, True),   # production default: Secure although the app sees http
    (True, None, False),   # demo mode (make run, plain http on 127.0.0.1)
    (False, False, False),  # SHIYU_COOKIE_SECURE=0: a deliberate plain-http installation
    (True, True, True),
])
def test_secure_cookies_follow_the_setting(settings, system_session, demo, setting, secure):
    populated(system_session)
    cookies = _named(_cookies(settings.model_copy(update={"demo_mode": demo, "cookie_secure": setting})))
    assert {"shiyu_session", "shiyu_csrf", "shiyu_presession"} <= cookies.keys()
    for name in ("shiyu_session", "shiyu_csrf", "shiyu_presession"):
        assert ("; secure" in cookies[name].lower()) is secure, cookies[name]
    assert "httponly" in cookies["shiyu_session"].lower() and "httponly" not in cookies["shiyu_csrf"].lower()


def test_the_setting_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("SHIYU_DEMO_MODE", "1")
    assert Settings().secure_cookies is False
    monkeypatch.setenv("SHIYU_COOKIE_SECURE", "1")
    assert Settings().secure_cookies is True


def test_serve_hands_the_trusted_proxies_to_uvicorn(monkeypatch, settings):
    import uvicorn

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw, app=app))
    for name, value in {"SHIYU_DEMO_MODE": "0", "SHIYU_SECRET_KEY": settings.secret_key,
                        "SHIYU_PII_KEYS": settings.pii_keys, "SHIYU_FORWARDED_ALLOW_IPS": "10.0.0.2,10.0.0.3"}.items():
        monkeypatch.setenv(name, value)
    args = build_parser().parse_args(["serve", "--port", "8123"])
    args.handler(args)
    assert seen["proxy_headers"] is True and seen["forwarded_allow_ips"] == "10.0.0.2,10.0.0.3"


def test_behind_a_trusted_proxy_the_client_address_is_the_forwarded_one(app, system_session, factory):
    """What log-in throttling and the audit log see: the address the proxy forwarded, only from the proxy."""
    populated(system_session)
    proxied = ProxyHeadersMiddleware(app, trusted_hosts="10.0.0.2")
    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    body = {"username": "admin", "password": "not-the-password"}
    with TestClient(proxied, client=("10.0.0.2", 1)) as via_proxy, \
            TestClient(proxied, client=("10.0.0.99", 1)) as direct:
        via_proxy.post("/api/v1/auth/token", json=body, headers=forwarded)
        direct.post("/api/v1/auth/token", json=body, headers=forwarded)
    with factory() as s:
        s.info["principal"] = Principal.system()
        ips = s.scalars(select(AuditEntry.ip).where(AuditEntry.action == "login_failed").order_by(AuditEntry.id))
        assert list(ips) == ["203.0.113.9", "10.0.0.99"]
