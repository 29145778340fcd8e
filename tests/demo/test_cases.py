"""The demo case history on a small city, on every test database: every state is there, every point lies in
its case's grid, every timeline could have been written by the engine, the indicators over it are
non-trivial and equal to the raw computation, and the same seed and end give the same history."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from shapely.geometry import Point, shape
from sqlalchemy import select

from shiyu.cases.categories.models import Step
from shiyu.cases.indicators import service
from shiyu.cases.indicators.definitions import local_day
from shiyu.cases.models import TERMINAL, Case, CaseAssignment, CaseEvent, CaseRequest, CaseState
from shiyu.cases.workflow.table import ACTIONS, STEP_OF_STATE, TABLE
from shiyu.core.scoping import Principal
from shiyu.demo.build import build
from shiyu.demo.cases import HISTORY_DAYS
from shiyu.demo.geography import SMALL_SIZE
from shiyu.org.areas.models import Area
from tests.conftest import _empty_tables

SH = ZoneInfo("Asia/Shanghai")
END = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
CASES = 900
NOT_TRANSITIONS = {"report", "overdue", "auto_supervise"}


@pytest.fixture
def history(factory: Any) -> Any:
    build(factory, seed=2026, size=SMALL_SIZE, end=END, cases=CASES)
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        yield s


def _timelines(s: Any) -> dict[int, list[CaseEvent]]:
    out: dict[int, list[CaseEvent]] = defaultdict(list)
    for e in s.scalars(select(CaseEvent).order_by(CaseEvent.id)):
        out[e.case_id].append(e)
    return out


def test_every_state_and_channel_is_present(history: Any) -> None:
    states = Counter(history.scalars(select(Case.state)))
    assert set(states) == {s.value for s in CaseState}, states
    assert sum(states.values()) == CASES
    channels = Counter(history.scalars(select(Case.channel)))
    assert channels.most_common(1)[0][0] == "grid" and len(channels) == 5
    cases = history.scalars(select(Case)).all()
    assert any(c.rework_count for c in cases) and any(c.return_count for c in cases)
    assert any(c.extension_count for c in cases) and any(c.supervised for c in cases)
    assert any(c.state not in TERMINAL and c.step_alert >= 2 for c in cases), "some open case is overdue"
    hotline = [c for c in cases if c.channel == "hotline"]
    assert all(c.reporter_name and c.reporter_phone and c.reporter_phone_hash for c in hotline)


def test_every_point_is_inside_its_grid(history: Any) -> None:
    grids = {a.id: shape(a.geometry) for a in history.scalars(select(Area).where(Area.level == 4))}
    rows = history.execute(select(Case.grid_id, Case.lon, Case.lat, Case.area_path)).all()
    paths = dict(history.execute(select(Area.id, Area.area_path)).all())
    for grid_id, lon, lat, path in rows:
        assert grids[grid_id].contains(Point(lon, lat))
        assert paths[grid_id] == path


def test_timelines_are_what_the_engine_writes(history: Any) -> None:
    timelines = _timelines(history)
    assignments: dict[int, list[CaseAssignment]] = defaultdict(list)
    for a in history.scalars(select(CaseAssignment)):
        assignments[a.case_id].append(a)
    requests = {r.id: r for r in history.scalars(select(CaseRequest))}
    for case in history.scalars(select(Case)):
        events = timelines[case.id]
        assert events[0].action == "report" and events[0].version == 1 and events[0].from_state is None
        state, version, at, late = CaseState.REPORTED.value, 1, events[0].at, 0
        for e in events[1:]:
            assert e.version > version and e.at >= at and e.at <= END
            if e.action in NOT_TRANSITIONS:
                assert e.from_state == e.to_state == state and not e.public
                late |= Step(e.data["step"]).bit if e.action == "overdue" else 0
            else:
                transition = TABLE[(CaseState(state), e.action)]
                assert e.from_state == state and e.public == transition.public
                assert e.to_state in [t.value for t in transition.targets] or (not transition.targets
                                                                             and e.to_state == state)
                if e.data.get("late"):
                    late |= Step(e.data["step"]).bit
                if "request_id" in e.data:
                    assert requests[e.data["request_id"]].case_id == case.id
            state, version, at = e.to_state, e.version, e.at
        assert case.state == state and case.version >= version and case.late_steps == late
        actions = [e.action for e in events]
        step = STEP_OF_STATE.get(CaseState(case.state))
        assert case.step == (step.value if step else None)
        assert (case.step_segment_start is None) == (case.state == CaseState.SUSPENDED or step is None)
        assert (case.registered_at is not None) == ("register" in actions)
        assert (case.closed_at is not None) == (case.state == CaseState.CLOSED), actions
        assert (case.rating is not None) == (actions[-1] == "evaluate" or "evaluate" in actions[
            max((i for i, a in enumerate(actions) if a == "reopen"), default=0):])
        assert case.rework_count == actions.count("verify_fail")
        assert case.return_count == actions.count("return")
        assert case.extension_count == actions.count("approve_extension")
        assert case.overdue_steps == actions.count("overdue")
        active = [a for a in assignments[case.id] if a.active]
        assert len(active) == (1 if case.main_department_id else 0)
        assert all(a.department_id == case.main_department_id for a in active)
        if case.state == CaseState.MERGED:
            assert case.merged_into_id is not None and case.merged_into_id < case.id
    assert set(a for t in timelines.values() for a in (e.action for e in t)) >= set(ACTIONS) - {
        "dispatch_to_centre", "assist_report"} | {"overdue", "auto_supervise"}


def test_indicators_are_non_trivial_and_exact(history: Any) -> None:
    start, end = local_day(END, SH).replace(day=1).replace(month=6), local_day(END, SH)
    q = service.resolve(history, Principal.system("test"), SH, start=start, end=end)
    totals = service.totals(history, q)
    assert totals == service.raw_totals(history, q)
    assert 0 < totals["closed"] < totals["due"] <= totals["registered"] < totals["reported"]
    assert 0 < totals["closed_on_time"] < totals["closed"]
    assert 0 < totals["handled_on_time"] < totals["handled"]
    assert 0 < totals["dispatched_right"] < totals["dispatched"]
    assert totals["reworked"] > 0 and totals["extended"] > 0 and totals["overdue"] > 0
    assert 0 < totals["satisfied"] < totals["rated"]
    first = min(history.scalars(select(Case.reported_at)))
    assert (END - first).days <= HISTORY_DAYS


def test_same_seed_same_history(factory: Any, db_url: str) -> None:
    def snapshot() -> list[tuple]:
        with factory() as s:
            s.info["principal"] = Principal.system("test")
            cases = s.execute(select(Case.tracking_code, Case.state, Case.lon, Case.lat, Case.description,
                                     Case.reporter_name, Case.version, Case.late_steps).order_by(Case.id)).all()
            events = s.execute(select(CaseEvent.action, CaseEvent.at, CaseEvent.data).order_by(CaseEvent.id)).all()
        return [tuple(r) for r in cases] + [tuple(r) for r in events]

    build(factory, seed=7, size=SMALL_SIZE, end=END, cases=200)
    first = snapshot()
    _empty_tables(db_url)
    build(factory, seed=7, size=SMALL_SIZE, end=END, cases=200)
    assert snapshot() == first


def test_the_demo_has_hot_issues_to_look_at(history: Any) -> None:
    from shiyu.triage.hot.hot_cases import top

    issues = top(history, 10)
    assert issues, "the analyst's hot-issue page would be empty"
    assert all(i.size >= 2 for i in issues)
    assert [i.heat for i in issues] == sorted((i.heat for i in issues), reverse=True)
