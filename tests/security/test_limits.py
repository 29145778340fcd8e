"""Limits and malformed input (security review 2026-12, S7, S8, S9 a/d/e/f): bodies over their route's
limit are 413 before they are read whole, permission and CSRF come before a body is parsed, anonymous
intake and log-in are rate-limited per address, NUL characters and integers past the database's range
are 422 (404 for an id in a path), and nested JSON, pixel floods and impossible times are refused."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from shiyu.app import create_app
from shiyu.cases.models import Case
from tests.cases.case_fixtures import POINT_A1, case_world
from tests.factories import World, login
from tests.web.test_portal import form


@pytest.fixture
def w(system_session) -> World:
    return case_world(system_session)


def _report(w, key: str, **extra) -> dict:
    return {"idempotency_key": key, "channel": "citizen", "category_id": w.extra["category"].id,
            "description": "井盖缺失", "location": POINT_A1, **extra}


def _client_with(settings, **changes):
    return create_app(settings.model_copy(update=changes))


def _chunks(total: int, size: int = 64 * 1024):
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


# -- S7: bodies ----------------------------------------------------------------------------------------


def test_a_body_over_its_limit_is_413_declared_or_streamed(settings, w) -> None:
    app = _client_with(settings, max_body_bytes=64 * 1024)
    with TestClient(app) as client:
        h = login(client, "worker_a1")
        declared = client.post("/api/v1/cases", content=b" " * (65 * 1024), headers=h | {
            "content-type": "application/json"})
        streamed = client.post("/api/v1/cases", content=_chunks(200 * 1024), headers=h | {
            "content-type": "application/json"})
        fits = client.post("/api/v1/cases", json=_report(w, "fits-0001", channel="grid"), headers=h)
    app.state.engine.dispose()
    for r in (declared, streamed):
        assert r.status_code == 413 and r.json()["code"] == "body_too_large", r.text
        assert r.json()["detail"] == {"limit_bytes": 64 * 1024} and "content-security-policy" in r.headers
    assert fits.status_code == 201, fits.text


def test_uploads_imports_and_reports_have_their_own_limits(settings, w) -> None:
    app = _client_with(settings, max_body_bytes=64 * 1024, max_upload_bytes=1024 * 1024,
                       max_report_bytes=1024 * 1024, max_import_bytes=1024 * 1024)
    with TestClient(app) as client:
        h = login(client, "admin")
        photo = client.post("/api/v1/attachments", headers=h,
                            files={"file": ("a.jpg", b"\xff\xd8\xff" + b"\0" * 300 * 1024, "image/jpeg")})
        big = client.post("/api/v1/attachments", headers=h,
                          files={"file": ("a.jpg", b"\xff\xd8\xff" + b"\0" * 1100 * 1024, "image/jpeg")})
        geojson = client.post("/api/v1/areas/import", headers=h | {"content-type": "application/json"},
                              content=b" " * (1100 * 1024))
    app.state.engine.dispose()
    assert photo.status_code != 413  # judged as a photo (unreadable here), not refused for its size
    assert big.status_code == 413 and geojson.status_code == 413, (big.text, geojson.text)


def test_area_import_checks_the_permission_before_the_body(client, w) -> None:
    """S7: a grid worker's 300 MB GeoJSON was read whole, then refused; now refused before reading."""
    def unread():
        yield b'{"type": "FeatureCollection", '
        raise AssertionError("the body was read")

    h = login(client, "worker_a1")
    r = client.post("/api/v1/areas/import", content=unread(), headers=h | {"content-type": "application/json"})
    assert r.status_code == 403 and r.json()["detail"] == {"permission": "area.import"}, r.text


def test_an_upload_without_credentials_is_refused_before_its_body(client, w) -> None:
    """FastAPI parses a multipart body before the dependencies that authenticate: the gate asks first."""
    def endless():
        yield b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n\r\n"
        raise AssertionError("the body was read")

    r = client.post("/api/v1/attachments", content=endless(),
                    headers={"content-type": "multipart/form-data; boundary=x"})
    assert r.status_code == 401 and r.json()["code"] == "unauthenticated", r.text


def test_the_portal_checks_csrf_before_parsing_the_form(client, w) -> None:
    """S7: the portal parsed a whole multipart body, then refused it for a missing token."""
    data = form(client) | {"category_id": str(w.extra["category"].id), "lon": "117.95", "lat": "24.6",
                           "description": "路面塌陷", "anonymous": "on"}
    token = client.headers.pop("X-CSRF-Token")
    in_form_only = client.post("/portal/report", data=data)
    assert in_form_only.status_code == 403
    in_action_url = client.post(f"/portal/report?csrf_token={token}", data=data)
    assert in_action_url.status_code == 200, in_action_url.text[:300]


def test_report_attributes_are_bounded(client, system_session, w) -> None:
    category = system_session.merge(w.extra["category"])
    category.fields = [{"name": "owner", "label_zh": "权属单位", "label_en": "Owner", "type": "text"}]
    system_session.commit()
    h = login(client, "worker_a1")
    r = client.post("/api/v1/cases", headers=h, json=_report(w, "attrs-big-01", channel="grid",
                                                             attributes={"owner": "x" * 17000}))
    assert r.status_code == 422 and r.json()["code"] == "validation_failed", r.text
    assert r.json()["detail"][0]["field"] == "attributes", r.text
    assert system_session.scalar(select(Case.id)) is None


# -- S7: rate limits -----------------------------------------------------------------------------------


def test_anonymous_reports_are_rate_limited_per_address(settings, w) -> None:
    app = _client_with(settings, anonymous_reports_per_address=2)
    with TestClient(app, client=("10.1.1.1", 5000)) as one, TestClient(app, client=("10.1.1.2", 5000)) as other:
        answers = [one.post("/api/v1/cases", json=_report(w, f"anon-rate-{i:03d}")) for i in range(3)]
        elsewhere = other.post("/api/v1/cases", json=_report(w, "anon-rate-other"))
        staff = one.post("/api/v1/cases", json=_report(w, "staff-rate-001", channel="grid"),
                         headers=login(one, "worker_a1"))
    app.state.engine.dispose()
    assert [a.status_code for a in answers[:2]] == [201, 201], answers[0].text
    assert answers[2].status_code == 429 and answers[2].json()["code"] == "rate_limited"
    assert 1 <= int(answers[2].headers["retry-after"]) <= 600
    assert elsewhere.status_code == 201 and staff.status_code == 201


def test_log_ins_are_rate_limited_per_address(settings, w) -> None:
    app = _client_with(settings, logins_per_address=3)
    with TestClient(app, client=("10.2.2.2", 5000)) as client:
        answers = [client.post("/api/v1/auth/token", json={"username": "admin", "password": "Passw0rd-Test!"})
                   for _ in range(4)]
        page = client.post("/login", data={"username": "admin", "password": "x"})
    app.state.engine.dispose()
    assert answers[3].status_code == 429 and answers[3].headers["retry-after"], answers[3].text
    assert page.status_code == 429 and page.headers["content-type"].startswith("text/html")


# -- S8, S9 a: NUL characters and integer ranges -------------------------------------------------------


def test_nul_characters_are_refused_everywhere(client, system_session, w) -> None:
    h = login(client, "admin")
    answers = {
        "path": client.get("/api/v1/track/A%00B"),
        "query": client.get("/api/v1/users?q=%00", headers=h),
        "page query": client.get("/portal/track?code=A%00B"),
        "json": client.post("/api/v1/auth/token", json={"username": "demo\u0000admin", "password": "x" * 10}),
        "anonymous report": client.post("/api/v1/cases", json=_report(w, "nul-00001", description="abc\u0000def")),
        "form": client.post("/login", data={"username": "a\u0000b", "password": "x"}),
    }
    for where, r in answers.items():
        assert r.status_code == 422, (where, r.status_code, r.text[:200])
        if not r.headers["content-type"].startswith("text/html"):
            assert r.json()["code"] == "invalid_input", where
    assert system_session.scalar(select(Case.id)) is None
    escaped = client.post("/api/v1/cases", json=_report(w, "nul-00002", description="a literal \\u0000 text"))
    assert escaped.status_code == 201, escaped.text


def test_nul_in_a_portal_form_is_refused(client, system_session, w) -> None:
    data = form(client) | {"category_id": str(w.extra["category"].id), "lon": "117.95", "lat": "24.6",
                           "description": "路面\u0000塌陷", "anonymous": "on"}
    r = client.post("/portal/report", data=data, files=[("photos", ("", b"", "application/octet-stream"))])
    assert r.status_code == 422
    assert system_session.scalar(select(Case.id)) is None


@pytest.mark.parametrize("big", [2**31, 2**63, 10**30])
def test_integers_past_the_column_range(client, w, big) -> None:
    h = login(client, "admin")
    assert client.get(f"/api/v1/cases/{big}", headers=h).status_code == 404
    assert client.get(f"/api/v1/users/{big}", headers=h).status_code == 404
    for url in (f"/api/v1/cases?area_id={big}", f"/api/v1/cases?offset={big * 2**32}"):
        r = client.get(url, headers=h)
        assert r.status_code == 422 and r.json()["code"] == "invalid_input", (url, r.text)
    for body in (_report(w, "big-int-001", category_id=big), _report(w, "big-int-002", attachment_ids=[big])):
        r = client.post("/api/v1/cases", json=body, headers=h)
        assert r.status_code == 422, r.text


def test_largest_ids_still_answer_not_found(client, w) -> None:
    h = login(client, "admin")
    assert client.get(f"/api/v1/cases/{2**31 - 1}", headers=h).status_code == 404
    assert client.get("/api/v1/cases?offset=9223372036854775807", headers=h).status_code == 200


# -- S9 d, e, f ----------------------------------------------------------------------------------------


def test_deeply_nested_json_import_is_refused(client, w) -> None:
    r = client.post("/api/v1/areas/import", content=b"[" * 100_000,
                    headers=login(client, "admin") | {"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_geojson", r.text


def pixel_flood_png(width: int = 20_000, height: int = 20_000) -> bytes:
    """A small PNG that declares 400 million pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\0" * (width + 1) * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def test_a_pixel_flood_is_refused_by_the_api_and_the_portal(client, w) -> None:
    png = pixel_flood_png()
    api = client.post("/api/v1/attachments", headers=login(client, "worker_a1"),
                      files={"file": ("flood.png", png, "image/png")})
    assert api.status_code == 422 and api.json()["code"] == "image_too_large", api.text
    client.headers.pop("Authorization", None)
    data = form(client) | {"category_id": str(w.extra["category"].id), "lon": "117.95", "lat": "24.6",
                           "description": "路面塌陷", "anonymous": "on"}
    portal = client.post("/portal/report", data=data, files=[("photos", ("flood.png", png, "image/png"))])
    assert portal.status_code == 422 and "像素" in portal.text


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
                                  "1999-12-31T23:59:59+00:00", "FUTURE"])
def test_implausible_occurrence_times_are_refused(client, system_session, w, when) -> None:
    if when == "FUTURE":
        when = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    r = client.post("/api/v1/cases", json=_report(w, "when-00001", channel="grid", occurred_at=when),
                    headers=login(client, "worker_a1"))
    assert r.status_code == 422 and "occurred_at" in r.text, r.text
    assert system_session.scalar(select(Case.id)) is None


def test_a_plausible_occurrence_time_is_taken(client, w) -> None:
    when = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
    r = client.post("/api/v1/cases", json=_report(w, "when-00002", channel="grid", occurred_at=when),
                    headers=login(client, "worker_a1"))
    assert r.status_code == 201, r.text


def test_every_route_limit_names_a_route_that_exists(app) -> None:
    """The gate matches paths before routing: a renamed route must not silently lose its limit."""
    from starlette.routing import Match

    from shiyu.web.limits import ROUTE_LIMITS

    for limit in ROUTE_LIMITS:
        example = limit.path.pattern.replace(r"(import|\d+/propose)", "import")
        scope = {"type": "http", "method": limit.method, "path": example, "root_path": "", "headers": []}
        assert any(route.matches(scope)[0] is Match.FULL for route in app.router.routes), example
