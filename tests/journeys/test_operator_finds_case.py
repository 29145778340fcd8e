"""The operator at the desk (issue 13): a caller rings back about "my report"; the operator finds it by the
last four digits of the caller's number, opens it, and later finds another by a tracking code read out with
spaces and typed in lower case. Then the operator lists the area's cases, filters and sorts them, saves the
filter, and exports the list to Excel — and the downloaded file holds exactly the rows on the screen.

At a desktop size and at 360 px (a phone); screenshots go to ``SHIYU_TEST_SHOTS_DIR`` (or the test's temporary
directory) to be looked at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import WAIT_MS, log_in, running_world

SIZES = {"desktop": {"width": 1366, "height": 850}, "phone": {"width": 360, "height": 740}}
PHONE = "13905921234"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    from shiyu.core.scoping import Principal
    from tests.cases.case_fixtures import POINT_A1, make_category, report

    def fill(session, w) -> dict:
        w.extra["category"] = make_category(session)
        session.flush()
        called = report(session, w, channel="grid", address="南华路18号",
                        reporter={"name": "陈小明", "phone": PHONE}).case
        others = [report(session, w, point=POINT_A1).case for _ in range(3)]
        session.info["principal"] = Principal.system("journey")
        return {"called": called.id, "called_code": called.tracking_code, "other": others[0].id,
                "other_code": others[0].tracking_code}

    with running_world(tmp_path_factory.mktemp("finds"), fill) as running:
        yield running


def _page(browser: Browser, world: dict, size: str) -> Page:
    context = browser.new_context(viewport=SIZES[size], base_url=world["url"], locale="zh-CN", accept_downloads=True)
    context.set_default_timeout(WAIT_MS)
    return context.new_page()


def _search(page: Page, typed: str) -> None:
    box = page.get_by_role("searchbox", name="查找案件")
    box.fill(typed)
    box.press("Enter")


@pytest.mark.parametrize("size", list(SIZES))
def test_operator_finds_a_case_by_phone_and_by_code(browser: Browser, world: dict, shots: Path, size: str) -> None:
    ids = world["ids"]
    page = _page(browser, world, size)
    log_in(page, "operator_a")
    page.goto("/desk")
    # The caller gives the last four digits of their number.
    _search(page, PHONE[-4:])
    expect(page.get_by_role("status")).to_contain_text("来电号码后四位「1234」 · 找到 1 件")
    row = page.locator("table.case-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("139****1234")
    expect(row).to_contain_text("网格员上报")
    assert PHONE not in page.content()
    page.screenshot(path=str(shots / f"desk-search-phone-{size}.png"), full_page=True)
    row.get_by_role("link", name=ids["called_code"]).click()
    expect(page).to_have_url(f"{world['url']}/desk/cases/{ids['called']}")
    expect(page.locator(".breadcrumb")).to_contain_text(ids["called_code"])
    # Another caller reads out a tracking code; the operator types it with spaces, in lower case.
    code = ids["other_code"]
    _search(page, f"{code[:4]} {code[4:9].lower()} {code[9:].lower()}")
    expect(page).to_have_url(f"{world['url']}/desk/cases/{ids['other']}")
    expect(page.locator(".breadcrumb")).to_contain_text(code)
    page.screenshot(path=str(shots / f"desk-case-by-code-{size}.png"), full_page=True)
    # Words of the address find it too; nonsense says so in words.
    _search(page, "南华路")
    expect(page.locator("table.case-table tbody tr")).to_have_count(1)
    _search(page, "没有这种事")
    expect(page.get_by_text("没有找到案件")).to_be_visible()
    page.context.close()


def _codes_on_screen(page: Page) -> list[str]:
    return page.locator("table.case-table tbody td:first-child a").all_inner_texts()


@pytest.mark.parametrize("size", list(SIZES))
def test_operator_filters_the_area_list_and_exports_what_is_shown(browser: Browser, world: dict, shots: Path,
                                                                  size: str) -> None:
    page = _page(browser, world, size)
    log_in(page, "operator_a")
    page.goto("/desk")
    page.get_by_role("link", name="辖区案件").first.click()
    expect(page.get_by_role("heading", name="辖区案件", level=1)).to_be_visible()
    expect(page.locator("table.case-table tbody tr")).to_have_count(4)
    # Filter: reported by grid workers, waiting to be registered; sort by code.
    page.get_by_role("checkbox", name="待立案").check()
    page.get_by_label("来源").select_option(label="网格员上报")
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_role("status")).to_contain_text("共 4")
    page.get_by_role("link", name="编号").click()
    expect(page.locator("th[aria-sort='descending']")).to_contain_text("编号")
    shown = _codes_on_screen(page)
    assert shown == sorted(shown, reverse=True) and len(shown) == 4
    # Save the filter under a name and use it again.
    page.get_by_label("把当前条件保存为").fill(f"网格上报待立案{size}")
    page.get_by_role("button", name="保存筛选").click()
    page.get_by_role("link", name=f"网格上报待立案{size}").click()
    expect(page.get_by_role("checkbox", name="待立案")).to_be_checked()
    page.get_by_role("link", name="编号").click()
    expect(page.locator("th[aria-sort='descending']")).to_contain_text("编号")
    shown = _codes_on_screen(page)
    page.screenshot(path=str(shots / f"desk-area-{size}.png"), full_page=True)
    # Export: the file holds the rows on the screen, in the same order, with the table's columns.
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 Excel").click()
    path = shots / f"desk-area-{size}.xlsx"
    download.value.save_as(path)
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert rows[0] == ("编号", "类别", "社区/网格", "来源", "状态", "当前部门", "剩余/超期", "紧急")
    assert [r[0] for r in rows[1:]] == shown
    assert all(r[3] == "网格员上报" and r[4] == "待立案" for r in rows[1:])
    # A bad value in the address bar: the page says what is wrong, in Chinese.
    page.goto("/desk/area?from=yesterday&channel=")
    expect(page.get_by_role("alert")).to_contain_text("开始日期应为日期")
    page.context.close()
