"""A petition answered on time and reviewed: community A's petition officer, on a 360 px phone, registers a
visit (the petitioner's details masked once saved), accepts it well within the 15 days, assigns it to the
responsible unit with the centre's leader as 包案 leader, gives the answer within the 60 days, downloads the
受理告知书 (Word) and the 处理意见书 (PDF) addressed to the petitioner by name, records that the petitioner is not
satisfied, records the 复查 request and gives the 复查 opinion. Nothing on the timeline is late; the desk's
indicators count the acceptance and the answer as on time. Community B's petition officer sees none of it,
through the pages or the API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import log_in, running_world, sized_page
from tests.paper_text import docx_text, pdf_text
from tests.petitions.petition_fixtures import officers
from tests.registry.registry_fixtures import id_number

PETITIONER = id_number("19650512")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    def fill(s, w) -> dict:
        officers(s, w)
        return {"community_a": w.community_a.id}

    with running_world(tmp_path_factory.mktemp("petitions"), fill) as running:
        yield running


def _do(page: Page, action: str, button: str, **fields: str) -> None:
    """Fill one action form of the petition's page and send it; the page comes back at the timeline."""
    form = page.locator(f'form[data-action="{action}"]')
    for name, value in fields.items():
        field = form.locator(f'[name="{name}"]')
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(label=value)
        else:
            field.fill(value)
    form.get_by_role("button", name=button).click()
    page.wait_for_url("**/petitions/*#timeline")


def test_a_petition_is_answered_on_time_and_reviewed(browser: Browser, world: dict, shots: Path) -> None:
    phone = sized_page(browser, world["url"], 360, 740, accept_downloads=True)
    log_in(phone, "officer_a")
    phone.goto("/petitions")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.get_by_role("link", name="登记信访").click()
    phone.select_option("#channel", label="来访")
    phone.fill("#demands", "小区电梯停运三个月，物业拒绝维修")
    phone.fill("#complained_unit", "某物业服务公司")
    phone.fill("#p0_name", "陈建国")
    phone.fill("#p0_id_number", PETITIONER)
    phone.fill("#p0_phone", "13805920011")
    phone.get_by_role("button", name="登记信访").click()
    phone.wait_for_url("**/petitions/*")
    expect(phone.locator("#state")).to_have_text("待受理")
    people = phone.locator("#petitioners")
    expect(people).to_contain_text("陈*国")
    expect(people).not_to_contain_text("陈建国")
    expect(people).not_to_contain_text(PETITIONER)
    expect(phone.locator("h1")).to_contain_text("剩余14天")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.screenshot(path=str(shots / "petition-registered-phone.png"), full_page=True)

    _do(phone, "accept", "受理")
    expect(phone.locator("#state")).to_have_text("已受理")
    _do(phone, "assign", "交办", assigned_unit="区住房和建设局", leader_id="张*丰 · 甲社区")
    _do(phone, "start", "开始办理")
    _do(phone, "answer", "出具处理意见", note="已责令物业十日内修复电梯，街道跟踪落实")
    expect(phone.locator("#state")).to_have_text("已答复")
    papers = phone.locator("#papers")
    expect(papers.locator("form")).to_have_count(2)  # 受理告知书, 处理意见书
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.screenshot(path=str(shots / "papers-petition-phone.png"), full_page=True)
    phone.fill("#paper-reason-acceptance", "书面告知信访人受理")
    with phone.expect_download() as download:
        phone.locator("#paper-acceptance").get_by_role("button", name="Word").click()
    notice = docx_text(download.value.path().read_bytes())
    assert notice.startswith("信访事项受理告知书") and "陈建国：" in notice and "决定予以受理" in notice
    assert "交由区住房和建设局办理" in notice
    phone.fill("#paper-reason-answer", "送达处理意见书")
    with phone.expect_download() as download:
        phone.locator("#paper-answer").get_by_role("button", name="PDF").click()
    assert download.value.suggested_filename.endswith("-answer.pdf")
    answer = pdf_text(download.value.path().read_bytes())
    assert "信访事项处理意见书" in answer and "陈建国" in answer and "已责令物业十日内修复电梯" in answer
    assert PETITIONER not in notice + answer  # a notice names the petitioner; the ID number stays out
    desk = sized_page(browser, world["url"], 1366, 850)
    log_in(desk, "officer_a")
    desk.goto(phone.url.split("#")[0])
    expect(desk.locator("#papers form")).to_have_count(2)
    desk.screenshot(path=str(shots / "papers-petition-desktop.png"), full_page=True)
    _do(phone, "evaluate", "登记评价", satisfied="不满意")
    _do(phone, "request_review", "登记复查请求", note="信访人认为修复期限过长，请求复查")
    expect(phone.locator("#state")).to_have_text("复查中")
    _do(phone, "answer_review", "出具复查意见", note="维持原处理意见，修复期限缩短为七日")
    expect(phone.locator("#state")).to_have_text("已复查")
    timeline = phone.locator("#timeline")
    for step in ("登记", "受理", "交办", "出具处理意见", "登记评价", "登记复查请求", "出具复查意见"):
        expect(timeline).to_contain_text(step)
    expect(timeline.locator(".badge.bad")).to_have_count(0)  # nothing late
    expect(phone.locator("#petitioners")).to_contain_text("陈*国")
    phone.locator("#petitioners summary").first.click()
    phone.locator("#petitioners input[name=reason]").first.fill("电话回访核实身份")
    phone.locator("#petitioners form button").first.click()
    expect(phone.locator("#petitioners [data-revealed]").first).to_have_text("陈建国")
    number = phone.locator("h1").inner_text().split()[0]
    phone.screenshot(path=str(shots / "petition-reviewed-phone.png"), full_page=True)

    phone.goto("/petitions")
    expect(phone.locator('[data-figure="on_time_acceptance_rate"] b')).to_have_text("100%")
    expect(phone.locator('[data-figure="on_time_closure_rate"] b')).to_have_text("100%")
    expect(phone.locator("#petitions")).to_contain_text(number)
    phone.screenshot(path=str(shots / "petition-desk-phone.png"), full_page=True)

    other = sized_page(browser, world["url"], 1366, 850)
    log_in(other, "officer_b")
    other.goto("/petitions")
    expect(other.locator("main")).not_to_contain_text(number)
    expect(other.locator("main")).not_to_contain_text("电梯")
    listed = other.request.get("/api/v1/petitions").json()
    assert listed["total"] == 0 and listed["items"] == []
    assert other.request.get(f"/api/v1/petitions?id_number={PETITIONER}").json()["total"] == 0
    petition_id = phone.request.get("/api/v1/petitions").json()["items"][0]["id"]
    response = other.goto(f"/petitions/{petition_id}")
    assert response is not None and response.status == 404
    expect(other.locator("main")).not_to_contain_text("电梯")
    assert other.request.get(f"/api/v1/petitions/{petition_id}").status == 404
