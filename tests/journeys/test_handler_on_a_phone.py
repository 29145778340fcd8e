"""A department handler works a dispatched case on a 360 px phone, on site. The case page is long, but the
actions sit in a bar fixed at the bottom of the screen: 签收 first, then 处置反馈. The result form has a large
camera button; the photos taken show as thumbnails before sending. The case then waits for the grid worker's
check, and the timeline names the handler by name and department, not by login.

Screenshots (360 px) go to ``SHIYU_TEST_SHOTS`` when it names a folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from shiyu.cases.categories.seed import seed_categories
from shiyu.cases.models import Case
from shiyu.core.scoping import Principal
from shiyu.org.identity.models import User
from tests.cases.case_fixtures import fixture_calendar, jpeg_bytes
from tests.e2e.conftest import WAIT_MS, log_in, running_world
from tests.journeys.loop_helpers import act, photo
from tests.journeys.test_grid_worker_verifies import _report

PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    def fill(s, w) -> dict:
        fixture_calendar(s)
        seed_categories(s)
        s.get(User, w.users["handler_a"].id).full_name = "刘德华"
        return {"department": w.departments["a"].id, "department_name": w.departments["a"].name}

    with running_world(tmp_path_factory.mktemp("handler"), fill) as running:
        code = _report(running, "road", "C0209", "小区东门人行道路面破损，有积水", photo(running, "worker_a1"))
        act(running, "operator_a", code, "register")
        act(running, "operator_a", code, "dispatch", fields={"department_id": running["ids"]["department"]})
        running["ids"]["code"] = code
        yield running


def _shot(page: Page, name: str) -> None:
    folder = os.environ.get("SHIYU_TEST_SHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"handler-{name}.png"), full_page=False)


def _in_bottom_bar(page: Page) -> None:
    bar = page.locator("#action-bar")
    expect(bar).to_be_visible()
    box = bar.bounding_box()
    assert abs(box["y"] + box["height"] - PHONE["height"]) < 2 and box["width"] >= PHONE["width"] - 1


def test_a_handler_handles_a_case_on_a_phone(browser: Browser, world: dict, tmp_path: Path) -> None:
    ids = world["ids"]
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  base_url=world["url"], locale="zh-CN")
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    log_in(page, "handler_a")
    page.goto("/desk")
    page.locator("a.case-row").filter(has_text="路面破损").first.click()
    expect(page.locator("#case-state")).to_have_text("待签收")
    _in_bottom_bar(page)
    _shot(page, "case-top")

    page.locator("#action-bar").get_by_role("link", name="签收").click()
    accept = page.locator("#act-accept").get_by_role("button", name="签收", exact=True)  # one click, no fields
    expect(accept).to_be_focused()
    accept.click()
    expect(page.locator("#case-state")).to_have_text("处置中")

    _in_bottom_bar(page)  # still at hand after the page answered
    page.locator("#action-bar").get_by_role("link", name="处置反馈").click()
    form = page.locator("#act-report_result")
    expect(form).to_have_attribute("open", "")
    expect(form.get_by_label("说明", exact=False)).to_be_focused()
    form.get_by_label("说明", exact=False).fill("已修补路面，积水已排除")
    expect(form.locator(".camera-button")).to_be_visible()
    shots = []
    for i, colour in enumerate(((250, 220, 60), (60, 60, 200))):
        shot = tmp_path / f"fixed-{i}.jpg"
        shot.write_bytes(jpeg_bytes((320, 240), colour))
        shots.append(str(shot))
    form.locator("input.camera-input").set_input_files(shots)
    thumbs = form.locator(".evidence-thumbs img")
    expect(thumbs).to_have_count(2)
    for i in range(2):
        expect(thumbs.nth(i)).to_have_attribute("alt", f"已添加的照片 {i + 1}")
    page.wait_for_function("() => [...document.querySelectorAll('#act-report_result .evidence-thumbs img')]"
                           ".every(i => i.complete && i.naturalWidth > 0)")
    _shot(page, "result-with-photos")
    form.get_by_role("button", name="处置反馈", exact=True).click()
    expect(page.locator("#case-state")).to_have_text("待核查")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text(f"刘*华 · {ids['department_name']}")
    expect(timeline).not_to_contain_text("handler_a")

    with world["factory"]() as s:
        s.info["principal"] = Principal.system("journey")
        case = s.scalar(select(Case).where(Case.tracking_code == ids["code"]))
        assert case.state == "to_verify"
    context.close()
