"""The 司法所 keeps the mediation pool: the street's administrator (a centre leader over the street) adds 赵敏 to
甲社区's 调委会 with her account, corrects her specialties (劳资 was a slip: 邻里), and stops 王建国, who has
left — the page warns that his open dispute stays with him. A citizen applying for mediation on a phone no
longer finds him among the mediators to choose, the community's operator cannot assign him (赵敏 is offered
and takes the dispute), and the dispute he had still names him, marked 已停用.

Screenshots of the list and the edit page at desktop width and at 360 px go to ``SHIYU_TEST_SHOTS_DIR`` (or
the test's temporary directory) as ``mediators-*.png``, to be looked at."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import WAIT_MS, log_in, running_world

DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 360, "height": 740}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    from tests.disputes.dispute_fixtures import make_dispute, pool
    from tests.factories import add_user

    def fill(session, w) -> dict:
        ids = pool(session, w)  # 甲社区人民调解委员会: 王建国 (mediator_a) and 李淑芬
        add_user(session, "sifa_admin", w.street, [("centre_leader", w.street)], full_name="周司法")
        zhao = add_user(session, "mediator_zhao", w.community_a, [("mediator", w.community_a)], full_name="赵敏")
        add_user(session, "citizen_a", w.city, [("citizen", w.city)])
        his = make_dispute(session, title="楼道堆物纠纷", mediator_id=ids["mediator"], state="assigned")
        new = make_dispute(session, title="邻居噪音扰民")
        return {**ids, "his": his.id, "new": new.id, "zhao_account": zhao.id}

    with running_world(tmp_path_factory.mktemp("pool"), fill) as running:
        yield running


def _page(browser: Browser, world: dict, viewport: dict) -> Page:
    context = browser.new_context(viewport=viewport, base_url=world["url"], locale="zh-CN")
    context.set_default_timeout(WAIT_MS)
    return context.new_page()


def _row(page: Page, name: str):
    return page.locator("table.pool-mediators tr").filter(has=page.get_by_role("link", name=name, exact=True))


def test_the_sifasuo_adds_corrects_and_stops_a_mediator(browser: Browser, world: dict, shots: Path) -> None:
    admin = _page(browser, world, DESKTOP)
    log_in(admin, "sifa_admin")
    admin.goto("/disputes")
    admin.get_by_role("link", name="管理调解组织与调解员").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("调解组织与调解员")
    committee = admin.locator("section.pool-org").filter(has_text="甲社区人民调解委员会")
    expect(_row(admin, "王建国")).to_contain_text("在用")

    committee.get_by_role("link", name="添加调解员").click()
    expect(admin.get_by_label("所属调解组织")).to_have_value(str(world["ids"]["org"]))
    admin.get_by_label("姓名").fill("赵敏")
    account = admin.get_by_label("调解员账号")
    expect(account.locator("option")).to_have_count(3)  # none, mediator_a, mediator_zhao: mediators' accounts
    account.select_option(str(world["ids"]["zhao_account"]))
    admin.get_by_label("婚姻家庭").check()
    admin.get_by_label("劳资", exact=True).check()
    admin.get_by_label("简介").fill("社区老党员，擅长婚姻家庭和邻里纠纷调解")
    admin.get_by_role("button", name="添加调解员").click()
    expect(admin.get_by_role("status")).to_have_text("调解员已添加")
    expect(_row(admin, "赵敏")).to_contain_text("婚姻家庭、劳资")

    # 劳资 was a slip: she mediates neighbours' quarrels.
    _row(admin, "赵敏").get_by_role("link", name="赵敏").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("赵敏")
    expect(admin.get_by_label("婚姻家庭")).to_be_checked()
    admin.get_by_label("劳资", exact=True).uncheck()
    admin.get_by_label("邻里").check()
    admin.screenshot(path=str(shots / "mediators-edit-desktop.png"), full_page=True)
    admin.get_by_role("button", name="保存").click()
    expect(admin.get_by_role("status")).to_have_text("调解员已保存")
    expect(_row(admin, "赵敏")).to_contain_text("婚姻家庭、邻里")
    expect(_row(admin, "赵敏")).not_to_contain_text("劳资")

    # 王建国 has left: stopped, with the warning that his open dispute stays with him.
    _row(admin, "王建国").get_by_role("link", name="王建国").click()
    admin.get_by_text("停用该调解员").click()
    expect(admin.locator("#mediator-state")).to_contain_text("其手上还有1件在办纠纷，仍由其办理")
    admin.get_by_role("button", name="确认停用").click()
    expect(admin.get_by_role("status")).to_contain_text("调解员已停用")
    expect(_row(admin, "王建国")).to_contain_text("已停用")
    expect(_row(admin, "李淑芬")).to_contain_text("在用")
    admin.screenshot(path=str(shots / "mediators-list-desktop.png"), full_page=True)

    phone = _page(browser, world, PHONE)
    log_in(phone, "sifa_admin")
    phone.goto("/disputes/pool")
    expect(_row(phone, "王建国")).to_contain_text("已停用")
    phone.screenshot(path=str(shots / "mediators-list-phone.png"), full_page=True)
    _row(phone, "赵敏").get_by_role("link", name="赵敏").click()
    expect(phone.get_by_label("邻里")).to_be_checked()
    phone.screenshot(path=str(shots / "mediators-edit-phone.png"), full_page=True)
    phone.context.close()

    # The citizen's portal no longer offers him.
    citizen = _page(browser, world, PHONE)
    log_in(citizen, "citizen_a")
    citizen.goto("/portal/mediation")
    choices = citizen.locator("#pool")
    expect(choices).to_contain_text("赵敏")
    expect(choices).to_contain_text("李淑芬")
    expect(choices).not_to_contain_text("王建国")
    citizen.context.close()

    # The desk cannot assign him; 赵敏 takes the new dispute; his old one still names him.
    desk = _page(browser, world, DESKTOP)
    log_in(desk, "operator_a")
    desk.goto(f"/disputes/{world['ids']['new']}")
    if not desk.locator("#act-assign").is_visible():  # the first action's panel is the open one
        desk.locator("details:has(#act-assign) > summary").click()
    mediators = desk.locator("#assign-mediator_id option")
    expect(mediators).to_have_count(2)
    expect(mediators.filter(has_text="王建国")).to_have_count(0)
    desk.locator("#assign-mediator_id").select_option(label="赵敏 · 在办 0")
    desk.locator("#act-assign").get_by_role("button", name="指派调解员").click()
    expect(desk.locator("#dispute-state")).to_have_text("待调解")
    expect(desk.locator("#dispute-mediator")).to_have_text("赵敏")
    desk.goto(f"/disputes/{world['ids']['his']}")
    expect(desk.locator("#dispute-mediator")).to_have_text("王建国 已停用")
    desk.context.close()
    admin.context.close()
