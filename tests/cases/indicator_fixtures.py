"""Indicator-test worlds: the factories' city (communities A and B, grids a1 a2 b1 b2, departments a and b)
with two categories, and case rows written directly (no engine) so that every figure is hand-computable."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from shiyu.cases.categories.models import Category, Step
from shiyu.cases.models import Case, CaseEvent
from tests.factories import World, populated

SH = ZoneInfo("Asia/Shanghai")
_serial = itertools.count(1)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def indicator_world(s: Session) -> World:
    w = populated(s)
    major = Category(kind="incident", code="I01", name_zh="市容环境", name_en="appearance")
    s.add(major)
    s.flush()
    for key, code, zh in (("rubbish", "I0101", "暴露垃圾"), ("noise", "I0102", "施工扰民")):
        minor = Category(kind="incident", code=code, name_zh=zh, name_en=key, parent_id=major.id, time_limits={},
                         fields=[])
        s.add(minor)
        s.flush()
        w.extra[key] = minor
    w.extra["major"] = major
    s.commit()
    return w


def make_case(s: Session, w: World, grid: str, reported_at: datetime, *, category: str = "rubbish",
              state: str = "reported", department: str | None = None, overdue_events: tuple[str, ...] = (),
              **columns: Any) -> Case:
    """A case row in ``grid`` as the engine would have left it; ``overdue_events`` names the steps the
    deadline scan marked red (their timeline entries and their ``late_steps`` bits)."""
    n = next(_serial)
    area = w.grids[grid]
    community = w.community_a if grid.startswith("a") else w.community_b
    c = Case(tracking_code=f"T{n:09d}", submitter_key="test", idempotency_key=f"indicator-{n}", request_hash="-",
             channel="grid", state=state, category_id=w.extra[category].id, urgency="normal", description="测试",
             lon=118.0, lat=24.5, grid_id=area.id, area_path=area.area_path, centre_area_id=community.id,
             centre_path=community.area_path, reported_at=reported_at, last_action_at=reported_at,
             main_department_id=w.departments[department].id if department else None,
             **columns)
    s.add(c)
    s.flush()
    for step in overdue_events:
        add_overdue_event(s, c, step)
    return c


def add_overdue_event(s: Session, c: Case, step: str) -> None:
    """What the deadline scan writes when it marks ``step`` red: the timeline entry and the late bit."""
    c.overdue_steps += 1
    c.late_steps |= Step(step).bit
    s.add(CaseEvent(case_id=c.id, area_path=c.area_path, at=c.reported_at, action="overdue", actor_name="deadlines",
                    from_state=c.state, to_state=c.state, version=c.version, data={"step": step}, public=False))
    s.flush()


def march_cases(s: Session, w: World) -> dict[str, Case]:
    """Twelve cases reported in March 2026 (Shanghai) in known states, and two just outside it."""
    t = local(2026, 3, 10, 9, 0)
    done = {"registered_at": t, "dispatched_at": t, "handled_at": t, "closed_at": t}
    cases = {
        "c1": make_case(s, w, "a1", t),
        "c2": make_case(s, w, "a1", t, state="rejected"),
        "c3": make_case(s, w, "a1", t, state="merged"),
        "c4": make_case(s, w, "a1", t, state="to_dispatch", registered_at=t),
        "c5": make_case(s, w, "a1", t, state="to_dispatch", registered_at=t, dispatched_at=t, return_count=1),
        "c6": make_case(s, w, "a2", t, state="handling", department="a", registered_at=t, dispatched_at=t,
                        overdue_events=("handle",)),
        "c7": make_case(s, w, "a2", t, state="closed", department="a", rating="satisfied", **done),
        "c8": make_case(s, w, "a2", t, state="closed", department="a", rating="basically", rework_count=1,
                        overdue_events=("handle",), **done),
        "c9": make_case(s, w, "a2", t, state="closed", department="a", rating="unsatisfied", extension_count=1,
                        category="noise", **done),
        "c10": make_case(s, w, "a1", t, state="closed", self_resolved=True, handled_at=t, closed_at=t),
        "c11": make_case(s, w, "a2", t, state="to_verify", department="a", registered_at=t, dispatched_at=t,
                         handled_at=t, overdue_events=("accept",)),
        "c12": make_case(s, w, "b1", local(2026, 3, 31, 23, 30), state="closed", department="b",
                         rating="satisfied", category="noise", **done),
        "april": make_case(s, w, "b1", local(2026, 4, 1, 0, 10), state="closed", department="b", **done),
        "february": make_case(s, w, "a1", local(2026, 2, 28, 23, 59)),
    }
    s.commit()
    return cases
