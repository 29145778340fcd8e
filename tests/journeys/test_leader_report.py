"""A community centre leader opens 周报月报, downloads this week's report as a Word document and finds every
section with the week's figures and charts in it; then downloads last week's report that the Monday job filed
for the centre, as a workbook; on a phone the page works the same. Screenshots: desktop and 360 px phone."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from shiyu.cases.categories.models import Category
from shiyu.cases.indicators import facts
from shiyu.core.storage import LocalStorage
from shiyu.core.timeutil import utcnow
from shiyu.reports import filing
from shiyu.reports.data import SECTIONS
from tests.cases.indicator_fixtures import SH, make_case
from tests.e2e.conftest import WAIT_MS, log_in, running_world

SHOTS = Path(os.environ.get("SHIYU_JOURNEY_SHOTS", "/tmp/shiyu-journey-shots"))


def _fill(s, w) -> dict:
    """This week: three cases of community A (one closed on time, one overdue and supervised, one new)."""
    major = Category(kind="incident", code="I01", name_zh="市容环境", name_en="appearance")
    s.add(major)
    s.flush()
    w.extra["rubbish"] = Category(kind="incident", code="I0101", name_zh="暴露垃圾", name_en="rubbish",
                                  parent_id=major.id, time_limits={}, fields=[])
    s.add(w.extra["rubbish"])
    s.flush()
    now = utcnow() - timedelta(seconds=30)
    done = {"registered_at": now, "dispatched_at": now, "handled_at": now, "closed_at": now}
    make_case(s, w, "a1", now, state="closed", department="a", rating="satisfied", **done)
    late = make_case(s, w, "a2", now, state="handling", department="a", registered_at=now, dispatched_at=now,
                     overdue_events=("handle",))
    late.step_alert, late.step_due_at, late.supervised = 2, now - timedelta(hours=3), True
    make_case(s, w, "a1", now)
    make_case(s, w, "b1", now)  # community B: not in leader A's report
    s.flush()
    facts.recompute(s, now.astimezone(SH).date(), SH)
    return {"late": late.tracking_code}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    with running_world(tmp_path_factory.mktemp("journey"), _fill) as running:
        settings = running["settings"]
        # The Monday job has run this week: last week's reports are filed for every centre. Early on a Monday
        # (before FILE_AT, Shanghai time) it has not yet: the journey then files as the job will at FILE_AT.
        local = utcnow().astimezone(SH)
        due = datetime.combine(local.date(), filing.FILE_AT, SH) if local.weekday() == 0 else local
        filing.file_due(running["factory"], LocalStorage(settings.storage_dir), SH, now=max(local, due))
        yield running


def _open_reports(page: Page) -> None:
    log_in(page, "leader_a")
    page.goto("/")
    page.locator("a[href='/reports']").first.click()
    expect(page.locator("h1")).to_have_text("周报月报")


def test_the_leader_downloads_this_weeks_report(browser: Browser, world: dict) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 850}, base_url=world["url"], locale="zh-CN",
                                  accept_downloads=True)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    _open_reports(page)
    area = page.locator("#area")
    expect(area.locator("option")).to_have_count(1)  # only the community the leader holds
    expect(area).to_have_value("359901001001")
    week = page.locator("#week").input_value()
    expect(page.locator("#format")).to_have_value("docx")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "reports-desktop.png"), full_page=True)

    with page.expect_download() as download:
        page.get_by_role("button", name="导出周报").click()
    assert download.value.suggested_filename == f"甲社区周报_{week}.docx"
    doc = Document(io.BytesIO(Path(download.value.path()).read_bytes()))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert doc.paragraphs[0].text.startswith("甲社区社会治理周报")
    for n, heading in enumerate(("总体情况", "GB/T 30428 评价指标", *SECTIONS[2:])):
        assert f"{'一二三四五六'[n]}、{heading}" in text
    assert "甲社区共上报案件3件" in text
    assert "超期（红灯）1件" in text and "督办中1件" in text
    cells = [[c.text for c in r.cells] for t in doc.tables for r in t.rows]
    assert any(row[0] == world["ids"]["late"] for row in cells)
    assert ["结案率", "结案数 ÷ 应结案数", "1", "2", "50.0%", "—", "—"] in cells
    pictures = [r for r in doc.part.rels.values() if "image" in r.reltype]
    assert len(pictures) == 3  # daily, categories, grids

    filed = page.locator("#filed-reports tbody tr")
    expect(filed).to_have_count(2)  # last week's report of community A: Word and Excel, nothing of B's
    with page.expect_download() as download:
        filed.filter(has_text="Excel").locator("a").click()
    book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    # Filed for whoever reads the area's statistics: no disputes', petitions' or key persons' chapters.
    assert book.sheetnames == list(SECTIONS)
    assert "甲社区社会治理周报" in str(book["总体情况"]["A1"].value)
    context.close()


def test_the_report_page_on_a_phone(browser: Browser, world: dict) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740}, base_url=world["url"], locale="zh-CN",
                                  accept_downloads=True, is_mobile=True, has_touch=True)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    log_in(page, "leader_a")
    page.goto("/reports")
    expect(page.locator("h1")).to_have_text("周报月报")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page scrolls sideways on a phone ({width} px)"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "reports-phone.png"), full_page=True)
    page.fill("#week", "2000-W99")  # a week that does not exist: the reason, not a download
    page.get_by_role("button", name="导出周报").click()
    expect(page.locator(".alert.error")).to_contain_text("YYYY-Www")
    context.close()
