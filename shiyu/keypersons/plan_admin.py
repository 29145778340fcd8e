"""Reading the groups and plans, editing a plan's interval (city-wide right: the plan applies to every area;
every record's due date follows at once), and a grid worker's visit list."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.core import audit
from shiyu.core.db import get_or_not_found
from shiyu.core.scoping import Principal, require_citywide
from shiyu.keypersons import plans, service
from shiyu.keypersons.models import GRADES, MANAGE, KeyPersonGroup, VisitPlan


def groups(session: Session) -> list[dict[str, Any]]:
    return [{"code": g.code, "name_zh": g.name_zh, "name_en": g.name_en, "grade_scheme": g.grade_scheme,
             "grades": list(GRADES[g.grade_scheme]), "form": g.form}
            for g in session.scalars(select(KeyPersonGroup).where(KeyPersonGroup.active)
                                     .order_by(KeyPersonGroup.order))]


def plans_list(session: Session) -> list[VisitPlan]:
    return list(session.scalars(select(VisitPlan).order_by(VisitPlan.group_code, VisitPlan.grade)))


def set_interval(session: Session, principal: Principal, plan_id: int, days: int) -> VisitPlan:
    require_citywide(principal, MANAGE)
    plan = get_or_not_found(session, VisitPlan, plan_id, "visit_plan")
    plan.interval_days = days
    session.flush()
    plans.recompute_due(session)
    return plan


def my_visits(session: Session, principal: Principal, today: date) -> list[dict[str, Any]]:
    """The caller's records to visit as rows (masked); an empty list for anyone not on a team."""
    if principal.user_id is None:
        return []
    records = plans.worker_visits(session, principal.user_id, today)
    if records:
        audit.record(session, "read", "kp_record", None, area_path=audit.common_path([r.area_path for r in records]),
                     after={"ids": [r.id for r in records]})
    persons = service.persons_of(session, {r.person_id for r in records})
    names = service.groups_by_code(session)
    return [service.record_row(r, persons.get(r.person_id), names.get(r.group_code), today) for r in records]
