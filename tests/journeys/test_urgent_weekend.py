"""A road collapses on Saturday night. The grid worker reports it as 特急 at 22:00; it runs on natural time, so
by Sunday morning the operator on duty finds it red, pinned above every queue and above a normal case
reported earlier — not "正常" until Monday 09:00. While the desk is open, a second 特急 case comes in and the
desk raises it at once. Then the centre leader works the one map's filters — period, major and minor class,
channel, back to "all" — and never meets an error.

The clock is shifted the way the case tests do it: reports and the deadline scan take an explicit ``now``,
and the pages' own clock (``utcnow`` in the modules that colour a deadline) is set to Sunday 07:30.
Screenshots (desktop 1366 px and phone 360 px) go to ``SHIYU_TEST_SHOTS`` when it names a folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from shiyu.cases.categories.models import Category
from shiyu.cases.categories.seed import EMERGENCY, FAST
from shiyu.cases.intake import service as intake
from shiyu.cases.schemas import IntakeIn
from shiyu.cases.workflow import deadlines
from shiyu.core.scoping import Principal
from shiyu.org.identity.models import User
from shiyu.org.identity.service import principal_for
from tests.cases.case_fixtures import POINT_A1, fixture_calendar
from tests.e2e.conftest import WAIT_MS, log_in, running_world

SH = ZoneInfo("Asia/Shanghai")
SAT_22 = datetime(2026, 9, 19, 22, 0, tzinfo=SH)
SUN_0730 = datetime(2026, 9, 20, 7, 30, tzinfo=SH)
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1366, "height": 850}


def _categories(s) -> dict[str, int]:
    emergencies = Category(kind="incident", code="I04", name_zh="突发事件", name_en="Emergencies")
    collapse = Category(kind="incident", code="I0401", name_zh="路面塌陷", name_en="Road collapse", parent=emergencies,
                        time_limits=EMERGENCY, fields=[], default_urgency="critical")
    street = Category(kind="incident", code="I05", name_zh="街面秩序", name_en="Street order")
    vending = Category(kind="incident", code="I0501", name_zh="占道经营", name_en="Trading on the pavement",
                       parent=street, time_limits=FAST, fields=[])
    s.add_all([emergencies, collapse, street, vending])
    s.flush()
    return {"emergencies": emergencies.id, "collapse": collapse.id, "vending": vending.id}


def report(factory, key: str, category_id: int, description: str, at: datetime | None) -> str:
    """A report by grid worker worker_a1 (as the field app files it), at ``at``; its tracking code."""
    with factory() as s:
        s.info["principal"] = Principal.system("journey")
        worker = s.scalar(select(User).where(User.username == "worker_a1"))
        s.info["principal"] = principal = principal_for(worker)
        body = IntakeIn(idempotency_key=f"weekend-{key}", channel="grid", category_id=category_id,
                        description=description, location=POINT_A1)
        result = intake.intake(s, principal, body, SH, now=at)
        s.commit()
        return result.tracking_code


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    def fill(s, _w) -> dict:
        fixture_calendar(s)
        return _categories(s)

    with running_world(tmp_path_factory.mktemp("weekend"), fill) as running:
        factory, ids = running["factory"], running["ids"]
        ids["vending_code"] = report(factory, "vending", ids["vending"], "夜市摊贩占道经营",
                                     datetime(2026, 9, 19, 20, 0, tzinfo=SH))
        ids["collapse_code"] = report(factory, "collapse", ids["collapse"], "南华路路面塌陷，车辆无法通行", SAT_22)
        yield running


@pytest.fixture
def sunday_morning(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pages' clock at Sunday 07:30 (sessions keep the real clock, so logging in still works)."""
    import shiyu.cases.service
    import shiyu.web.desk.routes

    for module in (shiyu.web.desk.routes, shiyu.cases.service):
        monkeypatch.setattr(module, "utcnow", lambda: SUN_0730)


def _shot(page: Page, name: str) -> None:
    folder = os.environ.get("SHIYU_TEST_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        # caret="initial": hiding the caret injects a style element, which the Content-Security-Policy refuses.
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True, caret="initial")


def _context(browser: Browser, world: dict, viewport: dict):
    context = browser.new_context(viewport=viewport, base_url=world["url"], locale="zh-CN")
    context.set_default_timeout(WAIT_MS)
    return context


def test_a_critical_case_on_saturday_night_is_red_by_sunday_morning(browser: Browser, world: dict,
                                                                     sunday_morning: None) -> None:
    ids = world["ids"]
    result = deadlines.scan(world["factory"], SH, now=SUN_0730)  # the periodic scan, as it ran overnight
    assert result.overdue == 1, "only the 特急 case is late on a Sunday morning"

    context = _context(browser, world, DESKTOP)
    page = context.new_page()
    log_in(page, "operator_a")
    page.goto("/desk?queue=to_register")
    banner = page.locator("#critical-banner")
    expect(banner).to_contain_text("特急案件 1 件，请优先办理")
    expect(banner).to_contain_text("路面塌陷")
    expect(banner).to_contain_text(ids["collapse_code"])
    expect(banner.locator(".badge.bad", has_text="超期")).to_be_visible()
    expect(banner).to_contain_text("自然时间")
    rows = page.locator("#case-list .case-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(ids["collapse_code"])  # reported later, listed first
    expect(rows.nth(0)).to_have_class("case-row deadline-red")
    expect(rows.nth(1)).to_contain_text(ids["vending_code"])
    expect(rows.nth(1)).to_have_class("case-row deadline-green")  # working time: waits for Monday
    expect(rows.nth(1)).to_contain_text("时限 2026-09-21 09:30")
    _shot(page, "urgent-desk-desktop")

    page.goto("/desk?queue=overdue")  # pinned above every queue, not only the one that holds it
    expect(page.locator("#critical-banner")).to_contain_text(ids["collapse_code"])

    # A second 特急 case is committed while the desk is open: the live channel raises it without a reload.
    page.goto("/desk?queue=to_register")
    expect(page.locator("#critical-banner [data-case]")).to_have_count(1)
    expect(page.locator("body")).to_have_attribute("data-live", "on")  # the live stream is subscribed
    second = report(world["factory"], "second", ids["collapse"], "自来水管爆裂，路面积水",
                    datetime(2026, 9, 20, 7, 25, tzinfo=SH))
    alarm = page.locator("#critical-alarm")
    expect(alarm).to_be_visible()
    expect(alarm).to_contain_text("新的特急案件：")
    expect(alarm).to_contain_text(second)
    expect(page.locator("#critical-banner")).to_contain_text("特急案件 2 件")
    _shot(page, "urgent-alarm-desktop")

    page.locator("#critical-banner a", has_text=ids["collapse_code"]).click()
    deadline = page.locator("#deadline")
    expect(deadline).to_contain_text("超期")
    expect(deadline).to_contain_text("自然时间")
    expect(deadline).to_contain_text("时限 2026-09-19 22:30")
    context.close()

    phone = _context(browser, world, PHONE)
    page = phone.new_page()
    log_in(page, "operator_a")
    page.goto("/desk")
    expect(page.locator("#critical-banner")).to_contain_text("特急案件 2 件")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the desk scrolls sideways on a phone ({width} px)"
    _shot(page, "urgent-desk-phone")
    phone.close()


def test_the_leader_changes_every_filter_without_an_error(browser: Browser, world: dict) -> None:
    ids = world["ids"]
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = _context(browser, world, viewport)
        page = context.new_page()
        log_in(page, "leader_a")
        answer = page.goto("/command?days=7&category=&channel=")
        assert answer is not None and answer.status == 200
        assert answer.headers["content-type"].startswith("text/html")
        expect(page.locator("h1")).to_contain_text("一张图")
        for control, value in (("#f-days", "1"), ("#f-days", "30"), ("#f-category", str(ids["emergencies"])),
                              ("#f-category", str(ids["collapse"])), ("#f-channel", "hotline"),
                              ("#f-channel", "grid"), ("#f-category", ""), ("#f-channel", ""), ("#f-days", "180")):
            with page.expect_navigation() as nav:
                page.select_option(control, value)
            assert nav.value is not None and nav.value.status == 200, (control, value, nav.value and nav.value.status)
            expect(page.locator("h1")).to_contain_text("一张图")
            expect(page.locator(control)).to_have_value(value)
            expect(page.locator("#kpis")).to_be_visible()
        assert "category=" in page.url, "the form sends its empty filters, and they mean all"
        bad = page.goto("/command?days=seven&category=&channel=")
        assert bad is not None and bad.status == 422
        expect(page.locator("h1")).to_have_text("查询条件有误")
        expect(page.locator("main")).to_contain_text("地址中的查询条件有误：days")
        _shot(page, f"command-bad-query-{name}")
        page.goto("/command?days=7&category=&channel=")
        _shot(page, f"command-filters-{name}")
        context.close()


def test_the_administrator_picks_natural_time_for_a_limit(browser: Browser, world: dict) -> None:
    """Per limit, the category administrator chooses working or natural time, and whether 特急 cases of the
    class count natural time on every step."""
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = _context(browser, world, viewport)
        page = context.new_page()
        log_in(page, "admin")
        page.goto(f"/admin/categories/{world['ids']['collapse']}")
        expect(page.locator("select[name='register.unit']")).to_have_value("natural_hours")  # 突发事件: natural
        expect(page.locator("#critical_natural")).to_be_checked()
        page.goto(f"/admin/categories/{world['ids']['vending']}")
        expect(page.locator("select[name='handle.normal.unit']")).to_have_value("working_hours")
        page.select_option("select[name='handle.normal.unit']", label="自然小时")
        page.uncheck("#critical_natural")
        page.get_by_role("button", name="保存", exact=True).click()
        expect(page.locator("#limits-card .alert.ok")).to_contain_text("已保存")
        page.reload()
        expect(page.locator("select[name='handle.normal.unit']")).to_have_value("natural_hours")
        expect(page.locator("#critical_natural")).not_to_be_checked()
        _shot(page, f"category-time-basis-{name}")
        page.select_option("select[name='handle.normal.unit']", "working_hours")  # back, for the next size
        page.check("#critical_natural")
        page.get_by_role("button", name="保存", exact=True).click()
        expect(page.locator("#limits-card .alert.ok")).to_contain_text("已保存")
        context.close()
