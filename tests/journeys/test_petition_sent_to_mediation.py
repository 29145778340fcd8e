"""A petition sent to mediation, and the people told: community A's petition officer, on a 360 px phone, finds
that a visit about a leaking flat above is a neighbour dispute, turns it into one (type 邻里) and raises a
warning because the petitioner threatened to gather at the city hall. The centre's leader, at her desk, sees
two unread notices on her home page's to-do list — the warning, urgent, with the officer's reason — opens it
into the petition, follows the timeline's 已转为矛盾纠纷 to the dispute the petition opened, with the
petitioner, who is in the population register, as its applicant. Community B's leader is told nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import log_in, running_world, sized_page
from tests.petitions.petition_fixtures import officers
from tests.registry.registry_fixtures import member, registered_family


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    def fill(s, w) -> dict:
        officers(s, w)
        family = registered_family(s, w, "worker_a1", "operator_a", members=[member("孙桂兰")])
        from shiyu.registry.models import Person

        return {"id_number": s.get(Person, family["persons"][0]).id_number}

    with running_world(tmp_path_factory.mktemp("mediation"), fill) as running:
        yield running


def test_a_petition_becomes_a_dispute_and_the_leader_is_told(browser: Browser, world: dict, shots: Path) -> None:
    from shiyu.core import outbox

    phone = sized_page(browser, world["url"], 360, 740)
    log_in(phone, "officer_a")
    phone.goto("/petitions/new")
    phone.select_option("#channel", label="来访")
    phone.fill("#demands", "楼上住户卫生间漏水半年，多次协商未果")
    phone.fill("#p0_name", "孙桂兰")
    phone.fill("#p0_id_number", world["ids"]["id_number"])
    phone.fill("#p0_phone", "13805920011")
    phone.get_by_role("button", name="登记信访").click()
    phone.wait_for_url("**/petitions/*")
    petition_url = phone.url

    links = phone.locator("#links")
    links.locator("#link-kind").select_option(label="转为矛盾纠纷")
    links.locator("#link-dispute-type").select_option(label="邻里")
    links.locator("#link-reason").fill("邻里漏水纠纷，宜由社区调委会调解")
    links.get_by_role("button", name="提交").click()
    phone.wait_for_url("**/petitions/*")
    links = phone.locator("#links")
    links.locator("#link-kind").select_option(label="发出预警")
    links.locator("#link-reason").fill("信访人扬言到市政府聚集")
    links.get_by_role("button", name="提交").click()
    phone.wait_for_url("**/petitions/*")
    expect(phone.locator("#timeline")).to_contain_text("转为矛盾纠纷")
    expect(phone.locator("#timeline")).to_contain_text("发出预警")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.screenshot(path=str(shots / "petition-links-phone.png"), full_page=True)
    outbox.deliver_pending(world["factory"])  # what the worker's delivery loop does
    outbox.deliver_pending(world["factory"])  # and the dispute's answer back to the petition

    desk = sized_page(browser, world["url"], 1280, 900)
    log_in(desk, "leader_a")
    todo = desk.locator("#todo li", has_text="未读消息")
    expect(todo).to_have_class("urgent")
    expect(todo.locator(".count")).to_have_text("1")
    todo.get_by_role("link").click()
    warning = desk.locator("#notices li", has_text="发出预警")
    expect(warning).to_contain_text("信访人扬言到市政府聚集")
    expect(warning).to_contain_text("紧急")
    desk.screenshot(path=str(shots / "notices-desktop.png"), full_page=True)
    warning.get_by_role("button", name="查看").click()
    desk.wait_for_url(petition_url)
    opened = desk.locator('#timeline li[data-action="dispute_opened"]')
    expect(opened).to_contain_text("已转为矛盾纠纷")
    opened.get_by_role("link", name="查看矛盾纠纷").click()
    desk.wait_for_url("**/disputes/*")
    expect(desk.locator("body")).to_contain_text("信访转入")
    expect(desk.locator("body")).to_contain_text("孙*兰")
    expect(desk.locator("body")).not_to_contain_text(world["ids"]["id_number"])
    desk.screenshot(path=str(shots / "dispute-from-petition-desktop.png"), full_page=True)

    log_in(desk, "leader_b")
    desk.goto("/notices")
    expect(desk.locator("body")).to_contain_text("暂无消息")
