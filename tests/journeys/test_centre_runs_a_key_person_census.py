"""The centre runs a key-person census (集中清查, issue 16). The community's centre leader opens the key-person
dashboard, sends a census for the community and lands on the campaign's progress page at 0 %. The grid worker,
on a 360 px phone, finds the item in the field app's task tab — named KP-<id>, never the person — fills it in
(met, still living here, the situation) and sends it. The leader reloads the progress page: 1/1, 100 %; the
dashboard's 清查完成率 is 100 % and the record says when it was verified. Screenshots (desktop 1366, phone 360)
go to ``SHIYU_TEST_SHOTS_DIR`` (or the test's temporary directory) to be looked at."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from shiyu.core import outbox
from shiyu.core.scoping import Principal
from shiyu.keypersons import groups, service
from tests.cases.case_fixtures import POINT_A1
from tests.e2e.conftest import log_in, running_world, sized_page
from tests.registry.registry_fixtures import member, principal, registered_family

TZ = ZoneInfo("Asia/Shanghai")
NAME = "吴国庆"


def _fill(s, w) -> dict:
    groups.seed(s)
    family = registered_family(s, w, "worker_a1", "leader_a", members=[member(NAME)])
    leader = principal(s, w, "leader_a")
    s.info["principal"] = leader
    record = service.open_record(s, leader, service.Opening(
        person_id=family["persons"][0], group_code="released", grade="yellow", source="judicial",
        attributes={"offence": "诈骗罪", "released_on": "2026-10-08"},
        team=service.Team(grid_worker_id=w.users["worker_a1"].id)))
    today = datetime.now(TZ).date()
    for action in ("verify", "enrol"):
        service.act(s, leader, record.id, action, today=today)
    s.info["principal"] = Principal.system("e2e")
    return {"record": record.id}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    with running_world(tmp_path_factory.mktemp("census"), _fill) as running:
        yield running


def _fits(page: Page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_the_centre_sends_a_census_and_the_grid_worker_answers_it(browser: Browser, world: dict,
                                                                  shots: Path) -> None:
    record_id = world["ids"]["record"]
    desk = sized_page(browser, world["url"], 1366, 850)
    log_in(desk, "leader_a")
    desk.goto("/keypersons/dashboard")
    expect(desk.locator("#kp-census")).to_contain_text("近期没有下发集中清查")
    desk.locator("#census-start summary").click()
    desk.get_by_label("清查区域").select_option(label="甲社区")
    desk.get_by_label("截止日期").fill((datetime.now(TZ).date() + timedelta(days=5)).isoformat())
    desk.get_by_label("刑满释放人员").check()
    _fits(desk, 1366)
    desk.screenshot(path=str(shots / "census-dashboard-form-1366.png"), full_page=True)
    desk.get_by_role("button", name="下发清查任务").click()
    desk.wait_for_url("**/tasks/assignments/*")
    campaign_url = desk.url
    expect(desk.locator("h1")).to_have_text("重点人员集中清查")
    expect(desk.locator("#progress h2")).to_contain_text("0/1 · 0%")
    expect(desk.locator("#progress")).to_contain_text("甲社区第一网格")
    desk.screenshot(path=str(shots / "census-progress-0-1366.png"), full_page=True)

    near = {"latitude": POINT_A1["lat"], "longitude": POINT_A1["lon"]}
    phone = sized_page(browser, world["url"], 360, 740, device_scale_factor=2, is_mobile=True, has_touch=True,
                       geolocation=near, permissions=["geolocation"])
    log_in(phone, "worker_a1")
    phone.goto("/field/tasks")
    card = phone.locator("article.f-card", has_text=f"KP-{record_id}")
    expect(card).to_contain_text("重点人员集中清查")
    expect(card).not_to_contain_text(NAME)
    expect(card).not_to_contain_text(NAME[0] + "*")
    card.get_by_text("填报").click()
    card.locator("[data-field=met] input[value=yes]").check()
    card.locator("[data-field=living_here] input[value=yes]").check()
    card.get_by_label("现状情况").fill("本人在家，在镇上务工，情绪稳定")
    _fits(phone, 360)
    phone.screenshot(path=str(shots / "census-field-item-360.png"), full_page=True)
    card.get_by_role("button", name="提交", exact=True).click()
    expect(phone.locator("#work-count")).to_have_text("0")
    expect(phone.locator("#waiting")).to_be_hidden()
    phone.screenshot(path=str(shots / "census-field-sent-360.png"), full_page=True)

    desk.goto(campaign_url)
    expect(desk.locator("#progress h2")).to_contain_text("1/1 · 100%")
    desk.screenshot(path=str(shots / "census-progress-100-1366.png"), full_page=True)

    outbox.deliver_pending(world["factory"])  # the worker process's part: the finding on the record
    desk.goto("/keypersons/dashboard")
    expect(desk.locator("#kp-census-rate")).to_contain_text("100.0%")
    expect(desk.locator("#kp-census-table")).to_contain_text("甲社区第一网格")
    desk.screenshot(path=str(shots / "census-dashboard-done-1366.png"), full_page=True)
    desk.goto(f"/keypersons/records/{record_id}")
    expect(desk.locator("#timeline")).to_contain_text("集中清查")
    expect(desk.locator("#timeline")).to_contain_text("已核实")
    expect(desk.locator("main")).to_contain_text(datetime.now(TZ).date().isoformat())
    desk.screenshot(path=str(shots / "census-record-1366.png"), full_page=True)

    phone.goto("/keypersons/dashboard")  # the grid worker has no dashboard and no census form
    expect(phone.locator("main")).not_to_contain_text("发起集中清查")
