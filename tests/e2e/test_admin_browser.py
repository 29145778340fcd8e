"""The administration pages in a real browser: log in, the areas map, an import dry run and confirm,
approval of a boundary proposal by a second user, the language switch, and phone-size layout."""

from __future__ import annotations

import json

from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in
from tests.factories import box

DESKTOP = {"width": 1366, "height": 850}


def test_login_form_and_areas_map_draws_boundaries(page: Page, live: dict) -> None:
    log_in(page, "admin")
    expect(page.locator("h1")).to_contain_text("欢迎")
    page.goto(f"/admin/areas?area={live['ids']['street']}")
    paths = page.locator("#area-map path.leaflet-interactive")
    expect(paths.first).to_be_visible()
    assert paths.count() >= 2  # communities A and B (plus the street's own outline, not interactive)
    # Click a child on the map: the page opens that area.
    page.locator("#area-map .leaflet-tooltip", has_text="甲社区").wait_for()
    page.locator("nav.sidebar a[href='/admin/areas']").wait_for()


def test_import_dry_run_shows_report_then_imports(page: Page, live: dict, tmp_path) -> None:
    log_in(page, "admin")
    page.goto("/admin/areas/import")
    collection = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": box(117.9, 24.55, 118.05, 24.7),
        "properties": {"code": "359901001001001", "name": "甲社区第一网格", "level": "grid",
                       "parent_code": "359901001001", "population": 1234, "households": 400}}]}
    path = tmp_path / "areas.geojson"
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    page.set_input_files("#import-file", str(path))
    page.click("button[name=dry_run][value='1']")
    report = page.locator("#report")
    expect(report).to_have_attribute("data-import-state", "valid")
    expect(report.locator("tr.feature-row")).to_have_count(1)
    expect(report.locator("tr.feature-row")).to_contain_text("甲社区第一网格")
    confirm = page.locator("button[name=dry_run][value='0']")
    expect(confirm).to_be_visible()
    confirm.click()
    expect(page.locator("#report")).to_have_attribute("data-import-state", "written")


def test_boundary_proposal_needs_a_second_user(browser, live: dict) -> None:
    grid = live["ids"]["a1"]
    new = box(117.9, 24.55, 118.05, 24.69)
    first = browser.new_context(base_url=live["url"], viewport=DESKTOP, locale="zh-CN").new_page()
    log_in(first, "leader_a")
    first.goto(f"/admin/areas?area={grid}")
    first.locator("details.more summary").click()
    first.fill("#prop-geom", json.dumps(new))
    first.fill("#prop-note", "北侧边界按道路调整")
    first.click("#propose-result >> xpath=.. >> button[type=submit]")
    expect(first.locator("#propose-result .alert.ok")).to_be_visible()
    # The proposer cannot approve it: no buttons for their own proposal.
    first.goto("/admin/areas/proposals")
    card = first.locator("article.proposal").first
    expect(card).to_contain_text("甲社区第一网格")
    expect(card.locator("button", has_text="批准")).to_have_count(0)
    first.context.close()

    second = browser.new_context(base_url=live["url"], viewport=DESKTOP, locale="zh-CN").new_page()
    log_in(second, "admin")
    second.goto("/admin/areas/proposals")
    card = second.locator("article.proposal", has_text="甲社区第一网格")
    card.locator("input[name=note]").fill("同意")
    card.locator("button", has_text="批准").click()
    done = second.locator("article.proposal[data-status=approved]")
    expect(done).to_contain_text("已批准")
    second.context.close()


def test_language_switch(page: Page, live: dict) -> None:
    log_in(page, "admin")
    page.goto("/admin/users")
    expect(page.locator("h1")).to_have_text("用户与授权")
    page.click("a.lang")
    expect(page.locator("h1")).to_have_text("Users and grants")
    page.goto("/admin/audit")  # the choice sticks (cookie)
    expect(page.locator("h1")).to_have_text("Audit log")
    page.click("a.lang")
    expect(page.locator("h1")).to_have_text("审计日志")


def _no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1], f"horizontal scroll: content {width[0]} px in a {width[1]} px viewport"


def test_phone_viewport_has_no_horizontal_scroll(browser, live: dict) -> None:
    context = browser.new_context(base_url=live["url"], viewport={"width": 360, "height": 740}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2, locale="zh-CN")
    page = context.new_page()
    page.goto("/login")
    _no_horizontal_scroll(page)
    log_in(page, "leader_a")
    _no_horizontal_scroll(page)
    # The menu opens from the top bar on a phone.
    page.click(".menu-toggle")
    expect(page.locator("#sidebar a[href='/admin/users']")).to_be_visible()
    context.close()


def test_the_area_picker_shows_answers_to_what_the_field_says(page: Page, live: dict) -> None:
    """The picker asks when the field gets focus and again after typing; when the first answer comes last
    (slow network), its list must not replace the answer to the typed text — a grid worker's supervisor
    would otherwise tap an area under a list that changes under the finger. Typing after a choice undoes
    the choice: the form must not send an area the field no longer names."""
    log_in(page, "admin")

    def late_when_empty(route) -> None:  # the focus search (q=) answers after the typed one
        if route.request.url.endswith("q="):
            page.wait_for_timeout(1200)
        route.continue_()

    page.route("**/admin/areas/search.json*", late_when_empty)
    page.goto("/admin/users/new")
    picker = page.locator(".picker", has=page.locator("#pick-home_area_id"))
    field, chosen = picker.locator("#pick-home_area_id"), picker.locator("input[name=home_area_id]")
    empty_field = lambda r: "/admin/areas/search.json" in r.url and r.url.endswith("q=")  # noqa: E731
    with page.expect_event("requestfinished", empty_field):
        field.fill("乙社区")
        expect(picker.locator("li button").first).to_contain_text("乙社区")
    # The late answer has been read: two frames later the page has done with it whatever it does.
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    buttons = picker.locator("li button")
    expect(buttons.first).to_be_visible()
    assert all("乙社区" in text for text in buttons.all_inner_texts())  # none of the empty field's answer
    buttons.first.click()  # the community itself, before its grids
    expect(field).to_have_value("乙社区")
    expect(chosen).not_to_have_value("")
    field.press("End")
    field.type("x")
    expect(chosen).to_have_value("")  # the text no longer names the chosen area
