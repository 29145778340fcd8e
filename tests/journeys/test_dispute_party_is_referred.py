"""A party to a dispute is referred to the key-person register (issue 16). The mediator's risk review on the
dispute's page finds threats of revenge and names a party for enrolment: the respondent, whom nobody has
registered, is refused on the page (register them first) and nothing changes; the applicant, in the
population register, is named and the dispute turns high-risk. The community centre's leader finds him, masked,
in 高危矛盾纠纷当事人 as a referral graded red, opens the record, verifies it, is told to name the grid worker
before enrolling, names one of his grid's workers and enrols him: 在管, due in seven days. A repeat
petitioner's 列为重点人员 on the petition's page lands in 信访重点人员 the same way."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from shiyu.core import outbox
from shiyu.keypersons import groups
from tests.e2e.conftest import log_in, running_world, sized_page
from tests.registry.registry_fixtures import member, registered_family

TZ = ZoneInfo("Asia/Shanghai")
PARTY, STRANGER, PETITIONER = "陈建国", "刘秀英", "林秀英"


def _fill(s, w) -> dict:
    from shiyu.registry.models import Person
    from tests.disputes.dispute_fixtures import SYSTEM, act, make_dispute, pool
    from tests.disputes.dispute_fixtures import service as disputes
    from tests.petitions.petition_fixtures import officers, register

    groups.seed(s)
    family = registered_family(s, w, "worker_a1", "leader_a", members=[member(PARTY), member(PETITIONER, "配偶")])
    party, petitioner = (s.get(Person, i) for i in family["persons"])
    ids = pool(s, w)
    dispute = make_dispute(s, title="宅基地边界纠纷", type_code="neighbour", parties=(
        disputes.PartyIn(role="applicant", name=PARTY, id_number=party.id_number, phone="13812345678"),
        disputes.PartyIn(role="respondent", name=STRANGER, phone="13900001111")))
    act(s, SYSTEM, dispute, "assign", mediator_id=ids["mediator"])
    act(s, SYSTEM, dispute, "start")
    officers(s, w)
    register(s, w, "officer_a", w.community_a.id, name=PETITIONER, id_no=petitioner.id_number)
    repeat = register(s, w, "officer_a", w.community_a.id, name=PETITIONER, id_no=petitioner.id_number)
    assert repeat.is_repeat
    return {"dispute": dispute.id, "code": dispute.code, "petition": repeat.id, "number": repeat.number}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    with running_world(tmp_path_factory.mktemp("kp_referral"), _fill) as running:
        yield running


def _review(page: Page, party: str) -> None:
    """The mediator's risk review: high, threats of revenge, ``party`` named for enrolment."""
    if not page.locator("#act-review_risk").is_visible():
        page.locator("details:has(#act-review_risk) > summary").click()
    form = page.locator("#act-review_risk")
    form.get_by_label("风险等级").select_option(label="高风险")
    form.get_by_label("列为重点人员").select_option(label=party)
    form.get_by_label("说明").fill("当事人扬言报复对方，情绪激动")
    form.get_by_role("button", name="风险研判").click()


def _both(browser: Browser, world: dict, user: str, path: str, shots: Path, name: str) -> None:
    """The same page on a 360 px phone, its screenshot, and no sideways scrolling."""
    phone = sized_page(browser, world["url"], 360, 740)
    log_in(phone, user)
    phone.goto(path)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360, path
    phone.screenshot(path=shots / f"{name}-360.png", full_page=True)
    phone.context.close()


def _referred(browser: Browser, world: dict, group: str, masked: str, grade: str, name: str) -> tuple[Page, Locator]:
    """The centre leader's register filtered to ``group``: one referral waiting, masked, graded ``grade``."""
    desk = sized_page(browser, world["url"], 1366, 850)
    log_in(desk, "leader_a")
    desk.goto("/keypersons")
    desk.get_by_label("类别").select_option(label=group)
    desk.get_by_role("button", name="筛选").click()
    row = desk.locator("#kp-register tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td").first).to_have_text(masked)
    expect(row).to_contain_text("已移交待核实")
    expect(row.locator(".badge")).to_have_text(grade)
    expect(desk.locator("main")).not_to_contain_text(name)
    return desk, row


def test_a_high_risk_dispute_party_is_referred_verified_and_enrolled(browser: Browser, world: dict,
                                                                     shots: Path) -> None:
    ids = world["ids"]
    mediator = sized_page(browser, world["url"], 1366, 850)
    log_in(mediator, "mediator_a")
    mediator.goto(f"/disputes/{ids['dispute']}")
    expect(mediator.locator("#dispute-risk")).to_have_text("低风险")
    _review(mediator, "被申请人 刘*英")  # nobody registered her
    expect(mediator.locator("[role=alert]")).to_contain_text(
        "该人员尚未登记为实有人口，不能列为重点人员；请先在基础信息中登记")
    expect(mediator.locator("#dispute-risk")).to_have_text("低风险")  # nothing of the review was kept
    mediator.screenshot(path=shots / "ref-01-dispute-refused-1366.png", full_page=True)
    _review(mediator, "申请人 陈*国")
    expect(mediator.locator("#dispute-risk")).to_have_text("高风险")
    expect(mediator.locator("#timeline")).to_contain_text("风险研判")
    mediator.screenshot(path=shots / "ref-02-dispute-reviewed-1366.png", full_page=True)
    _both(browser, world, "mediator_a", f"/disputes/{ids['dispute']}", shots, "ref-02-dispute-reviewed")
    outbox.deliver_pending(world["factory"])  # what the worker's delivery loop does

    desk, row = _referred(browser, world, "高危矛盾纠纷当事人", "陈*国", "红", PARTY)
    desk.screenshot(path=shots / "ref-03-register-referred-1366.png", full_page=True)
    _both(browser, world, "leader_a", desk.url.removeprefix(world["url"]), shots, "ref-03-register-referred")

    row.get_by_role("link").click()
    desk.wait_for_url("**/keypersons/records/*")
    record_path = desk.url.removeprefix(world["url"])
    expect(desk.locator("h1")).to_contain_text("陈*")
    expect(desk.locator("h1")).to_contain_text("高危矛盾纠纷当事人")
    expect(desk.locator("h1")).not_to_contain_text(PARTY)
    expect(desk.locator("#kp-source")).to_have_text(f"矛盾纠纷转入 · {ids['code']}")
    expect(desk.locator("main")).to_contain_text("当事人扬言报复对方")
    expect(desk.locator("#kp-grid-worker")).to_have_text("—")
    desk.select_option("#kp-action", label="开始核实")
    desk.locator("#kp-act").get_by_role("button").click()
    expect(desk.locator("#kp-state")).to_have_text("核实中")
    desk.select_option("#kp-action", label="列管")
    desk.locator("#kp-act").get_by_role("button").click()
    expect(desk.locator("[role=alert]")).to_contain_text("列管前须指定责任网格员")
    expect(desk.locator("#kp-state")).to_have_text("核实中")
    desk.screenshot(path=shots / "ref-04-record-needs-a-grid-worker-1366.png", full_page=True)
    desk.get_by_label("责任网格员").select_option(label="王*明 · 甲社区第一网格")
    desk.locator("#kp-team").get_by_role("button", name="指定").click()
    expect(desk.locator("#kp-grid-worker")).to_contain_text("王*明")
    desk.select_option("#kp-action", label="列管")
    desk.locator("#kp-act").get_by_role("button").click()
    expect(desk.locator("#kp-state")).to_have_text("在管")
    in_a_week = (datetime.now(TZ).date() + timedelta(days=7)).isoformat()  # red: a visit every 7 days
    expect(desk.locator("#kp-due")).to_have_text(in_a_week)
    expect(desk.locator("#timeline")).to_contain_text("调整责任人")
    desk.screenshot(path=shots / "ref-05-record-enrolled-1366.png", full_page=True)
    _both(browser, world, "leader_a", record_path, shots, "ref-05-record-enrolled")

    worker = sized_page(browser, world["url"], 360, 740)  # the grid worker now has him in 我的走访
    log_in(worker, "worker_a1")
    worker.goto("/keypersons/visits")
    expect(worker.locator("article.f-card", has_text="陈*")).to_contain_text("高危矛盾纠纷当事人")


def test_a_repeat_petitioner_is_referred_from_the_petition_page(browser: Browser, world: dict, shots: Path) -> None:
    ids = world["ids"]
    officer = sized_page(browser, world["url"], 1366, 850)
    log_in(officer, "officer_a")
    officer.goto(f"/petitions/{ids['petition']}")
    links = officer.locator("#links")
    links.get_by_label("处置方式").select_option(label="列为重点人员")
    links.get_by_label("理由").fill("同一事项第二次来访，情绪激烈")
    links.get_by_role("button", name="提交").click()
    expect(officer.locator("#timeline")).to_contain_text("列为重点人员")
    officer.screenshot(path=shots / "ref-06-petition-enrol-1366.png", full_page=True)
    outbox.deliver_pending(world["factory"])

    desk, row = _referred(browser, world, "信访重点人员", "林*英", "黄", PETITIONER)
    row.get_by_role("link").click()
    expect(desk.locator("#kp-source")).to_have_text(f"信访移交 · {ids['number']}")
    expect(desk.locator("h1")).to_contain_text("信访重点人员")
    desk.screenshot(path=shots / "ref-07-petition-record-1366.png", full_page=True)
