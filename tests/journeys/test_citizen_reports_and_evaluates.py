"""A resident on a 360 px phone reports a pothole with the 道路破损 tile, pins it by the place search and sees
which district, street, community and grid that is; forgetting the description gets a Chinese message beside
it (never a browser bubble). The receipt gives a tracking code and a six-character evaluation code. While the
case moves through the centre and a department, the tracking page says in plain words who has it and by when,
with internal hops folded. Once it is closed the resident — on another phone, without the code remembered —
reads the department's reply, sees the after-photo, and evaluates with the short code typed by hand.

Screenshots (360 px) go to ``SHIYU_TEST_SHOTS`` when it names a folder."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from shiyu.cases.categories.seed import seed_categories
from tests.cases.case_fixtures import fixture_calendar
from tests.e2e.conftest import WAIT_MS, running_world
from tests.journeys.loop_helpers import act, photo

PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    def fill(s, w) -> dict:
        fixture_calendar(s)
        seed_categories(s)
        return {"grid": w.grids["a1"].name, "community": w.community_a.name, "street": w.street.name,
                "district": w.district.name, "department": w.departments["a"].id,
                "department_name": w.departments["a"].name, "centre": f"{w.community_a.name}综治中心"}

    with running_world(tmp_path_factory.mktemp("citizen"), fill) as running:
        yield running


def _phone(browser: Browser, world: dict) -> Page:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  base_url=world["url"], locale="zh-CN")
    context.set_default_timeout(WAIT_MS)
    return context.new_page()


def _shot(page: Page, name: str) -> None:
    folder = os.environ.get("SHIYU_TEST_SHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"citizen-{name}.png"), full_page=True)


def test_a_citizen_reports_with_a_tile_tracks_sees_the_reply_and_evaluates(browser: Browser, world: dict) -> None:
    ids = world["ids"]
    page = _phone(browser, world)
    page.goto("/portal")
    page.get_by_text("道路破损", exact=True).click()
    expect(page.get_by_role("radio", name="道路破损")).to_be_checked()
    page.get_by_label("按地名查找位置").fill(ids["grid"])
    page.locator("#place-results button.place").first.click()
    where = page.locator("#pin-where")
    expect(where).to_contain_text("已选定：")
    expect(where).to_contain_text(f"{ids['district']} {ids['street']} {ids['community']} {ids['grid']}")

    # No description: the form answers beside the field, in Chinese; nothing is filed.
    page.get_by_role("button", name="提交").click()
    expect(page.locator("#err-description")).to_have_text(re.compile("请描述一下问题"))
    expect(page.locator("#pin-where")).to_contain_text(ids["grid"])  # the pin survived the answer
    assert page.evaluate("document.getElementById('report-form').noValidate")
    page.get_by_label("问题描述").fill("南华路人行道上有个大坑，晚上看不清容易摔倒")
    _shot(page, "report-filled")
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_text("已收到您的反映，谢谢！")).to_be_visible()
    code = page.locator("#tracking-code").inner_text().strip()
    short = page.locator("#evaluation-code").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{6}", short), short
    _shot(page, "receipt")

    # The centre registers it, cannot handle it itself, and dispatches it to the department.
    act(world, "operator_a", code, "register")
    page.goto(f"/portal/track?code={code}")
    expect(page.locator(".plain-status")).to_contain_text(f"已交由{ids['centre']}办理")
    act(world, "operator_a", code, "dispatch", fields={"department_id": ids["department"]})
    page.reload()
    status = page.locator(".plain-status")
    expect(status).to_contain_text(f"已交由{ids['department_name']}办理")
    expect(status).to_contain_text("前完成这一步")
    expect(page.locator(".timeline")).to_contain_text("已交由责任部门处理")
    _shot(page, "track-dispatched")

    after = photo(world, "handler_a")
    act(world, "handler_a", code, "accept")
    act(world, "handler_a", code, "report_result", note="已用沥青修补坑洼，路面恢复平整", attachment_ids=[after])
    act(world, "worker_a1", code, "verify_pass", note="现场已修好", attachment_ids=[photo(world, "worker_a1")])
    act(world, "operator_a", code, "close")
    page.context.close()

    # Another phone: nothing remembered; the code typed as read from the receipt, grouped and lower-case.
    page = _phone(browser, world)
    page.goto("/portal/track")
    page.get_by_label("查询码").fill(f"{code[:4]}-{code[4:8]}-{code[8:].lower()}")
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#track-state")).to_have_text("已结案")
    result = page.locator("#result")
    expect(result).to_contain_text("已用沥青修补坑洼，路面恢复平整")
    image = result.get_by_role("img", name="处理后照片 1")
    expect(image).to_be_visible()
    image.scroll_into_view_if_needed()  # loaded, not just laid out: wait for the picture itself
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    expect(page.locator(".timeline")).to_contain_text("网格员现场核查通过")
    _shot(page, "track-closed")

    page.get_by_text("满意", exact=True).click()
    page.get_by_label("评价码").fill(short.lower())
    page.get_by_role("button", name="提交评价").click()
    expect(page.locator("#thanks")).to_have_text("感谢您的评价！")
    expect(page.locator("#track-rating")).to_have_text("满意")
    _shot(page, "evaluated")
    page.context.close()
