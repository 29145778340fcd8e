"""A new city's administrator brings in the boundaries a Chinese city actually has: the DataV GeoAtlas files
as downloaded (GCJ-02 coordinates, 6-digit adcodes), whose districts stick out of the city outline by
about 1 %.

The city outline comes in first with ``shiyu import areas 350200.json --crs gcj02`` (the first-run step of
docs/deploy.md: a city-wide administrator is an administrator *of* an imported city, so the outline precedes
them), then ``chief`` is made the city's administrator. On the import page chief checks the outline file
(recognised, nothing to change), then the districts file: refused at first with how much sticks out and
the option to use, then checked again with "clip to parent" — the report lists what was cut per district
and the conversion from GCJ-02 — imported, and the districts appear under the city. Screenshots (desktop
and 360 px) go to ``SHIYU_TEST_SCREENSHOTS`` when set."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from shiyu.core.scoping import Principal
from shiyu.org.areas import cli
from shiyu.org.areas.models import Area
from tests.e2e.conftest import WAIT_MS, log_in, running_world
from tests.factories import add_user
from tests.org import datav

DISTRICTS = ["思明区", "海沧区", "湖里区", "集美区"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    files = tmp_path_factory.mktemp("datav")
    outline, full = files / "350200.json", files / "350200_full.json"
    outline.write_text(json.dumps(datav.city_outline(), ensure_ascii=False), encoding="utf-8")
    full.write_text(json.dumps(datav.districts(), ensure_ascii=False), encoding="utf-8")
    with running_world(tmp_path_factory.mktemp("journey"), lambda _s, _w: {}) as running, \
            pytest.MonkeyPatch.context() as mp:
        mp.setenv("SHIYU_DATABASE_URL", running["settings"].database_url)
        mp.setenv("SHIYU_DEMO_MODE", "1")
        parser = argparse.ArgumentParser(prog="shiyu")
        cli.register(parser.add_subparsers(dest="command", required=True))
        args = parser.parse_args(["import", "areas", str(outline), "--crs", "gcj02"])
        assert args.handler(args) == 0
        with running["factory"]() as s:
            s.info["principal"] = Principal.system("journey")
            city = s.scalar(select(Area).where(Area.code == "350200000000"), execution_options={"unscoped": True})
            add_user(s, "chief", city, [("admin", city)])
            s.commit()
            city_id = city.id
        yield {**running, "outline": outline, "full": full, "city": city_id}


def shot(page: Page, name: str) -> None:
    folder = os.environ.get("SHIYU_TEST_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def check(page: Page, path: Path, *, clip: bool = False) -> None:
    page.set_input_files("#import-file", str(path))
    page.select_option("#import-crs", "gcj02")
    page.locator("#import-clip").set_checked(clip)
    page.click("button[name=dry_run][value='1']")


def test_the_administrator_imports_datav_districts_clipped_to_the_city(browser: Browser, world: dict) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 850}, base_url=world["url"], locale="zh-CN")
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    log_in(page, "chief")
    page.goto("/admin/areas/import")
    expect(page.locator("h1")).to_have_text("导入 GeoJSON")
    expect(page.locator("fieldset.import-options legend")).to_have_text("文件格式与坐标")

    check(page, world["outline"])  # the outline chief's city was made from: recognised, nothing to do
    report = page.locator("#report")
    expect(report).to_have_attribute("data-import-state", "valid")
    expect(report.locator("tr.feature-row")).to_contain_text("厦门市")
    expect(report.locator("tr.feature-row")).to_contain_text("无变化")
    expect(page.locator("#report-source")).to_contain_text("DataV GeoAtlas")

    check(page, world["full"])  # the districts stick out of the outline
    expect(report).to_have_attribute("data-import-state", "invalid")
    expect(report.locator("tr.feature-row")).to_have_count(4)
    first = report.locator("tr.feature-row").first
    expect(first).to_contain_text("0.99%")
    expect(first).to_contain_text("平方米")
    expect(first).to_contain_text("裁剪到上级边界")
    expect(page.locator("button[name=dry_run][value='0']")).to_be_hidden()

    check(page, world["full"], clip=True)
    expect(report).to_have_attribute("data-import-state", "valid")
    rows = report.locator("tr.feature-row")
    for i, name in enumerate(DISTRICTS):
        expect(rows.nth(i)).to_contain_text(name)
        expect(rows.nth(i).locator(".clip-note")).to_contain_text("已裁剪到上级：裁掉 0.99%")
    expect(page.locator("#report-source")).to_contain_text("坐标已由 GCJ-02 转换为 WGS-84")
    expect(report.locator(".stat", has_text="已裁剪")).to_contain_text("4")
    expect(report.locator(".stat", has_text="更新")).to_have_text("0更新")
    shot(page, "area-import-datav-desktop")

    page.click("button[name=dry_run][value='0']")
    expect(page.locator("#report")).to_have_attribute("data-import-state", "written")
    expect(page.locator("#report .alert.ok")).to_have_text("导入完成：新建 4 个，更新 0 个。")

    page.goto(f"/admin/areas?area={world['city']}")
    children = page.locator("section.card", has=page.locator("h2", has_text="下级区划")).locator("tbody tr")
    expect(children).to_have_count(4)
    for row, name in zip(children.all(), DISTRICTS, strict=True):
        expect(row).to_contain_text(name)
    expect(page.locator("#area-map path.leaflet-interactive").nth(3)).to_be_visible()  # the four on the map
    shot(page, "areas-datav-districts-desktop")
    context.close()


def test_the_report_reads_on_a_phone(browser: Browser, world: dict) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740}, base_url=world["url"], locale="zh-CN",
                                  is_mobile=True, has_touch=True)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    log_in(page, "chief")
    page.goto("/admin/areas/import")
    check(page, world["full"], clip=True)
    report = page.locator("#report")
    expect(report).to_have_attribute("data-import-state", "valid")  # districts already imported: unchanged
    expect(page.locator("#report-source")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360 + 1
    shot(page, "area-import-datav-phone")
    context.close()
