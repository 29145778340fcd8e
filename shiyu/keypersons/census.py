"""重点人员集中清查 (census campaigns) as one assignment of the task engine (``shiyu.tasks``), issue 16.

A centre leader sends the system type ``keyperson.census`` for an area: one work item per open record in the
grids under it (optionally of some groups only), for the record's grid worker, labelled ``KP-<id>``
— never the person's name: the grid's task list is read by more people than the record is. The worker answers
in the field app's task tab (met the person, still living here, the situation, photo, GPS); progress by area
is the task engine's own page (``/tasks/assignments/{id}``).

The item done (event ``task.item_done``, subscriber in ``shiyu.keypersons.tasks``) writes the finding on the
record's timeline once per item (a redelivered event finds its entry and stops), and:

- met, or still living here: the record is verified that day (``last_verified_on``); a record in lost
  contact whose person was met regains contact;
- neither met nor living here: an enrolled record loses contact — the step its grid worker may take alone
  (``workflow``), which opens the search item; a record still being verified keeps the finding on its timeline
  for the centre to decide (dismiss or go on verifying), since enrolment itself is the centre's decision.

Records counted: verifying, enrolled and lost contact. Referred and found records are not yet taken on (their
verification is their check, and they may have no grid worker yet); released, transferred and deceased ones
are closed. A census larger than the task engine takes at once (``MAX_TARGETS``) is refused with a message
asking for one per street or community: one campaign is one progress page, and splitting it silently would
give the centre several.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import Session

from shiyu.core.errors import ValidationFailed
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.keypersons import groups, plans, service
from shiyu.keypersons.models import VIEW, KeyPersonEvent, KeyPersonRecord, State
from shiyu.org.areas import service as areas
from shiyu.org.areas.models import Area
from shiyu.tasks import service as tasks
from shiyu.tasks.models import Assignment, ItemState, TaskType, WorkItem, restrict_type

TYPE_CODE = "keyperson.census"
restrict_type(TYPE_CODE, VIEW)  # like visits: the census's items and answers are about key persons
NAME = "重点人员集中清查"
ASSIGN = "task.assign"
EVENT = "census"
FORM: list[dict[str, Any]] = [
    {"name": "met", "label": "是否见到本人", "label_en": "Met the person", "type": "yesno", "required": True},
    {"name": "living_here", "label": "是否仍在本地居住", "label_en": "Still living here", "type": "yesno",
     "required": True},
    {"name": "situation", "label": "现状情况", "label_en": "Current situation", "type": "textarea", "required": True},
    {"name": "photos", "label": "照片", "label_en": "Photos", "type": "photo", "required": False},
    {"name": "position", "label": "位置", "label_en": "Where", "type": "gps", "required": False},
]
LEGAL_BASIS = ("GB/T 31000-2015 特殊人群、重点青少年信息采集；“重点人员、特殊群体动态掌控率达到100%”"
               "（002·A3）")
CENSUS_STATES = (State.VERIFYING.value, State.ENROLLED.value, State.LOST_CONTACT.value)
R = KeyPersonRecord


def ensure_type(db: Session) -> TaskType:
    return tasks.ensure_system_type(db, TYPE_CODE, NAME, FORM, legal_basis=LEGAL_BASIS)


def label(record_id: int) -> str:
    return f"KP-{record_id}"


def assignable_areas(db: Session, principal: Principal) -> list[Area]:
    """Where the caller may send a census (the page's choice): their own areas and those one level below, of
    those where they hold both ``task.assign`` and ``keyperson.view``."""
    return areas.own_and_below(db, principal, (ASSIGN, VIEW))


def _group_codes(db: Session, codes: Sequence[str] | None) -> list[str]:
    return [groups.get_group(db, code).code for code in dict.fromkeys(codes or ())]


def start_census(db: Session, principal: Principal, area_id: int, due_at: datetime, title: str = "",
                 group_codes: Sequence[str] | None = None) -> Assignment:
    """One census assignment for the open records under ``area_id`` (of ``group_codes`` only, when given).
    The rights (``task.assign`` and ``keyperson.view`` over the area), the groups and the records are checked
    before the type is declared, so a refused census writes nothing."""
    area = areas.get_area(db, area_id)
    principal.require(ASSIGN, area.area_path)
    principal.require(VIEW, area.area_path)
    codes = _group_codes(db, group_codes)
    where = [R.state.in_(CENSUS_STATES), R.area_path.startswith(area.area_path, autoescape=True)]
    if codes:
        where.append(R.group_code.in_(codes))
    count = db.scalar(select(func.count()).select_from(R).where(*where)) or 0
    if not count:
        raise ValidationFailed("keyperson_census_empty", "所选区域（类别）没有需要清查的重点人员",
                               "There is no key person to check in the area (and groups) chosen",
                               detail={"area_id": area.id, "group_codes": codes})
    if count > tasks.MAX_TARGETS:
        raise ValidationFailed("keyperson_census_too_large",
                               "该区域需清查{count}人，一次最多{n}人，请按街道或社区分别发起",
                               "{count} key persons in this area; at most {n} at once — send one per street or "
                               "community", detail={"field": "area_id", "count": count}, count=count,
                               n=tasks.MAX_TARGETS)
    rows = db.execute(select(R.id, R.grid_id, R.grid_worker_id).where(*where).order_by(R.area_path, R.id)).all()
    ensure_type(db)
    return tasks.assign(db, principal, type_code=TYPE_CODE, title=title or NAME, due_at=due_at,
                        targets=[tasks.TargetRef("keyperson", rid, grid_id, label(rid), assignee_id=worker)
                                 for rid, grid_id, worker in rows])


def record_finding(session: Session, payload: dict[str, Any], done_on: date) -> None:
    """A census item done: the finding on the record's timeline and what it means for the record (see the
    module's text). Written once per item: the timeline entry names the item, and a redelivered event that
    finds it changes nothing."""
    record_id = payload.get("target_id")
    if payload.get("target_kind") != "keyperson" or not isinstance(record_id, int):
        return
    record = session.scalar(select(R).where(R.id == record_id))
    if record is None:
        return
    item_id = payload["item_id"]
    entries = session.scalars(select(KeyPersonEvent.data).where(KeyPersonEvent.record_id == record.id,
                                                                KeyPersonEvent.kind == EVENT))
    if any((data or {}).get("item_id") == item_id for data in entries):
        return
    data = payload.get("data") or {}
    met, living = data.get("met") is True, data.get("living_here") is True
    outcome = _apply(session, record, met, living, done_on)
    # The worker's text (现状情况) stays with the item: the timeline holds no personal data, only the facts.
    session.add(KeyPersonEvent(record_id=record.id, kind=EVENT, at=utcnow(), actor_id=payload.get("by"),
                               area_path=record.area_path,
                               data={"item_id": item_id, "met": met, "living_here": living,
                                     "checked_on": done_on.isoformat(), "outcome": outcome}))
    session.flush()


def _apply(session: Session, record: KeyPersonRecord, met: bool, living: bool, done_on: date) -> str:
    """What the finding does to the record, as the outcome the timeline shows. The steps are the system's: the
    worker who answered may not hold the right to take them on the record, the census that asked does."""
    system = Principal.system("keypersons")
    if met or living:
        if record.last_verified_on is None or done_on > record.last_verified_on:
            record.last_verified_on = done_on
        if met and record.state == State.LOST_CONTACT.value:
            service.act(session, system, record.id, "regain", note="集中清查见到本人", today=done_on)
            return "regained"
        return "verified"
    if record.state == State.ENROLLED.value:
        service.act(session, system, record.id, "lose_contact", note="集中清查：未见本人，不在本地居住",
                    today=done_on)
        return "lost_contact"
    return "for_centre" if record.state == State.VERIFYING.value else "not_found"


def completion(db: Session, since: datetime | None = None, until: datetime | None = None, *,
               area_path: str | None = None, prefix_len: int = 0) -> dict[str, Any]:
    """清查完成率 over the census campaigns sent in ``[since, until)`` that the caller sees: items sent, checked
    (done, or reviewed after done), marked unable, and checked ÷ sent in percent — in all and by child area
    (the first ``prefix_len`` characters of the item's grid path; 0: one row), under ``area_path`` when given."""
    sent = tasks.sent_items(db, TYPE_CODE, since, until)
    rows: list[dict[str, Any]] = []
    if sent is not None:
        # The length as an SQL literal: PostgreSQL must see the grouped and the selected expression as one.
        key: Any = func.substr(WorkItem.area_path, literal_column("1"), literal_column(str(int(prefix_len))))
        checked = WorkItem.state.in_((ItemState.DONE.value, ItemState.REVIEWED.value)) & (WorkItem.outcome == "done")
        unable = (WorkItem.state.in_((ItemState.UNABLE.value, ItemState.REVIEWED.value))
                  & (WorkItem.outcome == "unable"))
        stmt = (select(key, func.count(), func.count().filter(checked), func.count().filter(unable))
                .where(*sent).group_by(key).order_by(key))
        if area_path:
            stmt = stmt.where(WorkItem.area_path.startswith(area_path, autoescape=True))
        rows = [{"area_path": path, "sent": n, "checked": done, "unable": no, "rate": plans.rate(done, n)}
                for path, n, done, no in db.execute(stmt)]
    total, done = sum(r["sent"] for r in rows), sum(r["checked"] for r in rows)
    return {"sent": total, "checked": done, "unable": sum(r["unable"] for r in rows),
            "rate": plans.rate(done, total), "areas": rows}
