"""A released prisoner is handed over (必接必送): the prison's hand-over waits on the community's register; the
centre leader confirms receipt of every paper, verifies and enrols him with the grid worker on the team. The
grid worker finds him in 我的走访 on a 360 px phone and records the visit. Weeks later the next visit falls
due within the week and the nightly job puts it on the grid worker's task tab: the phone has no signal, the
worker fills 是否见到本人 and 走访情况 in and the visit waits on the phone; back online it is sent once and the
record shows it on time, counted once. Later still a visit is missed: the record turns red, and past the
limit it becomes a case naming the record, not the man. A grid worker of another grid and a citizen see
nothing of him through the pages or the API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select, update

from shiyu.cases.categories.seed import seed_categories
from shiyu.core import outbox
from shiyu.core.scoping import Principal
from shiyu.keypersons import escalation, handover, items, plans
from shiyu.keypersons.models import KeyPersonRecord, Visit
from shiyu.tasks.models import Submission, WorkItem
from tests.e2e.conftest import WAIT_MS, log_in, running_world
from tests.factories import add_user
from tests.registry.registry_fixtures import POINT_A1, member, principal, registered_family

TZ = ZoneInfo("Asia/Shanghai")
NAME = "周永福"


def _fill(s, w) -> dict:
    add_user(s, "worker_a2", w.grids["a2"], [("grid_worker", w.grids["a2"])])
    add_user(s, "citizen", w.city, [("citizen", w.city)])
    seed_categories(s)
    family = registered_family(s, w, "worker_a1", "leader_a", members=[member(NAME), member("周小红", "配偶")])
    leader = principal(s, w, "leader_a")
    s.info["principal"] = leader
    sent = handover.send(s, leader, handover.Sending(
        group_code="released", to_grid_id=w.grids["a1"].id, person_id=family["persons"][0], from_org="省第二监狱",
        sender_name="刘管教", document_no="释字〔2026〕第0412号", items=("释放证明书", "回执单")))
    s.info["principal"] = Principal.system("e2e")
    return {"handover": sent.id, "worker_a1": w.users["worker_a1"].id}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    with running_world(tmp_path_factory.mktemp("keypersons"), _fill) as running:
        yield running


def _page(browser: Browser, world: dict, width: int, height: int, **extra) -> Page:
    context = browser.new_context(viewport={"width": width, "height": height}, base_url=world["url"],
                                  locale="zh-CN", **extra)
    context.set_default_timeout(WAIT_MS)
    return context.new_page()


def _phone(browser: Browser, world: dict) -> Page:
    return _page(browser, world, 360, 740, is_mobile=True, has_touch=True, permissions=["geolocation"],
                 geolocation={"longitude": POINT_A1["lon"], "latitude": POINT_A1["lat"]})


def _count(world: dict, model, *where) -> int:
    with world["factory"]() as s:
        s.info["principal"] = Principal.system("e2e")
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _receive_and_enrol(world: dict) -> int:
    """The centre's receipt of the hand-over (every paper) and the enrolment, through the API as the leader's
    page would post them."""
    from fastapi.testclient import TestClient

    from tests.factories import login

    client = TestClient(world["app"])
    h = login(client, "leader_a")
    missing = client.post(f"/api/v1/keypersons/handovers/{world['ids']['handover']}/receive", headers=h, json={
        "received_items": ["释放证明书"], "grid_worker_id": world["ids"]["worker_a1"], "grade": "yellow",
        "attributes": {"offence": "盗窃罪", "released_on": "2026-11-30"}})
    assert missing.status_code == 422 and missing.json()["code"] == "keyperson_items_missing"
    record = client.post(f"/api/v1/keypersons/handovers/{world['ids']['handover']}/receive", headers=h, json={
        "received_items": ["释放证明书", "回执单"], "grid_worker_id": world["ids"]["worker_a1"], "grade": "yellow",
        "attributes": {"offence": "盗窃罪", "released_on": "2026-11-30"}}).json()
    assert record["state"] == "referred" and record["source"] == "institution"
    return int(record["id"])


def test_handed_over_enrolled_visited_then_a_missed_visit_turns_red(browser: Browser, world: dict,
                                                                    shots: Path) -> None:
    desk = _page(browser, world, 1366, 850)
    log_in(desk, "leader_a")
    desk.goto("/keypersons")
    expect(desk.locator("#handovers")).to_contain_text("省第二监狱")
    record_id = _receive_and_enrol(world)
    desk.goto(f"/keypersons/records/{record_id}")
    expect(desk.locator("h1")).to_contain_text("周*")
    expect(desk.locator("h1")).not_to_contain_text(NAME)
    for action in ("开始核实", "列管"):
        desk.select_option("#kp-action", label=action)
        desk.locator("#kp-act").get_by_role("button").click()
        desk.wait_for_url(f"**/keypersons/records/{record_id}")
    expect(desk.locator("#kp-state")).to_have_text("在管")
    desk.locator("#pii-name summary").click()
    desk.fill("#reason-name", "核对移交人员身份")
    desk.locator("#pii-name").get_by_role("button").click()
    expect(desk.locator("#reveal-name")).to_contain_text(NAME)

    desk.screenshot(path=shots / "kp-01-leader-record-enrolled-1366.png", full_page=True)

    phone = _phone(browser, world)
    log_in(phone, "worker_a1")
    phone.goto("/keypersons/visits")
    card = phone.locator(f"#visit-{record_id}")
    expect(card).to_contain_text("周*")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    card.locator("textarea").fill("本人在家，已找到工作，情绪稳定")
    card.get_by_role("button", name="登记走访").click()
    expect(phone.locator("#visit-saved")).to_be_visible()
    phone.screenshot(path=shots / "kp-02-my-visits-saved-360.png", full_page=True)
    phone.goto(f"/keypersons/records/{record_id}")
    expect(phone.locator("#timeline")).to_contain_text("走访")
    expect(phone.locator("#kp-warning")).to_contain_text("正常")

    due = _visit_due_within_the_week(world, record_id)
    _visit_offline_from_the_task_tab(phone, world, record_id, due, shots)
    desk.goto(f"/keypersons/records/{record_id}")
    expect(desk.locator("#kp-due")).to_contain_text((datetime.now(TZ).date() + timedelta(days=30)).isoformat())
    expect(desk.locator("#timeline li", has_text="走访")).to_have_count(2)
    desk.screenshot(path=shots / "kp-05-leader-record-after-offline-visit-1366.png", full_page=True)
    desk.goto("/keypersons/dashboard")  # two visits in the last 90 days, both on time: none counted twice
    row = desk.locator("#kp-indicators tbody tr", has_text="刑满释放人员")
    expect(row.locator("td").nth(5)).to_have_text("2")
    expect(row.locator("td").nth(6)).to_have_text("100.0")

    # five weeks later the next visit (yellow: every 30 days) has not been made
    today = datetime.now(TZ).date()
    with world["factory"]() as s:
        s.info["principal"] = Principal.system("e2e")
        s.execute(update(KeyPersonRecord).where(KeyPersonRecord.id == record_id)
                  .values(last_visit_on=today - timedelta(days=35)))
        plans.recompute_due(s)
        plans.raise_warnings(s, today, plans.Limits(red_after_days=3, case_after_days=7))
        s.commit()
    phone.goto(f"/keypersons/records/{record_id}")
    expect(phone.locator("#kp-warning")).to_contain_text("红灯")
    expect(phone.locator("#kp-due")).to_contain_text("逾期5天")
    phone.screenshot(path=shots / "kp-06-record-red-360.png", full_page=True)
    filed = escalation.file_cases(world["factory"], TZ, today, plans.Limits(red_after_days=3, case_after_days=5))
    assert len(filed) == 1
    desk.goto(f"/keypersons/records/{record_id}")
    expect(desk.locator("main")).to_contain_text(f"#{filed[0]}")
    desk.screenshot(path=shots / "kp-07-leader-record-case-1366.png", full_page=True)
    desk.goto("/keypersons/dashboard")
    expect(desk.locator("#kp-figures")).to_contain_text("脱管")
    desk.screenshot(path=shots / "kp-08-dashboard-1366.png", full_page=True)
    with world["factory"]() as s:
        s.info["principal"] = Principal.system("e2e")
        assert s.scalar(select(KeyPersonRecord.case_id).where(KeyPersonRecord.id == record_id)) == filed[0]


def _visit_due_within_the_week(world: dict, record_id: int) -> str:
    """Twenty-six days on (the first visit moved back so, dates in Shanghai): the next visit, every 30 days, is
    due in four, and the nightly job opens its work item for the grid worker. Answers the due date."""
    today = datetime.now(TZ).date()
    with world["factory"]() as s:
        s.info["principal"] = Principal.system("e2e")
        s.execute(update(Visit).where(Visit.record_id == record_id).values(visited_on=today - timedelta(days=26)))
        s.execute(update(KeyPersonRecord).where(KeyPersonRecord.id == record_id)
                  .values(last_visit_on=today - timedelta(days=26)))
        plans.recompute_due(s)
        assert items.open_due_items(s, today, TZ) == 1
        s.commit()
    return (today + timedelta(days=4)).isoformat()


def _visit_offline_from_the_task_tab(phone: Page, world: dict, record_id: int, due: str, shots: Path) -> None:
    """The visit item on the task tab, filled with no signal; back online the queue sends it once, and the
    visit is on the record (on time), once however often the queue and the event delivery run."""
    phone.goto("/field/tasks")
    card = phone.locator("article.f-card", has_text=f"KP-{record_id}")
    expect(card).to_contain_text("重点人员走访")
    expect(card).to_contain_text(f"截止 {due[5:]} 23:59")
    expect(card).not_to_contain_text(NAME)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    sent: list[dict] = []
    phone.on("request", lambda r: sent.append(r.post_data_json) if r.url.endswith("/actions") else None)
    phone.context.set_offline(True)
    card.get_by_text("填报").click()
    card.get_by_role("group", name="是否见到本人").get_by_label("是").check()
    card.get_by_label("走访情况").fill("本人在家，在物流公司上班，按时报到")
    phone.screenshot(path=shots / "kp-03-task-tab-filled-offline-360.png", full_page=True)
    card.get_by_role("button", name="提交", exact=True).click()
    expect(phone.locator("#banner")).to_contain_text("没有网络，已保存，联网后自动发送")
    expect(phone.locator("#offline")).to_be_visible()
    expect(phone.locator("#waiting-count")).to_have_text("1")
    expect(phone.locator("#work-none")).to_be_visible()
    phone.screenshot(path=shots / "kp-04-task-queued-offline-360.png", full_page=True)
    assert _count(world, Submission) == 0

    phone.context.set_offline(False)  # the "online" event sends the queue
    expect(phone.locator("#waiting")).to_be_hidden()
    phone.evaluate("window.shiyuField.send()")  # a second run finds nothing left to send
    assert len({body["client_uuid"] for body in sent}) == 1 and sent[0]["data"]["met"] is True
    assert _count(world, Submission) == 1
    for _ in range(2):  # what the worker's delivery loop does; a second round delivers nothing new
        outbox.deliver_pending(world["factory"])
    assert _count(world, Visit, Visit.record_id == record_id) == 2
    assert _count(world, Visit, Visit.record_id == record_id, Visit.task_item_id.is_not(None),
                  Visit.on_time.is_(True)) == 1
    assert _count(world, WorkItem, WorkItem.state == "done") == 1
    phone.goto("/keypersons/visits")
    expect(phone.locator(f"#visit-{record_id}")).to_contain_text("30天后到期")
    phone.goto(f"/keypersons/records/{record_id}")
    visit = phone.locator("#timeline li", has_text="走访").last
    expect(visit).to_contain_text(datetime.now(TZ).date().isoformat())
    expect(visit).to_contain_text("按期")
    expect(visit).to_contain_text("王*明")  # made by the grid worker, though the system wrote it from the item
    expect(phone.locator("#kp-warning")).to_contain_text("正常")
    phone.screenshot(path=shots / "kp-04b-record-after-offline-visit-360.png", full_page=True)


@pytest.mark.parametrize("who", ["worker_a2", "worker_b1", "citizen"])
def test_another_grids_worker_and_a_citizen_see_nothing(browser: Browser, world: dict, who: str) -> None:
    page = _page(browser, world, 360, 740)
    log_in(page, who)
    with world["factory"]() as s:
        s.info["principal"] = Principal.system("e2e")
        ids = list(s.scalars(select(KeyPersonRecord.id)))
    markers = (NAME, "周*", "省第二监狱", "盗窃罪", *[f"KP-{i}" for i in ids])
    for path in ["/keypersons", "/keypersons/visits", "/keypersons/dashboard", "/field/tasks",
                 *[f"/keypersons/records/{i}" for i in ids]]:
        response = page.goto(path)
        assert response is not None and response.status in (200, 403, 404)
        for marker in markers:
            expect(page.locator("body")).not_to_contain_text(marker)
    for api in ["/api/v1/keypersons/records", "/api/v1/keypersons/my-visits", "/api/v1/keypersons/handovers",
                "/api/v1/tasks/items", *[f"/api/v1/keypersons/records/{i}" for i in ids]]:
        answer = page.request.get(api)
        assert answer.status in (200, 403, 404) and not any(m in answer.text() for m in markers)
        if answer.status == 200:
            body = answer.json()
            assert (body.get("items") if isinstance(body, dict) else body) == []
