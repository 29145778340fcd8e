"""Pre-aggregated indicator facts, and how they stay equal to the raw computation over the case table.

Two tables hold, for every component of ``definitions.COMPONENTS``, the number of cases satisfying it:

- ``indicator_fact``: per (report day, grid, main department, category) — for figures filtered by
  department or category (the filters are selective, so the rows they touch are few);
- ``indicator_grid_fact``: the same counts rolled up per (report day, grid) — for area-only figures,
  where a city-wide month is 30 × ~2,000 rows instead of hundreds of thousands of cases.

**Why they stay correct.** A case's key (its local report day and its grid) never changes, so every
change to a case can alter the facts of exactly one (day, grid) key, and recomputing a key is a pure
function of the case rows: delete its fact rows, insert ``SELECT … SUM(CASE WHEN <component> …) GROUP BY``
over the cases of that key — the same predicates the raw computation uses. Recomputing twice gives the
same rows (idempotent), and no increment is ever applied, so nothing can drift.

Which keys to recompute:

1. Every change to a case writes an outbox event in the same transaction (intake, every transition, the
   deadline scan). The outbox subscriber below marks the case dirty (``indicator_dirty_case``) when the
   event is delivered, i.e. only for committed changes; delivery is at-least-once, which marking tolerates.
2. ``refresh`` (every minute) claims dirty cases (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), recomputes
   their keys and deletes the claims in one transaction. A change committed while a key is being
   recomputed marks the case again, so the key is recomputed again on the next run.
3. ``rebuild`` (nightly, the last ``REBUILD_DAYS`` days) recomputes whole days from scratch, for changes
   made behind the ORM's back (bulk SQL, restores, imported history) — and after a change of the city's
   time zone setting, which moves every day boundary (run it over all days then).

Recomputations of the same day are serialised with a transaction-scoped advisory lock on PostgreSQL
(SQLite has a single writer), and the composite primary key would refuse a duplicate row regardless.
``department_id`` 0 stands for "no main department" (not yet dispatched, or returned and waiting).

Facts are derived data: they are written with Core statements and are not audited (the case changes they
are computed from are). Both tables carry the grid's ``area_path`` and are scoped like every other row.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Index, Integer, case, delete, func, insert, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from shiyu.cases.indicators.definitions import COMPONENTS, Period, local_day
from shiyu.cases.models import Case
from shiyu.core import outbox
from shiyu.core.db import Base, among
from shiyu.core.scoping import Principal, ScopedMixin, register_scoped

log = logging.getLogger("shiyu.indicators")
REBUILD_DAYS = 400
NO_DEPARTMENT = 0


class Counts:
    """One count column per component (kept in step with ``COMPONENTS`` by a test)."""

    reported: Mapped[int] = mapped_column(default=0)
    registered: Mapped[int] = mapped_column(default=0)
    decided: Mapped[int] = mapped_column(default=0)
    dispatched: Mapped[int] = mapped_column(default=0)
    dispatched_right: Mapped[int] = mapped_column(default=0)
    handled: Mapped[int] = mapped_column(default=0)
    handled_on_time: Mapped[int] = mapped_column(default=0)
    reworked: Mapped[int] = mapped_column(default=0)
    extended: Mapped[int] = mapped_column(default=0)
    due: Mapped[int] = mapped_column(default=0)
    closed: Mapped[int] = mapped_column(default=0)
    closed_on_time: Mapped[int] = mapped_column(default=0)
    overdue: Mapped[int] = mapped_column(default=0)
    rated: Mapped[int] = mapped_column(default=0)
    satisfied: Mapped[int] = mapped_column(default=0)


def _own_department_facts(principal: Principal) -> list[Any]:
    """Department staff see the facts of their own departments, wherever those cases are."""
    ids = principal.departments_with("indicator.view_department")
    return [IndicatorFact.department_id.in_(ids)] if ids else []


@register_scoped
class IndicatorFact(ScopedMixin, Counts, Base):
    __tablename__ = "indicator_fact"
    __table_args__ = (
        Index("ix_indicator_fact_department_day", "department_id", "day"),
        Index("ix_indicator_fact_category_day", "category_id", "day"),
    )
    __view_permission__ = "indicator.view"
    __write_permission__ = "indicator.refresh"
    __extra_scope__ = staticmethod(_own_department_facts)

    day: Mapped[date] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(primary_key=True)


@register_scoped
class IndicatorGridFact(ScopedMixin, Counts, Base):
    __tablename__ = "indicator_grid_fact"
    __view_permission__ = "indicator.view"
    __write_permission__ = "indicator.refresh"

    day: Mapped[date] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(primary_key=True)


class IndicatorDirtyCase(Base):
    """A case changed since its facts were last computed (bookkeeping: ids only, not scoped)."""

    __tablename__ = "indicator_dirty_case"

    case_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)


def count_columns() -> list[str]:
    return list(COMPONENTS)


def component_sums() -> list[Any]:
    return [func.sum(case((predicate, 1), else_=0)).label(name) for name, predicate in COMPONENTS.items()]


# -- marking --------------------------------------------------------------------------------------------


def mark_cases(session: Session, case_ids: Iterable[int]) -> None:
    """Mark cases dirty, in the caller's transaction; marking an already dirty case is a no-op."""
    rows = [{"case_id": i} for i in sorted(set(case_ids))]
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    factory = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(factory(IndicatorDirtyCase.__table__).values(rows).on_conflict_do_nothing())


@outbox.subscribe_batch("case.", name="indicators.mark_dirty")
def _cases_changed(session: Session, events: list[outbox.OutboxEvent]) -> None:
    """One statement for the whole delivery batch."""
    mark_cases(session, [e.aggregate_id for e in events if e.aggregate == "case"])


# -- recomputing ------------------------------------------------------------------------------------------


def _lock_day(session: Session, day: date) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(literal(0x5359_0000, Integer), day.toordinal())))


def recompute(session: Session, day: date, tz: ZoneInfo, grid_ids: list[int] | None = None) -> None:
    """Replace the facts of ``day`` (for ``grid_ids``, or every grid) by a fresh aggregate of its cases."""
    _lock_day(session, day)
    start, end = Period(day, day).bounds(tz)
    fact, grid = IndicatorFact.__table__, IndicatorGridFact.__table__
    fact_where = [fact.c.day == day]
    grid_where = [grid.c.day == day]
    case_where = [Case.reported_at >= start, Case.reported_at < end]
    if grid_ids is not None:
        fact_where.append(fact.c.grid_id.in_(grid_ids))
        grid_where.append(grid.c.grid_id.in_(grid_ids))
        case_where.append(Case.grid_id.in_(grid_ids))
    session.execute(delete(grid).where(*grid_where))
    session.execute(delete(fact).where(*fact_where))
    department = func.coalesce(Case.main_department_id, NO_DEPARTMENT)
    keys = [Case.grid_id, department, Case.category_id, Case.area_path]
    names = count_columns()
    per_case = select(literal(day, Date).label("day"), *keys, *component_sums()).where(*case_where).group_by(*keys)
    session.execute(insert(fact).from_select(["day", "grid_id", "department_id", "category_id", "area_path",
                                              *names], per_case))
    rollup = (
        select(fact.c.day, fact.c.grid_id, fact.c.area_path, *[func.sum(fact.c[n]) for n in names])
        .where(*fact_where)
        .group_by(fact.c.day, fact.c.grid_id, fact.c.area_path)
    )
    session.execute(insert(grid).from_select(["day", "grid_id", "area_path", *names], rollup))


# Dirty cases claimed at once. Each claim recomputes every (day, grid) key its cases touch, whole: in a burst
# the changed cases of a minute fall on most of the city's grids, so claims of 2,000 aggregated the day's
# cases once per 2,000 changes — 7.9 s for 20,000 changed cases of a 60,000-report day, 1.0 s when claimed
# together (docs/adr/0006-outbox-delivery.md).
BATCH = 20_000
_PART = 5_000  # ids per statement: SQLite binds each one of an IN list


def refresh(factory: sessionmaker[Session], tz: ZoneInfo, *, batch: int = BATCH) -> int:
    """Recompute the keys of up to ``batch`` dirty cases; returns how many cases were claimed. The claim reads
    each case's key with it (a join), so no list of ids goes back to the database until the claims are
    deleted."""
    with factory() as session:
        session.info["principal"] = Principal.system("indicators")
        dirty = IndicatorDirtyCase
        claim = (select(dirty.case_id, Case.reported_at, Case.grid_id).outerjoin(Case, Case.id == dirty.case_id)
                 .order_by(dirty.case_id).limit(batch))
        if session.get_bind().dialect.name == "postgresql":
            claim = claim.with_for_update(skip_locked=True, of=dirty)
        claimed = session.execute(claim).all()
        if not claimed:
            return 0
        grids_by_day: dict[date, set[int]] = defaultdict(set)
        for _case_id, reported_at, grid_id in claimed:
            if reported_at is not None:  # not a case (any more): nothing to count
                grids_by_day[local_day(reported_at, tz)].add(grid_id)
        for day in sorted(grids_by_day):
            recompute(session, day, tz, sorted(grids_by_day[day]))
        ids = [c.case_id for c in claimed]
        for start in range(0, len(ids), _PART):
            session.execute(delete(dirty.__table__).where(among(session, dirty.case_id, ids[start:start + _PART])))
        session.commit()
        return len(claimed)


def refresh_all(factory: sessionmaker[Session], tz: ZoneInfo, *, batch: int = BATCH, max_batches: int = 100) -> int:
    """Work the dirty backlog down (bounded, so one job run cannot hold a worker forever)."""
    total = 0
    for _ in range(max_batches):
        claimed = refresh(factory, tz, batch=batch)
        total += claimed
        if claimed < batch:
            break
    return total


def rebuild(factory: sessionmaker[Session], tz: ZoneInfo, start: date, end: date) -> int:
    """Recompute every day from ``start`` to ``end`` from scratch, one transaction per day; returns the days."""
    days = 0
    while start + timedelta(days=days) <= end:
        with factory() as session:
            session.info["principal"] = Principal.system("indicators")
            recompute(session, start + timedelta(days=days), tz)
            session.commit()
        days += 1
    log.info("indicator facts rebuilt for %s..%s", start, end)
    return days
