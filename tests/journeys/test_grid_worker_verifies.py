"""A grid worker on a 360 px phone checks two fixed cases on site. Each card shows the photo taken with the
report and the department's photo side by side, the handler's note signed with name and unit, how far away
the place is and a link that opens the phone's navigation. The repaired road needs the worker's own on-site
photo (its category says so): passing it without one is refused on the spot, the photo taken shows as a
thumbnail, and once sent the card leaves and the count goes down, to an empty list.

Screenshots (360 px) go to ``SHIYU_TEST_SHOTS`` when it names a folder."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from shiyu.cases.categories.models import Category
from shiyu.cases.categories.seed import seed_categories
from shiyu.cases.intake import service as intake
from shiyu.cases.models import Case
from shiyu.cases.schemas import IntakeIn
from shiyu.core.scoping import Principal
from shiyu.org.identity.models import User
from shiyu.org.identity.service import principal_for
from tests.cases.case_fixtures import POINT_A1, fixture_calendar, jpeg_bytes
from tests.e2e.conftest import WAIT_MS, log_in, running_world
from tests.journeys.loop_helpers import SH, act, photo

PHONE = {"width": 360, "height": 740}


def _report(world: dict, key: str, code: str, description: str, photo_id: int) -> str:
    with world["factory"]() as s:
        s.info["principal"] = Principal.system("journey")
        category_id = s.scalar(select(Category.id).where(Category.code == code))
        s.info["principal"] = principal = principal_for(s.scalar(select(User).where(User.username == "worker_a1")))
        body = IntakeIn(idempotency_key=f"verify-{key}", channel="grid", category_id=category_id,
                        description=description, location=POINT_A1, attachment_ids=[photo_id])
        result = intake.intake(s, principal, body, SH)
        s.commit()
        return result.tracking_code


def _handled(world: dict, code: str, note: str) -> None:
    act(world, "operator_a", code, "register")
    act(world, "operator_a", code, "dispatch", fields={"department_id": world["ids"]["department"]})
    act(world, "handler_a", code, "accept")
    act(world, "handler_a", code, "report_result", note=note, attachment_ids=[photo(world, "handler_a", (40, 160, 60))])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    def fill(s, w) -> dict:
        fixture_calendar(s)
        seed_categories(s)
        s.get(User, w.users["handler_a"].id).full_name = "刘德华"
        return {"department": w.departments["a"].id, "department_name": w.departments["a"].name}

    with running_world(tmp_path_factory.mktemp("verify"), fill) as running:
        road = _report(running, "road", "C0209", "南华路人行道路面破损一处", photo(running, "worker_a1", (150, 60, 40)))
        stall = _report(running, "stall", "I0501", "菜市场门口占道摆摊", photo(running, "worker_a1", (150, 60, 40)))
        _handled(running, road, "已用沥青修补路面")
        _handled(running, stall, "已劝离摊贩并清理现场")
        running["ids"].update(road=road, stall=stall)
        yield running


def _shot(page: Page, name: str) -> None:
    folder = os.environ.get("SHIYU_TEST_SHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"grid-worker-{name}.png"), full_page=True)


def _state(world: dict, code: str) -> str:
    with world["factory"]() as s:
        s.info["principal"] = Principal.system("journey")
        return s.scalar(select(Case.state).where(Case.tracking_code == code))


def test_a_grid_worker_verifies_with_photos_side_by_side_on_a_phone(browser: Browser, world: dict,
                                                                      tmp_path: Path) -> None:
    ids = world["ids"]
    near = {"latitude": POINT_A1["lat"] + 0.0003, "longitude": POINT_A1["lon"]}  # about 33 m north
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  base_url=world["url"], locale="zh-CN", geolocation=near,
                                  permissions=["geolocation"])
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    log_in(page, "worker_a1")
    page.goto("/field/tasks")
    expect(page.locator("#verify-count")).to_have_text("2")

    card = page.locator("article.f-card").filter(has_text="路面破损")
    before = card.get_by_role("img", name="反映时的照片 1")
    after = card.get_by_role("img", name="处置后的照片 1")
    expect(before).to_be_visible()
    expect(after).to_be_visible()
    for img in (before, after):  # loaded, not just laid out: wait for the picture itself (it loads lazily)
        img.scroll_into_view_if_needed()
        page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=img.element_handle())
    left, right = before.bounding_box(), after.bounding_box()
    assert abs(left["y"] - right["y"]) < 2  # side by side, on one row
    assert left["x"] + left["width"] <= right["x"] and right["x"] + right["width"] <= 360
    expect(card.locator(".f-note")).to_contain_text("已用沥青修补路面")
    expect(card.locator(".f-note")).to_contain_text(f"刘*华 · {ids['department_name']}")
    expect(card.locator(".f-distance")).to_have_text(re.compile(r"距您约 (2\d|3\d|4\d) 米"))
    assert card.get_by_role("link", name="导航到现场").get_attribute("href").startswith("geo:")
    expect(card.get_by_text("这类问题核查通过须拍现场照片")).to_be_visible()
    _shot(page, "tasks")

    # Passing the road without the worker's own photo is refused on the spot.
    card.get_by_role("button", name="核查通过").click()
    card.get_by_role("button", name="确认提交").click()
    expect(page.locator("#banner")).to_have_text("这类问题须先拍一张现场照片")
    site = tmp_path / "site.jpg"
    site.write_bytes(jpeg_bytes((320, 240), (90, 90, 90)))
    card.locator("input[type=file]").set_input_files(str(site))
    expect(card.locator(".f-preview")).to_be_visible()
    card.get_by_label("核查说明（不通过时必填）").fill("现场路面已修好")
    _shot(page, "photo-taken")
    card.get_by_role("button", name="确认提交").click()
    expect(card).to_have_count(0)
    expect(page.locator("#verify-count")).to_have_text("1")

    stall = page.locator("article.f-card").filter(has_text="占道")
    expect(stall.get_by_role("img", name="处置后的照片 1")).to_be_visible()
    stall.get_by_role("button", name="核查通过").click()
    stall.get_by_role("button", name="确认提交").click()
    expect(page.locator("#verify-count")).to_have_text("0")
    expect(page.get_by_text("没有待核查的案件。")).to_be_visible()
    _shot(page, "all-verified")

    for code in (ids["road"], ids["stall"]):
        deadline = 120  # the phone's queue sends in the background (upload, then the action)
        while _state(world, code) != "to_close" and deadline:
            page.wait_for_timeout(500)
            deadline -= 1
        assert _state(world, code) == "to_close", code
    context.close()
