"""A worker's memory of the recent cases (``shiyu.triage.duplicates.recent_cases``) answers what duplicate
finding would read from the database: the same open cases of the community and of the grids near by, newest
first, capped, and — with the older ones read from the database — the same earlier cases of the grid, the
address and the phone; it follows new cases, changes made through the workflow engine, and a case whose
transaction commits after a later one's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from shiyu.cases.models import Case
from shiyu.core.db import make_session_factory
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.triage.duplicates import case_duplicates, recent_cases
from tests.batch_records import both_ways
from tests.cases.case_fixtures import POINT_B1, act
from tests.triage import test_batches
from tests.triage.case_helpers import NEAR_A1, OTHER_A, TEXT, citizen, report
from tests.triage.test_batches import ROAD, _backlog, _examine_one_by_one

WINDOW = timedelta(days=7)
good_model, world = test_batches.good_model, test_batches.world  # the batch tests' world and model


@pytest.fixture
def memory_on():
    recent_cases.enable()
    yield
    recent_cases.enable(False)


def _compare_every_case(s, memory) -> int:
    """Every case's two look-ups from memory (the earlier one with its older part from the database) and from
    the database: the same rows in the same order."""
    compared = 0
    s.info["principal"] = Principal.system("test")
    for case in s.scalars(select(Case).order_by(Case.id)).all():
        since = case.reported_at - WINDOW
        assert memory.covers(since)
        box = case_duplicates._box(case)
        near = set(case_duplicates._near_grids(s, box))
        from_memory = memory.recent(case_duplicates.community_path(case.area_path), near, box, since, {case.id},
                                    case_duplicates.CAP)
        from_database = case_duplicates._recent_open(s, case, since)
        assert [r.id for r in from_memory] == [r.id for r in from_database], case.id
        assert from_memory == from_database
        compared += bool(from_database)
        since = case.reported_at - timedelta(weeks=8)
        earlier = case_duplicates.GridLookups(s, [case], memory).earlier(case, since)
        assert earlier == case_duplicates._earlier(s, case, since), case.id
    return compared


@pytest.mark.parametrize("cap", [case_duplicates.CAP, 2])
def test_the_memory_answers_what_the_database_reads(system_session, world, monkeypatch, memory_on, cap):
    s = system_session
    _backlog(s, world, monkeypatch)
    monkeypatch.setattr(case_duplicates, "CAP", cap)
    memory = recent_cases.refreshed(s, WINDOW)
    assert memory is not None
    assert _compare_every_case(s, memory) >= 5


@pytest.mark.parametrize("cap", [case_duplicates.CAP, 2])
def test_open_cases_across_the_community_boundary_join_the_communitys_newest_first(system_session, world,
                                                                                   monkeypatch, memory_on, cap):
    """Communities A and B meet at lon 118.05: a report just east of the line is compared with B's cases and
    with A's within 300 m, the two lists merged newest first (and capped) as the database's one read orders
    them."""
    s = system_session
    west = report(s, world, description=TEXT, point={"lon": 118.049, "lat": 24.6}).case
    report(s, world, "worker_b1", description=TEXT + "。", point={"lon": 118.06, "lat": 24.6})
    report(s, world, description=TEXT + "！", point={"lon": 118.0495, "lat": 24.6})
    report(s, world, "worker_b1", description=TEXT + "？", point={"lon": 118.058, "lat": 24.6})
    east = report(s, world, "worker_b1", description=TEXT, point={"lon": 118.051, "lat": 24.6}).case
    monkeypatch.setattr(case_duplicates, "CAP", cap)
    memory = recent_cases.refreshed(s, WINDOW)
    assert memory is not None
    _compare_every_case(s, memory)
    s.info["principal"] = Principal.system("test")
    current = s.get(Case, east.id)
    box = case_duplicates._box(current)
    rows = memory.recent(case_duplicates.community_path(current.area_path),
                         set(case_duplicates._near_grids(s, box)), box, current.reported_at - WINDOW, {current.id},
                         cap)
    assert len(rows) == min(cap, 4) and (cap == 2 or west.id in [r.id for r in rows])
    assert [r.reported_at for r in rows] == sorted((r.reported_at for r in rows), reverse=True)


@pytest.mark.parametrize("cap", [case_duplicates.CAP, 2])
def test_earlier_cases_come_from_the_memory_and_the_older_ones_from_the_database(system_session, world, monkeypatch,
                                                                                 memory_on, cap):
    """Cases before the memory's horizon (7 + 1 days) of the same grid, address and phone: a look-up of eight
    weeks joins both parts and answers what the database alone reads, in the same order; with a cap of 2 the
    memory alone fills it, or the grid's read of older cases is cut and a case asks its own."""
    s = system_session
    for days in (40, 20, 10):
        report(s, world, description=TEXT + f"（{days}天前）", now=utcnow() - timedelta(days=days))
    report(s, world, "public", channel="citizen", description=ROAD, point=OTHER_A, now=utcnow() - timedelta(days=9),
           **citizen("13900005555"))
    report(s, world, "worker_b1", description=TEXT, point=POINT_B1, now=utcnow() - timedelta(days=12))
    ids = _backlog(s, world, monkeypatch)
    monkeypatch.setattr(case_duplicates, "CAP", cap)
    memory = recent_cases.refreshed(s, WINDOW)
    assert memory is not None and memory.horizon is not None
    s.info["principal"] = Principal.system("test")
    cases = s.scalars(select(Case).where(Case.id.in_(ids), Case.state != "merged").order_by(Case.id)).all()
    lookups = case_duplicates.GridLookups(s, cases, memory)
    older = 0
    for case in cases:
        since = case.reported_at - timedelta(weeks=8)
        from_database = case_duplicates._earlier(s, case, since)
        assert [r.id for r in lookups.earlier(case, since)] == [r.id for r in from_database], case.id
        older += sum(r.reported_at < memory.horizon for r in from_database)
    assert older >= (1 if cap == 2 else 8)  # the database's part was used, not only the memory's
    assert "older" in lookups.read or cap == 2


def test_with_the_memory_a_batch_finds_what_case_by_case_finding_found(system_session, world, monkeypatch,
                                                                        memory_on):
    s = system_session
    ids = _backlog(s, world, monkeypatch)
    batch, single = both_ways(s, ids, lambda s: case_duplicates.on_reported_batch(s, ids),
                               lambda s: _examine_one_by_one(s, ids))
    assert batch == single
    assert batch["candidates"] and any(c[4] is not None for c in batch["cases"])


def test_the_memory_follows_new_cases_and_changes(system_session, world, monkeypatch, memory_on):
    s = system_session
    first = report(s, world, description=TEXT).case
    report(s, world, "worker_b1", description=TEXT, point=POINT_B1)
    memory = recent_cases.refreshed(s, WINDOW)
    assert memory is not None and first.id in memory.rows
    act(s, world, "operator_a", first, "reject", note="重复")  # no longer open: through the engine, with its event
    later = report(s, world, "worker_a2", description=TEXT + "。", point=OTHER_A).case
    newest = report(s, world, description=TEXT + "！", point=NEAR_A1).case
    assert recent_cases.refreshed(s, WINDOW) is memory
    assert memory.rows[first.id].state == "rejected" and later.id in memory.rows and newest.id in memory.rows
    _compare_every_case(s, memory)
    s.info["principal"] = Principal.system("test")
    current = s.get(Case, newest.id)
    box = case_duplicates._box(current)
    rows = memory.recent(case_duplicates.community_path(current.area_path), set(), box,
                         current.reported_at - WINDOW, {current.id}, case_duplicates.CAP)
    assert later.id in [r.id for r in rows] and first.id not in [r.id for r in rows]


def test_memory_is_off_unless_a_worker_turns_it_on(system_session, world):
    assert recent_cases.refreshed(system_session, WINDOW) is None


def test_a_case_committed_after_a_later_one_is_read_on_a_later_batch(system_session, world, monkeypatch, memory_on,
                                                                    db_url):
    """A sequence hands out ids before commit: the case of a transaction still open when a batch reads is
    below the highest id read, and is read by a later batch (SQLite has one writer at a time: no such case)."""
    if not db_url.startswith("postgresql"):
        pytest.skip("one writer at a time on SQLite")
    s = system_session
    report(s, world, description=TEXT)
    memory = recent_cases.refreshed(s, WINDOW)
    assert memory is not None
    slow = make_session_factory(s.get_bind())()
    try:
        slow.info["principal"] = Principal.system("test")
        early = report(slow, world, description=TEXT + "（慢）", point=NEAR_A1, commit=False).case
        late = report(s, world, description=TEXT + "（快）", point=NEAR_A1).case
        assert early.id < late.id
        recent_cases.refreshed(s, WINDOW)
        assert late.id in memory.rows and early.id not in memory.rows
        slow.commit()
    finally:
        slow.close()
    recent_cases.refreshed(s, WINDOW)
    assert early.id in memory.rows
    _compare_every_case(s, memory)


def test_the_memory_forgets_cases_older_than_the_window_needs(system_session, world, monkeypatch, memory_on):
    s = system_session
    old = report(s, world, description=TEXT, now=utcnow() - timedelta(days=7, hours=12)).case
    new = report(s, world, description=TEXT + "。").case
    memory = recent_cases.refreshed(s, WINDOW)
    assert memory is not None and {old.id, new.id} <= set(memory.rows)
    later = utcnow() + timedelta(days=1, hours=12)
    monkeypatch.setattr(recent_cases, "utcnow", lambda: later)
    recent_cases.refreshed(s, WINDOW)
    assert old.id not in memory.rows and new.id in memory.rows
    assert old.id not in {i for listed in memory.by_area.values() for _at, i in listed}
    assert not memory.covers(later - WINDOW - timedelta(days=2)) and memory.covers(later - WINDOW)


def test_a_tail_asks_again_for_the_newest_missing_ids_only_and_not_for_ever():
    tail = recent_cases._Tail(10)
    tail.took([11, 13, 20], now=0.0)
    assert tail.top == 20 and set(tail.gaps) == {12, 14, 15, 16, 17, 18, 19}
    tail.took([12, 21], now=1.0)
    assert 12 not in tail.gaps and tail.top == 21
    tail.took([], now=recent_cases.GAP_SECONDS + 1)
    assert not tail.gaps  # never came: rolled back
    top = 21 + 3 * recent_cases.MAX_GAPS
    tail.took([top], now=0.0)  # after a rolled-back import's worth of ids
    assert len(tail.gaps) == recent_cases.MAX_GAPS and min(tail.gaps) == top - recent_cases.MAX_GAPS
