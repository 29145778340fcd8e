"""An operator imports a 公安 extract of 10,000 residents: on the import page they first upload the houses, then
the persons' XLSX (written here with openpyxl) in which three rows are wrong — a mistyped ID number, a
phone number that is not one, a house that is not registered. The check names exactly those three rows,
with the column and a plain Chinese reason, and writes nothing; "导入无问题的行" then writes the other
9,997, each with a residence in its house, and the register's API counts them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from playwright.sync_api import Browser, Page, expect

from shiyu.core.validators import id_check_digit
from tests.e2e.conftest import log_in, running_world

PERSONS, HOUSES = 10_000, 2_500
# the bad rows by index: (the column the report names, words of its reason)
BAD = {1234: ("身份证号", "校验位"), 5678: ("手机", "电话号码"), 9012: ("户室", "房屋尚未登记")}
IMPORT_MS = 240_000  # a loaded CI machine: checking and writing 12,500 rows on SQLite


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    with running_world(tmp_path_factory.mktemp("registry_import"),
                       lambda _s, w: {"grid": w.grids["a1"].code, "grid_id": w.grids["a1"].id}) as running:
        yield running


def _room(i: int) -> list[str]:
    return ["幸福小区", str(i // 100 + 1), str(i // 20 % 5 + 1), str(i % 20 + 101)]


def _workbook(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _id_number(i: int) -> str:
    first17 = f"350203{date(1950, 1, 1) + timedelta(days=i // 500):%Y%m%d}{i % 500:03d}"
    return first17 + id_check_digit(first17)


def _persons(grid: str) -> list[list[str]]:
    rows = []
    for i in range(PERSONS):
        number = _id_number(i)
        room = _room(i % HOUSES)
        row = [f"居民{i}", number, f"139{i:08d}", "汉", "户籍" if i % 3 else "流动", "户主" if i < HOUSES else "子女",
               grid, *room]
        if i == 1234:
            row[1] = number[:17] + ("0" if number[17] != "0" else "1")
        elif i == 5678:
            row[2] = "138001"
        elif i == 9012:
            row[-1] = "9999"
        rows.append(row)
    return rows


def _upload(page: Page, kind_label: str, path: Path, button: str) -> None:
    page.select_option("#import-kind", label=kind_label)
    page.set_input_files("#import-file", str(path))
    page.get_by_role("button", name=button).click()


def test_ten_thousand_residents_with_three_bad_rows(browser: Browser, world: dict, tmp_path: Path) -> None:
    grid = world["ids"]["grid"]
    houses = _workbook(tmp_path / "房屋.xlsx", ["网格编码", "小区/道路", "楼栋", "单元", "户室", "用途", "面积"],
                       [[grid, *_room(h), "自住" if h % 4 else "出租", "80"] for h in range(HOUSES)])
    persons = _workbook(tmp_path / "实有人口.xlsx", ["姓名", "身份证号", "手机", "民族", "人员类型", "与户主关系",
                                                 "网格编码", "小区/道路", "楼栋", "单元", "户室"], _persons(grid))
    context = browser.new_context(viewport={"width": 1366, "height": 850}, base_url=world["url"], locale="zh-CN")
    context.set_default_timeout(IMPORT_MS)
    page = context.new_page()
    log_in(page, "admin")
    page.goto("/registry")
    page.get_by_role("link", name="批量导入").click()
    expect(page.locator("h1")).to_have_text("批量导入")

    _upload(page, "实有房屋", houses, "检查")
    expect(page.locator("#report")).to_have_attribute("data-import-state", "valid")
    expect(page.locator("#report-valid")).to_have_text(str(HOUSES))
    page.get_by_role("button", name="导入无问题的行").click()
    expect(page.locator("#report-written")).to_have_text(str(HOUSES))

    _upload(page, "实有人口", persons, "检查")
    expect(page.locator("#report-total")).to_have_text(str(PERSONS))
    expect(page.locator("#report-invalid")).to_have_text("3")
    problems = page.locator("#problems tbody tr")
    expect(problems).to_have_count(3)
    for n, (index, (column, reason)) in enumerate(sorted(BAD.items())):
        cells = problems.nth(n).locator("td")
        expect(cells.nth(0)).to_have_text(str(index + 2))  # the header is row 1
        expect(cells.nth(1)).to_have_text(column)
        expect(cells.nth(2)).to_contain_text(reason)
    assert page.request.get("/api/v1/registry/persons?limit=1").json()["total"] == 0  # the check wrote nothing

    page.get_by_role("button", name="导入无问题的行").click()
    expect(page.locator("#report-written")).to_have_text(str(PERSONS - 3))
    expect(page.locator("#report .alert")).to_contain_text("3 行有问题，未导入")
    listed = page.request.get(f"/api/v1/registry/persons?grid_id={world['ids']['grid_id']}&limit=1").json()
    assert listed["total"] == PERSONS - 3
    assert page.request.get(f"/api/v1/registry/persons?id_number={_id_number(1234)}").json()["total"] == 0
    first = page.request.get(f"/api/v1/registry/persons?id_number={_id_number(0)}").json()["items"][0]
    profile = page.request.get(f"/api/v1/registry/persons/{first['id']}").json()
    assert profile["residences"] and profile["household"]  # one household per house, with the 子女 of row 2,502
