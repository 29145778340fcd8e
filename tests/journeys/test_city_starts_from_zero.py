"""A real city starts on its own (issue 14), from an empty database in production mode — no demo, no test
world. On the command line: the schema, the city outline as downloaded from DataV (GCJ-02), the first
administrator. In the browser, as that administrator: the districts file clipped to the city, a second
administrator to approve boundaries, then a street, a community and a grid drawn on the map and approved by
the second one; the centres from a spreadsheet, a department, a category, 200 grid workers from an XLSX, an
operator and a routing rule. Then a citizen reports a pile of rubbish at the new grid; the operator finds it
in the 待立案 queue of the new community's centre, offered to go to the department the rule names, and sends
it there. With this year's holidays loaded from the notice, the setup checklist is complete.

Screenshots go to ``SHIYU_TEST_SHOTS_DIR`` (or the test's temporary directory) to be looked at.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import WAIT_MS, Server, free_port, log_in
from tests.journeys.test_admin_sets_up_city import pick_area
from tests.org import datav
from tests.org.people_files import people, write_people

CHIEF_PASSWORD = "Lighthouse-keeper-7"
DEPUTY_PASSWORD = "Harbour-master-2026"
OPERATOR_PASSWORD = "Desk-operator-2026"


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    from shiyu.app import create_app
    from shiyu.core.config import Settings

    tmp = tmp_path_factory.mktemp("fromzero")
    outline = tmp / "350200.json"
    outline.write_text(json.dumps(datav.city_outline(), ensure_ascii=False), encoding="utf-8")
    districts = tmp / "350200_full.json"
    districts.write_text(json.dumps(datav.districts(), ensure_ascii=False), encoding="utf-8")
    env = {**os.environ, "SHIYU_DATABASE_URL": f"sqlite:///{tmp}/city.db", "SHIYU_DEMO_MODE": "0",
           "SHIYU_SECRET_KEY": secrets.token_urlsafe(40),
           "SHIYU_PII_KEYS": "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
           "SHIYU_PASSWORD_TIME_COST": "1", "SHIYU_PASSWORD_MEMORY_KIB": "1024",
           "SHIYU_STORAGE_DIR": str(tmp / "files"), "SHIYU_COOKIE_SECURE": "0"}
    shiyu = str(Path(sys.executable).parent / "shiyu")

    def run(*argv: str, stdin: str = "") -> str:
        done = subprocess.run([shiyu, *argv], env=env, input=stdin, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("db", "upgrade")
    run("import", "areas", str(outline), "--crs", "gcj02")
    run("users", "create-admin", "--username", "chief", "--password-stdin", stdin=CHIEF_PASSWORD + "\n")
    settings = Settings(database_url=env["SHIYU_DATABASE_URL"], demo_mode=False, secret_key=env["SHIYU_SECRET_KEY"],
                        pii_keys=env["SHIYU_PII_KEYS"], password_time_cost=1, password_memory_kib=1024,
                        storage_dir=env["SHIYU_STORAGE_DIR"], cookie_secure=False)
    app = create_app(settings)
    try:
        with Server(app, free_port()) as server:
            yield {"url": server.url, "districts": districts, "tmp": tmp}
    finally:
        app.state.engine.dispose()


def _page(browser: Browser, city: dict, user: str | None = None, password: str = "") -> Page:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, base_url=city["url"], locale="zh-CN")
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    if user:
        log_in(page, user, password)
    return page


def _open_child(page: Page, name: str) -> None:
    page.locator("section.card", has=page.locator("h2", has_text="下级区划")).get_by_role("link", name=name).click()
    expect(page.locator("h2", has_text=name).first).to_be_visible()


def _draw_child(page: Page, button: str, name: str) -> None:
    """Draw a square in the middle of the selected area's map and submit it under ``name``."""
    area_map = page.locator("#area-map")
    expect(area_map.locator(".leaflet-interactive").first).to_be_attached()
    page.get_by_role("button", name=button).click()
    frame = area_map.bounding_box()
    assert frame
    x, y = frame["x"] + frame["width"] / 2, frame["y"] + frame["height"] / 2
    for dx, dy in ((-50, -50), (50, -50), (50, 50), (-50, 50), (-50, -50)):
        page.mouse.click(x + dx, y + dy)
    form = page.locator("#draw-child")
    expect(form).to_be_visible()
    form.get_by_label("名称").fill(name)
    form.get_by_role("button", name="提交新区域").click()
    expect(form.get_by_role("status")).to_contain_text(f"已提交「{name}」的边界")


def _approve(deputy: Page, name: str) -> None:
    deputy.goto("/admin/areas/proposals")
    card = deputy.locator("article.proposal", has_text=name)
    card.get_by_role("button", name="批准").click()
    expect(deputy.locator("article.proposal", has_text=name)).to_contain_text("已批准")


def test_a_city_starts_from_an_empty_database(browser: Browser, city: dict, shots: Path) -> None:
    chief = _page(browser, city, "chief", CHIEF_PASSWORD)
    expect(chief.locator("#setup")).to_be_visible()  # the administrator's home is the setup checklist

    # The districts as downloaded: they stick out of the city by ~1 %, so they are clipped to it.
    chief.goto("/admin/areas/import")
    chief.set_input_files("#import-file", str(city["districts"]))
    chief.select_option("#import-crs", "gcj02")
    chief.locator("#import-clip").set_checked(True)
    chief.click("button[name=dry_run][value='1']")
    expect(chief.locator("#report")).to_have_attribute("data-import-state", "valid")
    chief.click("button[name=dry_run][value='0']")
    expect(chief.locator("#report")).to_have_attribute("data-import-state", "written")

    # A second administrator, who approves what the first one draws.
    chief.goto("/admin/users/new")
    chief.fill("#username", "deputy")
    chief.fill("#password", DEPUTY_PASSWORD)
    pick_area(chief, chief.locator("#pick-home_area_id"), "厦门市")
    chief.select_option("#role", "admin")
    chief.get_by_role("button", name="创建用户").click()
    expect(chief.locator("h1")).to_have_text("deputy")
    deputy = _page(browser, city, "deputy", DEPUTY_PASSWORD)

    # A street, a community and a grid, each drawn inside the one above and approved by the deputy.
    chief.goto("/admin/areas")
    _open_child(chief, "思明区")
    _draw_child(chief, "画下级街道乡镇", "鹭江街道")
    _approve(deputy, "鹭江街道")
    chief.reload()
    _open_child(chief, "鹭江街道")
    _draw_child(chief, "画下级社区村", "鹭江社区")
    _approve(deputy, "鹭江社区")
    chief.reload()
    _open_child(chief, "鹭江社区")
    community_code = chief.locator("dl.facts dd.mono").first.inner_text().strip()
    street_code = community_code[:9] + "000"
    _draw_child(chief, "画下级网格", "鹭江社区第一网格")
    grid_code = community_code + "001"
    _approve(deputy, "鹭江社区第一网格")
    chief.screenshot(path=str(shots / "from-zero-areas.png"), full_page=True)

    # The centres of the new street and community, from a spreadsheet.
    from shiyu.core.tabular import Table, write_table

    centres = city["tmp"] / "中心.xlsx"
    write_table(centres, Table(["区域编码", "名称", "电话"], [
        [street_code, "鹭江街道综治中心", "0592-2000001"], [community_code, "鹭江社区综治中心", "0592-2000002"]]))
    chief.goto("/admin/units/import?kind=centres")
    chief.set_input_files("input[type=file]", str(centres))
    chief.get_by_role("button", name="检查文件").click()
    chief.get_by_role("button", name="确认导入 2 行").click()
    expect(chief.locator("#import-done")).to_contain_text("2")

    # A department of the street, over the community.
    chief.goto("/admin/units/departments/new")
    chief.fill("#code", "CG-01")
    chief.fill("#name", "鹭江街道城管中队")
    pick_area(chief, chief.locator("#pick-area_id"), "鹭江街道")
    chief.get_by_label("事件").check()
    pick_area(chief.get_by_role("group", name="管辖区域"), chief.get_by_label("搜索并添加管辖区域"), "鹭江社区")
    chief.get_by_role("button", name="保存").click()
    expect(chief.get_by_role("status")).to_contain_text("已保存")

    # A category: the major class, then its minor class with its time limits.
    chief.goto("/admin/categories/new?kind=incident")
    chief.fill("#code", "I01")
    chief.fill("#name_zh", "市容环境")
    chief.get_by_role("button", name="创建类别").click()
    expect(chief.locator("h1")).to_contain_text("市容环境")
    chief.goto("/admin/categories")
    chief.locator("section.card", has_text="市容环境").get_by_role("link", name="新增小类").click()
    chief.fill("#name_zh", "暴露垃圾")
    for amount in chief.locator(".limits-table input[type=number]").all():
        if not amount.input_value():
            amount.fill("2")
    chief.get_by_role("button", name="创建类别").click()
    expect(chief.locator("h1")).to_contain_text("暴露垃圾")

    # 200 grid workers from an XLSX, and an operator of the community's centre made by hand.
    workers = write_people(city["tmp"] / "网格员.xlsx", people(200, [grid_code]))
    chief.goto("/admin/users/import")
    chief.set_input_files("#people-file", str(workers))
    chief.get_by_role("button", name="检查文件").click()
    chief.get_by_role("button", name="确认导入").click()
    expect(chief.locator("body")).to_contain_text("200")
    chief.goto("/admin/users/new")
    chief.fill("#username", "ljsq_operator")
    chief.fill("#password", OPERATOR_PASSWORD)
    pick_area(chief, chief.locator("#pick-home_area_id"), "鹭江社区")
    chief.select_option("#role", "centre_operator")
    chief.get_by_role("button", name="创建用户").click()
    expect(chief.locator("h1")).to_have_text("ljsq_operator")

    # The rule: rubbish in the community goes to the street's 城管中队.
    chief.goto("/admin/routing")
    card = chief.locator("#rule-form-card")
    card.locator("#r-name").fill("鹭江社区暴露垃圾")
    card.locator("#r-category").select_option(label="暴露垃圾 (I0101)")
    pick_area(card, card.locator("#pick-area_id"), "鹭江社区")
    card.locator("#r-dept").select_option(label="鹭江街道城管中队")
    card.get_by_role("button", name="创建规则").click()
    expect(chief.get_by_role("status").first).to_contain_text("规则已创建")

    # A citizen reports rubbish at the new grid, found by its name.
    citizen = _page(browser, city)
    citizen.goto("/portal")
    citizen.get_by_text("垃圾环境", exact=True).click()  # the city's 暴露垃圾 (I0101) is behind this tile
    citizen.get_by_label("按地名查找位置").fill("鹭江社区第一网格")
    citizen.locator("#place-results button.place").first.click()
    expect(citizen.locator("#pin-where")).to_contain_text("鹭江社区第一网格")
    citizen.get_by_label("问题描述").fill("小区门口垃圾堆了三天没人清理")
    citizen.get_by_role("button", name="提交").click()
    code = citizen.locator("#tracking-code").inner_text().strip()
    citizen.goto(f"/portal/track?code={code}")
    expect(citizen.locator("main")).to_contain_text("已交由鹭江社区综治中心办理")

    # The operator of the new community's centre finds it waiting, with the rule's department suggested.
    operator = _page(browser, city, "ljsq_operator", OPERATOR_PASSWORD)
    operator.goto("/desk?queue=to_register")
    waiting = operator.locator("main li, main tr", has_text=code).last
    expect(waiting).to_contain_text("小区门口垃圾堆了三天没人清理")
    waiting.get_by_role("link").first.click()
    expect(operator.locator("main")).to_contain_text(code)
    # The rule names the street's 城管中队: the one form offers to get the case there.
    expect(operator.locator("#rd-target option:checked")).to_have_text("转派至 鹭江街道城管中队（经鹭江街道综治中心）")
    operator.screenshot(path=str(shots / "from-zero-operator-case.png"), full_page=True)
    operator.get_by_role("button", name="立案并派遣", exact=True).click()
    expect(operator.locator("#timeline")).to_contain_text("鹭江街道城管中队")

    # This year's holidays from the notice's text; then every step of the checklist is done.
    chief.goto("/admin/calendar")
    notice = chief.locator("#notice-card")
    notice.get_by_label("或粘贴通知原文").fill("一、元旦：1月1日放假，共1天。\n二、国庆节：10月1日至7日放假调休，共7天。")
    notice.get_by_role("button", name="预览").click()
    notice.get_by_role("button", name=re.compile("确认导入")).click()
    expect(chief.get_by_role("status").first).to_contain_text("放假安排")
    chief.goto("/")
    expect(chief.locator("#setup")).to_contain_text("各项均已完成：本市已可以接收上报。")
    expect(chief.locator("#setup li.done")).to_have_count(8)
    chief.screenshot(path=str(shots / "from-zero-checklist.png"), full_page=True)
