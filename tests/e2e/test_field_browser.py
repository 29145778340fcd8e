"""The field app on a 360×740 phone: a grid worker reports a case with a photo; offline, a report waits in
the queue (badge 1, nothing on the server) and goes exactly once when the connection returns — even when
the first delivery's answer is lost and the app sends it again; a report or check-in whose uploaded photo was swept
while it waited uploads the photo again; a check-in queued offline is sent once;
nothing scrolls sideways; and the service worker registers, caches the shell and opens the app offline.

The queue lives in the page (IndexedDB), so tests (a)–(d) run with service workers blocked (Playwright's
routing and offline emulation do not see requests a worker handles); the worker has its own test (e)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import func, select

from tests.e2e.conftest import SKIP_REASON, WAIT_MS, log_in, running_world

PHONE = {"width": 360, "height": 740}
POINT_A1 = {"longitude": 117.95, "latitude": 24.6}
# What a thumb must hit: links, buttons, fields and the photo/voice tiles (not the visually hidden inputs).
TARGETS = "a, button, input:not(.f-file):not([type=radio]):not([type=hidden]), select, textarea, label.f-shot"


@pytest.fixture(scope="module")
def field(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    if SKIP_REASON:
        pytest.skip(SKIP_REASON)
    from tests.cases.case_fixtures import make_category

    def fill(session, w) -> dict:
        w.extra["category"] = make_category(session)
        session.commit()
        return {"category": w.extra["category"].id, "a1": w.grids["a1"].id, "to_verify": to_verify(session, w)}

    with running_world(tmp_path_factory.mktemp("field"), fill, backend="sqlite") as world:
        yield world


def to_verify(session, w) -> int:
    """A case of grid a1 handled by department a and waiting for worker_a1's verification."""
    from tests.cases.case_fixtures import act, evidence, report

    case = report(session, w, "operator_a", channel="hotline").case
    case = act(session, w, "operator_a", case, "register")
    case = act(session, w, "operator_a", case, "dispatch", fields={"department_id": w.departments["a"].id})
    case = act(session, w, "system", case, "accept")
    case = act(session, w, "system", case, "report_result", attachment_ids=[evidence(session, "test")])
    assert case.state == "to_verify"
    return case.id


def phone(browser: Browser, field: dict, workers: str = "block") -> tuple[BrowserContext, Page]:
    context = browser.new_context(base_url=field["url"], viewport=PHONE, locale="zh-CN", geolocation=POINT_A1,
                                  permissions=["geolocation"], has_touch=True, is_mobile=True,
                                  service_workers=workers)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    log_in(page, "worker_a1")
    return context, page


def count(field: dict, model, **where) -> int:
    from shiyu.core.scoping import Principal

    with field["factory"]() as s:
        s.info["principal"] = Principal.system("e2e")
        stmt = select(func.count()).select_from(model)
        for name, value in where.items():
            stmt = stmt.where(getattr(model, name) == value)
        return s.scalar(stmt)


def fill_report(page: Page, description: str, photo: bytes | None = None, keep: bool = False) -> None:
    """Fill the report form and send it; ``keep`` leaves the page as it is (fields filled before)."""
    if not keep:
        page.goto("/field")
    expect(page.locator(".f-loc[data-location]")).to_contain_text("已定位")
    if photo:
        page.set_input_files("#r-photo", files=[{"name": "scene.jpg", "mimeType": "image/jpeg", "buffer": photo}])
        expect(page.locator("#r-photo-preview")).to_be_visible()
    page.fill("#r-cat-search", "zdjy")  # pinyin initials of 占道经营
    page.locator("#r-cat-results .f-choice").first.click()
    expect(page.locator("#r-cat-chosen")).to_contain_text("占道经营")
    page.fill("#r-desc", description)
    page.click("#report-form button[type=submit]")


def lose_first_answer(page: Page, pattern: str) -> list:
    """The first request matching ``pattern`` reaches the server but its answer is lost (the connection
    drops), so the app must send it again; returns the requests as they go out."""
    requests: list = []

    def handle(route) -> None:
        requests.append(route.request)
        route.fetch()
        if len(requests) == 1:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(pattern, handle)
    return requests


def send_until_empty(page: Page, tries: int = 3) -> None:
    """Run the app's send loop (the periodic retry, without waiting a minute for it) until nothing waits."""
    for _ in range(tries):
        page.evaluate("window.shiyuField.send()")
        if page.locator("#waiting-count").inner_text() == "0":
            break


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], page.url


def test_a_report_with_a_photo_arrives(browser: Browser, field: dict) -> None:
    from shiyu.cases.models import Attachment, Case
    from tests.cases.case_fixtures import jpeg_bytes

    context, page = phone(browser, field)
    fill_report(page, "网格员上报：路口井盖缺失", jpeg_bytes((800, 600)))
    expect(page.locator("#banner")).to_contain_text("已发送")
    expect(page.locator("#waiting")).to_be_hidden()
    assert count(field, Case, description="网格员上报：路口井盖缺失", channel="grid") == 1
    with field["factory"]() as s:
        from shiyu.core.scoping import Principal

        s.info["principal"] = Principal.system("e2e")
        case = s.scalar(select(Case).where(Case.description == "网格员上报：路口井盖缺失"))
        assert case.grid_id == field["ids"]["a1"] and case.idempotency_key.startswith("field-case-")
        assert s.scalar(select(func.count()).select_from(Attachment).where(Attachment.case_id == case.id)) == 1
    context.close()


def test_a_report_made_while_another_is_sending_goes_right_after_it(browser: Browser, field: dict) -> None:
    """The phone sends one run at a time, each run the items it found when it began: a report made while the
    one before is still on its way used to wait for the next periodic try, a minute later (a verification
    sent right after another did so in the verification journey). Now a run follows at once."""
    from shiyu.cases.models import Case

    context, page = phone(browser, field)
    held: list = []
    page.route("**/api/v1/cases", lambda route: held.append(route) if not held else route.continue_())
    fill_report(page, "网格员上报：东门占道经营")
    while not held:  # the first report is on its way, its answer held back
        page.wait_for_timeout(50)
    fill_report(page, "网格员上报：西门占道经营", keep=True)
    expect(page.locator("#waiting-count")).to_have_text("2")
    held[0].continue_()
    expect(page.locator("#waiting")).to_be_hidden()  # both sent, well before the periodic try
    assert count(field, Case, description="网格员上报：东门占道经营") == 1
    assert count(field, Case, description="网格员上报：西门占道经营") == 1
    context.close()


def test_offline_report_waits_and_is_sent_exactly_once(browser: Browser, field: dict) -> None:
    from shiyu.cases.models import Case

    context, page = phone(browser, field)
    page.goto("/field")
    expect(page.locator(".f-loc[data-location]")).to_contain_text("已定位")
    context.set_offline(True)
    fill_report_offline = "离线上报：垃圾堆放"
    page.fill("#r-cat-search", "占道")
    page.locator("#r-cat-results .f-choice").first.click()
    page.fill("#r-desc", fill_report_offline)
    page.click("#report-form button[type=submit]")
    expect(page.locator("#waiting-count")).to_have_text("1")
    expect(page.locator("#waiting")).to_be_visible()
    expect(page.locator("#offline")).to_be_visible()
    assert count(field, Case, description=fill_report_offline) == 0

    # The first delivery reaches the server but its answer is lost: the app must send it again.
    requests = lose_first_answer(page, "**/api/v1/cases")
    context.set_offline(False)
    # The "online" event starts a run whose answer is lost; the periodic retry (run here without waiting a
    # minute for it) sends the item again with the same key.
    send_until_empty(page)
    expect(page.locator("#waiting")).to_be_hidden()
    expect(page.locator("#waiting-count")).to_have_text("0")
    delivered = [r.post_data_json["idempotency_key"] for r in requests]
    assert len(delivered) >= 2 and len(set(delivered)) == 1, delivered
    assert count(field, Case, description=fill_report_offline) == 1
    context.close()


def sweep_after_upload(field: dict, upload) -> None:
    """Run the sweep as it would run days later, once the upload has been answered (so it is committed):
    with a cutoff strictly after the moment the server recorded it, the sweep must take it."""
    from datetime import timedelta

    from shiyu.cases import attachments
    from shiyu.cases.models import Attachment
    from shiyu.core.scoping import Principal
    from shiyu.core.storage import LocalStorage

    assert upload.ok, upload.status
    with field["factory"]() as s:
        s.info["principal"] = Principal.system("e2e")
        uploaded_at = s.get(Attachment, upload.json()["id"]).uploaded_at
    removed = attachments.sweep_unused(field["factory"], LocalStorage(field["settings"].storage_dir), timedelta(0),
                                       now=uploaded_at + timedelta(microseconds=1))
    assert removed >= 1


def is_upload(response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/api/v1/attachments")


def test_a_report_whose_upload_was_swept_uploads_it_again(browser: Browser, field: dict) -> None:
    from shiyu.cases.models import Attachment, Case
    from tests.cases.case_fixtures import jpeg_bytes

    context, page = phone(browser, field)
    uploads: list = []
    page.on("request", lambda r: uploads.append(r) if r.method == "POST" and r.url.endswith("/attachments") else None)
    page.route("**/api/v1/cases", lambda route: route.abort("connectionrefused"))  # the report cannot go yet
    with page.expect_response(is_upload) as upload:  # the badge shows before the photo's upload is answered
        fill_report(page, "等待期间照片被清理", jpeg_bytes())
    expect(page.locator("#waiting-count")).to_have_text("1")
    assert len(uploads) == 1
    # While the phone waited (days, in real life), the sweep removed the upload no case had taken.
    sweep_after_upload(field, upload.value)
    page.unroute("**/api/v1/cases")
    send_until_empty(page)
    expect(page.locator("#waiting")).to_be_hidden()
    assert len(uploads) == 2
    assert count(field, Case, description="等待期间照片被清理") == 1
    with field["factory"]() as s:
        from shiyu.core.scoping import Principal

        s.info["principal"] = Principal.system("e2e")
        case_id = s.scalar(select(Case.id).where(Case.description == "等待期间照片被清理"))
        assert s.scalar(select(func.count()).select_from(Attachment).where(Attachment.case_id == case_id)) == 1
    context.close()


def test_a_check_in_whose_upload_was_swept_uploads_it_again(browser: Browser, field: dict) -> None:
    from shiyu.patrol.models import PatrolCheckin
    from tests.cases.case_fixtures import jpeg_bytes

    context, page = phone(browser, field)
    page.route("**/api/v1/patrol/checkins", lambda route: route.abort("connectionrefused"))
    page.goto("/field/patrol")
    expect(page.locator(".f-loc[data-location]")).to_contain_text("已定位")
    page.set_input_files("#c-photo", files=[{"name": "p.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()}])
    page.fill("#c-note", "照片被清理的签到")
    with page.expect_response(is_upload) as upload:
        page.click("#checkin-form button[type=submit]")
    expect(page.locator("#waiting-count")).to_have_text("1")
    sweep_after_upload(field, upload.value)
    page.unroute("**/api/v1/patrol/checkins")
    send_until_empty(page)
    expect(page.locator("#waiting")).to_be_hidden()
    with field["factory"]() as s:
        from shiyu.core.scoping import Principal

        s.info["principal"] = Principal.system("e2e")
        checkin = s.scalar(select(PatrolCheckin).where(PatrolCheckin.note == "照片被清理的签到"))
        assert checkin is not None and checkin.attachment_id is not None
    context.close()


def test_offline_check_in_is_sent_once_on_reconnect(browser: Browser, field: dict) -> None:
    from shiyu.patrol.models import PatrolCheckin

    context, page = phone(browser, field)
    page.goto("/field/patrol")
    expect(page.locator(".f-loc[data-location]")).to_contain_text("已定位")
    context.set_offline(True)
    page.locator(".f-kinds span", has_text="走访").click()
    page.fill("#c-note", "走访独居老人")
    page.click("#checkin-form button[type=submit]")
    expect(page.locator("#waiting-count")).to_have_text("1")
    assert count(field, PatrolCheckin, note="走访独居老人") == 0
    context.set_offline(False)  # the "online" event sends the queue
    expect(page.locator("#waiting")).to_be_hidden()
    page.evaluate("window.shiyuField.send()")  # resolves when that run is over: nothing is left to send twice
    assert count(field, PatrolCheckin, note="走访独居老人", kind="visit") == 1
    page.goto("/field/tasks")
    expect(page.locator("#due-list")).to_contain_text("已巡查")
    context.close()


def test_no_sideways_scroll_and_big_targets(browser: Browser, field: dict) -> None:
    context, page = phone(browser, field)
    for url in ("/field", "/field/tasks", "/field/patrol", "/field/grid"):
        page.goto(url)
        page.wait_for_load_state("networkidle")
        no_sideways_scroll(page)
        small = page.evaluate("""(sel) => [...document.querySelectorAll(sel)]
            .filter(e => e.offsetParent && e.getBoundingClientRect().height < 48)
            .map(e => e.outerHTML.slice(0, 80))""", TARGETS)
        assert small == [], (url, small)
        size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert size >= 17
    expect(page.locator("#grid-map path.leaflet-interactive")).to_have_count(1)
    expect(page.locator("[data-me]")).to_have_count(1)
    context.close()


def test_the_service_worker_caches_the_shell_and_opens_offline(browser: Browser, field: dict) -> None:
    context, page = phone(browser, field, workers="allow")
    page.goto("/field")
    page.wait_for_function("() => navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function("""async () => {
        const names = await caches.keys();
        if (!names.length) return false;
        const cache = await caches.open(names[0]);
        return !!(await cache.match('/static/field.js')) && !!(await cache.match('/field/tasks'));
    }""")
    page.reload()  # now controlled by the worker
    assert page.evaluate("!!navigator.serviceWorker.controller")
    context.set_offline(True)
    page.goto("/field/tasks")
    expect(page.locator("h1")).to_have_text("我的任务")
    expect(page.locator("#offline")).to_be_visible()
    context.close()


def test_a_verification_whose_answer_was_lost_is_not_shown_as_failed(browser: Browser, field: dict) -> None:
    from shiyu.cases.models import Case, CaseEvent

    case_id = field["ids"]["to_verify"]
    context, page = phone(browser, field)
    page.goto("/field/tasks")
    form = page.locator(f"form.f-verify[data-case='{case_id}']")
    sent = lose_first_answer(page, "**/actions/verify_pass")
    form.locator("[data-verdict=verify_pass]").click()
    form.locator("button[type=submit]").click()
    send_until_empty(page)
    expect(page.locator("#waiting")).to_be_hidden()
    assert len(sent) >= 2, sent
    assert count(field, CaseEvent, case_id=case_id, action="verify_pass") == 1
    assert count(field, Case, id=case_id, state="to_close") == 1
    context.close()
