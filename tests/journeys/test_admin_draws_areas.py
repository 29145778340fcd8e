"""Grids have no public source (issue 14): the administrator opens a community that has no grids yet, draws a
grid on its map point by point, names it with the suggested code and submits it; a second administrator
sees the proposal's card with its before/after map and approves it; the grid is then on the base map by name.
The first administrator also reshapes the community's outline on the map, which fills the proposal form.

Screenshots go to ``SHIYU_TEST_SHOTS_DIR`` (or the test's temporary directory) to be looked at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import WAIT_MS, log_in, running_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    from shiyu.org.areas.models import AreaLevel
    from tests.factories import add_area, add_user, box

    def fill(session, w) -> dict:
        c = add_area(session, "359901001003", "丙社区", AreaLevel.COMMUNITY, w.street, box(118.3, 24.45, 118.35, 24.5))
        add_user(session, "admin2", w.city, [("admin", w.city)])
        return {"c": c.id}

    with running_world(tmp_path_factory.mktemp("draws"), fill) as running:
        yield running


def _page(browser: Browser, world: dict) -> Page:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=world["url"], locale="zh-CN")
    context.set_default_timeout(WAIT_MS)
    return context.new_page()


def test_an_administrator_draws_a_grid_and_another_approves_it(browser: Browser, world: dict, shots: Path) -> None:
    page = _page(browser, world)
    log_in(page, "admin")
    page.goto(f"/admin/areas?area={world['ids']['c']}")
    area_map = page.locator("#area-map")
    expect(area_map.locator(".leaflet-interactive").first).to_be_attached()  # the outline is drawn
    page.get_by_role("button", name="画下级网格").click()
    expect(page.get_by_role("status").filter(has_text="逐点单击")).to_be_visible()
    frame = area_map.bounding_box()
    assert frame
    middle_x, middle_y = frame["x"] + frame["width"] / 2, frame["y"] + frame["height"] / 2
    corners = [(-60, -60), (60, -60), (60, 60), (-60, 60), (-60, -60)]  # the last click closes the outline
    for dx, dy in corners:
        page.mouse.click(middle_x + dx, middle_y + dy)
    expect(page.get_by_role("status").filter(has_text="范围已画好")).to_be_visible()
    form = page.locator("#draw-child")
    expect(form.get_by_label("编码")).to_have_value("359901001003001")
    form.get_by_label("名称").fill("丙社区第一网格")
    page.screenshot(path=str(shots / "admin-draws-grid.png"), full_page=True)
    form.get_by_role("button", name="提交新区域").click()
    expect(form.get_by_role("status")).to_contain_text("已提交「丙社区第一网格」的边界")

    # Reshaping the community's own outline fills the proposal form with the new boundary.
    page.reload()
    page.get_by_role("button", name="在地图上修改边界").click()
    expect(area_map).to_have_attribute("data-drawing", "edit")
    page.get_by_role("button", name="完成修改").click()
    expect(page.locator("#prop-geom")).to_have_value(re.compile(r'"type":"Polygon"'))
    expect(page.get_by_label("变更理由")).to_be_focused()
    page.context.close()

    approver = _page(browser, world)
    log_in(approver, "admin2")
    approver.goto("/admin/areas/proposals")
    card = approver.locator("article.proposal", has_text="丙社区第一网格")
    expect(card).to_contain_text("新画的区域，尚无现行边界")
    expect(card.locator(".proposal-map .leaflet-interactive").first).to_be_attached()  # the drawn outline
    approver.screenshot(path=str(shots / "admin-approves-drawn-grid.png"), full_page=True)
    card.get_by_role("button", name="批准").click()
    expect(approver.locator("article.proposal", has_text="丙社区第一网格")).to_contain_text("已批准")

    # The new grid is on the base map by name.
    approver.goto(f"/admin/areas?area={world['ids']['c']}")
    expect(approver.locator("#area-map .base-label", has_text="丙社区第一网格")).to_be_attached()
    approver.context.close()
