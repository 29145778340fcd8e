"""The field app's pages through TestClient: each screen renders for a grid worker with its data (the
category list, the verification queue and the patrols due, the grid outline), people without a patrol role
get a 403 page, no session redirects to the log-in; the manifest, the service worker and the icons are
served with the right types and headers; the page session works for the patrol API with the CSRF header
and not without it."""

from __future__ import annotations

import json
import re

import pytest

from shiyu.core.timeutil import utcnow
from tests.cases.case_fixtures import act, case_world, evidence, report
from tests.factories import World
from tests.web.test_pages import log_in

SCREENS = ("/field", "/field/tasks", "/field/patrol", "/field/grid")


@pytest.fixture
def world(system_session) -> World:
    w = case_world(system_session)
    case = report(system_session, w, "leader_grid_a1").case
    case = act(system_session, w, "operator_a", case, "register")
    case = act(system_session, w, "operator_a", case, "dispatch", fields={"department_id": w.departments["a"].id})
    case = act(system_session, w, "handler_a", case, "accept")
    act(system_session, w, "handler_a", case, "report_result", attachment_ids=[evidence(system_session, "handler_a")])
    w.extra["to_verify"] = case.id
    return w


@pytest.mark.parametrize("url", SCREENS)
def test_every_screen_renders_for_a_grid_worker(client, world, url):
    log_in(client, "worker_a1")
    r = client.get(url)
    assert r.status_code == 200, r.text[:500]
    text = r.text
    assert '<link rel="manifest" href="/field/manifest.webmanifest">' in text and "field.js" in text
    assert "{{" not in text and "field." not in re.sub(r'(href|src|id|class)="[^"]*"|/field[\w./-]*', "", text)
    assert r.headers["cache-control"] == "private, no-cache"
    assert text.count('class="f-tabs"') == 1 and text.count("aria-current=\"page\"") == 1
    texts = json.loads(re.search(r'<script type="application/json" id="field-texts">(.*?)</script>', text).group(1))
    assert texts["offline"].startswith("没有网络")


def test_screens_carry_their_data(client, world):
    log_in(client, "worker_a1")
    cats = re.search(r'id="categories">(.*?)</script>', client.get("/field").text).group(1)
    assert json.loads(cats) == [{"id": world.extra["category"].id, "name": "占道经营", "zh": "占道经营",
                                 "major": "测试大类"}]
    tasks = client.get("/field/tasks").text
    assert f'id="case-{world.extra["to_verify"]}"' in tasks and 'data-verdict="verify_fail"' in tasks
    assert "甲社区第一网格" in tasks and f'href="/field/patrol?grid={world.grids["a1"].id}"' in tasks
    patrol = client.get("/field/patrol").text
    assert f'name="grid_id" value="{world.grids["a1"].id}"' in patrol and 'value="visit"' in patrol
    grid = client.get("/field/grid").text
    outlines = json.loads(re.search(r'id="outlines">(.*?)</script>', grid).group(1))
    assert [f["properties"]["name"] for f in outlines["features"]] == ["甲社区第一网格"]
    assert outlines["features"][0]["geometry"]["type"] == "Polygon"


def test_a_grid_leader_patrols_every_grid_of_the_area(client, world):
    log_in(client, "leader_grid_a1")
    patrol = client.get("/field/patrol?grid=999999").text
    assert '<select id="c-grid" name="grid_id">' not in patrol  # one grid: no choice to make
    assert client.get("/field/tasks").status_code == 200


def test_english_and_navigation(client, world):
    log_in(client, "worker_a1")
    assert "Report a problem" in client.get("/field?lang=en").text
    home = client.get("/?lang=zh").text
    assert 'href="/field"' in home and "网格员手机端" in home
    log_in(client, "operator_a")
    assert 'href="/field"' not in client.get("/").text


def test_without_a_patrol_role_or_a_session(client, world):
    for url in SCREENS:
        r = client.get(url, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login?next=" + url
    log_in(client, "operator_a")
    assert client.get("/field").status_code == 403


def test_manifest_worker_and_icons_are_served(client):
    m = client.get("/field/manifest.webmanifest")
    assert m.status_code == 200 and m.headers["content-type"].startswith("application/manifest+json")
    body = m.json()
    assert body["name"] == "市域网格通" and body["start_url"] == "/field" and body["scope"] == "/field"
    assert body["display"] == "standalone" and {i["sizes"] for i in body["icons"]} == {"192x192", "512x512"}
    sw = client.get("/field/sw.js")
    assert sw.status_code == 200 and sw.headers["content-type"].startswith("text/javascript")
    assert sw.headers["service-worker-allowed"] == "/field" and sw.headers["cache-control"] == "no-cache"
    shell = json.loads(re.search(r"var SHELL = (\[.*?\]);", sw.text).group(1))
    assert "/static/field.js" in shell and "/static/vendor/leaflet-1.9.4/leaflet.js" in shell
    for url in shell:
        assert client.get(url).status_code == 200, url
    assert re.search(r'var CACHE = "shiyu-field-[0-9a-f]{12}";', sw.text)
    for size in (192, 512):
        icon = client.get(f"/field/icon-{size}.png")
        assert icon.status_code == 200 and icon.headers["content-type"] == "image/png"
        assert icon.content[:8] == b"\x89PNG\r\n\x1a\n" and icon.content[16:24] == size.to_bytes(4, "big") * 2
    assert client.get("/field/icon-64.png").status_code == 404


def test_the_page_session_sends_to_the_api_with_the_csrf_header(client, world):
    csrf = log_in(client, "worker_a1")
    sent = {"idempotency_key": "cookie-session-01", "kind": "patrol", "location": {"lon": 117.95, "lat": 24.6},
            "client_time": utcnow().isoformat()}
    refused = client.post("/api/v1/patrol/checkins", json=sent)
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    ok = client.post("/api/v1/patrol/checkins", json=sent, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201, ok.text
    beat = client.post("/api/v1/patrol/presence", headers={"X-CSRF-Token": csrf})
    assert beat.status_code == 200 and beat.json()["minutes"] == 5
    assert "<b id=\"minutes\">5</b>" in client.get("/field/grid").text
