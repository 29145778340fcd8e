"""The street centre sends a campaign down to the grids. The street's operator admits nothing themselves: the
street's housing office proposes 出租房屋检查 with its form, the street centre's leader admits it. The operator
then sends it to one grid of each community with the wizard. The grid worker of the first grid, on a 360 px
phone, sees the item (its form drawn from the type), loses the network, fills the form in with a photo,
and the submission waits on the phone; back online it is sent once, with one client_uuid however often the
queue tries. The operator sees the progress 1/2, drills down to the grid and reviews the item."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.units.models import Department, DepartmentJurisdiction
from shiyu.tasks.models import Submission, WorkItem
from tests.cases.case_fixtures import POINT_A1, jpeg_bytes
from tests.e2e.conftest import WAIT_MS, log_in, running_world
from tests.factories import add_user

PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    def fill(s, w) -> dict:
        office = Department(code="D-street", name="东街道住房保障办", area_id=w.street.id, area_path=w.street.area_path,
                            category_kinds=["incident"])
        office.jurisdictions.append(DepartmentJurisdiction(area_id=w.street.id, area_path=w.street.area_path))
        s.add(office)
        s.flush()
        add_user(s, "housing_clerk", w.street, [("department_handler", office)])
        add_user(s, "street_leader", w.street, [("centre_leader", w.street)])
        add_user(s, "street_operator", w.street, [("centre_operator", w.street)])
        return {"grid_a1": w.grids["a1"].id}

    with running_world(tmp_path_factory.mktemp("campaign"), fill) as running:
        yield running


def _page(browser: Browser, world: dict, viewport: dict, **extra) -> Page:
    context = browser.new_context(viewport=viewport, base_url=world["url"], locale="zh-CN", **extra)
    context.set_default_timeout(WAIT_MS)
    return context.new_page()


def _count(world: dict, model) -> int:
    with world["factory"]() as s:
        s.info["principal"] = Principal.system("journey")
        return s.scalar(select(func.count()).select_from(model))


def _item_state(world: dict, grid_id: int) -> str:
    with world["factory"]() as s:
        s.info["principal"] = Principal.system("journey")
        return s.scalar(select(WorkItem.state).where(WorkItem.grid_id == grid_id))


def test_the_centre_sends_a_campaign_and_a_grid_worker_answers_offline(browser: Browser, world: dict,
                                                                        tmp_path: Path) -> None:
    desk = _page(browser, world, {"width": 1366, "height": 850})
    log_in(desk, "housing_clerk")
    desk.goto("/tasks/types")
    form = desk.locator("#propose")
    form.get_by_label("事项名称").fill("出租房屋检查")
    form.get_by_label("事项编码").fill("rental.check")
    form.get_by_label("法律政策依据").fill("《商品房屋租赁管理办法》第十九条")
    for i, (name, label, kind, required) in enumerate((("tenants", "租住人数", "number", True),
                                                       ("photo", "门牌照片", "photo", True),
                                                       ("where", "位置", "gps", False))):
        form.locator(f"#f{i}_label").fill(label)
        form.locator(f"#f{i}_name").fill(name)
        form.locator(f"#f{i}_type").select_option(kind)
        if required:
            form.locator(f"input[name=f{i}_required]").check()
    form.get_by_role("button", name="提交申请").click()
    row = desk.locator("tr", has_text="出租房屋检查")
    expect(row).to_contain_text("待审批")

    log_in(desk, "street_operator")  # the operator sees the proposal but cannot admit it
    desk.goto("/tasks/types")
    expect(desk.locator("tr", has_text="出租房屋检查")).to_contain_text("待审批")
    expect(desk.get_by_role("button", name="准入")).to_have_count(0)
    log_in(desk, "street_leader")
    desk.goto("/tasks/types")
    desk.locator("tr", has_text="出租房屋检查").get_by_role("button", name="准入", exact=True).click()
    expect(desk.locator("tr", has_text="出租房屋检查")).to_contain_text("已准入")

    log_in(desk, "street_operator")
    desk.goto("/tasks")
    desk.get_by_role("link", name="派发任务").click()
    desk.get_by_label("任务名称").fill("出租房屋专项检查")
    desk.get_by_label("甲社区第一网格").check()
    desk.get_by_label("乙社区第一网格").check()
    desk.get_by_label("截止").fill((utcnow() + timedelta(days=5)).strftime("%Y-%m-%d"))
    desk.get_by_role("button", name="派发").click()
    desk.wait_for_url("**/tasks/assignments/*")
    campaign_url = desk.url
    expect(desk.locator("#progress h2")).to_contain_text("0/2")

    near = {"latitude": POINT_A1["lat"], "longitude": POINT_A1["lon"]}
    phone = _page(browser, world, PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                  geolocation=near, permissions=["geolocation"])
    log_in(phone, "worker_a1")
    phone.goto("/field/tasks")
    card = phone.locator("article.f-card", has_text="出租房屋专项检查")
    expect(card).to_contain_text("出租房屋检查")
    expect(phone.locator("#work-count")).to_have_text("1")
    sent = []
    phone.on("request", lambda r: sent.append(r.post_data_json) if r.url.endswith("/actions") else None)
    phone.context.set_offline(True)
    card.get_by_text("填报").click()
    card.get_by_label("租住人数").fill("3")
    shot = tmp_path / "plate.jpg"
    shot.write_bytes(jpeg_bytes((320, 240), (120, 80, 40)))
    card.locator("input[type=file]").set_input_files(str(shot))
    card.get_by_role("button", name="提交", exact=True).click()
    expect(phone.locator("#waiting-count")).to_have_text("1")
    expect(phone.locator("#work-count")).to_have_text("0")
    assert _count(world, Submission) == 0

    phone.context.set_offline(False)  # the "online" event sends the queue: the photo, then the submission
    expect(phone.locator("#waiting")).to_be_hidden()
    phone.evaluate("window.shiyuField.send()")  # a second run finds nothing left to send
    assert _item_state(world, world["ids"]["grid_a1"]) == "done"
    assert _count(world, Submission) == 1
    keys = {body["client_uuid"] for body in sent}
    assert len(keys) == 1 and all(body["data"]["tenants"] == 3 and body["data"]["photo"] for body in sent)

    desk.goto(campaign_url)
    expect(desk.locator("#progress h2")).to_contain_text("1/2")
    desk.get_by_role("link", name="甲社区").click()
    desk.get_by_role("link", name="甲社区第一网格").click()
    item = desk.locator("#items article")
    expect(item).to_contain_text("3")
    expect(item.get_by_role("img", name="门牌照片")).to_be_visible()
    item.get_by_role("button", name="审核销号").click()
    expect(desk.locator("#items article")).to_contain_text("已销号")
    assert _item_state(world, world["ids"]["grid_a1"]) == "reviewed"
