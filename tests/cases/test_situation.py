"""当前态势 (shiyu.reports.situation) against hand-counted cases around one afternoon, and 统计分析
(shiyu.reports.statistics) against the hand-computed March world of tests/cases/test_indicators.py: every
figure equals the number of rows its drill-down statement lists, the rankings' numbers too, periods for
环比/同比, scope, and the Excel workbook."""

from __future__ import annotations

from datetime import UTC, date, timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from shiyu.cases.indicators import facts
from shiyu.cases.indicators import service as indicators
from shiyu.core.errors import NotFound
from shiyu.core.scoping import Principal
from shiyu.org.identity.service import principal_for
from shiyu.reports import situation, statistics
from shiyu.triage.hot.models import HotIssue
from tests.cases.indicator_fixtures import SH, indicator_world, local, make_case, march_cases
from tests.cases.test_indicators import CITY, COMMUNITY_A

NOW = local(2026, 12, 5, 15, 0)
MOMENT = situation.Moment(NOW.astimezone(UTC), SH)


@pytest.fixture
def world(system_session):
    w = indicator_world(system_session)
    s, today = system_session, local(2026, 12, 5, 9, 0)
    done = {"registered_at": today, "dispatched_at": today, "handled_at": today}
    w.extra["cases"] = {
        "n1": make_case(s, w, "a1", today),
        "n2": make_case(s, w, "a2", local(2026, 12, 5, 10, 0), state="handling", department="a",
                        registered_at=today, dispatched_at=today, step_alert=1,
                        step_due_at=today + timedelta(days=1)),
        "o1": make_case(s, w, "a2", today - timedelta(days=3), state="handling", department="a",
                        registered_at=today, dispatched_at=today, step_alert=2,
                        step_due_at=today - timedelta(days=2)),
        "o2": make_case(s, w, "b1", today - timedelta(days=5), state="to_accept", department="b",
                        registered_at=today, dispatched_at=today, step_alert=3, supervised=True,
                        step_due_at=today - timedelta(days=4)),
        "c1": make_case(s, w, "a1", today - timedelta(days=1), state="closed", closed_at=local(2026, 12, 5, 11, 0),
                        **done),
        "c2": make_case(s, w, "a1", today - timedelta(days=2), state="closed", closed_at=local(2026, 12, 4, 23, 0),
                        **done),
        "c3": make_case(s, w, "b1", local(2026, 12, 5, 8, 0), state="closed", department="b",
                        closed_at=local(2026, 12, 5, 12, 0), **done),
        "s1": make_case(s, w, "a1", today - timedelta(days=10), state="closed", supervised=True, step_alert=2,
                        closed_at=today - timedelta(days=1), **done),
        "late": make_case(s, w, "a1", local(2026, 12, 4, 23, 59)),
    }
    s.add(HotIssue(place_area_id=w.community_a.id, area_path=w.community_a.area_path, title="甲社区垃圾堆放",
                   size=4, reporters=3, heat=3.2))
    s.add(HotIssue(place_area_id=w.community_b.id, area_path=w.community_b.area_path, title="乙社区噪音",
                   size=3, reporters=2, heat=5.0))
    s.commit()
    return w


CITY_NOW = {"new_today": 3, "closed_today": 2, "in_progress": 5, "overdue": 2, "warning": 1, "supervised": 1}
A_NOW = {"new_today": 2, "closed_today": 1, "in_progress": 4, "overdue": 1, "warning": 1, "supervised": 0}
DEPT_A_NOW = {"new_today": 1, "closed_today": 0, "in_progress": 2, "overdue": 1, "warning": 1, "supervised": 0}


def rows(session, stmt) -> int:
    return len(list(session.scalars(stmt)))


def as_system(session):
    session.info["principal"] = Principal.system("test")
    return session


@pytest.mark.parametrize("where, department, expected", [
    ("city", None, CITY_NOW), ("community_a", None, A_NOW), ("city", "a", DEPT_A_NOW)])
def test_each_figure_counts_exactly_the_cases_it_lists(system_session, world, where, department, expected):
    s = as_system(system_session)
    area = getattr(world, where)
    dept = world.departments[department].id if department else None
    assert situation.counts(s, area, MOMENT, dept) == expected
    for name in situation.FIGURES:
        assert rows(s, situation.statement(name, area, MOMENT, dept)) == expected[name], name


def test_the_filter_bars_category_and_channel_slice_every_figure_and_ranking(system_session, world):
    """当前态势 follows the command view's category and channel: n2 (overdue-soon, a2) is about noise, o2
    (overdue, supervised, b1) came from a citizen; the figures, their lists and the rankings all narrow."""
    s = as_system(system_session)
    cases = world.extra["cases"]
    cases["n2"].category_id = world.extra["noise"].id
    cases["o2"].channel = "citizen"
    s.flush()
    noise = situation.Slice((world.extra["noise"].id,))
    citizen = situation.Slice(channel="citizen")
    major = situation.Slice((world.extra["major"].id, world.extra["rubbish"].id, world.extra["noise"].id))
    assert situation.counts(s, world.city, MOMENT, None, noise) == {
        "new_today": 1, "closed_today": 0, "in_progress": 1, "overdue": 0, "warning": 1, "supervised": 0}
    assert situation.counts(s, world.city, MOMENT, None, citizen) == {
        "new_today": 0, "closed_today": 0, "in_progress": 1, "overdue": 1, "warning": 0, "supervised": 1}
    assert situation.counts(s, world.city, MOMENT, None, major) == CITY_NOW  # a major category holds its minors
    for part in (noise, citizen):
        counted = situation.counts(s, world.city, MOMENT, None, part)
        for name in situation.FIGURES:
            assert rows(s, situation.statement(name, world.city, MOMENT, None, part)) == counted[name], name
    _level, ranked = situation.area_ranking(s, Principal.system("test"), world.street, MOMENT, None, citizen)
    assert [(r.name, r.overdue, r.in_progress) for r in ranked] == [("乙社区", 1, 1), ("甲社区", 0, 0)]
    departments = situation.department_ranking(s, Principal.system("test"), world.city, MOMENT, None, noise)
    assert [(r.code, r.overdue, r.in_progress, r.warning) for r in departments] == [("D-a", 0, 1, 1)]
    assert noise.query() == {"category_id": world.extra["noise"].id} and citizen.query() == {"channel": "citizen"}


def test_today_is_the_local_day_up_to_now(system_session, world):
    s = as_system(system_session)
    listed = {c.tracking_code for c in s.scalars(situation.statement("new_today", world.city, MOMENT))}
    cases = world.extra["cases"]
    assert listed == {cases[k].tracking_code for k in ("n1", "n2", "c3")}  # 23:59 yesterday is not today
    start, end = MOMENT.today()
    assert start.isoformat() == "2026-12-05T00:00:00+08:00" and end - start == timedelta(days=1)
    first = s.scalars(situation.statement("in_progress", world.city, MOMENT)).first()
    assert first is not None and first.step_alert == 3  # the most overdue (least time left) is listed first


def test_a_community_leader_sees_only_their_community(system_session, world):
    s = system_session
    leader = principal_for(world.users["leader_a"])
    s.info["principal"] = leader
    area = situation.area_in_grants(s, leader, world.community_a.id)
    assert situation.counts(s, area, MOMENT) == A_NOW
    with pytest.raises(NotFound):
        situation.area_in_grants(s, leader, world.community_b.id)
    with pytest.raises(NotFound):
        situation.area_in_grants(s, leader, world.street.id)
    level, ranked = situation.area_ranking(s, leader, area, MOMENT, None)
    assert level == 4 and {r.code for r in ranked} == {world.grids["a1"].code, world.grids["a2"].code}
    assert [h.title for h in situation.hot_issues(s, area)] == ["甲社区垃圾堆放"]
    with pytest.raises(NotFound):
        situation.predicate("everything", MOMENT)


def test_rankings_count_what_their_links_list(system_session, world, factory):
    s = as_system(system_session)
    level, ranked = situation.area_ranking(s, Principal.system("test"), world.street, MOMENT, None)
    assert level == 3 and [(r.name, r.overdue, r.in_progress, r.warning) for r in ranked] == [
        ("甲社区", 1, 4, 1), ("乙社区", 1, 1, 0)]
    for r in ranked:
        child = s.get(type(world.street), r.id)
        assert rows(s, situation.statement("overdue", child, MOMENT)) == r.overdue
        assert rows(s, situation.statement("in_progress", child, MOMENT)) == r.in_progress
    departments = situation.department_ranking(s, Principal.system("test"), world.city, MOMENT, None)
    assert {(r.code, r.overdue, r.in_progress) for r in departments} == {("D-a", 1, 2), ("D-b", 1, 1)}
    for r in departments:
        assert rows(s, situation.statement("overdue", world.city, MOMENT, r.id)) == r.overdue
    # with the period's figures: the on-time closure rate of each street, from the indicator facts
    facts.rebuild(factory, SH, date(2026, 11, 25), date(2026, 12, 5))
    q = indicators.resolve(s, Principal.system("test"), SH, start=date(2026, 11, 6), end=date(2026, 12, 5))
    level, ranked = situation.area_ranking(s, Principal.system("test"), world.city, MOMENT, q)
    assert level == 2 and len(ranked) == 1 and ranked[0].on_time_closure_rate == pytest.approx(1.0)


# -- 统计分析 -------------------------------------------------------------------------------------------------


@pytest.fixture
def march(system_session, factory):
    w = indicator_world(system_session)
    w.extra["cases"] = march_cases(system_session, w)
    facts.rebuild(factory, SH, date(2025, 2, 1), date(2026, 4, 30))
    return w


def test_comparison_periods():
    p = statistics.periods(date(2026, 3, 1), date(2026, 3, 31))
    assert (p.previous.start, p.previous.end) == (date(2026, 2, 1), date(2026, 2, 28))
    assert (p.year_ago.start, p.year_ago.end) == (date(2025, 3, 1), date(2025, 3, 31))
    p = statistics.periods(date(2026, 1, 1), date(2026, 2, 28))  # two whole months: the two before
    assert (p.previous.start, p.previous.end) == (date(2025, 11, 1), date(2025, 12, 31))
    p = statistics.periods(date(2026, 3, 1), date(2026, 3, 6))  # this month so far: the same days of February
    assert (p.previous.start, p.previous.end) == (date(2026, 2, 1), date(2026, 2, 6))
    assert statistics.periods(date(2026, 3, 1), date(2026, 3, 30)).previous.end == date(2026, 2, 28)
    p = statistics.periods(date(2026, 3, 9), date(2026, 3, 15))
    assert (p.previous.start, p.previous.end) == (date(2026, 3, 2), date(2026, 3, 8))
    assert statistics.periods(date(2028, 2, 29), date(2028, 2, 29)).year_ago.start == date(2027, 2, 28)
    # a change is better or worse by the indicator's direction: more rework is worse, more closure better
    assert statistics.change(0.3, 0.2, True, False).good is False
    assert statistics.change(0.9, 0.8, True, True).good is True
    assert statistics.change(12, 1, False).good is None and statistics.change(5, 0, False).value is None


def _overview(stats) -> dict[str, list]:
    return {row[0].value: row for row in stats.overview.rows}


def test_statistics_match_the_indicators_and_drill_to_the_same_cases(system_session, march):
    s = as_system(system_session)
    stats = statistics.build(s, Principal.system("test"), SH, area_id=None, category_id=None,
                             start=date(2026, 3, 1), end=date(2026, 3, 31), level="community", lang="zh")
    overview = _overview(stats)
    numerator, denominator = overview["结案率"][3], overview["结案率"][4]
    assert (numerator.value, denominator.value) == CITY["closure_rate"]
    assert overview["结案率"][2].value == pytest.approx(5 / 7)
    # 环比: February had one case, still reported and not due, so no closure rate; the change is unknown
    assert overview["上报数"][5].value == 1 and overview["上报数"][6].value == pytest.approx(11.0)
    assert overview["结案率"][5].value is None and overview["结案率"][6].value is None
    assert overview["上报数"][7].value == 0 and overview["上报数"][8].value is None  # nothing a year before
    for cell in (numerator, denominator, overview["超期案件数"][3]):
        drill = cell.drill
        q = indicators.resolve(s, Principal.system("test"), SH, start=date.fromisoformat(drill["start"]),
                               end=date.fromisoformat(drill["end"]))
        listed = rows(s, indicators.cases_statement(q, drill["indicator"], indicators.Part(drill["part"])))
        assert listed == cell.value
    areas = {row[1].value: row for row in stats.areas.rows}
    assert stats.level == "community" and set(areas) == {"甲社区", "乙社区"}
    assert areas["甲社区"][2].value == COMMUNITY_A["reported"][0]
    reported_a = areas["甲社区"][2].drill
    assert reported_a["area_id"] == march.community_a.id and reported_a["indicator"] == "reported"
    departments = {row[1].value: row for row in stats.departments.rows}
    assert departments["甲社区物业办"][2].value == 5


def test_the_level_is_never_above_the_chosen_area(system_session, march):
    s = as_system(system_session)
    stats = statistics.build(s, Principal.system("test"), SH, area_id=march.community_a.id, category_id=None,
                             start=date(2026, 3, 1), end=date(2026, 3, 31), level="district", lang="zh")
    assert stats.level == "grid" and {r[1].value for r in stats.areas.rows} == {"甲社区第一网格", "甲社区第二网格"}
    assert statistics.level_below(None, "nonsense") == "district"


def test_a_leader_gets_only_their_area(system_session, march):
    s = system_session
    leader = principal_for(march.users["leader_a"])
    s.info["principal"] = leader
    stats = statistics.build(s, leader, SH, area_id=None, category_id=None, start=date(2026, 3, 1),
                             end=date(2026, 3, 31), level="community", lang="zh")
    assert _overview(stats)["上报数"][2].value == COMMUNITY_A["reported"][0]
    assert {r[1].value for r in stats.areas.rows} == {"甲社区"}
    with pytest.raises(NotFound):
        statistics.build(s, leader, SH, area_id=march.community_b.id, category_id=None, start=date(2026, 3, 1),
                         end=date(2026, 3, 31), level="grid", lang="zh")


def test_workbook_holds_the_tables_with_numbers(system_session, march):
    s = as_system(system_session)
    stats = statistics.build(s, Principal.system("test"), SH, area_id=None, category_id=None,
                             start=date(2026, 3, 1), end=date(2026, 3, 31), level="community", lang="zh")
    book = load_workbook(BytesIO(statistics.workbook(list(stats.tables.values()), "统计期间")))
    assert book.sheetnames == ["指标总览", "按区域", "按部门"]
    sheet = book["指标总览"]
    values = {r[0]: r for r in sheet.iter_rows(min_row=3, values_only=True) if r and r[0]}
    assert values["结案率"][2] == pytest.approx(5 / 7) and values["结案率"][3] == 5 and values["结案率"][4] == 7
    assert sheet.cell(3 + 5, 3).number_format == "0.0%"  # 结案率 is the sixth indicator
    assert s.scalar(select(func.count()).select_from(HotIssue)) == 0
