"""Visits and searches as work items of the task engine (shiyu.tasks, its published service).

- Every record whose next visit falls due within ``HORIZON_DAYS`` gets one item ``keyperson.visit`` with
  ``source_ref = "kp:<record>:<due date>"``, assigned to the record's grid worker, due at the end of that day;
  the grid worker fills it in the field app (offline, GPS, photo, re-assessment) like any other item.
- The item done (event ``task.item_done``, ``shiyu.keypersons.tasks``) records the visit on the record — unless
  a visit was recorded directly on the record meanwhile (the record's due date moved on), and a visit recorded
  directly submits the open item, so the two paths never count one visit twice.
- Lost contact opens a ``keyperson.search`` item (找人); the search done with "found" restores contact.

The item's label names the record (``KP-<id>``), never the person: the grid's task list is read by more people
than the record is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.core.config import Settings
from shiyu.core.scoping import Principal
from shiyu.keypersons.models import VIEW, KeyPersonRecord, State
from shiyu.tasks import service as tasks
from shiyu.tasks.models import OPEN_STATES, TaskType, WorkItem, restrict_type

VISIT = "keyperson.visit"
SEARCH = "keyperson.search"
# A visit or a search names a key person: of the grid's task readers only the record's viewers and the item's
# own grid worker see it (docs/adr/0010).
for _code in (VISIT, SEARCH):
    restrict_type(_code, VIEW)
HORIZON_DAYS = 7
UNSCOPED = {"unscoped": True}
GRADE_OPTIONS = {"0级": "0", "1级": "1", "2级": "2", "3级": "3", "4级": "4", "5级": "5", "红": "red", "黄": "yellow",
                 "绿": "green"}
VISIT_FORM: list[dict[str, Any]] = [
    {"name": "met", "label": "是否见到本人", "label_en": "Met the person", "type": "yesno", "required": True},
    {"name": "findings", "label": "走访情况", "label_en": "What you found", "type": "textarea", "required": True},
    {"name": "assessed_grade", "label": "评估等级（有变化时选）", "label_en": "Assessed grade (if changed)",
     "type": "choice", "required": False, "options": list(GRADE_OPTIONS)},
    {"name": "position", "label": "走访位置", "label_en": "Where", "type": "gps", "required": False},
    {"name": "photos", "label": "现场照片", "label_en": "Photos", "type": "photo", "required": False},
]
SEARCH_FORM: list[dict[str, Any]] = [
    {"name": "found", "label": "是否已找到本人", "label_en": "Found the person", "type": "yesno", "required": True},
    {"name": "whereabouts", "label": "下落情况", "label_en": "Whereabouts", "type": "textarea", "required": True},
]
# The city's zone, for the day a visit was done (events carry UTC times); set from the settings.
TZ = ZoneInfo("Asia/Shanghai")
BASIS = "《严重精神障碍管理治疗工作规范（2018年版）》；各类特殊人群服务管理规定（走访周期见重点人员走访计划）"


def configure(settings: Settings) -> None:
    global TZ
    TZ = settings.tz


def ensure_types(session: Session) -> None:
    tasks.ensure_system_type(session, VISIT, "重点人员走访", VISIT_FORM, legal_basis=BASIS)
    tasks.ensure_system_type(session, SEARCH, "失联重点人员查找", SEARCH_FORM, legal_basis=BASIS)


@contextmanager
def as_system(session: Session) -> Iterator[None]:
    """The domain's own items are written by the system, whoever took the step that opened or closed one: a
    police officer on the team may report lost contact without holding any task right in the grid."""
    caller = session.info.get("principal")
    session.info["principal"] = Principal.system("keypersons")
    try:
        yield
    finally:
        session.info["principal"] = caller


def visit_ref(record_id: int, due: date) -> str:
    return f"kp:{record_id}:{due.isoformat()}"


def parse_ref(source_ref: str | None) -> tuple[int, date] | None:
    try:
        prefix, record_id, due = (source_ref or "").split(":")
        return (int(record_id), date.fromisoformat(due)) if prefix == "kp" else None
    except ValueError:
        return None


def _end_of(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(23, 59), tz)


def open_due_items(session: Session, today: date, tz: ZoneInfo, horizon_days: int = HORIZON_DAYS) -> int:
    """One item per enrolled record due within the horizon that has none yet (the existing ones are read in
    one query first, so a nightly rerun opens nothing). Answers the number opened."""
    ensure_types(session)
    soon = today + timedelta(days=horizon_days)
    due = session.execute(select(KeyPersonRecord.id, KeyPersonRecord.next_due_on, KeyPersonRecord.grid_id,
                                 KeyPersonRecord.grid_worker_id)
                          .where(KeyPersonRecord.state == State.ENROLLED.value,
                                 KeyPersonRecord.next_due_on <= soon), execution_options=UNSCOPED).all()
    visit_type = session.scalar(select(TaskType.id).where(TaskType.code == VISIT))
    refs = {visit_ref(rid, d) for rid, d, _g, _w in due if d is not None}
    have = set(session.scalars(select(WorkItem.source_ref).where(WorkItem.type_id == visit_type,
                                                                 WorkItem.source_ref.in_(refs)),
                               execution_options=UNSCOPED)) if refs else set()
    opened = 0
    for record_id, due_on, grid_id, worker_id in due:
        if due_on is None or visit_ref(record_id, due_on) in have:
            continue
        tasks.open_item(session, type_code=VISIT, target=tasks.TargetRef("keyperson", record_id, grid_id,
                                                                         f"重点人员走访 KP-{record_id}"),
                        due_at=_end_of(due_on, tz), source_ref=visit_ref(record_id, due_on), assignee_id=worker_id,
                        title=f"重点人员走访 KP-{record_id}")
        opened += 1
    return opened


def open_search(session: Session, record: KeyPersonRecord, today: date, tz: ZoneInfo) -> WorkItem:
    """A search item for a record that lost contact, due in three days, for the record's grid worker."""
    with as_system(session):
        ensure_types(session)
        return tasks.open_item(session, type_code=SEARCH, target=tasks.TargetRef(
            "keyperson", record.id, record.grid_id, f"失联人员查找 KP-{record.id}"),
            due_at=_end_of(today + timedelta(days=3), tz), source_ref=f"kp:{record.id}:{today.isoformat()}:search",
            assignee_id=record.grid_worker_id, title=f"失联人员查找 KP-{record.id}")


def close_open_visit(session: Session, record: KeyPersonRecord, due: date | None) -> None:
    """A visit recorded on the record itself: its open item for that due date is submitted as done (by the
    system, saying so), so the grid's list does not keep a visit already made."""
    if due is None:
        return
    item = session.scalar(select(WorkItem).join(TaskType, TaskType.id == WorkItem.type_id)
                          .where(TaskType.code == VISIT, WorkItem.source_ref == visit_ref(record.id, due),
                                 WorkItem.state.in_(OPEN_STATES)), execution_options=UNSCOPED)
    if item is not None:
        with as_system(session):
            tasks.act(session, Principal.system("keypersons"), item.id, "submit",
                      data={"met": True, "findings": "已在重点人员档案中登记本次走访"})


def search_ref_record(source_ref: str | None) -> int | None:
    parts = (source_ref or "").split(":")
    return int(parts[1]) if len(parts) == 4 and parts[0] == "kp" and parts[3] == "search" and parts[1].isdigit() \
        else None
