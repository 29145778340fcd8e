"""The city's own base map (issue 14): with no tile server configured — the usual case in a centre whose
machines reach no internet — a citizen on a phone opens the report form and the map is not a blank box: it
shows the city's districts by name; zooming in, the names of the grids appear, so a pin lands somewhere with a
name. The operator's case page shows the grid around the case the same way.

Screenshots go to ``SHIYU_TEST_SHOTS_DIR`` (or the test's temporary directory) to be looked at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import WAIT_MS, log_in, running_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    from shiyu.core.scoping import Principal
    from tests.cases.case_fixtures import make_category, report

    def fill(session, w) -> dict:
        w.extra["category"] = make_category(session)
        session.flush()
        case = report(session, w).case
        session.info["principal"] = Principal.system("journey")
        return {"case": case.id}

    with running_world(tmp_path_factory.mktemp("basemap"), fill) as running:
        yield running


def test_a_citizen_sees_the_city_by_name_on_a_phone_and_zooms_to_the_grids(browser: Browser, world: dict,
                                                                            shots: Path) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740}, base_url=world["url"], locale="zh-CN")
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.goto("/portal")
    pin_map = page.locator("#pin-map")
    labels = pin_map.locator(".base-label")
    expect(labels.first).to_be_visible()
    assert pin_map.get_attribute("data-base-level") in {"1", "2", "3"}  # the city as districts/streets, not grids
    page.screenshot(path=str(shots / "basemap-portal-phone.png"), full_page=True)
    for _ in range(8):  # zoom in, one step at a time, until the map names grids
        if pin_map.get_attribute("data-base-level") == "4":
            break
        with page.expect_response(lambda r: "/api/v1/map/base" in r.url):
            pin_map.locator(".leaflet-control-zoom-in").click()
    expect(pin_map).to_have_attribute("data-base-level", "4")
    # The grids around the middle of the view are named inside the view, though their middles are off screen.
    named = pin_map.locator(".base-label", has_text="网格")
    expect(named.first).to_be_visible()
    frame = pin_map.bounding_box()
    shown = [box for box in (named.nth(i).bounding_box() for i in range(named.count())) if box]
    assert frame and shown and all(frame["x"] <= b["x"] and b["x"] + b["width"] <= frame["x"] + frame["width"] + 1
                                   and frame["y"] <= b["y"] <= frame["y"] + frame["height"] for b in shown)
    page.screenshot(path=str(shots / "basemap-portal-grids-phone.png"), full_page=True)
    context.close()


def test_the_operator_sees_the_grid_around_the_case(browser: Browser, world: dict, shots: Path) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 850}, base_url=world["url"], locale="zh-CN")
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    log_in(page, "operator_a")
    page.goto(f"/desk/cases/{world['ids']['case']}")
    case_map = page.locator(".case-map")
    expect(case_map.locator(".base-label", has_text="甲社区第一网格")).to_be_attached()
    case_map.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "basemap-desk-case.png"), full_page=True)
    context.close()
