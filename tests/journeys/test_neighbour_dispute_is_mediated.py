"""A grid worker's neighbour dispute is mediated: on a 360 px phone the worker registers a leak between two
flats with both parties; the community centre's operator assigns the community committee's mediator; the
mediator starts, records a session, reaches an agreement and downloads the 调解协议书 — a Word file that
opens and names both parties in full, and the same paper as a PDF whose text names them too — records the
court's 司法确认, and the agreement is performed; the grid worker follows up on the phone and the operator
closes it (案结事了). A second dispute fails, is referred to the court and stays on the desk's open referrals
until the court's feedback is recorded."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from docx import Document
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import WAIT_MS, log_in, running_world
from tests.paper_text import pdf_text

APPLICANT, RESPONDENT = "陈建平", "刘秀英"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    from tests.disputes.dispute_fixtures import SYSTEM, act, make_dispute, pool

    def fill(session, w) -> dict:
        ids = pool(session, w)
        failing = make_dispute(session, title="装修噪音扰民", mediator_id=ids["mediator"], state="assigned")
        act(session, SYSTEM, failing, "start")
        make_dispute(session, title="宠物犬噪音扰民")  # stays open: the map's dispute layer shows it
        return {"grid_a1": w.grids["a1"].id, "failing": failing.id, **ids}

    with running_world(tmp_path_factory.mktemp("disputes"), fill) as running:
        yield running


def _page(browser: Browser, world: dict, width: int, height: int) -> Page:
    context = browser.new_context(viewport={"width": width, "height": height}, base_url=world["url"],
                                  locale="zh-CN", accept_downloads=True)
    context.set_default_timeout(WAIT_MS)
    return context.new_page()


def _open(page: Page, action: str) -> None:
    """Open the action's panel (the first one is open already)."""
    if not page.locator(f"#act-{action}").is_visible():
        page.locator(f"details:has(#act-{action}) > summary").click()


def _act(page: Page, action: str, label: str) -> None:
    _open(page, action)
    page.locator(f"#act-{action}").get_by_role("button", name=label).click()


def test_a_neighbour_dispute_is_mediated_confirmed_and_closed(browser: Browser, world: dict) -> None:
    phone = _page(browser, world, 360, 740)
    log_in(phone, "worker_a1")
    phone.goto("/disputes/new")
    phone.fill("#title", "楼上漏水致楼下天花板受损")
    phone.select_option("#type_code", label="邻里")
    phone.fill("#description", "楼上卫生间漏水，楼下天花板发霉")
    phone.fill("#applicant_name", APPLICANT)
    phone.fill("#applicant_phone", "13812345678")
    phone.fill("#respondent_name", RESPONDENT)
    phone.fill("#amount", "3200")
    phone.get_by_role("button", name="登记").click()
    phone.wait_for_url("**/disputes/*")
    expect(phone.locator("#dispute-state")).to_have_text("已登记")
    expect(phone.locator("#parties")).to_contain_text("陈*平")
    expect(phone.locator("#parties")).not_to_contain_text(APPLICANT)
    dispute_url = phone.url

    desk = _page(browser, world, 1280, 900)
    log_in(desk, "operator_a")
    desk.goto("/disputes")
    desk.get_by_role("link", name="楼上漏水致楼下天花板受损").click()
    _open(desk, "assign")
    desk.select_option("#assign-mediator_id", value=str(world["ids"]["mediator"]))
    _act(desk, "assign", "指派调解员")
    expect(desk.locator("#dispute-state")).to_have_text("待调解")
    expect(desk.locator("#dispute-mediator")).to_have_text("王建国")
    expect(desk.locator("#dispute-mediation")).to_have_text("剩余30天")  # a month to settle it (第三十三条)

    mediator = _page(browser, world, 1280, 900)
    log_in(mediator, "mediator_a")
    mediator.goto("/disputes/workbench")
    expect(mediator.locator("li").filter(has_text="楼上漏水致楼下天花板受损")).to_contain_text("剩余30天")
    mediator.get_by_role("link", name="楼上漏水致楼下天花板受损").click()
    _act(mediator, "start", "开始调解")
    expect(mediator.locator("#dispute-state")).to_have_text("调解中")
    mediator.fill("#starts_at", "2026-12-05T09:30")
    mediator.fill("#place", "社区调解室")
    mediator.fill("#attendees", f"{APPLICANT}、{RESPONDENT}、调解员王建国")
    mediator.fill("#record", "双方陈述事实；经释法说理，被申请人同意赔偿维修费。")
    mediator.get_by_role("button", name="保存调解记录").click()
    expect(mediator.locator("#sessions")).to_contain_text("社区调解室")
    _open(mediator, "agree")
    mediator.fill("#agree-terms", f"一、{RESPONDENT}于七日内赔偿{APPLICANT}维修费3200元。")
    mediator.fill("#agree-perform_by", "2026-12-12")
    _act(mediator, "agree", "达成协议")
    expect(mediator.locator("#dispute-state")).to_have_text("已达成协议")

    mediator.fill("#paper-reason-agreement", "打印协议书供双方签字")
    with mediator.expect_download() as download:
        mediator.locator("#paper-agreement").get_by_role("button", name="Word").click()
    paper = Document(io.BytesIO(download.value.path().read_bytes()))
    text = "\n".join(p.text for p in paper.paragraphs)
    assert "人民调解协议书" in text and APPLICANT in text and RESPONDENT in text and "3200元" in text
    with mediator.expect_download() as download:  # the reason typed once serves both buttons
        mediator.locator("#paper-agreement").get_by_role("button", name="PDF").click()
    assert download.value.suggested_filename.endswith("-agreement.pdf")
    text = pdf_text(download.value.path().read_bytes())
    assert "人民调解协议书" in text and APPLICANT in text and RESPONDENT in text and "3200元" in text

    mediator.fill("#court", "思明区人民法院")
    mediator.fill("#applied_on", "2026-12-06")
    mediator.get_by_role("button", name="记录司法确认申请").click()
    mediator.select_option("#result", "confirmed")
    mediator.fill("#ruling_no", "(2026)闽0203民特1号")
    mediator.fill("#decided_on", "2026-12-10")
    mediator.get_by_role("button", name="记录裁定结果").click()
    expect(mediator.locator("#confirmation-result")).to_contain_text("确认有效")
    _act(mediator, "perform", "进入履行")
    expect(mediator.locator("#dispute-state")).to_have_text("履行中")

    phone.goto(dispute_url)
    _open(phone, "follow_up")
    phone.fill("#follow_up-note", "上门回访，赔偿已到位，双方满意")
    _act(phone, "follow_up", "回访")
    expect(phone.locator("#dispute-state")).to_have_text("已回访")
    expect(phone.locator("#follow-ups")).to_contain_text("赔偿已到位")

    desk.goto(dispute_url)
    _act(desk, "close", "案结事了")
    expect(desk.locator("#dispute-state")).to_have_text("案结事了")
    expect(desk.locator("#timeline")).to_contain_text("达成协议")


def test_a_failed_mediation_is_referred_and_tracked_until_feedback(browser: Browser, world: dict) -> None:
    desk = _page(browser, world, 1280, 900)
    log_in(desk, "operator_a")
    desk.goto(f"/disputes/{world['ids']['failing']}")
    _open(desk, "fail")
    desk.fill("#fail-note", "被申请人拒绝调解")
    _act(desk, "fail", "调解不成")
    expect(desk.locator("#dispute-state")).to_have_text("调解不成")
    _open(desk, "refer")
    desk.select_option("#refer-channel", "court")
    desk.fill("#refer-counterpart", "思明区人民法院诉讼服务中心")
    desk.fill("#refer-note", "引导当事人起诉")
    _act(desk, "refer", "分流移交")
    expect(desk.locator("#dispute-state")).to_have_text("已分流")

    desk.goto("/disputes")
    expect(desk.locator("#referrals")).to_contain_text("思明区人民法院诉讼服务中心")
    desk.locator("#referrals").get_by_role("link").first.click()
    referral = desk.locator("article.referral")
    referral.get_by_label("状态").select_option("accepted")
    referral.get_by_label("对方案号").fill("(2026)闽0203民初88号")
    referral.get_by_role("button", name="记录反馈").click()
    desk.goto("/disputes")
    expect(desk.locator("#referrals")).to_contain_text("对方已受理")  # accepted, still tracked

    desk.locator("#referrals").get_by_role("link").first.click()
    referral = desk.locator("article.referral")
    referral.get_by_label("状态").select_option("done")
    referral.get_by_label("反馈结果").fill("法院已立案审理")
    referral.get_by_role("button", name="记录反馈").click()
    expect(desk.locator("#referrals")).to_contain_text("法院已立案审理")
    desk.goto("/disputes")
    expect(desk.locator("#referrals")).to_contain_text("没有待反馈的移交")

    # The one map: the dispute layer shows the open one (the first test's dispute is closed, this one referred).
    desk.goto("/command")
    expect(desk.locator("#command-map")).to_have_attribute("data-ready", "1")
    desk.locator("#layers input[name=disputes]").check()
    expect(desk.locator("#command-map")).to_have_attribute("data-disputes", "1")
