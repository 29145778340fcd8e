"""Records: opening one (referred or found), reading (masked, every read audited), the timeline, the audited
reveal, the state actions, the team, grade-change requests and their approval, and visits.

Personal data stays in the register: a record shows the person's name and ID number masked from
``registry_person``; the clear value only through ``reveal`` with a reason. The person is read without the
register's own scope once the record itself is visible, because the team (a police officer, a cadre) may be
on a record of a person outside the grids they hold register rights for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.core import audit
from shiyu.core.db import get_or_not_found
from shiyu.core.errors import Conflict, ValidationFailed
from shiyu.core.paging import PageParams, paginate
from shiyu.core.pii import mask, reveal_reason
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.keypersons import groups, items, plans, workflow
from shiyu.keypersons.errors import KeyPersonError, invalid
from shiyu.keypersons.models import (
    APPROVE,
    MANAGE,
    REVEAL,
    VISIT,
    GradeChange,
    GradeRequest,
    KeyPersonEvent,
    KeyPersonGroup,
    KeyPersonRecord,
    State,
    Visit,
    Warning,
)
from shiyu.org.identity import people
from shiyu.org.identity.models import Grant, User
from shiyu.org.identity.roles import Role
from shiyu.registry import service as registry
from shiyu.registry.models import Person

UNSCOPED = {"unscoped": True}
PERSON_FIELDS = {"name": "name", "id_number": "id_number", "phone": "phone"}
RECORD_FIELDS = {"guardian_name": "name", "guardian_phone": "phone"}


@dataclass(frozen=True)
class Team:
    grid_worker_id: int | None = None
    police_id: int | None = None
    cadre_id: int | None = None
    guardian_name: str | None = None
    guardian_phone: str | None = None


@dataclass(frozen=True)
class Opening:
    person_id: int
    group_code: str
    grade: str
    source: str
    source_ref: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    team: Team = Team()
    period_start: date | None = None
    period_end: date | None = None


def log(session: Session, record: KeyPersonRecord, kind: str, principal: Principal, *, actor_id: int | None = None,
        **data: Any) -> None:
    """One timeline entry; ``actor_id`` names who did it when the system writes it for them (a visit sent as a
    work item is recorded by the system, made by the grid worker)."""
    session.add(KeyPersonEvent(record_id=record.id, kind=kind, at=utcnow(), actor_id=actor_id or principal.user_id,
                               data=data, area_path=record.area_path))


def _check_team(session: Session, team: Team) -> None:
    ids = [i for i in (team.grid_worker_id, team.police_id, team.cadre_id) if i is not None]
    found = set(session.scalars(select(User.id).where(User.id.in_(ids), User.is_active), execution_options=UNSCOPED))
    missing = [i for i in ids if i not in found]
    if missing:
        raise invalid("team", "责任人不存在或已停用", "A team member does not exist or is inactive")


def open_record(session: Session, principal: Principal, opening: Opening) -> KeyPersonRecord:
    """A new record in ``referred`` (handed over by an authority) or ``found`` (the grid found the person).
    The person must be in the caller's register scope; a person already open in the group is refused."""
    person = registry.get_person(session, opening.person_id)
    principal.require(MANAGE, person.area_path)
    group = groups.get_group(session, opening.group_code)
    groups.check_grade(group, opening.grade)
    if opening.source not in groups.SOURCES:
        raise invalid("source", "来源不正确", "Unknown source")
    attributes = groups.check_attributes(group, opening.attributes)
    _check_team(session, opening.team)
    open_already = session.scalar(select(KeyPersonRecord.id).where(
        KeyPersonRecord.person_id == person.id, KeyPersonRecord.group_code == group.code,
        KeyPersonRecord.state.in_([s.value for s in State if s.value not in
                                   (State.RELEASED, State.TRANSFERRED, State.DECEASED)])),
        execution_options=UNSCOPED)
    if open_already is not None:
        raise KeyPersonError("keyperson_already_open", "该人员在此类别中已有在管记录",
                             "This person already has an open record in this group", detail={"record_id": open_already})
    record = KeyPersonRecord(
        person_id=person.id, group_code=group.code, grid_id=person.grid_id, area_path=person.area_path,
        source=opening.source, source_ref=opening.source_ref, grade=opening.grade,
        state=(State.FOUND if opening.source == "grid" else State.REFERRED).value,
        attributes=json.dumps(attributes, ensure_ascii=False), opened_at=utcnow(),
        period_start=opening.period_start, period_end=opening.period_end, **_team_values(opening.team))
    session.add(record)
    session.flush()
    log(session, record, "opened", principal, state=record.state, source=record.source, grade=record.grade)
    return record


def _team_values(team: Team) -> dict[str, Any]:
    return {"grid_worker_id": team.grid_worker_id, "police_id": team.police_id, "cadre_id": team.cadre_id,
            "guardian_name": team.guardian_name or None, "guardian_phone": team.guardian_phone or None}


def get_record(session: Session, record_id: int) -> KeyPersonRecord:
    return get_or_not_found(session, KeyPersonRecord, record_id, "keyperson")


def persons_of(session: Session, ids: set[int]) -> dict[int, Person]:
    if not ids:
        return {}
    return {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(ids)), execution_options=UNSCOPED)}


def groups_by_code(session: Session) -> dict[str, KeyPersonGroup]:
    return {g.code: g for g in session.scalars(select(KeyPersonGroup))}


def record_row(record: KeyPersonRecord, person: Person | None, group: KeyPersonGroup | None,
               today: date) -> dict[str, Any]:
    """A record as lists show it: the person masked, no attributes."""
    return {
        "id": record.id, "person_id": record.person_id, "group_code": record.group_code,
        "group_name": group.name_zh if group else record.group_code,
        "group_name_en": group.name_en if group else record.group_code,
        "grade": record.grade, "state": record.state, "source": record.source, "grid_id": record.grid_id,
        "name": mask("name", person.name) if person else None,
        "id_number": mask("id_number", person.id_number) if person else None,
        "next_due_on": record.next_due_on, "last_visit_on": record.last_visit_on,
        "last_verified_on": record.last_verified_on,
        "overdue_days": plans.overdue_days(record.next_due_on, today) if record.state in (
            State.ENROLLED.value, State.LOST_CONTACT.value) else 0,
        "warning": record.warning, "version": record.version,
    }


@dataclass(frozen=True)
class RecordFilter:
    group_code: str | None = None
    state: str | None = None
    grid_id: int | None = None
    warning: str | None = None
    overdue: bool = False


def list_records(session: Session, filters: RecordFilter, params: PageParams, today: date
                 ) -> tuple[list[dict[str, Any]], int]:
    """One page of the records the caller may see (the scope does the rest); the read is audited."""
    stmt = select(KeyPersonRecord).order_by(KeyPersonRecord.next_due_on.is_(None), KeyPersonRecord.next_due_on,
                                            KeyPersonRecord.id)
    if filters.group_code:
        stmt = stmt.where(KeyPersonRecord.group_code == filters.group_code)
    if filters.state:
        stmt = stmt.where(KeyPersonRecord.state == filters.state)
    if filters.grid_id:
        stmt = stmt.where(KeyPersonRecord.grid_id == filters.grid_id)
    if filters.warning:
        stmt = stmt.where(KeyPersonRecord.warning == filters.warning)
    if filters.overdue:
        stmt = stmt.where(KeyPersonRecord.state.in_(plans.VISITED_STATES), KeyPersonRecord.next_due_on < today)
    rows, total = paginate(session, stmt, params)
    if rows:
        audit.record(session, "read", "kp_record", None, area_path=audit.common_path([r.area_path for r in rows]),
                     after={"ids": [r.id for r in rows]})
    persons = persons_of(session, {r.person_id for r in rows})
    names = groups_by_code(session)
    return [record_row(r, persons.get(r.person_id), names.get(r.group_code), today) for r in rows], total


def detail(session: Session, principal: Principal, record_id: int, today: date) -> dict[str, Any]:
    """A record with its team, its group's form answers, its pending grade request and what the caller may do
    next; the read is audited."""
    record = get_record(session, record_id)
    audit.record(session, "read", "kp_record", record.id, area_path=record.area_path)
    person = persons_of(session, {record.person_id}).get(record.person_id)
    group = groups_by_code(session).get(record.group_code)
    users = people.labels(session, [record.grid_worker_id, record.police_id, record.cadre_id])
    pending = session.scalar(select(GradeChange).where(GradeChange.record_id == record.id,
                                                       GradeChange.status == GradeRequest.PENDING.value))
    return {
        **record_row(record, person, group, today),
        "area_path": record.area_path, "source_ref": record.source_ref,
        "phone": mask("phone", person.phone) if person else None,
        "attributes": json.loads(record.attributes or "{}"), "form": group.form if group else [],
        "team": {"grid_worker_id": record.grid_worker_id, "police_id": record.police_id,
                 "cadre_id": record.cadre_id, "grid_worker": users.get(record.grid_worker_id or 0),
                 "police": users.get(record.police_id or 0), "cadre": users.get(record.cadre_id or 0),
                 "guardian_name": mask("name", record.guardian_name),
                 "guardian_phone": mask("phone", record.guardian_phone)},
        "period_start": record.period_start, "period_end": record.period_end,
        "enrolled_on": record.enrolled_on, "closed_on": record.closed_on, "case_id": record.case_id,
        "pending_grade": None if pending is None else {
            "id": pending.id, "from_grade": pending.from_grade, "to_grade": pending.to_grade,
            "reason": pending.reason, "requested_by": pending.requested_by,
            "may_decide": principal.can(APPROVE, record.area_path) and pending.requested_by != principal.user_id},
        "actions": workflow.allowed_actions(principal, record),
        "may_visit": may_visit(principal, record),
        "may_manage": principal.can(MANAGE, record.area_path),
        "may_reveal": may_reveal(principal, record),
    }


def timeline(session: Session, record_id: int) -> list[dict[str, Any]]:
    record = get_record(session, record_id)
    events = list(session.scalars(select(KeyPersonEvent).where(KeyPersonEvent.record_id == record.id)
                                  .order_by(KeyPersonEvent.at, KeyPersonEvent.id)))
    users = people.labels(session, [e.actor_id for e in events])
    return [{"id": e.id, "kind": e.kind, "at": e.at, "by": users.get(e.actor_id or 0), "data": e.data}
            for e in events]


def may_reveal(principal: Principal, record: KeyPersonRecord) -> bool:
    return principal.can(REVEAL, record.area_path) or (workflow.on_team(principal, record)
                                                        and principal.has_permission(VISIT))


def may_visit(principal: Principal, record: KeyPersonRecord) -> bool:
    return record.state in plans.VISITED_STATES and (
        principal.can(MANAGE, record.area_path)
        or (workflow.on_team(principal, record) and principal.has_permission(VISIT)))


def reveal(session: Session, principal: Principal, record_id: int, field_name: str, reason: str) -> str | None:
    """One personal-data field in the clear (break the glass): the person's name, ID number or phone from the
    register, or the guardian's; needs a reason, and the entry names the field."""
    if field_name not in (*PERSON_FIELDS, *RECORD_FIELDS):
        raise ValidationFailed("unknown_field", "该字段不可查看", "No such personal-data field",
                               detail={"field": field_name[:40]})
    reason = reveal_reason(reason)
    record = get_record(session, record_id)
    if not may_reveal(principal, record):
        raise KeyPersonError("keyperson_not_allowed", "您不能查看该人员的个人信息",
                             "You may not see this person's personal data", status=403)
    audit.record(session, "reveal", "kp_record", record.id, area_path=record.area_path, reason=reason,
                 after={"field": field_name})
    if field_name in RECORD_FIELDS:
        value: str | None = getattr(record, field_name)
        return value
    person = persons_of(session, {record.person_id}).get(record.person_id)
    return getattr(person, field_name) if person else None


def _checked_version(record: KeyPersonRecord, expected: int | None) -> None:
    if expected is not None and expected != record.version:
        raise Conflict(detail={"version": record.version})


def act(session: Session, principal: Principal, record_id: int, action: str, *, note: str = "",
        expected_version: int | None = None, today: date) -> KeyPersonRecord:
    """Take one step of the state table. Enrolment needs a grid worker on the team and starts the visit plan;
    a release, a death or a transfer closes the record (its retention period starts)."""
    record = get_record(session, record_id)
    _checked_version(record, expected_version)
    if action in workflow.INTERNAL:
        raise KeyPersonError("keyperson_bad_transition", "迁出须通过移交办理", "A transfer goes through a hand-over",
                             detail={"state": record.state, "action": action})
    step = workflow.step_for(principal, record, action)
    _apply(session, principal, record, step.to, action, note, today)
    return record


def _apply(session: Session, principal: Principal, record: KeyPersonRecord, to: State, action: str, note: str,
           today: date) -> None:
    if to is State.ENROLLED and record.state == State.VERIFYING.value:
        if record.grid_worker_id is None:
            raise invalid("grid_worker_id", "列管前须指定责任网格员", "Name the responsible grid worker first")
        record.enrolled_on = today
        record.period_start = record.period_start or today
    before = record.state
    record.state = to.value
    if to in (State.RELEASED, State.TRANSFERRED, State.DECEASED):
        record.closed_on = today
        record.next_due_on = None
        record.warning = Warning.NONE.value
    elif to in (State.ENROLLED, State.LOST_CONTACT):
        plans.schedule(session, record, today)
    session.flush()
    log(session, record, "state", principal, action=action, before=before, after=record.state, note=note[:500])
    if to is State.LOST_CONTACT:
        search = items.open_search(session, record, today, items.TZ)
        log(session, record, "search_opened", principal, item_id=search.id)


def set_team(session: Session, principal: Principal, record_id: int, team: Team,
             expected_version: int | None = None) -> KeyPersonRecord:
    record = get_record(session, record_id)
    principal.require(MANAGE, record.area_path)
    _checked_version(record, expected_version)
    _check_team(session, team)
    for key, value in _team_values(team).items():
        setattr(record, key, value)
    session.flush()
    log(session, record, "team", principal, grid_worker_id=team.grid_worker_id, police_id=team.police_id,
        cadre_id=team.cadre_id)
    return record


def grid_workers(session: Session, grid_id: int) -> list[tuple[int, str]]:
    """The active grid workers granted over ``grid_id``, as colleagues name them (masked name · unit): who may
    be named the record's responsible grid worker."""
    ids = set(session.scalars(select(Grant.user_id).join(User, User.id == Grant.user_id).where(
        Grant.area_id == grid_id, Grant.role == Role.GRID_WORKER.value, User.is_active.is_(True)),
        execution_options=UNSCOPED))
    return sorted(people.labels(session, ids).items(), key=lambda pair: (pair[1], pair[0]))


def name_grid_worker(session: Session, principal: Principal, record_id: int, grid_worker_id: int,
                     expected_version: int | None = None) -> KeyPersonRecord:
    """The centre names the responsible grid worker (the record page's 责任网格员) — one of the person's grid's
    workers; the rest of the team stays. A referral from a dispute or a petition arrives without one, and
    enrolment needs one."""
    record = get_record(session, record_id)
    principal.require(MANAGE, record.area_path)
    if grid_worker_id not in dict(grid_workers(session, record.grid_id)):
        raise invalid("grid_worker_id", "请选择该人员所在网格的网格员", "Choose a grid worker of the person's grid")
    return set_team(session, principal, record_id, Team(
        grid_worker_id=grid_worker_id, police_id=record.police_id, cadre_id=record.cadre_id,
        guardian_name=record.guardian_name, guardian_phone=record.guardian_phone), expected_version)


def request_grade(session: Session, principal: Principal, record_id: int, to_grade: str, reason: str) -> GradeChange:
    """Ask for a grade change (the team or the centre); it takes effect when a centre leader approves it."""
    record = get_record(session, record_id)
    if not (principal.can(MANAGE, record.area_path) or may_visit(principal, record)):
        raise KeyPersonError("keyperson_not_allowed", "您不能申请调整该人员等级", "You may not ask for a grade change",
                             status=403)
    group = groups.get_group(session, record.group_code)
    groups.check_grade(group, to_grade)
    if to_grade == record.grade:
        raise invalid("to_grade", "新等级与当前等级相同", "The new grade is the current grade")
    reason = reason.strip()
    if len(reason) < 2:
        raise invalid("reason", "请说明调整理由", "Give a reason")
    if session.scalar(select(GradeChange.id).where(GradeChange.record_id == record.id,
                                                   GradeChange.status == GradeRequest.PENDING.value)) is not None:
        raise KeyPersonError("keyperson_grade_pending", "已有待审批的等级调整", "A grade change is already waiting")
    change = GradeChange(record_id=record.id, from_grade=record.grade, to_grade=to_grade, reason=reason[:500],
                         status=GradeRequest.PENDING.value,
                         requested_by=principal.user_id, requested_at=utcnow(), area_path=record.area_path)
    session.add(change)
    session.flush()
    log(session, record, "grade_requested", principal, request_id=change.id, from_grade=record.grade,
        to_grade=to_grade)
    return change


def decide_grade(session: Session, principal: Principal, change_id: int, approve: bool, note: str,
                 today: date) -> GradeChange:
    """A centre leader approves or refuses a grade change; never the one who asked for it."""
    change = get_or_not_found(session, GradeChange, change_id, "grade_change")
    record = get_record(session, change.record_id)
    principal.require(APPROVE, record.area_path)
    if change.status != GradeRequest.PENDING.value:
        raise KeyPersonError("keyperson_grade_decided", "该申请已处理", "This request was decided already")
    if change.requested_by is not None and change.requested_by == principal.user_id:
        raise KeyPersonError("keyperson_own_request", "不能审批自己提出的等级调整",
                             "You cannot approve your own request", status=403)
    change.status = (GradeRequest.APPROVED if approve else GradeRequest.REFUSED).value
    change.decided_by = principal.user_id
    change.decided_at = utcnow()
    change.note = note[:500]
    if approve:
        record.grade = change.to_grade
        if record.state in plans.VISITED_STATES:
            plans.schedule(session, record, today)
    session.flush()
    log(session, record, "grade_decided", principal, request_id=change.id, approved=approve,
        from_grade=change.from_grade, to_grade=change.to_grade)
    return change


@dataclass(frozen=True)
class VisitReport:
    visited_on: date
    findings: dict[str, Any] = field(default_factory=dict)
    assessed_grade: str | None = None
    lon: float | None = None
    lat: float | None = None
    photos: tuple[int, ...] = ()
    client_uuid: str | None = None
    task_item_id: int | None = None
    by_id: int | None = None  # from a work item: who did it (the event's ``by``), else the caller


def record_visit(session: Session, principal: Principal, record_id: int, report: VisitReport,
                 today: date) -> tuple[Visit, bool]:
    """A visit done: the next one is scheduled from it, the warning clears; an assessed grade other than the
    record's becomes a grade-change request for the centre. A resend with the same ``client_uuid`` answers the
    first visit (``created`` False)."""
    if report.client_uuid:
        first = session.scalar(select(Visit).where(Visit.client_uuid == report.client_uuid),
                               execution_options=UNSCOPED)
        if first is not None:
            if first.by_id != principal.user_id:
                raise KeyPersonError("keyperson_uuid_taken", "该提交编号已被使用", "This submission id is taken")
            return first, False
    record = get_record(session, record_id)
    if not may_visit(principal, record):
        raise KeyPersonError("keyperson_not_allowed", "您不能登记该人员的走访", "You may not record a visit here",
                             status=403, detail={"state": record.state})
    if report.visited_on > today:
        raise invalid("visited_on", "走访日期不能晚于今天", "A visit cannot be in the future")
    group = groups.get_group(session, record.group_code)
    if report.assessed_grade is not None:
        groups.check_grade(group, report.assessed_grade)
    visit = Visit(record_id=record.id, group_code=record.group_code, due_on=record.next_due_on,
                  visited_on=report.visited_on, at=utcnow(),
                  by_id=report.by_id if report.task_item_id else principal.user_id, lon=report.lon, lat=report.lat,
                  findings=json.dumps(report.findings, ensure_ascii=False) if report.findings else None,
                  assessed_grade=report.assessed_grade, photos=list(report.photos),
                  on_time=record.next_due_on is None or report.visited_on <= record.next_due_on,
                  client_uuid=report.client_uuid, task_item_id=report.task_item_id, area_path=record.area_path)
    session.add(visit)
    if report.task_item_id is None:
        items.close_open_visit(session, record, record.next_due_on)
    if record.last_visit_on is None or report.visited_on >= record.last_visit_on:
        record.last_visit_on = report.visited_on
    record.warning = Warning.NONE.value
    plans.schedule(session, record, today)
    session.flush()
    log(session, record, "visit", principal, actor_id=visit.by_id, visit_id=visit.id,
        visited_on=report.visited_on.isoformat(), on_time=visit.on_time, assessed_grade=report.assessed_grade)
    if report.assessed_grade is not None and report.assessed_grade != record.grade:
        pending = session.scalar(select(GradeChange.id).where(GradeChange.record_id == record.id,
                                                              GradeChange.status == GradeRequest.PENDING.value))
        if pending is None:
            request_grade(session, principal, record.id, report.assessed_grade, "走访评估 / assessed on a visit")
    return visit, True


def visits(session: Session, record_id: int) -> list[Visit]:
    record = get_record(session, record_id)
    return list(session.scalars(select(Visit).where(Visit.record_id == record.id)
                                .order_by(Visit.visited_on.desc(), Visit.id.desc())))


def grade_requests(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """Pending grade changes the caller may decide (approval over the record's area, not their own)."""
    rows = list(session.scalars(select(GradeChange).where(GradeChange.status == GradeRequest.PENDING.value)
                                .order_by(GradeChange.requested_at)))
    return [{"id": c.id, "record_id": c.record_id, "from_grade": c.from_grade, "to_grade": c.to_grade,
             "reason": c.reason, "requested_at": c.requested_at}
            for c in rows if principal.can(APPROVE, c.area_path) and c.requested_by != principal.user_id]
