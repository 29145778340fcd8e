"""A user changes their password in the browser (from the user menu), which ends their other sessions; an
administrator deactivates a leaver, whose page still open elsewhere stops working at the next click."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import WAIT_MS, log_in, running_world
from tests.factories import PASSWORD, add_user

NEW_PASSWORD = "Harbour-lights-42"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    def fill(session, w) -> dict:
        walker = add_user(session, "walker", w.grids["a1"], [("grid_worker", w.grids["a1"])])
        leaver = add_user(session, "leaver", w.grids["a2"], [("grid_worker", w.grids["a2"])])
        return {"walker": walker.id, "leaver": leaver.id}

    with running_world(tmp_path_factory.mktemp("journey"), fill) as running:
        yield running


def _context(browser: Browser, world: dict) -> BrowserContext:
    context = browser.new_context(viewport={"width": 1366, "height": 850}, base_url=world["url"], locale="zh-CN")
    context.set_default_timeout(WAIT_MS)
    return context


def _logged_in(browser: Browser, world: dict, username: str, password: str = PASSWORD) -> Page:
    page = _context(browser, world).new_page()
    log_in(page, username, password)
    return page


def test_a_user_changes_their_password_and_their_other_sessions_end(browser: Browser, world: dict) -> None:
    phone = _logged_in(browser, world, "walker")  # a second session, elsewhere
    page = _logged_in(browser, world, "walker")
    page.click("header a.who")
    expect(page.locator("h1")).to_have_text("修改密码")
    page.fill("#current_password", "not-my-password")
    page.fill("#new_password", NEW_PASSWORD)
    page.fill("#confirm_password", NEW_PASSWORD)
    page.click("#password-card button[type=submit]")
    expect(page.locator("#err-current_password")).to_have_text("当前密码不正确")
    page.fill("#current_password", PASSWORD)
    page.fill("#new_password", NEW_PASSWORD)
    page.fill("#confirm_password", NEW_PASSWORD)
    page.click("#password-card button[type=submit]")
    expect(page.locator(".alert.ok")).to_contain_text("密码已修改")
    page.goto("/")
    expect(page.locator("h1")).to_contain_text("walker")  # this browser stays logged in
    phone.goto("/")
    expect(phone).to_have_url(f"{world['url']}/login?next=/")  # the other session has ended
    page.click("header form[action='/logout'] button")
    expect(page).to_have_url(f"{world['url']}/login")
    log_in(page, "walker", NEW_PASSWORD)
    expect(page.locator("h1")).to_contain_text("walker")
    for context in (page.context, phone.context):
        context.close()


def test_a_deactivated_leaver_is_shut_out_of_an_open_page(browser: Browser, world: dict) -> None:
    leaver = _logged_in(browser, world, "leaver")
    expect(leaver.locator("h1")).to_contain_text("leaver")
    admin = _logged_in(browser, world, "admin")
    admin.goto(f"/admin/users/{world['ids']['leaver']}")
    admin.once("dialog", lambda dialog: dialog.accept())
    with admin.expect_response(lambda r: r.url.endswith("/deactivate")) as answer:
        admin.click("#deactivate")
    assert answer.value.status == 200
    expect(admin.locator("#user-page .alert.ok")).to_contain_text("账号已停用")
    expect(admin.locator("#activate")).to_be_visible()
    leaver.click("header a.who")  # the leaver's next click
    expect(leaver).to_have_url(f"{world['url']}/login?next=/account/password")
    leaver.fill("#username", "leaver")
    leaver.fill("#password", PASSWORD)
    leaver.click("button[type=submit]")
    expect(leaver.locator(".alert.error")).to_have_text("用户名或密码错误")
    for context in (leaver.context, admin.context):
        context.close()
