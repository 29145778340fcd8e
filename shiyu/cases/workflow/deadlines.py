"""Per-step time limits in working or natural time, the warning colours, and the periodic deadline scan.

A step's clock starts when the step starts, with the category's limit for that step (the handle step's
by urgency) turned into seconds of the limit's basis: office seconds for working time, plain seconds for
natural time (自然小时/自然日 — a 特急 case and the 突发事件 classes by default, so a road collapse reported on
Saturday night turns yellow and red on Saturday night, not on Monday). The case keeps the basis
(``step_basis``), the limit, the time of that basis already used before the running segment, and where that
segment started; suspension closes the segment (the clock stops),
resuming opens a new one, an approved extension raises the limit. From these three numbers the warning
(80 % of the limit used), due (100 %) and escalation (150 %) instants are recomputed on the calendar, so
working-time ones always move with holidays, make-up working days and office hours.

``scan_deadlines`` raises each running step's alert level as those instants pass — yellow (a notice),
red (marked overdue, on the timeline, notified), escalated (supervised automatically, so the centre above
sees it in its supervised queue). Levels only go up, each is written with the case's version check, and a
level already reached is never written again: running the scan twice, or in two workers at once, changes
nothing the second time.

When a step ends (``finish_step``, called by the engine on every transition that leaves a timed step),
the step is late if it ended after its due instant; the case keeps one bit per late step in
``late_steps``, and the scan sets the same bit when it marks a step red. The indicators read only that
column, so whether a step counts as late does not depend on a scan having run before it ended.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from shiyu.cases.categories.models import Category, Step
from shiyu.cases.categories.selectable import SelectableCategory
from shiyu.cases.categories.service import time_limit
from shiyu.cases.models import Case
from shiyu.cases.workflow.timeline import record_event
from shiyu.core import outbox
from shiyu.core.jobs import JobContext, periodic
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.calendar.worktime import TimeBasis, TimeUnit, WorkCalendar

log = logging.getLogger("shiyu.deadlines")
WARN_AT = 0.8
ESCALATE_AT = 1.5


class Alert(IntEnum):
    NONE = 0
    WARNED = 1
    OVERDUE = 2
    ESCALATED = 3


class Colour(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


def start_step(
    case: Case, step: Step, category: Category | SelectableCategory, calendar: WorkCalendar, now: datetime
) -> None:
    limit = time_limit(category, step, case.urgency)
    case.step = step.value
    case.step_basis = TimeUnit(limit.unit).basis.value
    case.step_started_at = now
    case.step_limit_seconds = limit.amount * calendar.unit_seconds(limit.unit)
    case.step_used_seconds = 0.0
    case.step_segment_start = now
    case.step_alert = Alert.NONE
    _recompute(case, calendar)


def finish_step(case: Case, now: datetime) -> dict[str, object] | None:
    """The running step ends now: whether it ended late (after its due instant; finishing at the instant
    itself is on time), recorded on the case's ``late_steps`` and returned for the timeline entry."""
    if case.step is None:
        return None
    step = Step(case.step)
    due = case.step_due_at
    late = due is not None and now > due
    if late:
        case.late_steps |= step.bit
    return {"step": step.value, "due_at": due.isoformat() if due else None, "late": late}


def clear_step(case: Case) -> None:
    case.step = None
    case.step_started_at = case.step_limit_seconds = case.step_segment_start = None
    case.step_warn_at = case.step_due_at = case.step_escalate_at = None
    case.step_used_seconds = 0.0
    case.step_basis = TimeBasis.WORKING.value
    case.step_alert = Alert.NONE


def pause(case: Case, calendar: WorkCalendar, now: datetime) -> None:
    if case.step_segment_start is None:
        return
    case.step_used_seconds += max(0.0, calendar.seconds_between(case.step_segment_start, now, case.step_basis))
    case.step_segment_start = None
    case.step_warn_at = case.step_due_at = case.step_escalate_at = None


def resume(case: Case, calendar: WorkCalendar, now: datetime) -> None:
    case.step_segment_start = now
    _recompute(case, calendar)
    case.step_alert = _level(case, now)


def extend(case: Case, amount: float, unit: TimeUnit | str, calendar: WorkCalendar, now: datetime) -> None:
    """An approved extension: the limit grows, and an overdue step can become on time again. The amount is
    read in the step's basis (two days on a natural-time step are 48 hours, on a working-time step two days
    of office time), whichever basis the request named."""
    unit = TimeUnit(unit).in_basis(case.step_basis)
    case.step_limit_seconds = (case.step_limit_seconds or 0.0) + amount * calendar.unit_seconds(unit)
    if case.step_segment_start is not None:
        _recompute(case, calendar)
        case.step_alert = _level(case, now)


def _recompute(case: Case, calendar: WorkCalendar) -> None:
    start, limit, used = case.step_segment_start, case.step_limit_seconds or 0.0, case.step_used_seconds
    assert start is not None

    def at(fraction: float) -> datetime:
        return calendar.add_seconds(start, max(0.0, fraction * limit - used), case.step_basis)

    case.step_warn_at, case.step_due_at, case.step_escalate_at = at(WARN_AT), at(1.0), at(ESCALATE_AT)


def _level(case: Case, now: datetime) -> int:
    if case.step_escalate_at is not None and case.step_escalate_at <= now:
        return Alert.ESCALATED
    if case.step_due_at is not None and case.step_due_at <= now:
        return Alert.OVERDUE
    if case.step_warn_at is not None and case.step_warn_at <= now:
        return Alert.WARNED
    return Alert.NONE


def colour(case: Case, now: datetime) -> Colour | None:
    """The warning colour of the running step (None when no clock runs: finished or suspended)."""
    if case.step_due_at is None:
        return None
    level = _level(case, now)
    return Colour.RED if level >= Alert.OVERDUE else Colour.YELLOW if level == Alert.WARNED else Colour.GREEN


def elapsed_fraction(case: Case, calendar: WorkCalendar, now: datetime) -> float | None:
    if case.step_limit_seconds is None or not case.step_limit_seconds:
        return None
    used = case.step_used_seconds
    if case.step_segment_start is not None:
        used += max(0.0, calendar.seconds_between(case.step_segment_start, now, case.step_basis))
    return used / case.step_limit_seconds


# -- the periodic scan -----------------------------------------------------------------------------------


@dataclass
class ScanResult:
    warned: int = 0
    overdue: int = 0
    escalated: int = 0
    conflicts: int = 0


def due_for_scan(now: datetime) -> ColumnElement[bool]:
    running = Case.step_segment_start.is_not(None)
    return and_(running, or_(
        and_(Case.step_alert < Alert.WARNED, Case.step_warn_at <= now),
        and_(Case.step_alert < Alert.OVERDUE, Case.step_due_at <= now),
        and_(Case.step_alert < Alert.ESCALATED, Case.step_escalate_at <= now),
    ))


def scan(factory: sessionmaker[Session], tz: ZoneInfo, now: datetime | None = None, *, batch: int = 500) -> ScanResult:
    """One pass over the steps whose next alert instant has passed; each case in its own transaction."""
    now = now or utcnow()
    result = ScanResult()
    system = Principal.system("deadlines")
    with factory() as session:
        session.info["principal"] = system
        ids = list(session.scalars(select(Case.id).where(due_for_scan(now)).order_by(Case.id).limit(batch)))
    for case_id in ids:
        with factory() as session:
            session.info["principal"] = system
            case = session.get(Case, case_id)
            if case is None or case.step_segment_start is None:
                continue
            before, target = case.step_alert, _level(case, now)
            if target <= before:
                continue
            crossed = [level for level in (Alert.WARNED, Alert.OVERDUE, Alert.ESCALATED) if before < level <= target]
            case.step_alert = target
            if Alert.OVERDUE in crossed:
                case.overdue_steps += 1
                case.late_steps |= Step(cast(str, case.step)).bit  # a running step has its name
            if Alert.ESCALATED in crossed:
                case.supervised = True
            try:
                session.flush()
            except StaleDataError:
                session.rollback()
                result.conflicts += 1
                continue
            _announce(session, case, crossed)
            session.commit()
            result.warned += Alert.WARNED in crossed
            result.overdue += Alert.OVERDUE in crossed
            result.escalated += Alert.ESCALATED in crossed
    return result


def _announce(session: Session, case: Case, crossed: list[Alert]) -> None:
    """Timeline entries and outbox events for every level crossed (a long-stopped scanner may cross two)."""
    payload = {"case_id": case.id, "tracking_code": case.tracking_code, "step": case.step,
               "due_at": case.step_due_at.isoformat() if case.step_due_at else None,
               "centre_path": case.centre_path, "main_department_id": case.main_department_id}
    topics = {Alert.WARNED: "case.deadline_warning", Alert.OVERDUE: "case.overdue",
              Alert.ESCALATED: "case.auto_supervised"}
    for level in crossed:
        if level in (Alert.OVERDUE, Alert.ESCALATED):
            action = "overdue" if level == Alert.OVERDUE else "auto_supervise"
            record_event(session, case, action, case.state, "", {"step": case.step}, public=False)
        outbox.emit(session, topics[level], "case", case.id, case.area_path, payload)
    session.flush()


@periodic(minute="*")
def scan_deadlines(ctx: JobContext) -> dict[str, int]:
    result = scan(ctx.session_factory, ctx.settings.tz)
    if result.overdue or result.escalated or result.conflicts:
        log.info("deadline scan: %s", result)
    return result.__dict__
