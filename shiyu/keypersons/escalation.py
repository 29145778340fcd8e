"""A visit missed past the case limit becomes a case of class I0901 (重点人员异常), filed through the case
intake as the record's grid worker would file it (channel ``grid``), at a point inside the grid. The case
names the record (``KP-<id>``), never the person: the case's readers are not the record's readers.
The idempotency key is the record and the missed due date, so a rerun after a crash finds the first case.
"""

from __future__ import annotations

import logging
from datetime import date
from zoneinfo import ZoneInfo

from shapely.geometry import shape
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from shiyu.cases.categories.models import Category
from shiyu.cases.intake import service as intake
from shiyu.cases.models import Channel
from shiyu.cases.schemas import IntakeIn, Point
from shiyu.core.errors import ShiyuError
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.keypersons import plans
from shiyu.keypersons.models import KeyPersonEvent, KeyPersonRecord
from shiyu.org.areas.models import Area
from shiyu.org.identity.models import User
from shiyu.org.identity.service import principal_for

log = logging.getLogger(__name__)
CATEGORY = "I0901"
UNSCOPED = {"unscoped": True}


def report_for(record_id: int, due: date, overdue: int, category_id: int, point: Point) -> IntakeIn:
    return IntakeIn(
        idempotency_key=f"kp-{record_id}-{due.isoformat()}", channel=Channel.GRID, category_id=category_id,
        description=f"重点人员走访逾期{overdue}天，未按计划走访（记录 KP-{record_id}）", location=point,
        attributes={"person_ref": f"KP-{record_id}", "behaviour": "其他"})


def file_cases(factory: sessionmaker[Session], tz: ZoneInfo, today: date, limits: plans.Limits) -> list[int]:
    """One case per record missed past the limit and without a case; each in its own transaction, so one
    refusal (no grid worker, no category) does not hold back the others. Answers the case ids filed."""
    with factory() as session:
        session.info["principal"] = Principal.system("keypersons")
        due = [(r.id, r.next_due_on, r.grid_worker_id, r.grid_id, r.area_path)
               for r in plans.due_for_case(session, today, limits)]
        category_id = session.scalar(select(Category.id).where(Category.code == CATEGORY))
    filed: list[int] = []
    if category_id is None:
        return filed
    for record_id, due_on, worker_id, grid_id, area_path in due:
        if worker_id is None or due_on is None:
            continue
        with factory() as session:
            session.info["principal"] = Principal.system("keypersons")
            user = session.scalar(select(User).where(User.id == worker_id), execution_options=UNSCOPED)
            grid = session.scalar(select(Area).where(Area.id == grid_id), execution_options=UNSCOPED)
            if user is None or grid is None or not grid.geometry:
                continue
            spot = shape(grid.geometry).representative_point()
            worker = principal_for(user)
            session.info["principal"] = worker
            try:
                result = intake.intake(session, worker, report_for(
                    record_id, due_on, plans.overdue_days(due_on, today), category_id,
                    Point(lon=spot.x, lat=spot.y)), tz)
            except ShiyuError as exc:
                log.warning("keypersons: no case for record %s: %s", record_id, exc)
                session.rollback()
                continue
            # The record lies under the team's scope, not the worker's write right: written below the ORM.
            session.execute(update(KeyPersonRecord).where(KeyPersonRecord.id == record_id)
                            .values(case_id=result.case_id, version=KeyPersonRecord.version + 1))
            session.execute(insert(KeyPersonEvent), [{
                "record_id": record_id, "kind": "case", "at": utcnow(), "actor_id": None, "area_path": area_path,
                "data": {"case_id": result.case_id, "due_on": due_on.isoformat()}}])
            session.commit()
            filed.append(result.case_id)
    return filed
