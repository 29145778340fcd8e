"""A city administrator brings in 200 grid workers from an XLSX file: the dry run shows the two bad rows in
Chinese, the administrator fixes one in the file and leaves the other out, imports, and downloads the
activation codes (once). Then one grid worker, on a 360 px phone, activates the account with the code from
the sheet and lands on their home page.

Screenshots go to ``$SHIYU_TEST_SCREENSHOTS`` when it is set."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import WAIT_MS, log_in, running_world
from tests.org.people_files import id_number, people, write_people

GRIDS = ["359901001001001", "359901001001002", "359901001002001", "359901001002002"]
BAD_ID_ROW, BAD_AREA_ROW = 13, 58  # spreadsheet rows (the header is row 1)
SHOTS = os.environ.get("SHIYU_TEST_SCREENSHOTS")


def _shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    with running_world(tmp_path_factory.mktemp("people"), lambda _s, _w: {}) as running:
        yield running


def _files(tmp: Path) -> tuple[Path, Path]:
    rows = people(200, GRIDS, start=1000)
    wrong_id = rows[BAD_ID_ROW - 2][2]
    rows[BAD_ID_ROW - 2][2] = wrong_id[:17] + ("1" if wrong_id[17] != "1" else "2")
    rows[BAD_AREA_ROW - 2][4] = "359901001009001"
    first = write_people(tmp / "网格员名单.xlsx", rows)
    rows[BAD_ID_ROW - 2][2] = id_number(1000 + BAD_ID_ROW - 2)
    return first, write_people(tmp / "网格员名单（修正）.xlsx", rows)


def test_the_administrator_imports_200_grid_workers_and_one_activates_on_a_phone(
        browser: Browser, world: dict, tmp_path: Path) -> None:
    first, fixed = _files(tmp_path)
    context = browser.new_context(viewport={"width": 1366, "height": 850}, base_url=world["url"], locale="zh-CN",
                                  accept_downloads=True)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    log_in(page, "admin")
    page.goto("/admin/users")
    page.get_by_role("link", name="批量导入").click()
    expect(page.locator("h1")).to_have_text("批量导入人员")
    page.set_input_files("#people-file", str(first))
    page.get_by_role("button", name="检查文件").click()

    expect(page.locator("#import-summary")).to_have_text("共 200 行：198 行可导入，2 行有问题")
    bad = page.locator("#problem-rows tbody tr")
    expect(bad).to_have_count(2)
    expect(bad.nth(0)).to_contain_text(f"第 {BAD_ID_ROW} 行")
    expect(bad.nth(0)).to_contain_text("身份证号码校验位不正确")
    expect(bad.nth(1)).to_contain_text(f"第 {BAD_AREA_ROW} 行")
    expect(bad.nth(1)).to_contain_text("未知区域编码“359901001009001”")
    _shot(page, "people-1-dry-run-desktop")

    # Importing now would refuse the whole file: nothing is written while a row is wrong.
    page.get_by_role("button", name="确认导入").click()
    expect(page.locator("p.alert.error")).to_contain_text("有 2 行存在问题，未导入任何账号")

    # The ID number is fixed in the file; the row with an area that does not exist is left out.
    page.get_by_role("link", name="重新上传").click()
    page.set_input_files("#people-file", str(fixed))
    page.get_by_role("button", name="检查文件").click()
    expect(page.locator("#import-summary")).to_have_text("共 200 行：199 行可导入，1 行有问题")
    bad.nth(0).get_by_label("不导入此行").check()
    page.get_by_role("button", name="确认导入").click()
    expect(page.locator("#import-done")).to_have_text("已导入 199 个账号。")
    _shot(page, "people-2-imported-desktop")

    with page.expect_download() as download:
        page.locator("#download-codes").click()
    sheet = tmp_path / "codes.xlsx"
    download.value.save_as(sheet)
    cells = list(load_workbook(sheet).worksheets[0].iter_rows(values_only=True))
    assert cells[0] == ("用户名", "姓名", "区域", "激活码", "有效期至") and len(cells) == 200
    page.reload()
    expect(page.locator("#codes-taken")).to_contain_text("激活码已于")
    expect(page.locator("#download-codes")).to_have_count(0)
    context.close()

    username, name, place, code = cells[1][:4]
    phone = browser.new_context(viewport={"width": 360, "height": 740}, base_url=world["url"], locale="zh-CN",
                                is_mobile=True, has_touch=True)
    phone.set_default_timeout(WAIT_MS)
    worker = phone.new_page()
    worker.goto("/login")
    worker.get_by_role("link", name="首次登录激活").click()
    expect(worker.locator("h1")).to_have_text("首次登录激活")
    worker.fill("#username", username)
    worker.fill("#code", code.lower())
    worker.fill("#new_password", "Harbour-lights-42")
    worker.fill("#repeat", "Harbour-lights-42")
    _shot(worker, "people-3-activate-phone")
    worker.get_by_role("button", name="激活并登录").click()
    worker.wait_for_url("**/")
    expect(worker.locator("h1")).to_have_text(f"欢迎，{name}")  # greeted by the name the sheet gave them
    expect(worker.locator("main")).to_contain_text(place)
    _shot(worker, "people-4-home-phone")

    # The code is spent: a second activation with it is refused.
    worker.context.clear_cookies()
    worker.goto("/activate")
    worker.fill("#username", username)
    worker.fill("#code", code)
    worker.fill("#new_password", "Another-harbour-43")
    worker.fill("#repeat", "Another-harbour-43")
    worker.get_by_role("button", name="激活并登录").click()
    expect(worker.locator("#activate-error")).to_contain_text("激活码不正确")
    phone.close()
