"""A grid worker registers a family that moved into their grid: on a 360 px phone they fill in the address
and the members (one ID number mistyped, which the page explains next to the form), submit, and see the
change waiting for review, masked. The community centre's operator reviews it and accepts it on the desktop;
the family is then in the register — on the house's page and on each person's profile, masked, with the
name revealed only after giving a reason. The data-quality page says its counts are not made yet until the
worker's quarter-hourly job has run, then shows the family in the grid's row with the time of the count. A
worker of another community sees none of it, through the pages or the API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from shiyu.core.jobs import JobContext
from shiyu.registry.quality import refresh_quality
from tests.e2e.conftest import WAIT_MS, log_in, running_world
from tests.registry.registry_fixtures import id_number

HEAD, SPOUSE = id_number("19850312"), id_number("19870921")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    with running_world(tmp_path_factory.mktemp("registry"), lambda _s, w: {"grid_a1": w.grids["a1"].id}) as running:
        yield running


def _page(browser: Browser, world: dict, width: int, height: int) -> Page:
    context = browser.new_context(viewport={"width": width, "height": height}, base_url=world["url"],
                                  locale="zh-CN")
    context.set_default_timeout(WAIT_MS)
    return context.new_page()


def test_a_new_family_reaches_the_register_after_the_operators_review(browser: Browser, world: dict) -> None:
    phone = _page(browser, world, 360, 740)
    log_in(phone, "worker_a1")
    phone.goto("/registry/changes")
    phone.get_by_role("link", name="新增住户").click()
    expect(phone.locator("h1")).to_have_text("新增住户")
    phone.fill("#road", "和平里")
    phone.fill("#building_no", "2")
    phone.fill("#unit_no", "1")
    phone.fill("#room_no", "302")
    phone.select_option("#use", label="出租")
    phone.fill("#m0_name", "陈明")
    phone.fill("#m0_id_number", HEAD[:17] + ("1" if HEAD[17] != "1" else "2"))  # one character mistyped
    phone.select_option("#m0_relation", "户主")
    phone.select_option("#m0_residence_type", label="流动")
    phone.fill("#m1_name", "林红")
    phone.fill("#m1_id_number", SPOUSE)
    phone.select_option("#m1_relation", "配偶")
    phone.get_by_role("button", name="提交审核").click()
    expect(phone.locator(".field-error, .alert.error").first).to_contain_text("校验位")
    phone.fill("#m0_id_number", HEAD)
    phone.get_by_role("button", name="提交审核").click()
    phone.wait_for_url("**/registry/changes?status=submitted*")
    card = phone.locator("section.card", has_text="住户")
    expect(card).to_contain_text("陈*")
    expect(card).not_to_contain_text("陈明")
    expect(card).not_to_contain_text(HEAD)

    desk = _page(browser, world, 1366, 850)
    log_in(desk, "operator_a")
    desk.goto("/registry/changes")
    desk.get_by_role("button", name="初审通过").click()
    desk.get_by_role("link", name="已初审").click()
    desk.get_by_role("button", name="审核入库").click()
    desk.wait_for_url("**/registry/changes?status=accepted*")
    expect(desk.locator("section.card", has_text="住户")).to_contain_text("林*")

    desk.goto(f"/registry?area={world['ids']['grid_a1']}")
    desk.get_by_role("link", name="和平里 2栋 1单元 302").click()
    residents = desk.locator("#residents")
    expect(residents).to_contain_text("陈*")
    expect(residents).to_contain_text("林*")
    desk.get_by_role("link", name="陈*").click()
    expect(desk.locator("#pii-name")).to_contain_text("陈*")
    expect(desk.locator("body")).not_to_contain_text("公安备注")
    desk.locator("#pii-name summary").click()
    desk.fill("#reason-name", "核实住户身份")
    desk.locator("#pii-name").get_by_role("button").click()
    expect(desk.locator("#reveal-name")).to_contain_text("陈明")

    phone.goto("/registry/changes?status=accepted")
    expect(phone.locator("section.card", has_text="住户")).to_contain_text("陈*")

    desk.get_by_role("link", name="数据质量").first.click()
    expect(desk.locator("#quality-as-of")).to_contain_text("尚未统计")
    refresh_quality(JobContext(world["settings"], world["factory"]))  # the worker's periodic job
    desk.reload()
    expect(desk.locator("#quality-as-of")).to_contain_text("统计于")
    grid_row = desk.locator(f"#grid-{world['ids']['grid_a1']}")
    expect(grid_row).to_contain_text("甲社区第一网格")
    expect(grid_row.locator("td").nth(3)).to_have_text("2")  # 陈明 and 林红
    phone.goto("/registry/quality")
    expect(phone.locator(f"#grid-{world['ids']['grid_a1']}").locator("td").nth(3)).to_have_text("2")


def test_a_worker_of_another_community_sees_none_of_it(browser: Browser, world: dict) -> None:
    page = _page(browser, world, 1366, 850)
    log_in(page, "worker_b1")
    page.goto("/registry")
    expect(page.locator("main")).not_to_contain_text("甲社区")
    listed = page.request.get("/api/v1/registry/persons").json()
    assert listed["total"] == 0 and listed["items"] == []
    by_number = page.request.get(f"/api/v1/registry/persons?id_number={HEAD}").json()
    assert by_number["total"] == 0
    houses = page.request.get("/api/v1/registry/houses").json()
    assert houses["total"] == 0
    own = _page(browser, world, 1366, 850)
    log_in(own, "worker_a1")
    person_id = own.request.get(f"/api/v1/registry/persons?id_number={HEAD}").json()["items"][0]["id"]
    house_id = own.request.get("/api/v1/registry/houses").json()["items"][0]["id"]
    for path in (f"/registry/persons/{person_id}", f"/registry/houses/{house_id}"):
        response = page.goto(path)
        assert response is not None and response.status == 404
        expect(page.locator("main")).not_to_contain_text("和平里")
    assert page.request.get(f"/api/v1/registry/persons/{person_id}").status == 404
