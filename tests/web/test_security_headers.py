"""Security headers (review S6, ``shiyu.web.security_headers``): every page of the router, the API, static
files, errors and /api/docs carry the Content-Security-Policy, no-framing, nosniff and Referrer-Policy headers,
and HSTS outside demo mode; the tile server named by SHIYU_TILE_URL is allowed for images."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.responses import PlainTextResponse

from shiyu.core.config import Settings
from shiyu.web.security_headers import SecurityHeaders, content_security_policy, tile_source
from tests.factories import populated
from tests.security.page_routes import page_paths, page_urls
from tests.web.test_pages import log_in

POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
          "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
          "frame-ancestors 'none'")


def assert_secured(response, hsts: str | None = "max-age=31536000") -> None:
    h = response.headers
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    assert h.get("content-security-policy") == POLICY, where
    assert h.get("x-content-type-options") == "nosniff", where
    assert h.get("x-frame-options") == "DENY", where
    assert h.get("referrer-policy") == "strict-origin-when-cross-origin", where
    assert h.get("strict-transport-security") == hsts, where


def test_the_policy_allows_no_inline_script_eval_or_framing() -> None:
    policy = content_security_policy(Settings(demo_mode=True))
    assert policy == POLICY
    assert "unsafe" not in policy


def test_every_page_api_answer_static_file_and_error_carries_the_headers(client, system_session) -> None:
    w = populated(system_session)
    ids = {"area_id": w.community_a.id, "department_id": w.departments["a"].id, "category_id": 999_999,
           "user_id": w.users["leader_a"].id, "case_id": 999_999, "report_id": 999_999, "import_id": 999_999,
           "building_id": 999_999, "house_id": 999_999, "person_id": 999_999, "assignment_id": 999_999,
           "dispute_id": 999_999, "petition_id": 999_999, "org_id": 999_999, "mediator_id": 999_999,
           "record_id": 999_999, "code": "MD00000000000000"}
    expected = {"/", "/login", "/desk", "/command", "/portal", "/field", "/admin/users/{user_id}", "/api/docs"}
    assert expected <= set(page_paths(client.app))
    anonymous = [client.get(url, follow_redirects=False) for url in page_urls(client.app, ids)]
    log_in(client, "admin")
    logged_in = [client.get(url, follow_redirects=False) for url in page_urls(client.app, ids)]
    assert {r.status_code for r in logged_in} >= {200, 404}
    others = [client.get("/api/v1/auth/me"), client.get("/api/v1/openapi.json"), client.get("/healthz"),
              client.get("/static/shiyu.js"), client.get("/no/such/page"), client.post("/api/v1/auth/token", json={})]
    for response in anonymous + logged_in + others:
        assert_secured(response)


def test_api_docs_serve_vendored_swagger_ui_without_inline_script(client) -> None:
    r = client.get("/api/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert '<script src="/static/vendor/swagger-ui-dist-5.35.0/swagger-ui-bundle.js"></script>' in r.text
    assert '<script src="/static/api-docs.js"></script>' in r.text
    assert 'data-spec="/api/v1/openapi.json"' in r.text
    assert "<script>" not in r.text and "cdn" not in r.text.lower()
    for asset in ("/static/vendor/swagger-ui-dist-5.35.0/swagger-ui-bundle.js",
                  "/static/vendor/swagger-ui-dist-5.35.0/swagger-ui.css", "/static/api-docs.js"):
        assert client.get(asset).status_code == 200, asset


@pytest.mark.parametrize(("demo", "seconds", "expected"), [
    (False, None, "max-age=31536000"), (True, None, None), (False, 0, None), (True, 600, "max-age=600"),
])
def test_hsts_follows_the_setting_and_demo_mode(demo: bool, seconds: int | None, expected: str | None) -> None:
    settings = Settings(demo_mode=demo, hsts_seconds=seconds, secret_key="x" * 40, pii_keys="k:" + "A" * 44)
    app = FastAPI()
    app.add_middleware(SecurityHeaders, settings=settings)
    app.get("/")(lambda: {"ok": True})
    assert TestClient(app).get("/").headers.get("strict-transport-security") == expected


def test_an_answer_keeps_the_headers_it_sets_itself() -> None:
    app = FastAPI()
    app.add_middleware(SecurityHeaders, settings=Settings(demo_mode=True))
    app.get("/own")(lambda: PlainTextResponse("x", headers={"X-Frame-Options": "SAMEORIGIN"}))
    r = TestClient(app).get("/own")
    assert r.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(("url", "source"), [
    (None, None),
    ("/tiles/{z}/{x}/{y}.png", None),
    ("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", "https://*.tile.openstreetmap.org"),
    ("https://t{s}.tianditu.gov.cn/vec_w/wmts?TILEMATRIX={z}&TILEROW={y}&TILECOL={x}", "https://*.tianditu.gov.cn"),
    ("http://tiles.example.org:8080/{z}/{x}/{y}.png", "http://tiles.example.org:8080"),
    ("//tiles.example.org/{z}/{x}/{y}.png", "tiles.example.org"),
    ("https://tiles.{s}.example.org/{z}/{x}/{y}.png", "https:"),
])
def test_the_tile_server_is_allowed_for_images(url: str | None, source: str | None) -> None:
    assert tile_source(url) == source
    policy = content_security_policy(Settings(demo_mode=True, tile_url=url))
    images = next(d for d in policy.split("; ") if d.startswith("img-src "))
    assert images == "img-src 'self' data: blob:" + (f" {source}" if source else "")
