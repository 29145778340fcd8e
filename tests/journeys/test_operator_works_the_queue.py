"""The operator works through the queue with the keyboard and dispatches each case (issue 13).

Three reports wait in 待立案. The operator opens the queue, moves down it with J, opens the first case with
Enter, and for each case presses R (立案并派遣, the rule's department already chosen) and Enter on
"立案并派遣并打开下一件" — the next case opens by itself, until the queue is empty. No mouse. The ? help lists the
keys; a key typed into the search box does nothing but type. While the queue is open a new report arrives:
the count goes up by itself and the new-case sound rings, unless it is muted (the switch is remembered).
Then a centre leader ticks two cases and 催办 them in one go, and sees what happened to each.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import WAIT_MS, log_in, running_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    from shiyu.cases.routing.models import RoutingRule
    from shiyu.core.scoping import Principal
    from tests.cases.case_fixtures import make_category, report

    def fill(session, w) -> dict:
        w.extra["category"] = make_category(session)
        dept = w.departments["a"]
        session.add(RoutingRule(name="占道经营归物业办", category_id=w.extra["category"].id, area_id=w.community_a.id,
                                area_prefix=w.community_a.area_path, department_id=dept.id))
        session.flush()
        cases = [report(session, w).case for _ in range(3)]
        session.info["principal"] = Principal.system("journey")
        return {"cases": [c.id for c in cases], "codes": [c.tracking_code for c in cases],
                "category": w.extra["category"].id, "department": dept.name}

    with running_world(tmp_path_factory.mktemp("queue"), fill) as running:
        yield running


def _page(browser: Browser, world: dict) -> Page:
    context = browser.new_context(viewport={"width": 1366, "height": 850}, base_url=world["url"], locale="zh-CN")
    context.set_default_timeout(WAIT_MS)
    return context.new_page()


def _count(page: Page, queue: str):
    return page.locator(f"#queue-tabs a[data-queue='{queue}'] b.count")


def test_the_operator_works_through_the_queue_with_the_keyboard(browser: Browser, world: dict, shots: Path) -> None:
    ids = world["ids"]
    page = _page(browser, world)
    log_in(page, "operator_a")
    page.goto("/desk?queue=to_register")
    expect(_count(page, "to_register")).to_have_text("3")
    # The help lists the keys; Escape closes it.
    page.keyboard.press("?")
    help_box = page.get_by_role("dialog", name="键盘快捷键")
    expect(help_box).to_be_visible()
    expect(help_box).to_contain_text("下一件 / 上一件")
    expect(help_box).to_contain_text("立案")
    page.screenshot(path=str(shots / "desk-keys-help.png"))
    page.keyboard.press("Escape")
    expect(help_box).to_be_hidden()
    # Typing in the search box types; it does not move or act.
    page.get_by_role("searchbox", name="查找案件").focus()
    page.keyboard.type("jk")
    expect(page.get_by_role("searchbox", name="查找案件")).to_have_value("jk")
    expect(page).to_have_url(f"{world['url']}/desk?queue=to_register")
    page.get_by_role("searchbox", name="查找案件").fill("")
    page.locator("h1").click()
    # J moves down the rows, K back up; Enter opens the focused case.
    rows = page.locator("#case-list a.case-row")
    page.keyboard.press("j")
    expect(rows.nth(0)).to_be_focused()
    page.keyboard.press("j")
    expect(rows.nth(1)).to_be_focused()
    page.keyboard.press("k")
    expect(rows.nth(0)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{world['url']}/desk/cases/{ids['cases'][0]}?queue=to_register")
    expect(page.locator(".queue-nav")).to_contain_text("待立案：第 1 / 3 件")
    # J on a case page opens the next case of the queue, K the previous one — once the page's scripts listen
    # (the queue bar is in the HTML before they run; a key pressed earlier went nowhere on a loaded machine).
    page.wait_for_load_state("load")
    page.keyboard.press("j")
    expect(page).to_have_url(f"{world['url']}/desk/cases/{ids['cases'][1]}?queue=to_register")
    page.wait_for_load_state("load")
    page.keyboard.press("k")
    expect(page).to_have_url(f"{world['url']}/desk/cases/{ids['cases'][0]}?queue=to_register")
    for n, code in enumerate(world["ids"]["codes"]):
        expect(page.locator(".breadcrumb")).to_contain_text(code)
        page.wait_for_load_state("load")
        # R: 立案并派遣, the rule's department chosen; the focus lands on "…并打开下一件"; Enter does it.
        page.keyboard.press("r")
        form = page.locator("details[data-action='register_dispatch']")
        expect(form.get_by_label("派遣给")).to_have_value(str(_department_id(world)))
        expect(form.get_by_role("button", name="立案并派遣并打开下一件")).to_be_focused()
        if n == 0:
            page.screenshot(path=str(shots / "desk-register-dispatch.png"), full_page=True)
        page.keyboard.press("Enter")
        if n < 2:
            expect(page).to_have_url(f"{world['url']}/desk/cases/{ids['cases'][n + 1]}?done=dispatch&queue=to_register")
            expect(page.get_by_role("status").filter(has_text="已完成：派遣")).to_be_visible()
    expect(page).to_have_url(f"{world['url']}/desk?queue=to_register&done=dispatch")
    expect(page.get_by_text("已完成：派遣。这个队列里没有下一件了。")).to_be_visible()
    expect(_count(page, "to_register")).to_have_text("0")
    page.screenshot(path=str(shots / "desk-queue-done.png"), full_page=True)
    # Each case went to the department in one step: its timeline says so.
    page.goto(f"/desk/cases/{ids['cases'][2]}")
    expect(page.locator("#timeline")).to_contain_text(f"派遣至：{world['ids']['department']}")
    expect(page.locator("#case-state")).to_have_text("待签收")
    page.context.close()


def _department_id(world: dict) -> int:
    from shiyu.core.scoping import Principal
    from shiyu.org.units.models import Department

    with world["factory"]() as s:
        s.info["principal"] = Principal.system("journey")
        return s.query(Department.id).filter(Department.name == world["ids"]["department"]).scalar()


def _new_report(world: dict) -> None:
    import httpx

    r = httpx.post(world["url"] + "/api/v1/cases", json={
        "idempotency_key": "queue-" + secrets.token_hex(6), "channel": "citizen",
        "category_id": world["ids"]["category"], "description": "小区门口有人占道卖水果",
        "location": {"lon": 117.95, "lat": 24.6}, "anonymous": True})
    assert r.status_code == 201, r.text


def test_a_new_report_updates_the_counts_and_rings_unless_muted(browser: Browser, world: dict) -> None:
    page = _page(browser, world)
    log_in(page, "operator_a")
    page.goto("/desk?queue=to_register")
    before = int(_count(page, "to_register").inner_text())
    toggle = page.locator("#sound-toggle")
    expect(toggle).to_have_text("新案件提示音：开")
    expect(page.locator("body")).to_have_attribute("data-live", "on")  # the live stream is subscribed
    _new_report(world)
    expect(_count(page, "to_register")).to_have_text(str(before + 1))
    expect(toggle).to_have_attribute("data-rings", "1")
    # Muted, and still muted after a reload: the count moves, the sound does not.
    toggle.click()
    expect(toggle).to_have_text("新案件提示音：关")
    page.reload()
    expect(page.locator("#sound-toggle")).to_have_attribute("aria-pressed", "false")
    expect(page.locator("body")).to_have_attribute("data-live", "on")  # the live stream is subscribed
    _new_report(world)
    expect(_count(page, "to_register")).to_have_text(str(before + 2))
    expect(page.locator("#sound-toggle")).not_to_have_attribute("data-rings", "1")
    page.context.close()


def test_the_leader_urges_ticked_cases_in_one_go(browser: Browser, world: dict, shots: Path) -> None:
    page = _page(browser, world)
    log_in(page, "leader_a")
    page.goto("/desk?queue=to_register")
    picks = page.locator("#case-list .row-pick")
    expect(picks.first).to_be_visible()
    count = picks.count()
    assert count >= 2
    # X ticks the focused row; the box on the next row is ticked with the mouse.
    page.locator("h1").click()
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(picks.nth(0)).to_be_checked()
    picks.nth(1).check()
    expect(page.locator("#batch-count")).to_have_text("已选 2 件")
    page.get_by_role("button", name="批量催办").click()
    results = page.locator("#batch-results")
    expect(results).to_contain_text("批量催办：成功 2 件，未办理 0 件")
    expect(results.locator("li.ok")).to_have_count(2)
    page.screenshot(path=str(shots / "desk-batch-urge.png"), full_page=True)
    page.context.close()
