"""Duplicate persons: the same ID number registered twice (two workers, an import and a worker, a move
between grids recorded on both sides). Found on the ID number's blind index, without decrypting anyone;
merged by someone who may edit both records, keeping the history: the duplicate's residences move to the
kept person, the duplicate stays as a ``merged`` row pointing at it, and the merge is an accepted change
record like any other change.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shiyu.core.errors import ValidationFailed
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.registry.apply import EDITABLE, snapshot
from shiyu.registry.changes import REVIEW
from shiyu.registry.models import ChangeRecord, ChangeStatus, Person, PersonStatus, Residence
from shiyu.registry.service import get_person

MAX_GROUPS = 200


def groups(session: Session) -> list[list[Person]]:
    """Active persons of the caller's scope that share an ID number, in groups, oldest record first."""
    dup_hashes = (select(Person.id_number_hash)
                  .where(Person.status == PersonStatus.ACTIVE.value, Person.id_number_hash.is_not(None))
                  .group_by(Person.id_number_hash).having(func.count(Person.id) > 1).limit(MAX_GROUPS))
    rows = session.scalars(select(Person).where(Person.id_number_hash.in_(dup_hashes),
                                                Person.status == PersonStatus.ACTIVE.value)
                           .order_by(Person.id_number_hash, Person.id))
    out: dict[str | None, list[Person]] = {}
    for person in rows:
        out.setdefault(person.id_number_hash, []).append(person)
    return [g for g in out.values() if len(g) > 1]


def merge(session: Session, principal: Principal, keep_id: int, duplicate_id: int) -> ChangeRecord:
    """Fold ``duplicate_id`` into ``keep_id``: fields the kept record lacks are taken from the duplicate."""
    keep, dup = get_person(session, keep_id), get_person(session, duplicate_id)
    for person in (keep, dup):
        principal.require(REVIEW, person.area_path)
    if keep.id == dup.id or keep.id_number_hash is None or keep.id_number_hash != dup.id_number_hash:
        raise ValidationFailed("not_duplicates", "只能合并身份证号相同的两条不同记录",
                               "Only two different records with the same ID number can be merged",
                               detail={"field": "duplicate_id"})
    if PersonStatus.ACTIVE.value != keep.status or dup.status != PersonStatus.ACTIVE.value:
        raise ValidationFailed("not_active", "只能合并在册人员", "Only active records can be merged",
                               detail={"field": "duplicate_id"})
    before: dict[str, Any] = {"keep": snapshot(keep), "duplicate": snapshot(dup)}
    for key in EDITABLE[Person]:
        if getattr(keep, key) in (None, "") and getattr(dup, key) not in (None, ""):
            setattr(keep, key, getattr(dup, key))
    session.execute(update(Residence).where(Residence.person_id == dup.id).values(person_id=keep.id))
    dup.status, dup.merged_into_id = PersonStatus.MERGED.value, keep.id
    now = utcnow()
    record = ChangeRecord(
        area_path=keep.area_path, grid_id=keep.grid_id, entity="person", action="merge", target_id=keep.id,
        before=json.dumps(before, ensure_ascii=False, default=str),
        after=json.dumps({"merged": dup.id, **snapshot(keep)}, ensure_ascii=False, default=str),
        duplicates=[dup.id], status=ChangeStatus.ACCEPTED.value, submitted_by=principal.user_id, submitted_at=now,
        reviewed_by=principal.user_id, reviewed_at=now, decided_by=principal.user_id, decided_at=now,
        applied_ids=[f"person:{keep.id}", f"person:{dup.id}"],
    )
    session.add(record)
    session.flush()
    return record
