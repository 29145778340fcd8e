"""A city administrator sets the city up in the browser, one form after another: a user with a first role and
a second grant picked with the area search, a department whose jurisdiction is picked the same way and then
saved again unchanged, and a routing rule for it. Every area is chosen by typing its name into the area
search and clicking the answer, as a person does (the picker was once dead: an Alpine error on every form
that has one, and saving a department with its jurisdiction answered 500).

Screenshots go to ``$SHIYU_TEST_SCREENSHOTS`` when it is set."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.conftest import WAIT_MS, log_in, running_world

SHOTS = os.environ.get("SHIYU_TEST_SCREENSHOTS")


def _shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    def fill(session, w) -> dict:
        from datetime import timedelta

        from shiyu.cases.categories.models import Category
        from shiyu.core.timeutil import utcnow
        from shiyu.org.identity.bulk.models import ActivationCode
        from shiyu.org.identity.bulk.service import UNUSABLE_PASSWORD, code_hash
        from tests.cases.conftest import LIMITS
        from tests.factories import add_user

        pending = add_user(session, "sy00000009", w.grids["b1"], [("grid_worker", w.grids["b1"])])
        pending.password_hash = UNUSABLE_PASSWORD
        session.add(ActivationCode(user_id=pending.id, code_hash=code_hash("LOST-LOST-LOST"),
                                   expires_at=utcnow() + timedelta(days=3)))
        major = Category(kind="incident", code="I01", name_zh="市容环境", name_en="City appearance")
        session.add_all([major, Category(kind="incident", code="I0101", name_zh="暴露垃圾", parent=major,
                                         time_limits=LIMITS, fields=[])])
        return {"pending": pending.id}

    with running_world(tmp_path_factory.mktemp("setup"), fill) as running:
        yield running


@pytest.fixture
def page(browser: Browser, world: dict) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 850}, base_url=world["url"], locale="zh-CN")
    context.set_default_timeout(WAIT_MS)
    pg = context.new_page()
    log_in(pg, "admin")
    yield pg
    context.close()


def pick_area(scope: Page | Locator, field: Locator, name: str) -> None:
    """Type into an area search box, wait for the answers to what was typed, and click the one named ``name``."""
    with field.page.expect_response(lambda r: "search.json" in r.url and quote(name) in r.url):
        field.fill(name)
    scope.locator(".picker li button", has_text=name).first.click()
    expect(scope.locator(".picker ul[role=listbox]:visible")).to_have_count(0)


def test_the_administrator_creates_a_user_a_grant_a_department_and_a_routing_rule(page: Page) -> None:
    # A user, with a first role in the area chosen from the search.
    page.goto("/admin/users/new")
    page.fill("#username", "zhang_wei")
    page.fill("#password", "Gr1dWorker-2026")
    pick_area(page, page.locator("#pick-home_area_id"), "甲社区第一网格")
    page.select_option("#role", "grid_worker")
    page.get_by_role("button", name="创建用户").click()
    expect(page.locator("h1")).to_have_text("zhang_wei")
    expect(page.locator("#grants")).to_contain_text("网格员")
    expect(page.locator("#grants")).to_contain_text("甲社区第一网格")

    # A second grant over the whole community.
    page.select_option("#g-role", "grid_leader")
    pick_area(page, page.locator("#pick-g-area"), "甲社区")
    page.locator("#grants").get_by_role("button", name="添加").click()
    expect(page.get_by_role("status")).to_contain_text("已添加授权")
    expect(page.locator("#grants li.grant-row")).to_have_count(2)
    expect(page.locator("#grants")).to_contain_text("网格长")
    _shot(page, "setup-1-user")

    # A department in the street, with jurisdiction over community B picked from the search.
    page.goto("/admin/units/departments/new")
    page.fill("#code", "CG-01")
    page.fill("#name", "东街道城管中队")
    pick_area(page, page.locator("#pick-area_id"), "东街道")
    page.get_by_label("部件").check()
    pick_area(page.get_by_role("group", name="管辖区域"), page.get_by_label("搜索并添加管辖区域"), "乙社区")
    expect(page.locator("ul.chosen li")).to_have_count(1)
    page.get_by_role("button", name="保存").click()
    expect(page.locator("h1")).to_have_text("东街道城管中队")
    expect(page.get_by_role("status")).to_contain_text("已保存")
    expect(page.locator("ul.chosen li span")).to_have_text(["乙社区"])

    # Saved again as it is (its jurisdiction kept), then renamed.
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_contain_text("已保存")
    page.fill("#name", "东街道城市管理中队")
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()
    expect(page.locator("h1")).to_have_text("东街道城市管理中队")
    expect(page.locator("ul.chosen li")).to_have_count(1)
    _shot(page, "setup-2-department")

    # A routing rule: 暴露垃圾 in community B goes to the new department.
    page.goto("/admin/routing")
    card = page.locator("#rule-form-card")
    card.locator("#r-name").fill("乙社区暴露垃圾")
    card.locator("#r-category").select_option(label="暴露垃圾 (I0101)")
    pick_area(card, card.locator("#pick-area_id"), "乙社区")
    card.locator("#r-dept").select_option(label="东街道城市管理中队")
    card.get_by_role("button", name="创建规则").click()
    expect(page.get_by_role("status").first).to_contain_text("规则已创建")
    row = page.locator("tbody tr", has_text="乙社区暴露垃圾")
    expect(row).to_contain_text("东街道城市管理中队")
    expect(row).to_contain_text("乙社区")
    _shot(page, "setup-3-routing")


def test_the_administrator_adds_a_campaign_category_renames_and_disables_it(page: Page) -> None:
    page.goto("/admin/categories")
    page.locator("section.card", has_text="市容环境").get_by_role("link", name="新增小类").click()
    expect(page.locator("h1")).to_have_text("新增小类 · 市容环境")
    # The code follows the siblings (I0101 → I0102); the limits start as the sibling's.
    expect(page.locator("#code")).to_have_value("I0102")
    expect(page.get_by_text("以下时限取自“暴露垃圾”，可修改。")).to_be_visible()
    expect(page.locator("#handle\\.normal\\.amount")).to_have_value("3.0")
    page.fill("#name_zh", "电动车进楼")
    page.fill("#handle\\.normal\\.amount", "2")
    page.get_by_role("button", name="创建类别").click()
    expect(page.locator("h1")).to_contain_text("电动车进楼")
    expect(page.locator("#handle\\.normal\\.amount")).to_have_value("2.0")
    _shot(page, "setup-4-category")

    # The campaign gets a clearer name, then ends: the class is disabled (after a confirmation).
    page.fill("#name_zh", "电动自行车进楼入户")
    page.get_by_role("button", name="保存名称").click()
    expect(page.get_by_role("status")).to_have_text("名称已保存")
    expect(page.locator("h1")).to_contain_text("电动自行车进楼入户")
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="停用").click()
    expect(page.get_by_role("status")).to_have_text("类别已停用")
    expect(page.locator(".page-head .badge.bad")).to_have_text("已停用")

    # Its limits were wrong after all: copied back from 暴露垃圾.
    page.select_option("#source_id", label="暴露垃圾 (I0101) · 处置时限（一般） 3 个工作日")
    page.get_by_role("button", name="复制时限").click()
    expect(page.get_by_role("status")).to_have_text("时限已复制")
    expect(page.locator("#handle\\.normal\\.amount")).to_have_value("3.0")


def test_the_administrator_previews_where_a_report_at_a_point_would_go(page: Page) -> None:
    page.goto("/admin/routing")
    card = page.locator("#preview-card")
    card.locator("#pv-category").select_option(label="暴露垃圾 (I0101)")
    # A point in community B (east of the map's centre): the rule made in the first journey decides.
    the_map = card.locator("#pv-map")
    expect(the_map).to_have_attribute("data-features", "2")
    box = the_map.bounding_box()
    assert box is not None
    the_map.click(position={"x": box["width"] * 0.6, "y": box["height"] * 0.4})
    expect(card.get_by_label("在地图上点选")).to_be_checked()
    expect(card.locator("#pv-lon")).not_to_have_value("")
    card.get_by_role("button", name="预览").click()
    decision = card.locator("#decision")
    expect(decision).to_contain_text("位置：东区 东街道 乙社区")
    expect(decision).to_contain_text("派给：东街道城市管理中队")
    expect(decision).to_contain_text("乙社区暴露垃圾")
    _shot(page, "setup-5-preview-point")

    # Typed coordinates in community A: no rule there, the community's centre takes it.
    card.locator("#pv-lon").fill("117.95")
    card.locator("#pv-lat").fill("24.6")
    card.get_by_role("button", name="预览").click()
    expect(decision).to_contain_text("派给：甲社区综治中心")
    expect(decision).to_contain_text("没有适用的规则，按属地兜底")


def test_the_administrator_loads_next_years_holidays_from_the_notice(page: Page) -> None:
    page.goto("/admin/calendar?year=2027")
    card = page.locator("#notice-card")
    card.get_by_label("或粘贴通知原文").fill("一、元旦：1月1日（周五）至3日（周日）放假，共3天。\n"
                                          "二、春节：2月6日（农历腊月二十九、周六）至14日（农历正月初七、周日）放假调休，共9天。"
                                          "2月20日（周六）上班。")
    card.get_by_role("button", name="预览").click()
    expect(card.locator("#import-preview")).to_contain_text("2027 年：读到 3 段日期")
    expect(card.locator("#import-preview tbody tr")).to_have_count(3)
    expect(card.locator("#import-preview tbody tr").nth(2)).to_contain_text("春节调休上班")
    _shot(page, "setup-6-calendar-preview")
    card.get_by_role("button", name="确认导入 2027 年安排").click()
    expect(page.get_by_role("status").first).to_have_text("已导入 2027 年的放假安排")
    expect(page.locator("td.day-holiday[title=春节]")).to_have_count(9)
    expect(page.locator("td.day-workday[title=春节调休上班]")).to_have_count(1)


def test_the_administrator_imports_departments_and_replaces_a_lost_code(page: Page, world: dict,
                                                                         tmp_path: Path) -> None:
    from shiyu.core.tabular import Table, write_table

    path = tmp_path / "职能部门.xlsx"
    write_table(path, Table(["部门编码", "部门名称", "区域编码", "类别", "电话", "管辖区域"],
                            [["SW-01", "东街道水务站", "359901001000", "事件", "0592-5550001", "359901001001"],
                             ["YL-01", "东街道园林站", "359901001000", "部件、事件", "", ""]]))
    page.goto("/admin/units")
    page.get_by_role("link", name="批量导入").click()
    expect(page.locator("h1")).to_have_text("批量导入职能部门")
    page.set_input_files("#units-file", str(path))
    page.get_by_role("button", name="检查文件").click()
    expect(page.locator("#import-summary")).to_have_text("共 2 行：2 行可导入，0 行有问题")
    page.get_by_role("button", name="确认导入 2 行").click()
    expect(page.locator("#import-done")).to_have_text("已导入 2 个职能部门")
    page.get_by_role("link", name="返回单位列表").click()
    expect(page.locator("tbody")).to_contain_text("东街道园林站")

    # A grid worker lost the activation sheet: a new code, shown once.
    page.goto(f"/admin/users/{world['ids']['pending']}")
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="重新生成激活码").click()
    expect(page.get_by_role("status").first).to_contain_text("已生成新激活码")
    expect(page.locator("#new-code")).to_have_text(re.compile(r"^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$"))
    _shot(page, "setup-7-reissued-code")


def test_the_administrators_home_shows_what_is_left_to_set_up(page: Page) -> None:
    page.goto("/")
    checklist = page.locator("#setup")
    expect(checklist.get_by_role("heading", name="开通检查清单")).to_be_visible()
    expect(checklist.locator("li.done")).to_have_count(6)
    expect(checklist.locator("#setup-departments")).to_contain_text("已完成 · 5")  # 2 + 1 made + 2 imported
    expect(checklist.locator("#setup-routed")).to_contain_text("待完成")
    _shot(page, "setup-8-home-checklist")
    checklist.get_by_role("link", name="导入本年度放假安排").click()
    expect(page.locator("h1")).to_have_text("工作日历")
    expect(page.locator("#import-year")).to_have_value(str(datetime.now(ZoneInfo("Asia/Shanghai")).year))


def test_the_checklist_and_the_preview_fit_a_phone(browser: Browser, world: dict) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, base_url=world["url"], locale="zh-CN")
    context.set_default_timeout(WAIT_MS)
    phone = context.new_page()
    log_in(phone, "admin")
    for url in ("/", "/admin/routing", "/admin/calendar", "/admin/categories/new?kind=incident"):
        phone.goto(url)
        expect(phone.locator("h1")).to_be_visible()
        assert phone.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1"), url
    _shot(phone, "setup-9-phone-category-new")
    context.close()
