"""The facts stay equal to the raw computation: after a random history of changes (marked through the
outbox like real changes, or directly), after a full rebuild, and when the refresh job runs twice."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import func, select

from shiyu.cases.indicators import facts, service
from shiyu.cases.indicators.definitions import COMPONENTS
from shiyu.cases.indicators.facts import IndicatorDirtyCase, IndicatorFact, IndicatorGridFact
from shiyu.cases.models import Case
from shiyu.core import outbox
from shiyu.core.scoping import Principal
from tests.cases.indicator_fixtures import (  # noqa: F401
    SH,
    add_overdue_event,
    indicator_world,
    local,
    make_case,
)

STATES = ["reported", "rejected", "merged", "to_dispatch", "to_accept", "handling", "suspended", "to_verify",
          "to_close", "closed"]
START, END = date(2026, 3, 1), date(2026, 4, 10)


def _random_columns(rng: random.Random) -> dict:
    t = local(2026, 3, 20, 10)
    maybe = lambda p: t if rng.random() < p else None  # noqa: E731
    return {
        "state": rng.choice(STATES), "registered_at": maybe(0.7), "dispatched_at": maybe(0.6),
        "handled_at": maybe(0.5), "self_resolved": rng.random() < 0.1, "return_count": rng.choice([0, 0, 0, 1, 2]),
        "rework_count": rng.choice([0, 0, 1]), "extension_count": rng.choice([0, 0, 0, 1]),
        "overdue_steps": rng.choice([0, 0, 1, 2]), "late_steps": rng.choice([0, 0, 0, 1, 4, 8, 12, 31]),
        "rating": rng.choice([None, None, "satisfied", "basically", "unsatisfied"]),
    }


def _snapshot(session) -> list[tuple]:
    rows = session.execute(select(IndicatorFact).order_by(IndicatorFact.day, IndicatorFact.grid_id,
                                                          IndicatorFact.department_id, IndicatorFact.category_id))
    return [(f.day, f.grid_id, f.department_id, f.category_id, *(getattr(f, n) for n in COMPONENTS))
            for (f,) in rows]


def _assert_facts_equal_raw(session, w) -> None:
    system = Principal.system()
    filters = [{}, {"area_id": w.community_a.id}, {"area_id": w.grids["b2"].id},
               {"department_id": w.departments["a"].id}, {"category_id": w.extra["noise"].id},
               {"category_id": w.extra["major"].id, "area_id": w.community_b.id}]
    periods = [(START, END), (date(2026, 3, 1), date(2026, 3, 31)), (date(2026, 3, 15), date(2026, 3, 15))]
    for kw in filters:
        for start, end in periods:
            q = service.resolve(session, system, SH, start=start, end=end, **kw)
            assert service.totals(session, q) == service.raw_totals(session, q), (kw, start, end)
    for day in (START + timedelta(days=n) for n in range((END - START).days + 1)):
        q = service.resolve(session, system, SH, start=day, end=day)
        assert service.totals(session, q) == service.raw_totals(session, q), day


def test_fact_columns_are_the_components():
    for table in (IndicatorFact, IndicatorGridFact):
        names = [c.name for c in table.__table__.columns]
        assert [n for n in names if n in COMPONENTS] == list(COMPONENTS)
        assert set(names) - set(COMPONENTS) <= {"day", "grid_id", "department_id",
                                                                         "category_id", "area_path"}


def test_facts_equal_raw_after_random_changes(system_session, factory):
    s = system_session
    w = indicator_world(s)
    for seed in range(3):
        rng = random.Random(seed)
        for _ in range(40):
            reported = local(2026, 3, 1) + timedelta(minutes=rng.randrange(0, 41 * 24 * 60))
            c = make_case(s, w, rng.choice(list(w.grids)), reported, category=rng.choice(["rubbish", "noise"]),
                          department=rng.choice([None, "a", "b"]), **_random_columns(rng))
            if rng.random() < 0.3:
                add_overdue_event(s, c, rng.choice(["handle", "accept"]))
        s.commit()
        facts.rebuild(factory, SH, START - timedelta(days=1), END + timedelta(days=1))
        _assert_facts_equal_raw(s, w)

        ids = list(s.scalars(select(Case.id).order_by(Case.id)))
        changed = rng.sample(ids, 25)
        for case_id in changed:
            c = s.get(Case, case_id)
            for name, value in _random_columns(rng).items():
                if rng.random() < 0.5:
                    setattr(c, name, value)
            c.main_department_id = rng.choice([None, w.departments["a"].id, w.departments["b"].id])
            c.category_id = w.extra[rng.choice(["rubbish", "noise"])].id
            if rng.random() < 0.3:
                add_overdue_event(s, c, "handle")
        # Half the changes are announced through the outbox like the engine's, half marked directly.
        for case_id in changed[::2]:
            outbox.emit(s, "case.test", "case", case_id, "/", {"case_id": case_id})
        facts.mark_cases(s, changed[1::2])
        s.commit()
        assert outbox.deliver_pending(factory) >= len(changed[::2])
        assert facts.refresh_all(factory, SH, batch=7) == len(changed)
        s.expire_all()
        _assert_facts_equal_raw(s, w)

        incremental = _snapshot(s)
        facts.rebuild(factory, SH, START - timedelta(days=1), END + timedelta(days=1))
        s.expire_all()
        assert _snapshot(s) == incremental


def test_refresh_is_idempotent_and_clears_the_claims(system_session, factory):
    s = system_session
    w = indicator_world(s)
    cases = [make_case(s, w, "a1", local(2026, 3, 5, 8 + n), state="closed", closed_at=local(2026, 3, 6))
             for n in range(3)]
    facts.mark_cases(s, [c.id for c in cases])
    facts.mark_cases(s, [cases[0].id])  # marking twice is harmless
    s.commit()
    assert facts.refresh_all(factory, SH) == 3
    first = _snapshot(s)
    assert s.scalar(select(func.count()).select_from(IndicatorDirtyCase)) == 0
    facts.mark_cases(s, [c.id for c in cases])
    s.commit()
    assert facts.refresh_all(factory, SH) == 3
    s.expire_all()
    assert _snapshot(s) == first
    assert facts.refresh_all(factory, SH) == 0
    grid = s.scalars(select(IndicatorGridFact)).one()
    assert (grid.day, grid.reported, grid.closed) == (date(2026, 3, 5), 3, 3)


def test_a_mark_without_a_case_is_cleared_and_many_marks_go_in_one_claim(system_session, factory, monkeypatch):
    """A mark whose case is not there is claimed and dropped (else it would stay and be claimed for ever),
    and a claim larger than one statement's list of ids deletes every claim it made."""
    s = system_session
    w = indicator_world(s)
    cases = [make_case(s, w, "a1", local(2026, 3, 5, 8 + n), state="closed", closed_at=local(2026, 3, 6))
             for n in range(5)]
    facts.mark_cases(s, [c.id for c in cases] + [10_000_000])
    s.commit()
    monkeypatch.setattr(facts, "_PART", 2)
    assert facts.refresh(factory, SH) == 6
    assert s.scalar(select(func.count()).select_from(IndicatorDirtyCase)) == 0
    grid = s.scalars(select(IndicatorGridFact)).one()
    assert (grid.day, grid.reported, grid.closed) == (date(2026, 3, 5), 5, 5)
