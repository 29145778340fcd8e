"""The key-person tables.

A record is one person of the register in one special group (the same person may be in two groups: two
records). Personal data stays in the register (``registry_person``, encrypted); a record holds the person's
id, the group's attribute form answers (encrypted: diagnoses and offences are sensitive) and the team.

Access is the strictest in the platform (docs/adr/0010): ``keyperson.view`` is held by the centre leaders
only; everyone else sees a record only while they are on its team (``__extra_scope__``: grid worker, police
officer or cadre named on the record). A grid worker of another grid, a grid worker of the same grid not on
the team, an operator, an analyst and a citizen see nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, or_, select
from sqlalchemy.orm import Mapped, mapped_column

from shiyu.core.db import Base, TimestampMixin
from shiyu.core.pii import personal
from shiyu.core.scoping import Principal, ScopedMixin, register_scoped

VIEW = "keyperson.view"
MANAGE = "keyperson.manage"
APPROVE = "keyperson.approve"
VISIT = "keyperson.visit"
REVEAL = "keyperson.reveal"


class State(StrEnum):
    REFERRED = "referred"  # 移交（司法、公安、卫健、信访）
    FOUND = "found"  # 网格发现
    VERIFYING = "verifying"  # 核实中
    ENROLLED = "enrolled"  # 在管
    LOST_CONTACT = "lost_contact"  # 失联
    RELEASED = "released"  # 解除
    TRANSFERRED = "transferred"  # 迁出（已移交他区）
    DECEASED = "deceased"  # 死亡


ACTIVE_STATES = (State.ENROLLED.value, State.LOST_CONTACT.value)
OPEN_STATES = (State.REFERRED.value, State.FOUND.value, State.VERIFYING.value, *ACTIVE_STATES)


class Warning(StrEnum):
    NONE = "none"
    YELLOW = "yellow"
    RED = "red"


class GradeScheme(StrEnum):
    DANGER = "danger05"  # 严重精神障碍: 危险性评估 0–5 级
    COLOUR = "rgy"  # 红 / 黄 / 绿


GRADES: dict[str, tuple[str, ...]] = {GradeScheme.DANGER.value: ("0", "1", "2", "3", "4", "5"),
                                      GradeScheme.COLOUR.value: ("red", "yellow", "green")}


class KeyPersonGroup(Base):
    """A special group as data: its name, its grade scheme and the attribute form its records answer
    (fields ``{name, label, label_en, type: text|date|choice|number|yesno, required, options}``)."""

    __tablename__ = "kp_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(80))
    grade_scheme: Mapped[str] = mapped_column(String(10), default=GradeScheme.COLOUR.value)
    form: Mapped[list[Any]] = mapped_column(default=list)
    order: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)


class VisitPlan(Base):
    """How often a record of a group at a grade is visited (days between visits), with where the figure comes
    from (``basis``: the national rule it cites, or "configurable default")."""

    __tablename__ = "kp_visit_plan"
    __table_args__ = (UniqueConstraint("group_code", "grade"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_code: Mapped[str] = mapped_column(ForeignKey("kp_group.code", ondelete="CASCADE"))
    grade: Mapped[str] = mapped_column(String(10))
    interval_days: Mapped[int]
    basis: Mapped[str] = mapped_column(String(200), default="")


def _team_clauses(cls: Any, principal: Principal) -> list[Any]:
    uid = principal.user_id
    if uid is None:
        return []
    return [or_(cls.grid_worker_id == uid, cls.police_id == uid, cls.cadre_id == uid)]


def _on_team(principal: Principal) -> list[Any]:
    return _team_clauses(KeyPersonRecord, principal)


def _team_writes(principal: Principal, row: Any) -> bool:
    """The team records visits and reports lost contact on their own records (``keyperson.visit``)."""
    uid = principal.user_id
    return (uid is not None and uid in (row.grid_worker_id, row.police_id, row.cadre_id)
            and principal.has_permission(VISIT))


@register_scoped
class KeyPersonRecord(ScopedMixin, TimestampMixin, Base):
    """One person in one group. ``next_due_on`` is the date the next visit is due (set-based recompute in
    ``shiyu.keypersons.plans``); ``warning`` rises none → yellow → red while a visit is missed, and
    ``case_id`` names the case filed once it is missed past the limit."""

    __tablename__ = "kp_record"
    __table_args__ = (
        Index("ix_kp_record_due", "state", "next_due_on"),
        Index("ix_kp_record_worker_due", "grid_worker_id", "next_due_on"),
        # The dashboard's and the indicators' grouped counts read this index alone (an index-only scan).
        Index("ix_kp_record_figures", "area_path", "group_code", "state", "warning", "next_due_on"),
        UniqueConstraint("person_id", "group_code", "opened_at"),
    )
    __view_permission__ = VIEW
    __write_permission__ = MANAGE
    __extra_scope__ = staticmethod(_on_team)
    __extra_write__ = staticmethod(_team_writes)

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=1)
    person_id: Mapped[int] = mapped_column(ForeignKey("registry_person.id", ondelete="RESTRICT"), index=True)
    group_code: Mapped[str] = mapped_column(ForeignKey("kp_group.code", ondelete="RESTRICT"), index=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"), index=True)
    source: Mapped[str] = mapped_column(String(16))
    source_ref: Mapped[str] = mapped_column(String(80), default="")  # 移交文书号、纠纷或预警编号
    grade: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(16), default=State.FOUND.value)
    attributes: Mapped[str | None] = personal("text")  # JSON of the group's form, encrypted
    grid_worker_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    police_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    cadre_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    guardian_name: Mapped[str | None] = personal("name")
    guardian_phone: Mapped[str | None] = personal("phone")
    opened_at: Mapped[datetime]
    period_start: Mapped[date | None]
    period_end: Mapped[date | None]
    enrolled_on: Mapped[date | None]
    closed_on: Mapped[date | None]
    last_visit_on: Mapped[date | None]
    # The day a census (集中清查, shiyu.keypersons.census) last confirmed the person is here: met, or still living
    # in the area; a visit does not set it — a census is the centre's own check that the register is true.
    last_verified_on: Mapped[date | None]
    next_due_on: Mapped[date | None]
    warning: Mapped[str] = mapped_column(String(8), default=Warning.NONE.value)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id", ondelete="SET NULL"))

    __mapper_args__ = {"version_id_col": version}


def _via_record(cls: Any) -> Any:
    def clauses(principal: Principal) -> list[Any]:
        team = _team_clauses(KeyPersonRecord, principal)
        if not team:
            return []
        return [cls.record_id.in_(select(KeyPersonRecord.id).where(*team).scalar_subquery())]
    return staticmethod(clauses)


@register_scoped
class KeyPersonEvent(ScopedMixin, Base):
    """The timeline: enrolment, state changes, grade requests and decisions, visits, hand-overs. ``data`` never
    holds personal data (ids, grades, dates, codes only)."""

    __tablename__ = "kp_event"
    __table_args__ = (Index("ix_kp_event_record", "record_id", "at"),)
    __view_permission__ = VIEW
    __write_permission__ = MANAGE

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("kp_record.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


KeyPersonEvent.__extra_scope__ = _via_record(KeyPersonEvent)
KeyPersonEvent.__extra_write__ = staticmethod(
    lambda principal, row: principal.has_permission(VISIT))


class GradeRequest(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


@register_scoped
class GradeChange(ScopedMixin, Base):
    """A request to change a record's grade; a centre leader other than the requester decides it."""

    __tablename__ = "kp_grade_change"
    __view_permission__ = VIEW
    __write_permission__ = MANAGE

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("kp_record.id", ondelete="CASCADE"), index=True)
    from_grade: Mapped[str] = mapped_column(String(10))
    to_grade: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(10), default=GradeRequest.PENDING.value)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(String(500), default="")


GradeChange.__extra_scope__ = _via_record(GradeChange)
GradeChange.__extra_write__ = staticmethod(
    lambda principal, row: row.status == GradeRequest.PENDING.value and principal.has_permission(VISIT))


@register_scoped
class Visit(ScopedMixin, Base):
    """One visit done (走访): when it was due and when it happened, who, where (GPS), what was found (form
    answers, encrypted), photos, the grade the visitor assessed. ``client_uuid`` makes the field app's resend
    store once."""

    __tablename__ = "kp_visit"
    __table_args__ = (Index("ix_kp_visit_record", "record_id", "visited_on"),
                      Index("ix_kp_visit_figures", "area_path", "visited_on", "group_code", "on_time"))
    __view_permission__ = VIEW
    __write_permission__ = VISIT

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("kp_record.id", ondelete="CASCADE"))
    group_code: Mapped[str] = mapped_column(String(32))  # the record's, so the indicators need no join
    due_on: Mapped[date | None]
    visited_on: Mapped[date]
    at: Mapped[datetime]
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    lon: Mapped[float | None]
    lat: Mapped[float | None]
    findings: Mapped[str | None] = personal("text")
    assessed_grade: Mapped[str | None] = mapped_column(String(10))
    photos: Mapped[list[Any]] = mapped_column(default=list)
    on_time: Mapped[bool] = mapped_column(default=True)
    client_uuid: Mapped[str | None] = mapped_column(String(64), unique=True)
    task_item_id: Mapped[int | None]


Visit.__extra_scope__ = _via_record(Visit)


class HandoverKind(StrEnum):
    INTAKE = "intake"  # 必接必送: from a prison, a 戒毒所 or a hospital into this area
    TRANSFER = "transfer"  # the person moves: to another area's centre


class HandoverState(StrEnum):
    SENT = "sent"  # the sending side confirmed it hands the person over
    RECEIVED = "received"  # the receiving side confirmed it took them over
    CANCELLED = "cancelled"


def _handover_sender(principal: Principal) -> list[Any]:
    return [Handover.from_path.startswith(p, autoescape=True) for p in principal.paths_with(MANAGE)]


@register_scoped
class Handover(ScopedMixin, Base):
    """A hand-over with both sides' confirmation. ``area_path`` is the receiving area; the sending centre sees
    it too (``from_path``). An intake names the institution (``from_org``) and the document it sent; a
    transfer moves an existing record only when the receiver confirms, so the person is never nobody's."""

    __tablename__ = "kp_handover"
    __view_permission__ = VIEW
    __write_permission__ = MANAGE
    __extra_scope__ = staticmethod(_handover_sender)
    __extra_write__ = staticmethod(lambda principal, row: any(
        row.from_path.startswith(p) for p in principal.paths_with(MANAGE)) if row.from_path else False)

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=1)
    kind: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(10), default=HandoverState.SENT.value)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("kp_record.id", ondelete="SET NULL"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("registry_person.id", ondelete="RESTRICT"))
    group_code: Mapped[str] = mapped_column(ForeignKey("kp_group.code", ondelete="RESTRICT"))
    from_org: Mapped[str] = mapped_column(String(100), default="")
    from_path: Mapped[str | None] = mapped_column(String(160))
    to_grid_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"))
    document_no: Mapped[str] = mapped_column(String(60), default="")
    due_on: Mapped[date | None]  # 释放日期 / the day the receiver must take the person over
    items: Mapped[list[Any]] = mapped_column(default=list)  # what travels with the person (文书, 档案)
    sent_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime]
    sender_name: Mapped[str | None] = personal("name")  # the institution's officer who handed over
    received_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    received_at: Mapped[datetime | None]
    received_items: Mapped[list[Any]] = mapped_column(default=list)
    note: Mapped[str] = mapped_column(String(500), default="")

    __mapper_args__ = {"version_id_col": version}
