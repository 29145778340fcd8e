"""The case loop through the UI in a real browser: a citizen reports with a photo on a phone-sized screen
with "use my location" and gets a tracking code; the operator registers and dispatches in the desk; the
department handler accepts and reports the result with a photo; the grid worker verifies in the field app on
a phone; the operator closes; the citizen tracks the case and evaluates it with the code (the token
remembered on the phone). The grid worker's own report with a photo is tests/e2e/test_field_browser.py."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import SKIP_REASON, WAIT_MS, log_in, running_world

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1366, "height": 850}
POINT_A1 = {"longitude": 117.95, "latitude": 24.6}


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Its own server on the small world plus a category with time limits."""
    if SKIP_REASON:
        pytest.skip(SKIP_REASON)
    from tests.cases.case_fixtures import make_category

    def fill(session, w) -> dict:
        category = make_category(session)
        session.flush()
        return {"category": category.id, "department_a": w.departments["a"].id}

    with running_world(tmp_path_factory.mktemp("loop"), fill, backend="sqlite") as world:
        yield world


def desk_page(browser: Browser, loop: dict, username: str) -> Page:
    page = browser.new_context(base_url=loop["url"], viewport=DESKTOP, locale="zh-CN").new_page()
    page.set_default_timeout(WAIT_MS)
    log_in(page, username)
    return page


def open_case_from_queue(page: Page, queue: str, code: str) -> None:
    page.goto(f"/desk?queue={queue}")
    page.locator("#case-list a", has_text=code).click()
    expect(page.locator(".breadcrumb")).to_contain_text(code)


def case_id(loop: dict, code: str) -> int:
    from sqlalchemy import select

    from shiyu.cases.models import Case
    from shiyu.core.scoping import Principal

    with loop["factory"]() as s:
        s.info["principal"] = Principal.system("e2e")
        return s.scalar(select(Case.id).where(Case.tracking_code == code))


def run_action(page: Page, action: str) -> None:
    """An action with fields is a folded form; one without is a button (one click)."""
    box = page.locator(f"#actions .action[data-action={action}]")
    if box.evaluate("e => e.tagName") == "DETAILS" and box.get_attribute("open") is None:
        box.locator("summary").click()
    box.locator("button[type=submit]:not([name=then])").click()
    expect(page.locator("#done")).to_be_visible()


def test_case_loop_through_the_pages(browser: Browser, loop: dict, tmp_path) -> None:
    # 1. a citizen on a phone: category, "use my location", description → tracking code and token
    phone = browser.new_context(base_url=loop["url"], viewport=PHONE, locale="zh-CN", geolocation=POINT_A1,
                                permissions=["geolocation"], has_touch=True, is_mobile=True)
    citizen = phone.new_page()
    citizen.set_default_timeout(WAIT_MS)
    citizen.goto("/portal")
    citizen.select_option("#p-category", str(loop["ids"]["category"]))
    citizen.click("#use-location")
    expect(citizen.locator("#pin-status")).to_contain_text("已选定位置")
    citizen.fill("#p-description", "小区门口占道经营，行人无法通过")
    from tests.cases.case_fixtures import jpeg_bytes

    citizen.set_input_files("#p-photos", files=[{"name": "scene.jpg", "mimeType": "image/jpeg",
                                                 "buffer": jpeg_bytes((800, 600))}])
    citizen.check("input[name=anonymous]")
    expect(citizen.locator("#p-phone")).to_be_hidden()
    citizen.click("#report-form button[type=submit]")
    code = citizen.locator("#tracking-code").inner_text().strip()
    assert len(code) == 14
    expect(citizen.locator("#evaluation-token")).not_to_be_empty()
    assert citizen.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # 2. the operator registers and dispatches
    operator = desk_page(browser, loop, "operator_a")
    open_case_from_queue(operator, "to_register", code)
    expect(operator.locator(".case-map path.leaflet-interactive")).to_have_count(1)
    expect(operator.locator("#photos img")).to_have_count(1)  # the citizen's photo
    run_action(operator, "register")
    expect(operator.locator("#case-state")).to_have_attribute("data-state", "to_dispatch")
    expect(operator.locator("#routing")).to_be_visible()
    operator.locator("details.action[data-action=dispatch] summary").click()
    operator.select_option("#f-dispatch-department_id", str(loop["ids"]["department_a"]))
    run_action(operator, "dispatch")
    expect(operator.locator("#case-state")).to_have_attribute("data-state", "to_accept")

    # 3. the department handler accepts and reports the result with a photo
    handler = desk_page(browser, loop, "handler_a")
    open_case_from_queue(handler, "to_accept", code)
    run_action(handler, "accept")
    details = handler.locator("details.action[data-action=report_result]")
    details.locator("summary").click()
    details.locator("textarea[name=note]").fill("已劝离摊贩，通道恢复")
    photo = tmp_path / "after.jpg"
    photo.write_bytes(jpeg_bytes((640, 480)))
    details.locator("input[type=file]").set_input_files(str(photo))
    expect(details.locator(".thumbs img")).to_have_count(1)
    run_action(handler, "report_result")
    expect(handler.locator("#case-state")).to_have_attribute("data-state", "to_verify")
    expect(handler.locator("#timeline li[data-action=report_result] img")).to_have_count(1)
    expect(handler.locator("#timeline li[data-action=report] img")).to_have_count(1)  # the citizen's photo

    # 4. the grid worker verifies on site with the field app on a phone, 5. the operator closes
    field = browser.new_context(base_url=loop["url"], viewport=PHONE, locale="zh-CN", geolocation=POINT_A1,
                                permissions=["geolocation"], has_touch=True, is_mobile=True,
                                service_workers="block").new_page()
    field.set_default_timeout(WAIT_MS)
    log_in(field, "worker_a1")
    field.goto("/field/tasks")
    verify = field.locator(f"form.f-verify[data-case='{case_id(loop, code)}']")
    verify.locator("[data-verdict=verify_pass]").click()
    verify.locator("button[type=submit]").click()
    expect(verify).to_have_count(0)  # queued: the card leaves the list
    field.evaluate("window.shiyuField.send()")  # resolves when the queue has been sent
    expect(field.locator("#waiting")).to_be_hidden()
    open_case_from_queue(operator, "to_close", code)
    run_action(operator, "close")
    expect(operator.locator("#case-state")).to_have_attribute("data-state", "closed")

    # 6. the citizen follows the case and evaluates it; the token was remembered on the phone
    citizen.goto(f"/portal/track?code={code}")
    expect(citizen.locator("#track-state")).to_have_attribute("data-state", "closed")
    expect(citizen.locator("#progress .timeline li")).to_have_count(7)
    expect(citizen.locator("#e-token")).not_to_have_value("")
    citizen.locator("label", has_text="满意").first.click()
    citizen.fill("#e-note", "处理及时")
    citizen.click("#evaluate button[type=submit]")
    expect(citizen.locator("#thanks")).to_be_visible()
    expect(citizen.locator("#track-rating")).to_have_text("满意")
    phone.close()


def test_a_lost_race_shows_the_conflict_message(browser: Browser, loop: dict) -> None:
    code = _report(loop)
    first, second = desk_page(browser, loop, "operator_a"), desk_page(browser, loop, "operator_a")
    open_case_from_queue(first, "to_register", code)
    open_case_from_queue(second, "to_register", code)
    run_action(first, "register")
    second.locator("details.action[data-action=register] summary").click()
    second.locator("details.action[data-action=register] button[type=submit]:not([name=then])").click()
    expect(second.locator("#conflict")).to_contain_text("已被他人处理，请刷新")
    second.locator("#conflict a").click()
    expect(second.locator("#case-state")).to_have_attribute("data-state", "to_dispatch")


def test_a_case_of_another_community_cannot_be_opened_by_url(browser: Browser, loop: dict) -> None:
    case_b = _report(loop, {"lon": 118.10, "lat": 24.6}, field="id")
    operator = desk_page(browser, loop, "operator_a")
    response = operator.goto(f"/desk/cases/{case_b}")
    assert response is not None and response.status == 404
    expect(operator.locator("body")).not_to_contain_text("楼道堆放杂物")
    own = _report(loop, field="id")
    assert operator.goto(f"/desk/cases/{own}").status == 200
    expect(operator.locator(".description")).to_contain_text("楼道堆放杂物")


def _report(loop: dict, point: dict | None = None, field: str = "tracking_code") -> str:
    """A citizen report through the public API (the portal form itself is walked in the loop test)."""
    import httpx

    r = httpx.post(loop["url"] + "/api/v1/cases", json={
        "idempotency_key": "e2e-" + secrets.token_hex(6), "channel": "citizen", "category_id": loop["ids"]["category"],
        "description": "楼道堆放杂物", "location": point or {"lon": 117.95, "lat": 24.6}, "anonymous": True})
    assert r.status_code == 201, r.text
    return r.json()[field]
