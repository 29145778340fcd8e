"""The command view in a real browser: the map draws the area and the case markers, the KPI cards show,
and a case filed through the API while the page is open appears on the map without a reload."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import SKIP_REASON, WAIT_MS, log_in, running_world
from tests.factories import PASSWORD


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Its own server on the small world, a category, and one case in grid a1."""
    if SKIP_REASON:
        pytest.skip(SKIP_REASON)
    from tests.cases.case_fixtures import fixture_calendar, make_category

    def fill(session, w) -> dict:
        fixture_calendar(session)
        category = make_category(session)
        session.flush()
        return {"category": category.id}

    with running_world(tmp_path_factory.mktemp("command"), fill, backend="sqlite") as running:
        yield running


def file_case(url: str, category: int, key: str) -> int:
    with httpx.Client(base_url=url, timeout=10) as api:
        token = api.post("/api/v1/auth/token", json={"username": "worker_a1", "password": PASSWORD}).json()
        r = api.post("/api/v1/cases", headers={"Authorization": f"Bearer {token['access_token']}"},
                     json={"idempotency_key": key, "channel": "grid", "category_id": category,
                           "description": "井盖缺失，存在安全隐患", "location": {"lon": 117.95, "lat": 24.6}})
        assert r.status_code == 201, r.text
        return r.json()["id"]


def test_map_markers_kpis_and_a_live_case(browser: Browser, world: dict) -> None:
    file_case(world["url"], world["ids"]["category"], "e2e-command-first")
    context = browser.new_context(base_url=world["url"], viewport={"width": 1366, "height": 850}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    try:
        log_in(page, "leader_a")
        page.goto("/command")
        board = page.locator("#command-map")
        expect(board).to_have_attribute("data-ready", "1")
        expect(board).to_have_attribute("data-count", "1")
        expect(page.locator("#command-map path.leaflet-interactive").first).to_be_visible()  # the boundaries
        expect(page.locator("#command-map .case-marker, #command-map .case-cluster").first).to_be_visible()
        expect(page.locator('[data-kpi="reported"]')).to_be_visible()
        expect(page.locator('[data-kpi="score"]')).to_be_visible()
        expect(page.locator("#trend-chart canvas")).to_have_count(1)
        expect(page.locator("#live-status")).to_have_attribute("data-state", "on")

        case_id = file_case(world["url"], world["ids"]["category"], "e2e-command-live")
        expect(board).to_have_attribute("data-count", "2")  # no reload: the announcement brought it
        expect(board).to_have_attribute("data-updated", str(case_id))
        page.check("#layers input[name=overdue]")
        expect(board).to_have_attribute("data-count", "0")
    finally:
        context.close()
