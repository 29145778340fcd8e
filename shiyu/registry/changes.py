"""Change records: the one way anything reaches the register.

A grid worker (or, later, the field app's offline queue and the task engine's work items) submits what
they found — a new family, a changed phone, a move-out, a death, a house, a unit, a component — as a change
record: ``submitted → reviewed → accepted | returned``. Only acceptance writes the register, in the same
transaction, and names the rows it wrote. The submission is checked in full when it arrives (a bad ID
number is refused at once, not at review) and again at acceptance (the register may have moved on).

``submit`` is the published hook: anything that collects data calls it with a ``client_key`` so that a
resend finds the first record instead of making a second.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.core.errors import Conflict, NotFound, ValidationFailed
from shiyu.core.paging import PageParams, paginate
from shiyu.core.pii import blind_hash, mask
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.areas.models import Area
from shiyu.registry import fields, places
from shiyu.registry.apply import APPLY, snapshot
from shiyu.registry.models import ChangeRecord, ChangeStatus, Component, House, Person, PersonStatus, Unit

COLLECT = "registry.collect"
POLICE = "registry.police_view"
POLICE_FIELDS = ("police_note",)
REVIEW = "registry.review"
UNSCOPED = {"unscoped": True}
MAX_MEMBERS = 20

# entity → the actions a change record may carry for it
ACTIONS: dict[str, tuple[str, ...]] = {
    "household": ("create",),
    "person": ("update", "move_out", "death"),
    "house": ("create", "update"),
    "unit": ("create", "update"),
    "component": ("create", "update"),
}
TARGETS: dict[str, type[Any]] = {"person": Person, "house": House, "unit": Unit, "component": Component}
# (status, verb) → new status; anything else is refused
TRANSITIONS = {
    (ChangeStatus.SUBMITTED, "review"): ChangeStatus.REVIEWED,
    (ChangeStatus.REVIEWED, "accept"): ChangeStatus.ACCEPTED,
    (ChangeStatus.SUBMITTED, "return"): ChangeStatus.RETURNED,
    (ChangeStatus.REVIEWED, "return"): ChangeStatus.RETURNED,
}

VERBS = {"review": ("审核", "reviewed"), "accept": ("通过", "accepted"), "return": ("退回", "returned")}


@dataclass(frozen=True)
class Submission:
    entity: str
    action: str
    data: dict[str, Any]
    target_id: int | None = None
    grid_id: int | None = None
    photos: tuple[int, ...] = ()
    client_key: str | None = None


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


def normalised(entity: str, action: str, data: dict[str, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The submitted data checked and normalised as it will be written (``base``: the record as it is, for an
    update, so that the whole result is checked, not only the changed fields)."""
    merged = {**(base or {}), **data}
    if action in ("move_out", "death"):
        return {"on": (fields._date(data, "on") or date.today()).isoformat()}
    if entity == "household":
        members = data.get("members") or []
        if not isinstance(members, list) or not 1 <= len(members) <= MAX_MEMBERS:
            raise fields.invalid("members", f"一户须有1至{MAX_MEMBERS}名成员",
                                 f"A household has 1 to {MAX_MEMBERS} members")
        return {"address": fields.address_parts(data.get("address") or {}),
                "house": _jsonable(fields.house_values(data.get("house") or {})),
                "members": [_jsonable(fields.person_values(m if isinstance(m, dict) else {})) for m in members]}
    if entity == "house":
        out = _jsonable(fields.house_values(merged))
        if action == "create":
            out["address"] = fields.address_parts(data.get("address") or {})
        return out
    if entity == "person":
        return _jsonable(fields.person_values(merged))
    if entity == "unit":
        return fields.unit_values(merged)
    return fields.component_values(merged)


def _duplicates(session: Session, after: dict[str, Any], target_id: int | None) -> list[int]:
    """Active persons already registered (anywhere) under an ID number this change brings."""
    members = after.get("members") or ([after] if "id_number" in after else [])
    hashes = {blind_hash("id_number", m["id_number"]) for m in members if m.get("id_number")}
    if not hashes:
        return []
    stmt = select(Person.id).where(Person.id_number_hash.in_(hashes), Person.status == PersonStatus.ACTIVE.value)
    return sorted(i for i in session.scalars(stmt, execution_options=UNSCOPED) if i != target_id)


def _grid(session: Session, principal: Principal, sub: Submission, target: Any) -> Area:
    if target is not None:
        grid = session.get(Area, target.grid_id)
        if grid is None or not principal.can(COLLECT, target.area_path):
            raise places.OutsideGrids(detail={"target_id": sub.target_id})
        return grid
    point = sub.data.get("address") if sub.entity in ("household", "house") else sub.data
    lon, lat = (point or {}).get("lon"), (point or {}).get("lat")
    return places.grid_at(session, principal, COLLECT, grid_id=sub.grid_id,
                          lon=float(lon) if lon not in (None, "") else None,
                          lat=float(lat) if lat not in (None, "") else None)


def _without_police_fields(principal: Principal, grid: Area, data: dict[str, Any]) -> dict[str, Any]:
    """What a collector without the police's view sends for the police-only fields is dropped, at any depth
    (a household's members): they may neither see nor write them."""
    if principal.can(POLICE, grid.area_path):
        return data
    out = {k: v for k, v in data.items() if k not in POLICE_FIELDS}
    if isinstance(out.get("members"), list):
        out["members"] = [_without_police_fields(principal, grid, m) if isinstance(m, dict) else m
                          for m in out["members"]]
    return out


def submit(session: Session, principal: Principal, sub: Submission) -> tuple[ChangeRecord, bool]:
    """Record a proposed change; answers the record and whether it is new (False: a resend of ``client_key``)."""
    if sub.client_key and principal.user_id is not None:
        first = session.scalar(select(ChangeRecord).where(ChangeRecord.submitted_by == principal.user_id,
                                                          ChangeRecord.client_key == sub.client_key))
        if first is not None:
            return first, False
    if sub.action not in ACTIONS.get(sub.entity, ()):
        raise ValidationFailed("unknown_change", "不支持的变更类型：{entity}/{action}",
                               "Unknown kind of change: {entity}/{action}", detail={"field": "action"},
                               entity=sub.entity, action=sub.action)
    target = None
    if sub.action != "create":
        target = session.get(TARGETS[sub.entity], sub.target_id) if sub.target_id is not None else None
        if target is None:
            raise NotFound(detail={"object": sub.entity, "id": sub.target_id})
    grid = _grid(session, principal, sub, target)
    data = _without_police_fields(principal, grid, sub.data)
    before = snapshot(target) if target is not None else None
    after = normalised(sub.entity, sub.action, data, before)
    if before is not None and sub.action == "update":
        # Only what changes is recorded (and applied): an accepted change never undoes a later one.
        after = {k: v for k, v in after.items() if before.get(k) != v}
        before = {k: before[k] for k in after}
        if not after:
            raise ValidationFailed("no_change", "没有需要变更的内容", "Nothing would change",
                                   detail={"field": "data"})
    record = ChangeRecord(
        area_path=grid.area_path, grid_id=grid.id, entity=sub.entity, action=sub.action, target_id=sub.target_id,
        before=json.dumps(before, ensure_ascii=False, default=str) if before is not None else None,
        after=json.dumps(after, ensure_ascii=False), photos=list(sub.photos),
        duplicates=_duplicates(session, after, sub.target_id), client_key=sub.client_key,
        submitted_by=principal.user_id, submitted_at=utcnow(),
    )
    session.add(record)
    session.flush()
    return record, True


def get(session: Session, change_id: int) -> ChangeRecord:
    record = session.get(ChangeRecord, change_id)
    if record is None:
        raise NotFound(detail={"object": "change", "id": change_id})
    return record


def decide(session: Session, principal: Principal, change_id: int, verb: str, note: str = "") -> ChangeRecord:
    """Review, accept or return a change record; acceptance applies it to the register."""
    record = get(session, change_id)
    principal.require(REVIEW, record.area_path)
    new = TRANSITIONS.get((ChangeStatus(record.status), verb))
    if new is None:
        verb_zh, verb_en = VERBS.get(verb, (verb, verb))
        raise Conflict("change_not_open", "该变更记录当前状态为“{state}”，不能{verb_zh}",
                       "This change record is {state}; it cannot be {verb_en}", detail={"status": record.status},
                       state=record.status, verb_zh=verb_zh, verb_en=verb_en)
    if verb == "return" and len(note.strip()) < 2:
        raise ValidationFailed("reason_required", "退回须说明原因", "Say why the change is returned",
                               detail={"field": "note"})
    now = utcnow()
    if verb == "review":
        record.reviewed_by, record.reviewed_at = principal.user_id, now
    else:
        record.decided_by, record.decided_at = principal.user_id, now
    if verb == "accept":
        grid = session.get(Area, record.grid_id)
        if grid is None:
            raise NotFound(detail={"object": "area", "id": record.grid_id})
        after = json.loads(record.after or "{}")
        target = session.get(TARGETS[record.entity], record.target_id) if record.target_id is not None else None
        if record.action != "create" and target is None:
            raise NotFound(detail={"object": record.entity, "id": record.target_id})
        after = normalised(record.entity, record.action, after, snapshot(target) if target is not None else None)
        record.applied_ids = APPLY[record.entity](session, principal, grid, record.action, after, target)
    record.status = new.value
    record.note = note.strip()[:500]
    session.flush()
    return record


def list_changes(session: Session, status: str | None, params: PageParams) -> tuple[list[ChangeRecord], int]:
    stmt = select(ChangeRecord).order_by(ChangeRecord.id.desc())
    if status:
        stmt = stmt.where(ChangeRecord.status == status)
    return paginate(session, stmt, params)


_PII_KINDS = {"name": "name", "id_number": "id_number", "phone": "phone", "hukou_address": "address",
              "landlord_name": "name", "landlord_phone": "phone", "legal_rep_name": "name",
              "legal_rep_phone": "phone", "police_note": "text"}


def _masked(values: Any, police: bool) -> Any:
    """A change's before/after as shown: personal data masked at every depth (a household's members), the
    police-only fields absent for everyone else."""
    if isinstance(values, list):
        return [_masked(v, police) for v in values]
    if not isinstance(values, dict):
        return values
    return {k: mask(_PII_KINDS[k], v) if k in _PII_KINDS and isinstance(v, str) else _masked(v, police)
            for k, v in values.items() if police or k not in POLICE_FIELDS}


def change_out(record: ChangeRecord, principal: Principal) -> dict[str, Any]:
    police = principal.can(POLICE, record.area_path)
    return {
        "id": record.id, "grid_id": record.grid_id, "entity": record.entity, "action": record.action,
        "target_id": record.target_id, "status": record.status,
        "before": _masked(json.loads(record.before), police) if record.before else None,
        "after": _masked(json.loads(record.after), police) if record.after else None,
        "photos": record.photos, "duplicates": record.duplicates, "submitted_by": record.submitted_by,
        "submitted_at": record.submitted_at, "reviewed_by": record.reviewed_by, "decided_by": record.decided_by,
        "note": record.note, "applied_ids": record.applied_ids,
    }
