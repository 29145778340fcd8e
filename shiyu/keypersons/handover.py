"""Hand-over with both sides' confirmation (必接必送, 迁出移交).

- **Intake** from a prison, a compulsory rehabilitation centre or a hospital: the receiving centre records
  what the institution sent (its name, the officer who handed over, the document number, the release date,
  the papers that travel with the person) — the sender's confirmation; the receiving centre confirms the
  take-over item by item, and only then a record opens (``referred``, source ``institution``).
- **Transfer** when the person moves: the sending centre names the receiving grid and what travels; the record
  stays with the sender — enrolled, visited — until the receiving centre confirms. The receipt closes the old
  record as ``transferred`` and opens the new one enrolled, carrying grade, form answers and the last visit, so
  the due date runs on. Nothing is lost: every item sent must be confirmed received (or the receipt is
  refused), and at no moment is the person nobody's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from shiyu.core import audit
from shiyu.core.db import get_or_not_found
from shiyu.core.errors import Conflict
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.keypersons import groups, service
from shiyu.keypersons.errors import KeyPersonError, invalid
from shiyu.keypersons.models import (
    MANAGE,
    Handover,
    HandoverKind,
    HandoverState,
    KeyPersonEvent,
    KeyPersonRecord,
    State,
)
from shiyu.org.areas.models import Area, AreaLevel
from shiyu.registry import service as registry

UNSCOPED = {"unscoped": True}
MAX_ITEMS = 20


@dataclass(frozen=True)
class Sending:
    group_code: str
    to_grid_id: int
    person_id: int | None = None  # intake: the person in the register
    record_id: int | None = None  # transfer: the record that moves
    from_org: str = ""
    sender_name: str = ""
    document_no: str = ""
    due_on: date | None = None
    items: tuple[str, ...] = ()
    note: str = ""


def _grid(session: Session, grid_id: int) -> Area:
    grid = session.scalar(select(Area).where(Area.id == grid_id, Area.level == int(AreaLevel.GRID)),
                          execution_options=UNSCOPED)
    if grid is None:
        raise invalid("to_grid_id", "接收网格不存在", "No such receiving grid")
    return grid


def _items(items: tuple[str, ...]) -> list[str]:
    cleaned = [i.strip() for i in items if i.strip()]
    if len(cleaned) > MAX_ITEMS or any(len(i) > 100 for i in cleaned) or len(set(cleaned)) != len(cleaned):
        raise invalid("items", f"移交材料最多{MAX_ITEMS}项、每项不超过100字且不重复",
                      f"At most {MAX_ITEMS} distinct items of at most 100 characters")
    return cleaned


def send(session: Session, principal: Principal, sending: Sending) -> Handover:
    items = _items(sending.items)
    grid = _grid(session, sending.to_grid_id)
    groups.get_group(session, sending.group_code)
    if sending.record_id is not None:
        record = service.get_record(session, sending.record_id)
        principal.require(MANAGE, record.area_path)
        if record.state != State.ENROLLED.value:
            raise KeyPersonError("keyperson_not_enrolled", "只有在管人员可以移交", "Only an enrolled record can move",
                                 detail={"state": record.state})
        if principal.can(MANAGE, grid.area_path):  # within the sender's own area: a change of team, not a move
            raise invalid("to_grid_id", "接收网格须在本辖区之外", "The receiving grid must be outside your area")
        if session.scalar(select(Handover.id).where(Handover.record_id == record.id,
                                                    Handover.state == HandoverState.SENT.value)) is not None:
            raise KeyPersonError("keyperson_handover_open", "该人员已有进行中的移交",
                                 "A hand-over is already under way")
        handover = Handover(kind=HandoverKind.TRANSFER.value, record_id=record.id, person_id=record.person_id,
                            group_code=record.group_code, from_path=record.area_path, from_org="")
    else:
        if sending.person_id is None or not sending.from_org.strip() or not sending.document_no.strip():
            raise invalid("from_org", "必接必送须填写人员、移交单位和文书编号",
                          "An intake names the person, the institution and the document")
        principal.require(MANAGE, grid.area_path)
        registry.get_person(session, sending.person_id)
        handover = Handover(kind=HandoverKind.INTAKE.value, person_id=sending.person_id,
                            group_code=sending.group_code, from_org=sending.from_org.strip()[:100], from_path=None,
                            sender_name=sending.sender_name.strip()[:50] or None)
    handover.to_grid_id = grid.id
    handover.area_path = grid.area_path
    handover.document_no = sending.document_no.strip()[:60]
    handover.due_on = sending.due_on
    handover.items = items
    handover.sent_by = principal.user_id
    handover.sent_at = utcnow()
    handover.note = sending.note[:500]
    session.add(handover)
    session.flush()
    if handover.record_id is not None:
        service.log(session, service.get_record(session, handover.record_id), "handover_sent", principal,
                    handover_id=handover.id, to_grid_id=grid.id, items=len(items))
    return handover


def get(session: Session, handover_id: int) -> Handover:
    return get_or_not_found(session, Handover, handover_id, "handover")


@dataclass(frozen=True)
class Receipt:
    received_items: tuple[str, ...]
    grid_worker_id: int
    grade: str | None = None  # intake: the grade the receiving centre starts with
    attributes: dict[str, Any] | None = None  # intake: the group's form
    note: str = ""


def receive(session: Session, principal: Principal, handover_id: int, receipt: Receipt, today: date
            ) -> KeyPersonRecord:
    """The receiving centre confirms; every item sent must be among those confirmed. Answers the record that
    now holds the person on the receiving side."""
    handover = get(session, handover_id)
    principal.require(MANAGE, handover.area_path)
    if handover.state != HandoverState.SENT.value:
        raise KeyPersonError("keyperson_handover_closed", "该移交已办结", "This hand-over is closed")
    received = _items(receipt.received_items)
    missing = [i for i in handover.items if i not in received]
    if missing:
        raise KeyPersonError("keyperson_items_missing", "移交材料未全部确认接收", "Not every item sent was received",
                             status=422, detail={"missing": missing})
    team = service.Team(grid_worker_id=receipt.grid_worker_id)
    if handover.kind == HandoverKind.INTAKE.value:
        record = service.open_record(session, principal, service.Opening(
            person_id=handover.person_id, group_code=handover.group_code, grade=receipt.grade or "",
            source="institution", source_ref=handover.document_no, attributes=receipt.attributes or {}, team=team))
    else:
        record = _move(session, principal, handover, team, today)
    handover.state = HandoverState.RECEIVED.value
    handover.received_by = principal.user_id
    handover.received_at = utcnow()
    handover.received_items = received
    handover.record_id = handover.record_id or record.id
    if receipt.note:
        handover.note = (handover.note + "\n" + receipt.note)[:500]
    session.flush()
    service.log(session, record, "handover_received", principal, handover_id=handover.id, handover_kind=handover.kind,
                items=len(received))
    return record


def _move(session: Session, principal: Principal, handover: Handover, team: service.Team, today: date
          ) -> KeyPersonRecord:
    old = session.scalar(select(KeyPersonRecord).where(KeyPersonRecord.id == handover.record_id),
                         execution_options=UNSCOPED)
    if old is None or old.state != State.ENROLLED.value:
        raise KeyPersonError("keyperson_not_enrolled", "原记录已不在管，无法接收", "The record is no longer enrolled")
    service._check_team(session, team)
    grid = _grid(session, handover.to_grid_id)
    new = KeyPersonRecord(
        person_id=old.person_id, group_code=old.group_code, grid_id=grid.id, area_path=grid.area_path,
        source=old.source, source_ref=f"transfer:{old.id}", grade=old.grade, state=State.ENROLLED.value,
        attributes=old.attributes or json.dumps({}), opened_at=utcnow(), period_start=old.period_start,
        period_end=old.period_end, enrolled_on=today, last_visit_on=old.last_visit_on,
        next_due_on=old.next_due_on, guardian_name=old.guardian_name, guardian_phone=old.guardian_phone,
        grid_worker_id=team.grid_worker_id)
    session.add(new)
    session.flush()
    # The old record lies in the sender's area, where the receiver holds no write right: its closing is part
    # of the receipt the receiver is entitled to, so it is written below the ORM's write check, and audited.
    closed = {"state": State.TRANSFERRED.value, "closed_on": today, "next_due_on": None,
              "version": old.version + 1}
    done = session.execute(update(KeyPersonRecord).where(KeyPersonRecord.id == old.id,
                                                         KeyPersonRecord.version == old.version)
                           .values(**closed).execution_options(synchronize_session=False))
    if not done.rowcount:  # type: ignore[attr-defined]
        raise Conflict()
    audit.record(session, "update", "kp_record", old.id, area_path=old.area_path,
                 after={"state": State.TRANSFERRED.value, "to_record": new.id})
    session.execute(insert(KeyPersonEvent), [{
        "record_id": old.id, "kind": "state", "at": utcnow(), "actor_id": principal.user_id,
        "area_path": old.area_path, "data": {"action": "transfer", "before": State.ENROLLED.value,
                                             "after": State.TRANSFERRED.value, "to_record": new.id}}])
    session.expire(old)
    service.log(session, new, "opened", principal, state=new.state, source="transfer", from_record=old.id)
    return new


def cancel(session: Session, principal: Principal, handover_id: int, note: str) -> Handover:
    """The sending side withdraws a hand-over not yet received (a transfer's record was never moved)."""
    handover = get(session, handover_id)
    sender_ok = handover.from_path is not None and principal.can(MANAGE, handover.from_path)
    if not (sender_ok or (handover.kind == HandoverKind.INTAKE.value and principal.can(MANAGE, handover.area_path))):
        raise KeyPersonError("keyperson_not_allowed", "只有移交方可以撤回", "Only the sender may withdraw", status=403)
    if handover.state != HandoverState.SENT.value:
        raise KeyPersonError("keyperson_handover_closed", "该移交已办结", "This hand-over is closed")
    handover.state = HandoverState.CANCELLED.value
    handover.note = (handover.note + "\n" + note)[:500]
    session.flush()
    return handover


def handover_out(h: Handover) -> dict[str, Any]:
    return {"id": h.id, "kind": h.kind, "state": h.state, "record_id": h.record_id, "person_id": h.person_id,
            "group_code": h.group_code, "from_org": h.from_org, "to_grid_id": h.to_grid_id,
            "document_no": h.document_no, "due_on": h.due_on, "items": h.items, "received_items": h.received_items,
            "sent_at": h.sent_at, "received_at": h.received_at, "version": h.version,
            "direction": "outgoing" if h.from_path else "incoming"}


def list_handovers(session: Session, state: str | None = None) -> list[Handover]:
    stmt = select(Handover).order_by(Handover.sent_at.desc()).limit(200)
    if state:
        stmt = stmt.where(Handover.state == state)
    return list(session.scalars(stmt))


