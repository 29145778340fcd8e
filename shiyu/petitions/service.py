"""Petitions as the API and the pages use them: registration (with the repeat flag from the ID numbers'
blind index), the one function that applies a transition of ``workflow.TABLE``, masked and audited reads,
the audited reveal, links to other domains as outbox events, the backlog board, reception days and the
indicators.

Every read goes through the caller's scoped session: a petition outside the caller's petition scope is a
404 exactly like one that does not exist. Two look-ups are deliberately unscoped and reveal nothing but a
count or an id: earlier petitions of the same ID number (a petitioner who went to another street before is
still a repeat petitioner) and the registers' person with that number (linked, never shown here).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from shiyu.core import audit, outbox
from shiyu.core.db import get_or_not_found
from shiyu.core.errors import NotFound, ValidationFailed
from shiyu.core.paging import PageParams, paginate
from shiyu.core.pii import blind_hash, mask, mask_text, reveal_reason
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.keypersons.errors import not_in_register
from shiyu.org.areas.models import Area
from shiyu.org.identity import people
from shiyu.org.identity.models import Grant, User
from shiyu.org.identity.roles import permissions_of
from shiyu.petitions import errors, limits
from shiyu.petitions.limits import Limit
from shiyu.petitions.models import (
    CLOSED_STATES,
    COLLECTIVE_SIZE,
    HANDLE,
    REVEAL,
    VIEW,
    Channel,
    Petition,
    Petitioner,
    PetitionEvent,
    Reception,
    State,
)
from shiyu.petitions.workflow import Action, Need, actions_from, transition
from shiyu.registry import service as registry

PII = {"name": "name", "id_number": "id_number", "phone": "phone"}
LINKS = {"spawn_dispute": "petition.spawn_dispute", "raise_warning": "petition.raise_warning",
         "enrol_key_person": "petition.enrol_key_person"}


@dataclass(frozen=True)
class PetitionerIn:
    name: str
    id_number: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Registration:
    area_id: int
    channel: str
    demands: str
    petitioners: Sequence[PetitionerIn]
    group_size: int = 1
    complained_unit: str = ""
    skip_level: bool = False
    received_at: datetime | None = None


@dataclass(frozen=True)
class Step:
    """The body of an action: its text (notice, answer, opinion, reason) and the fields some actions need."""

    note: str = ""
    assigned_unit: str = ""
    leader_id: int | None = None
    satisfied: bool | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class Filters:
    state: str | None = None
    channel: str | None = None
    repeat: bool | None = None
    first_time: bool | None = None
    collective: bool | None = None
    skip_level: bool | None = None
    overdue: bool | None = None
    text: str | None = None
    id_number: str | None = None
    leader_id: int | None = None


# -- registering --------------------------------------------------------------------------------------------


def _area(session: Session, principal: Principal, area_id: int) -> Area:
    """The area to register for: one the caller handles petitions in, else not found (as if it did not exist)."""
    area = session.get(Area, area_id)
    if area is None or not principal.can(HANDLE, area.area_path):
        raise NotFound(detail={"object": "area", "id": area_id})
    return area


def _earlier_petitions(session: Session, hashes: set[str]) -> int:
    """How many petitions (anywhere) already name one of these ID numbers: a count, nothing more."""
    if not hashes:
        return 0
    count = session.scalar(select(func.count(func.distinct(Petitioner.petition_id)))
                           .where(Petitioner.id_number_hash.in_(hashes)).execution_options(unscoped=True))
    return int(count or 0)


def register(session: Session, principal: Principal, tz: ZoneInfo, data: Registration) -> Petition:
    """登记: the petition, its petitioners (encrypted), the flags, and the acceptance clock from receipt."""
    principal.require(HANDLE)
    if data.channel not in Channel.__members__.values():
        raise ValidationFailed("unknown_channel", "信访渠道不正确", "Unknown channel", detail={"field": "channel"})
    if not data.demands.strip():
        raise errors.required("demands")
    if not data.petitioners or not all(p.name.strip() for p in data.petitioners):
        raise errors.required("petitioners")
    area = _area(session, principal, data.area_id)
    now = utcnow()
    received = data.received_at or now
    if received > now:
        raise ValidationFailed("received_in_future", "收件时间不能晚于现在", "The receipt time cannot be in the future",
                               detail={"field": "received_at"})
    hashes = {blind_hash("id_number", p.id_number) for p in data.petitioners if p.id_number}
    earlier = _earlier_petitions(session, hashes)
    group = max(data.group_size, len(data.petitioners))
    accept_due = limits.due(session, tz, received, Limit.ACCEPT)
    petition = Petition(
        number=uuid.uuid4().hex[:24], area_id=area.id, area_path=area.area_path, channel=data.channel,
        received_at=received, group_size=group, collective=group >= COLLECTIVE_SIZE, demands=data.demands.strip(),
        complained_unit=data.complained_unit.strip(), first_time=earlier == 0, earlier_count=earlier,
        skip_level=data.skip_level, state=State.REGISTERED.value, accept_due_at=accept_due,
        registered_by=principal.user_id)
    _clock(petition, received, accept_due)
    session.add(petition)
    session.flush()
    petition.number = f"XF{received.astimezone(tz):%Y%m%d}{petition.id:05d}"
    for p in data.petitioners:
        id_hash = blind_hash("id_number", p.id_number) if p.id_number else None
        session.add(Petitioner(petition_id=petition.id, area_path=area.area_path, name=p.name.strip(),
                               id_number=p.id_number or None, phone=p.phone or None,
                               person_id=registry.active_person_with(session, id_hash)))
    _event(session, principal, petition, "register", "", State.REGISTERED.value, "", now=now)
    session.flush()
    return petition


def _clock(p: Petition, started: datetime | None, due_at: datetime | None) -> None:
    """Start (or stop, with no deadline) the running clock: its deadline, its yellow instant, nothing
    announced yet. A step that ended opens the petitioner's request window from ``started``."""
    p.step_started_at, p.due_at, p.alert = started, due_at, 0
    p.warn_at = limits.warn_at(started, due_at) if started is not None and due_at is not None else None


def _event(session: Session, principal: Principal, petition: Petition, action: str, source: str, target: str,
           note: str, *, now: datetime, late: bool = False) -> None:
    session.add(PetitionEvent(petition_id=petition.id, area_path=petition.area_path, at=now,
                              actor_id=principal.user_id, actor_name=principal.username, action=action,
                              from_state=source, to_state=target, note=note, late=late))


# -- the lifecycle ------------------------------------------------------------------------------------------


def _leader_eligible(session: Session, leader_id: int, area_path: str) -> bool:
    """An active user holding ``petition.view`` over the petition's area (the leader must see it)."""
    active = session.scalar(select(User.is_active).where(User.id == leader_id).execution_options(unscoped=True))
    if not active:
        return False
    grants = session.execute(select(Grant.role, Grant.area_path).where(Grant.user_id == leader_id)
                             .execution_options(unscoped=True))
    return any(path and area_path.startswith(path) and VIEW in permissions_of(role) for role, path in grants)


def act(session: Session, principal: Principal, tz: ZoneInfo, petition_id: int, action: str, step: Step) -> Petition:
    """Apply one transition of the table: the state, the permission, what it needs, its guards, the clocks,
    and the timeline entry — in the caller's transaction, all or nothing."""
    petition = get(session, petition_id)
    move = transition(petition.state, action)
    if move is None:
        raise errors.wrong_state(petition.state, action)
    principal.require(move.permission, petition.area_path)
    if step.expected_version is not None and step.expected_version != petition.version:
        raise errors.stale(petition.version)
    note = step.note.strip()
    if Need.NOTE in move.needs and not note:
        raise errors.required("note")
    now = utcnow()
    figures = limits.current(session)
    if move.window is not None:
        opened = petition.step_started_at or now
        if now > limits.due(session, tz, opened, move.window, figures):
            raise errors.window_passed(move.window.value)
    late = move.meets and petition.due_at is not None and now > petition.due_at
    source = petition.state
    _apply(session, petition, move.action, step, note, tz, now, figures)
    petition.state = move.target.value
    if move.starts is not None:
        _clock(petition, now, limits.due(session, tz, now, move.starts, figures))
        if move.starts is Limit.HANDLE:
            petition.handle_due_at = petition.due_at
    if move.target in CLOSED_STATES:
        petition.closed_at = now
        _clock(petition, petition.step_started_at, None)
    _event(session, principal, petition, move.action.value, source, move.target.value, note, now=now, late=late)
    session.flush()
    return petition


def _apply(session: Session, p: Petition, action: Action, step: Step, note: str, tz: ZoneInfo, now: datetime,
           figures: dict[Limit, limits.Figure]) -> None:
    """What each action records besides the state (the table says which it needs)."""
    if action in (Action.ACCEPT, Action.REFUSE):
        p.decided_at = now
        p.notice = note if action == Action.REFUSE else p.notice
    elif action == Action.ASSIGN:
        if not step.assigned_unit.strip():
            raise errors.required("assigned_unit")
        if step.leader_id is None or not _leader_eligible(session, step.leader_id, p.area_path):
            raise errors.leader_not_eligible()
        p.assigned_unit, p.leader_id = step.assigned_unit.strip(), step.leader_id
    elif action == Action.EXTEND:
        if p.extended:
            raise errors.extended_once()
        assert p.handle_due_at is not None
        p.extended = True
        p.handle_due_at = limits.due(session, tz, p.handle_due_at, Limit.EXTEND, figures)
        _clock(p, p.step_started_at, p.handle_due_at)
    elif action == Action.ANSWER:
        p.answer, p.answered_at = note, now
        _clock(p, now, None)
    elif action == Action.EVALUATE:
        if step.satisfied is None:
            raise errors.required("satisfied")
        p.satisfied = step.satisfied
    elif action == Action.REQUEST_REVIEW and p.satisfied:
        raise errors.satisfied_no_review()
    elif action == Action.ANSWER_REVIEW:
        p.review_answer = note
        _clock(p, now, None)
    elif action == Action.ANSWER_RE_REVIEW:
        p.re_review_answer = note
        _clock(p, now, None)


# -- reading ------------------------------------------------------------------------------------------------


def of_event(session: Session, event: outbox.OutboxEvent) -> Petition | None:
    """The petition an outbox event names (``petition_id`` in its payload), for the subscribers that answer
    it; None when it is gone."""
    return session.get(Petition, int(event.payload["petition_id"]))


def get(session: Session, petition_id: int) -> Petition:
    return get_or_not_found(session, Petition, petition_id, "petition")


def _filtered(filters: Filters, now: datetime) -> Any:
    stmt = select(Petition)
    if filters.state:
        stmt = stmt.where(Petition.state == filters.state)
    if filters.channel:
        stmt = stmt.where(Petition.channel == filters.channel)
    for flag, column in ((filters.first_time, Petition.first_time), (filters.collective, Petition.collective),
                         (filters.skip_level, Petition.skip_level)):
        if flag is not None:
            stmt = stmt.where(column.is_(flag))
    if filters.repeat is not None:
        stmt = stmt.where(Petition.earlier_count > 0 if filters.repeat else Petition.earlier_count == 0)
    if filters.overdue:
        stmt = stmt.where(Petition.due_at < now)
    if filters.leader_id is not None:
        stmt = stmt.where(Petition.leader_id == filters.leader_id)
    if filters.text:
        stmt = stmt.where(or_(Petition.demands.contains(filters.text, autoescape=True),
                              Petition.complained_unit.contains(filters.text, autoescape=True),
                              Petition.number == filters.text))
    if filters.id_number:
        stmt = stmt.where(Petition.id.in_(select(Petitioner.petition_id).where(
            Petitioner.id_number_hash == blind_hash("id_number", filters.id_number))))
    return stmt


def list_petitions(session: Session, filters: Filters, params: PageParams) -> tuple[list[Petition], int]:
    """One page of the caller's petitions, the deadline nearest first; the read is audited."""
    now = utcnow()
    stmt = _filtered(filters, now).order_by(Petition.due_at.is_(None), Petition.due_at, Petition.id.desc())
    rows, total = paginate(session, stmt, params)
    _audit_read(session, rows)
    return rows, total


def _audit_read(session: Session, rows: list[Petition]) -> None:
    """A list showing petitioners (masked) is a read of their details: who saw which petitions."""
    if rows:
        audit.record(session, "read", "petition", None, area_path=audit.common_path([r.area_path for r in rows]),
                     after={"ids": [r.id for r in rows]})


def petitioners_of(session: Session, petition_ids: Sequence[int]) -> dict[int, list[Petitioner]]:
    out: dict[int, list[Petitioner]] = {i: [] for i in petition_ids}
    if petition_ids:
        for p in session.scalars(select(Petitioner).where(Petitioner.petition_id.in_(petition_ids))
                                 .order_by(Petitioner.id)):
            out[p.petition_id].append(p)
    return out


def petitioner_out(p: Petitioner) -> dict[str, Any]:
    return {"id": p.id, "person_id": p.person_id, **{a: mask(k, getattr(p, a)) for a, k in PII.items()}}


def petition_out(p: Petition, petitioners: list[Petitioner], now: datetime) -> dict[str, Any]:
    """A petition as shown: petitioners masked, numbers typed into the demands masked, the clock's colour."""
    return {
        "id": p.id, "version": p.version, "number": p.number, "area_id": p.area_id, "area_path": p.area_path,
        "channel": p.channel, "received_at": p.received_at, "group_size": p.group_size, "collective": p.collective,
        "demands": mask_text(p.demands), "complained_unit": p.complained_unit, "first_time": p.first_time,
        "repeat": p.is_repeat, "earlier_count": p.earlier_count, "skip_level": p.skip_level, "state": p.state,
        "notice": p.notice, "assigned_unit": p.assigned_unit, "leader_id": p.leader_id, "answer": p.answer,
        "satisfied": p.satisfied, "review_answer": p.review_answer, "re_review_answer": p.re_review_answer,
        "extended": p.extended, "due_at": p.due_at, "colour": limits.colour(p.step_started_at, p.due_at, now),
        "accept_due_at": p.accept_due_at, "decided_at": p.decided_at, "handle_due_at": p.handle_due_at,
        "answered_at": p.answered_at, "closed_at": p.closed_at,
        "petitioners": [petitioner_out(x) for x in petitioners],
    }


def outs(session: Session, rows: list[Petition]) -> list[dict[str, Any]]:
    people = petitioners_of(session, [r.id for r in rows])
    now = utcnow()
    return [petition_out(r, people[r.id], now) for r in rows]


def detail(session: Session, petition_id: int) -> dict[str, Any]:
    """A petition with its petitioners (masked), timeline, the actions its state allows and its leader; the
    read of the petitioners is audited."""
    petition = get(session, petition_id)
    audit.record(session, "read", "petition", petition.id, area_path=petition.area_path)
    events = list(session.scalars(select(PetitionEvent).where(PetitionEvent.petition_id == petition.id)
                                  .order_by(PetitionEvent.at, PetitionEvent.id)))
    # People as colleagues name them (masked name · unit), the system's jobs by their own name.
    names = people.labels(session, [petition.leader_id, *(e.actor_id for e in events)])
    return {**petition_out(petition, petitioners_of(session, [petition.id])[petition.id], utcnow()),
            "leader": names.get(petition.leader_id) if petition.leader_id is not None else None,
            "actions": [a.value for a in actions_from(petition.state)],
            "timeline": [{"at": e.at, "actor": names.get(e.actor_id or 0, e.actor_name), "action": e.action,
                          "from_state": e.from_state, "to_state": e.to_state, "note": mask_text(e.note),
                          "late": e.late} for e in events]}


def reveal(session: Session, principal: Principal, petition_id: int, petitioner_id: int, field_name: str,
           reason: str) -> str | None:
    """One petitioner field in the clear, for a caller who may reveal it there and says why (audited)."""
    if field_name not in PII:
        raise ValidationFailed("unknown_field", "该字段不可查看", "No such personal-data field",
                               detail={"field": field_name[:40]})
    reason = reveal_reason(reason)
    petition = get(session, petition_id)
    principal.require(REVEAL, petition.area_path)
    person = session.scalar(select(Petitioner).where(Petitioner.id == petitioner_id,
                                                     Petitioner.petition_id == petition.id))
    if person is None:
        raise NotFound(detail={"object": "petitioner", "id": petitioner_id})
    audit.record(session, "reveal", "petition_petitioner", person.id, area_path=petition.area_path, reason=reason,
                 after={"field": field_name, "petition_id": petition.id})
    value: str | None = getattr(person, field_name)
    return value


def link(session: Session, principal: Principal, petition_id: int, kind: str, reason: str,
         dispute_type: str | None = None) -> Petition:
    """A dispute, a warning or a key-person enrolment asked of the domains that own them, as an outbox event
    with the ids and the reason (docs/adr/0012); the timeline keeps it. A dispute is asked for once: the
    disputes domain opens one per petition, so a second request would only look like it did something."""
    if kind not in LINKS:
        raise ValidationFailed("unknown_link", "不支持该操作", "Unknown link", detail={"field": "kind"})
    if not reason.strip():
        raise errors.required("reason")
    petition = get(session, petition_id)
    principal.require(HANDLE, petition.area_path)
    if kind == "enrol_key_person" and not petition.is_repeat:
        raise errors.not_repeat()
    if kind == "spawn_dispute" and session.scalar(select(PetitionEvent.id).where(
            PetitionEvent.petition_id == petition.id, PetitionEvent.action == kind).limit(1)) is not None:
        raise errors.dispute_asked()
    people = petitioners_of(session, [petition.id])[petition.id]
    if kind == "enrol_key_person" and not any(p.person_id for p in people):
        raise not_in_register("petitioners", petition.id)
    payload: dict[str, Any] = {
        "petition_id": petition.id, "number": petition.number, "area_id": petition.area_id,
        "reason": reason.strip(), "petitioner_ids": [p.id for p in people],
        "person_ids": [p.person_id for p in people if p.person_id is not None]}
    if kind == "spawn_dispute":
        payload |= {"demands": petition.demands, "group_size": petition.group_size,
                    "collective": petition.collective, "type_code": dispute_type or None}
    outbox.emit(session, LINKS[kind], "petition", petition.id, petition.area_path, payload)
    _event(session, principal, petition, kind, petition.state, petition.state, reason.strip(), now=utcnow())
    session.flush()
    return petition


# -- the backlog board --------------------------------------------------------------------------------------


def backlog(session: Session) -> list[dict[str, Any]]:
    """积案: open petitions past their deadline or brought again, by responsible unit (the unit complained
    about until one is assigned), the unit with most first."""
    now = utcnow()
    rows = list(session.scalars(select(Petition).where(
        Petition.state.notin_([s.value for s in CLOSED_STATES]),
        or_(Petition.due_at < now, Petition.earlier_count > 0)).order_by(Petition.due_at, Petition.id)))
    _audit_read(session, rows)
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in outs(session, rows):
        unit = item["assigned_unit"] or item["complained_unit"] or ""
        groups.setdefault(unit, []).append(item)
    return sorted(({"unit": unit, "overdue": sum(1 for i in items if i["colour"] == "red"),
                    "repeat": sum(1 for i in items if i["repeat"]), "items": items}
                   for unit, items in groups.items()), key=lambda g: (-len(g["items"]), g["unit"]))


# -- reception days -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceptionIn:
    area_id: int
    leader_id: int
    day: date
    place: str
    note: str = ""
    petition_ids: Sequence[int] = field(default_factory=tuple)


def add_reception(session: Session, principal: Principal, data: ReceptionIn) -> Reception:
    """接访日: who receives, when and where, and which petitions were received (all visible to the caller)."""
    principal.require(HANDLE)
    area = _area(session, principal, data.area_id)
    if not data.place.strip():
        raise errors.required("place")
    if not _leader_eligible(session, data.leader_id, area.area_path):
        raise errors.leader_not_eligible()
    wanted = sorted(set(data.petition_ids))
    if wanted and len(list(session.scalars(select(Petition.id).where(Petition.id.in_(wanted))))) != len(wanted):
        raise errors.unknown_petitions()
    row = Reception(area_id=area.id, area_path=area.area_path, leader_id=data.leader_id, day=data.day,
                    place=data.place.strip(), note=data.note.strip(), petition_ids=wanted)
    session.add(row)
    session.flush()
    return row


def ids_for(session: Session, tokens: Sequence[str]) -> list[int]:
    """Petitions named by their number (XF…) or id, as typed into the reception form; unknown ones stay out
    and are refused by ``add_reception`` through the count."""
    numbers = [t for t in tokens if t.upper().startswith("XF")]
    found = list(session.scalars(select(Petition.id).where(Petition.number.in_([n.upper() for n in numbers])))
                 ) if numbers else []
    missing = len(numbers) - len(found)
    ids = [int(t) for t in tokens if t.isdigit() and len(t) < 10]
    return found + ids + ([0] * missing)


def receptions(session: Session, params: PageParams) -> tuple[list[dict[str, Any]], int]:
    rows, total = paginate(session, select(Reception).order_by(Reception.day.desc(), Reception.id.desc()), params)
    leaders = people.labels(session, [r.leader_id for r in rows])
    wanted = {i for r in rows for i in r.petition_ids}
    numbers: dict[int, str] = {i: n for i, n in session.execute(
        select(Petition.id, Petition.number).where(Petition.id.in_(wanted)))} if wanted else {}
    return [{"id": r.id, "area_id": r.area_id, "leader_id": r.leader_id, "leader": leaders.get(r.leader_id, ""),
             "day": r.day, "place": r.place, "note": r.note, "petition_ids": r.petition_ids,
             "numbers": [numbers.get(i, "") for i in r.petition_ids]} for r in rows], total


def leaders(session: Session, area_path: str) -> list[tuple[int, str]]:
    """Who may be named 包案 leader or receiving leader over an area: users holding ``centre_leader`` there
    whose role carries ``petition.view`` (the very rule ``_leader_eligible`` checks on assignment)."""
    rows = session.execute(select(User.id, Grant.role, Grant.area_path).join(Grant)
                           .where(User.is_active.is_(True), Grant.role == "centre_leader")
                           .execution_options(unscoped=True))
    eligible = {uid for uid, role, path in rows if path and area_path.startswith(path) and VIEW in permissions_of(role)}
    names = people.labels(session, eligible)
    return sorted(((uid, names[uid]) for uid in eligible if uid in names), key=lambda x: x[1])


# -- indicators ---------------------------------------------------------------------------------------------


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def indicators(session: Session, tz: ZoneInfo, since: date | None = None, until: date | None = None,
               area_path: str | None = None) -> dict[str, Any]:
    """初信初访 resolved at first instance (satisfied with the first answer, no 复查), on-time acceptance
    (decided within the acceptance limit), on-time closure (answered within the handling limit, extension
    included) and the repeat-petition rate, over the caller's petitions received from ``since`` to ``until``
    (both local dates, included), within ``area_path`` if given."""
    def n(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    stmt = select(
        func.count(Petition.id),
        n(Petition.first_time.is_(True) & Petition.satisfied.is_not(None)),
        n(Petition.first_time.is_(True) & Petition.satisfied.is_(True)),
        n(Petition.decided_at.is_not(None)),
        n(and_(Petition.decided_at.is_not(None), Petition.decided_at <= Petition.accept_due_at)),
        n(Petition.answered_at.is_not(None)),
        n(and_(Petition.answered_at.is_not(None), Petition.answered_at <= Petition.handle_due_at)),
        n(Petition.earlier_count > 0),
    )
    if since is not None:
        stmt = stmt.where(Petition.received_at >= datetime.combine(since, datetime.min.time(), tz))
    if until is not None:
        stmt = stmt.where(Petition.received_at < datetime.combine(until + timedelta(days=1), datetime.min.time(), tz))
    if area_path is not None:
        stmt = stmt.where(Petition.area_path.startswith(area_path, autoescape=True))
    total, first_eval, first_ok, decided, decided_ok, answered, answered_ok, repeat = (
        int(x) for x in session.execute(stmt).one())
    return {
        "total": total,
        "first_time_evaluated": first_eval, "first_time_resolved": first_ok,
        "first_time_resolved_rate": _rate(first_ok, first_eval),
        "decided": decided, "decided_on_time": decided_ok, "on_time_acceptance_rate": _rate(decided_ok, decided),
        "answered": answered, "answered_on_time": answered_ok, "on_time_closure_rate": _rate(answered_ok, answered),
        "repeat": repeat, "repeat_rate": _rate(repeat, total),
    }
