"""The leader's pages through TestClient: 当前态势 on the command view and the big screen, where every number
opens a list of exactly as many cases; 统计分析 with its drill-down links and "导出 Excel" (audited); and
scope — a community leader never reaches the other community's numbers or cases."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from shiyu.cases.indicators import facts
from shiyu.core.audit import AuditEntry
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from tests.cases.conftest import LIMITS
from tests.cases.indicator_fixtures import SH, indicator_world, make_case, march_cases
from tests.web.test_pages import log_in

FIGURE = re.compile(r'data-figure="(\w+)" href="([^"]+)">\s*<b>(\d+)</b>')
LINKED_NUMBER = re.compile(r'<a (?:class="[^"]*" )?href="(/analysis/cases\?[^"]+)">([\d.]+)%?</a>')


@pytest.fixture
def world(system_session, factory):
    w = indicator_world(system_session)
    for minor in ("rubbish", "noise"):  # the pages list categories with their time limits
        w.extra[minor].time_limits = LIMITS
    march_cases(system_session, w)
    s, now = system_session, utcnow()
    registered = {"registered_at": now, "dispatched_at": now}
    make_case(s, w, "a1", now)
    make_case(s, w, "a2", now - timedelta(days=2), state="handling", department="a", step_alert=2,
              step_due_at=now - timedelta(days=1), **registered)
    make_case(s, w, "a2", now - timedelta(days=1), state="handling", department="a", step_alert=1, supervised=True,
              **registered)
    make_case(s, w, "b1", now - timedelta(days=3), state="to_accept", department="b", step_alert=2, **registered)
    s.commit()
    facts.rebuild(factory, SH, date(2026, 2, 1), date(2026, 3, 31))
    facts.rebuild(factory, SH, date(2025, 3, 1), date(2025, 3, 31))
    today = now.astimezone(SH).date()
    facts.rebuild(factory, SH, today - timedelta(days=5), today)
    return w


def total_of(client, url: str) -> int:
    r = client.get(html.unescape(url))
    assert r.status_code == 200, (url, r.text[:300])
    found = re.search(r'data-total="(\d+)"', r.text)
    assert found, r.text[:500]
    listed = r.text.count('<tr class="deadline-')
    assert listed == min(int(found.group(1)), 50)  # the page lists what it counts (50 a page)
    return int(found.group(1))


def test_every_situation_number_opens_exactly_its_cases(client, world):
    log_in(client, "leader_a")
    page = client.get("/command")
    assert page.status_code == 200
    assert "当前态势" in page.text and "截至 " in page.text and "今日数据为当天0点至此刻" in page.text
    figures = {name: (url, int(n)) for name, url, n in FIGURE.findall(page.text)}
    assert set(figures) == {"new_today", "closed_today", "in_progress", "overdue", "warning", "supervised"}
    assert figures["overdue"][1] == 1 and figures["warning"][1] == 1 and figures["supervised"][1] == 1
    assert figures["in_progress"][1] >= 3 and figures["new_today"][1] >= 1
    for name, (url, n) in figures.items():
        assert total_of(client, url) == n
        if name in ("new_today", "in_progress", "overdue"):  # the same cases in 辖区案件, by its own filters
            desk = re.search(r'id="open-desk" href="([^"]+)"|href="([^"]+)" id="open-desk"',
                             client.get(html.unescape(url)).text)
            assert desk, name
            listed = client.get(html.unescape(desk.group(1) or desk.group(2)))
            assert listed.status_code == 200 and f"共 {n} 条" in listed.text, (name, n)
    # the rankings: grids of community A, departments; every number a link to as many cases
    ranking = page.text[page.text.index('id="rank-areas"'):page.text.index('id="hot-top"')]
    links = LINKED_NUMBER.findall(ranking)
    assert links and "甲社区第二网格" in ranking and "乙社区" not in ranking
    for url, n in links:
        if "figure=" in url:
            assert total_of(client, url) == int(n)


def test_the_filter_bar_narrows_the_situation_and_every_link_keeps_it(client, world, system_session):
    """当前态势 follows the category and channel of the command view's filter bar (it once ignored them):
    with 施工扰民 chosen every figure counts only noise cases and opens exactly those, in 辖区案件 too; the
    panel polls with the same filters and the big screen opens with them."""
    noise = world.extra["noise"].id
    now = utcnow()
    make_case(system_session, world, "a1", now, category="noise")
    system_session.commit()
    log_in(client, "leader_a")
    page = client.get(f"/command?days=7&category={noise}&channel=")
    assert page.status_code == 200
    figures = {name: (url, int(n)) for name, url, n in FIGURE.findall(page.text)}
    assert figures["new_today"][1] == 1 and figures["overdue"][1] == 0 and figures["in_progress"][1] == 1
    for name, (url, n) in figures.items():
        assert f"category_id={noise}" in url
        assert total_of(client, url) == n, name
    drill = client.get(html.unescape(figures["new_today"][0])).text
    assert "施工扰民" in drill
    desk = re.search(r'id="open-desk" href="([^"]+)"|href="([^"]+)" id="open-desk"', drill)
    assert desk and f"category={noise}" in html.unescape(desk.group(1) or desk.group(2))
    assert "共 1 条" in client.get(html.unescape(desk.group(1) or desk.group(2))).text
    assert f"/command/situation?area={world.community_a.id}&days=7&category={noise}" in html.unescape(page.text)
    assert f"/command/screen?area={world.community_a.id}&days=7&category={noise}" in html.unescape(page.text)
    by_channel = client.get("/command/situation?days=7&channel=citizen")
    assert {name: int(n) for name, _u, n in FIGURE.findall(by_channel.text)}["in_progress"] == 0
    assert "channel=citizen" in by_channel.text
    assert client.get("/command/situation?category=99999").status_code == 404


def test_the_panel_polls_itself_and_the_big_screen(client, world):
    log_in(client, "leader_a")
    panel = client.get("/command/situation?days=7")
    assert panel.status_code == 200 and 'hx-trigger="every 60s"' in panel.text and "<html" not in panel.text
    screen = client.get("/command/screen")
    assert screen.status_code == 200
    assert 'class="big-screen"' in screen.text and 'id="command-map"' in screen.text and "当前态势" in screen.text
    assert "&screen=1" in screen.text and 'class="sidebar"' not in screen.text


def test_a_leader_never_reaches_another_area(client, world):
    log_in(client, "leader_a")
    b = world.community_b.id
    assert client.get(f"/analysis/cases?figure=overdue&area_id={b}").status_code == 404
    assert client.get(f"/analysis/cases?indicator=reported&area_id={b}").status_code == 404
    assert client.get(f"/analysis/statistics?area={b}").status_code == 404
    assert client.get(f"/analysis/statistics/export.xlsx?area={b}").status_code == 404
    assert client.get(f"/command/situation?area={b}").status_code == 404
    assert client.get("/analysis/cases?figure=no_such_figure").status_code == 404
    assert client.get("/analysis/cases?figure=overdue&area_id=99999999999").status_code == 404
    assert client.get("/analysis/cases?indicator=reported&department_id=99999999999").status_code == 404
    # without an area, the leader's own: community B's overdue case is not among them
    assert total_of(client, "/analysis/cases?figure=overdue") == 1
    log_in(client, "handler_a")  # department staff: their department's statistics, no command view
    assert client.get("/command/screen").status_code == 403
    assert client.get("/analysis/statistics").status_code == 200


def test_statistics_numbers_drill_down_and_export(client, world, system_session):
    log_in(client, "leader_a")
    page = client.get("/analysis/statistics?start=2026-03-01&end=2026-03-31&level=grid")
    assert page.status_code == 200
    text = page.text
    assert "统计分析" in text and "环比：2026-02-01 至 2026-02-28" in text and "同比" in text
    assert "甲社区第一网格" in text and "乙社区第一网格" not in text
    links = LINKED_NUMBER.findall(text)
    assert len(links) > 20
    for url, shown in links[:12]:
        if "." not in shown:  # counts (rates are checked through their numerator and denominator)
            assert total_of(client, url) == int(shown), url
    for table in ("overview", "areas", "departments", "all"):
        r = client.get(f"/analysis/statistics/export.xlsx?table={table}&start=2026-03-01&end=2026-03-31&level=grid")
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
        book = load_workbook(BytesIO(r.content))
        assert len(book.sheetnames) == (3 if table == "all" else 1)
    overview = load_workbook(BytesIO(client.get(
        "/analysis/statistics/export.xlsx?table=overview&start=2026-03-01&end=2026-03-31").content)).active
    assert {r[0]: r[2] for r in overview.iter_rows(min_row=3, values_only=True)}["上报数"] == 11
    cases = client.get("/analysis/cases/export.xlsx?indicator=reported&start=2026-03-01&end=2026-03-31")
    sheet = load_workbook(BytesIO(cases.content)).active
    assert sheet.max_row == 2 + 11  # title, header, the eleven cases of community A
    system_session.info["principal"] = Principal.system("test")
    actions = list(system_session.scalars(select(AuditEntry.action).where(
        AuditEntry.action.in_(["indicator.export", "case.export"]))))
    assert actions.count("indicator.export") == 5 and actions.count("case.export") == 1


def test_english(client, world):
    log_in(client, "leader_a")
    assert "Current situation" in client.get("/command?lang=en").text
    assert "Statistics" in client.get("/analysis/statistics?lang=en").text
