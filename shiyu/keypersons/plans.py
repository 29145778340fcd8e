"""When visits are due, for one record and for the whole city at once.

A record's next visit is due ``interval_days`` (its group × grade plan, ``kp_visit_plan``) after its last
visit, or after its enrolment when it was never visited. One record is scheduled in Python when it changes
(a visit, a grade approved, an enrolment); the whole city is recomputed with one UPDATE (a plan edited, the
nightly job), and the warnings rise with one UPDATE per level — never a loop over records (bench:
bench/key_persons.py).

Warnings (settings ``keyperson_red_after_days``, ``keyperson_case_after_days``): a visit missed (due date
passed) is yellow, missed by ``red`` days or more is red, by ``case`` days or more it becomes a case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Date, Integer, and_, case, func, literal_column, select, update
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import FunctionElement

from shiyu.core.db import custom_plans
from shiyu.keypersons.models import KeyPersonRecord, State, Visit, VisitPlan, Warning

VISITED_STATES = (State.ENROLLED.value, State.LOST_CONTACT.value)
DUE_SOON_DAYS = 7
R = KeyPersonRecord


class date_plus_days(FunctionElement[date]):  # noqa: N801 - an SQL function's name
    """``date + n days`` in either dialect (PostgreSQL adds an integer to a date; SQLite has ``date()``)."""

    type = Date()
    inherit_cache = True


@compiles(date_plus_days)
def _plus_default(element: Any, compiler: Any, **kw: Any) -> str:
    base, days = list(element.clauses)
    return f"({compiler.process(base, **kw)} + CAST({compiler.process(days, **kw)} AS INTEGER))"


@compiles(date_plus_days, "sqlite")
def _plus_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    base, days = list(element.clauses)
    return f"date({compiler.process(base, **kw)}, '+' || {compiler.process(days, **kw)} || ' days')"


def overdue_days(due: date | None, today: date) -> int:
    return max(0, (today - due).days) if due else 0


def schedule(session: Session, record: KeyPersonRecord, today: date) -> None:
    """Set one record's next due date from its plan (a record without a plan is due at once: a gap in the
    city's plan table shows up as overdue rather than never)."""
    days = session.scalar(select(VisitPlan.interval_days).where(VisitPlan.group_code == record.group_code,
                                                                VisitPlan.grade == record.grade))
    base = record.last_visit_on or record.enrolled_on or today
    record.next_due_on = base + timedelta(days=days) if days is not None else today


def recompute_due(session: Session) -> int:
    """Every active record's next due date from the plan table, in one statement (``UPDATE … FROM`` the plan
    table), writing only the rows whose date changes — a nightly run after a quiet day writes almost nothing.
    Answers the rows changed."""
    base = func.coalesce(R.last_visit_on, R.enrolled_on)
    due = date_plus_days(base, VisitPlan.interval_days)
    result = session.execute(
        update(R).where(VisitPlan.group_code == R.group_code, VisitPlan.grade == R.grade,
                        R.state.in_(VISITED_STATES), base.is_not(None), R.next_due_on.is_distinct_from(due))
        .values(next_due_on=due).execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Limits:
    red_after_days: int = 3
    case_after_days: int = 7


def raise_warnings(session: Session, today: date, limits: Limits) -> dict[str, int]:
    """Yellow for every missed visit still unwarned, red past the red limit: two UPDATEs, each level once."""
    red_before = today - timedelta(days=limits.red_after_days)
    active = and_(R.state.in_(VISITED_STATES), R.next_due_on.is_not(None))
    red = session.execute(update(R).where(active, R.next_due_on <= red_before, R.warning != Warning.RED.value)
                          .values(warning=Warning.RED.value).execution_options(synchronize_session=False))
    yellow = session.execute(update(R).where(active, R.next_due_on < today, R.warning == Warning.NONE.value)
                             .values(warning=Warning.YELLOW.value).execution_options(synchronize_session=False))
    return {"red": int(red.rowcount or 0), "yellow": int(yellow.rowcount or 0)}  # type: ignore[attr-defined]


def due_for_case(session: Session, today: date, limits: Limits, limit: int = 500) -> list[KeyPersonRecord]:
    """Records whose visit is missed past the case limit and that have no case yet."""
    before = today - timedelta(days=limits.case_after_days)
    return list(session.scalars(select(R).where(R.state.in_(VISITED_STATES), R.next_due_on <= before,
                                                R.case_id.is_(None)).order_by(R.next_due_on).limit(limit)))


def summary(session: Session, today: date, area_path: str | None = None) -> dict[str, int]:
    """The dashboard's figures for the caller's scope (or one area in it), one grouped query:
    在管, 失联, 脱管 (a visit missed past the red limit), visits due within a week, overdue."""
    soon = today + timedelta(days=DUE_SOON_DAYS)
    enrolled = R.state == State.ENROLLED.value
    stmt = select(
        func.count().filter(enrolled),
        func.count().filter(R.state == State.LOST_CONTACT.value),
        func.count().filter(enrolled, R.warning == Warning.RED.value),
        func.count().filter(R.state.in_(VISITED_STATES), R.next_due_on >= today, R.next_due_on <= soon),
        func.count().filter(R.state.in_(VISITED_STATES), R.next_due_on < today),
        func.count().filter(R.state.in_((State.REFERRED.value, State.FOUND.value, State.VERIFYING.value))),
    ).where(R.state.in_((*VISITED_STATES, State.REFERRED.value, State.FOUND.value, State.VERIFYING.value)))
    if area_path:
        stmt = stmt.where(R.area_path.startswith(area_path, autoescape=True))
    with custom_plans(session):
        row = session.execute(stmt).one()
    keys = ("enrolled", "lost_contact", "out_of_control", "due_soon", "overdue", "pending")
    return dict(zip(keys, (int(v or 0) for v in row), strict=True))


def rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def indicators(session: Session, today: date, prefix_len: int, area_path: str | None,
               since: date) -> list[dict[str, Any]]:
    """By child area (the first ``prefix_len`` characters of the area path) and group:
    动态掌控率 = records in hand (enrolled, no visit missed past the red limit) / active records;
    管控率 = enrolled / active (active: enrolled or lost contact); on-time visit rate = visits on time / visits
    since ``since``. Two grouped queries."""
    # The lengths as SQL literals, not bound parameters: PostgreSQL must see the grouped expression and the
    # selected one as the same expression.
    one: Any = literal_column("1")
    length: Any = literal_column(str(int(prefix_len)))
    area = func.substr(R.area_path, one, length)
    varea = func.substr(Visit.area_path, one, length)
    in_hand = and_(R.state == State.ENROLLED.value, R.warning != Warning.RED.value)
    stmt = (select(area, R.group_code, func.count(), func.count().filter(in_hand),
                   func.count().filter(R.state == State.ENROLLED.value))
            .where(R.state.in_(VISITED_STATES)).group_by(area, R.group_code))
    vstmt = (select(varea, Visit.group_code, func.count(), func.sum(case((Visit.on_time, 1), else_=0).cast(Integer)))
             .where(Visit.visited_on >= since).group_by(varea, Visit.group_code))
    if area_path:
        stmt = stmt.where(R.area_path.startswith(area_path, autoescape=True))
        vstmt = vstmt.where(Visit.area_path.startswith(area_path, autoescape=True))
    out: dict[tuple[str, str], dict[str, Any]] = {}
    with custom_plans(session):
        records, visits = session.execute(stmt).all(), session.execute(vstmt).all()
    for path, group, active, hand, enrolled in records:
        out[(path, group)] = {"area_path": path, "group_code": group, "active": active, "in_hand": hand,
                              "enrolled": enrolled, "control_rate": rate(enrolled, active),
                              "dynamic_rate": rate(hand, active), "visits": 0, "on_time": 0, "on_time_rate": None}
    for path, group, done, on_time in visits:
        row = out.setdefault((path, group), {"area_path": path, "group_code": group, "active": 0, "in_hand": 0,
                                             "enrolled": 0, "control_rate": None, "dynamic_rate": None})
        row["visits"], row["on_time"] = done, int(on_time or 0)
        row["on_time_rate"] = rate(row["on_time"], done)
    return sorted(out.values(), key=lambda r: (r["area_path"], r["group_code"]))


def worker_visits(session: Session, user_id: int, today: date, limit: int = 200) -> list[KeyPersonRecord]:
    """The records a grid worker visits, soonest due first (index ``ix_kp_record_worker_due``)."""
    return list(session.scalars(select(R).where(R.grid_worker_id == user_id, R.state.in_(VISITED_STATES))
                                .order_by(R.next_due_on.is_(None), R.next_due_on, R.id).limit(limit)))

