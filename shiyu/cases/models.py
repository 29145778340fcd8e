"""The case (事件/案件) and what hangs off it: timeline, department assignments (主办/协办), approval requests
(延期/挂账), attachments, and the API clients that push cases in.

Scope: every case row carries its grid's ``area_path``, so centre staff and grid workers see the cases
under their grants. Two kinds of people see cases outside their area grants: department staff see cases
assigned to their department (any role, main or assisting), and reporters see the cases they reported.
Child rows (timeline, requests, attachments) are visible exactly when their case is.

Writes are checked at flush against ``_may_write_case``: only people with some role on the case can
change it. The sharp checks — which role, at which level, in which state — are the workflow engine's
(``shiyu.cases.workflow.engine``); this is the second line that catches a write path that bypasses the engine.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, event, inspect, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shiyu.core import live, textsearch
from shiyu.core.db import Base, TimestampMixin
from shiyu.core.pii import blind_hash, blind_index, personal
from shiyu.core.scoping import Principal, ScopedMixin, register_scoped
from shiyu.core.timeutil import utcnow
from shiyu.org.identity.api_clients import ApiPrincipal

# Every permission that gives a role on a case somewhere (see shiyu.cases.permissions).
CASE_ROLE_PERMISSIONS = (
    "case.view", "case.report", "case.register", "case.dispatch", "case.handle", "case.verify", "case.close",
    "case.supervise", "case.approve", "case.evaluate",
)


class CaseState(StrEnum):
    REPORTED = "reported"  # 已上报，待立案
    REJECTED = "rejected"  # 不予立案
    MERGED = "merged"  # 已合并（重复上报）
    TO_DISPATCH = "to_dispatch"  # 已立案，待派遣
    TO_ACCEPT = "to_accept"  # 已派遣，待签收
    HANDLING = "handling"  # 处置中
    SUSPENDED = "suspended"  # 挂账/缓办（计时暂停）
    TO_VERIFY = "to_verify"  # 已反馈，待核查
    TO_CLOSE = "to_close"  # 核查通过，待结案
    CLOSED = "closed"  # 已结案


TERMINAL = frozenset({CaseState.REJECTED, CaseState.MERGED, CaseState.CLOSED})
OPEN_STATES = tuple(s for s in CaseState if s not in TERMINAL)


class Channel(StrEnum):
    GRID = "grid"  # 网格员巡查上报
    CITIZEN = "citizen"  # 群众上报（可匿名）
    HOTLINE = "hotline"  # 12345 热线代为登记
    DEPARTMENT = "department"  # 部门上报
    API = "api"  # 外部系统/物联感知/视频分析


class Rating(StrEnum):
    SATISFIED = "satisfied"  # 满意
    BASICALLY = "basically"  # 基本满意
    UNSATISFIED = "unsatisfied"  # 不满意


class AssignmentRole(StrEnum):
    MAIN = "main"  # 主办
    ASSIST = "assist"  # 协办


class RequestKind(StrEnum):
    EXTENSION = "extension"  # 延期
    SUSPENSION = "suspension"  # 挂账/缓办


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"


@dataclass
class AnonymousReporter(Principal):
    """Nobody logged in: may file a citizen report, nothing else. Being nobody, it owns nothing by name or id:
    the uploads stored during one request (the portal's photos, sent with the report they belong to) are
    tied to ``upload_secret``, a random value made for that request and known to nobody else, so no account
    and no other anonymous request can ever see or take them."""

    upload_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)

    @property
    def upload_secret_hash(self) -> str:
        return hashlib.sha256(self.upload_secret.encode()).hexdigest()


def _assigned_to(principal: Principal) -> Any:
    ids = principal.departments_with("case.handle")
    return select(CaseAssignment.case_id).where(CaseAssignment.department_id.in_(ids)) if ids else None


def _case_scope(principal: Principal) -> list[Any]:
    clauses: list[Any] = []
    assigned = _assigned_to(principal)
    if assigned is not None:
        clauses.append(Case.id.in_(assigned))
    if principal.user_id is not None:
        clauses.append(Case.reporter_user_id == principal.user_id)
    return clauses


def _child_scope(cls: Any) -> Callable[[Principal], list[Any]]:
    """Timeline entries, requests and attachments of the cases the caller sees through a department
    assignment. Not those of the cases the caller reported: a reporter sees the public view of their case
    (``shiyu.cases.service.case_view``), never its internal record."""

    def extra(principal: Principal) -> list[Any]:
        assigned = _assigned_to(principal)
        return [cls.case_id.in_(assigned)] if assigned is not None else []

    return extra


def has_case_role(principal: Principal, case: Case) -> bool:
    """Whether the caller's grants give them a role on this case: staff over its area (centres above it
    included) or a handler of one of its departments. Being its reporter is not such a role."""
    if principal.is_system or any(principal.can(p, case.area_path) for p in CASE_ROLE_PERMISSIONS):
        return True
    handling = set(principal.departments_with("case.handle"))
    return bool(handling) and any(a.department_id in handling for a in case.assignments)


def _may_write_case(principal: Principal, case: Case) -> bool:
    """Someone with a role on this case, or its reporter; a new citizen report by anyone (anonymous
    included)."""
    if inspect(case).pending and case.channel == Channel.CITIZEN:
        return case.reporter_user_id == principal.user_id
    if has_case_role(principal, case):
        return True
    return case.reporter_user_id is not None and case.reporter_user_id == principal.user_id


def _may_write_child(principal: Principal, obj: Any) -> bool:
    return obj.case is not None and _may_write_case(principal, obj.case)


@register_scoped
class Case(ScopedMixin, TimestampMixin, Base):
    """One case. ``area_path`` is its grid's path; ``centre_area_id``/``centre_path`` the area of the centre
    currently responsible (the grid's community centre at first; escalation moves it up, dispatch to a
    lower centre moves it down). ``version`` is the optimistic lock every transition bumps."""

    __tablename__ = "case"
    __table_args__ = (
        UniqueConstraint("submitter_key", "idempotency_key"),
        Index("ix_case_state_centre", "state", "centre_path"),
        Index("ix_case_step_due", "step_due_at"),
        # The 辖区 list's usual filters (shiyu.cases.listing) — state or department within the caller's area, a
        # category over a date range — as one range scan each instead of AND-ing bitmaps of every case in the
        # area or on the channel (bench/desk.py). They replace the single-column indexes on their first columns.
        Index("ix_case_state_area", "state", "area_path"),
        Index("ix_case_department_area", "main_department_id", "area_path"),
        Index("ix_case_category_reported", "category_id", "reported_at"),
        # Recent cases of one place (duplicate finding at intake, shiyu.triage.duplicates.case_duplicates).
        Index("ix_case_area_reported", "area_path", "reported_at"),
        # Recent and earlier cases of given grids (the same module: the grids around a point, a grid's
        # earlier cases); it also serves as the foreign key's index.
        Index("ix_case_grid_reported", "grid_id", "reported_at"),
        # Earlier cases at an address (repeat finding, same module): its look-up ORs grid, address and
        # phone, and one branch without an index turns the whole OR into a scan of every case in the window.
        Index("ix_case_address_reported", "address", "reported_at"),
        # Free-text search (shiyu.cases.search, docs/adr/0007-case-search-index.md): GIN on PostgreSQL; on
        # SQLite the column is always empty and its plain index costs nothing.
        Index("ix_case_search_grams", "search_grams", postgresql_using="gin"),
    )
    __view_permission__ = "case.view"
    __write_permission__ = "case.report"
    __extra_scope__ = staticmethod(_case_scope)
    __extra_write__ = staticmethod(_may_write_case)

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=1)
    tracking_code: Mapped[str] = mapped_column(String(16), unique=True)
    # Who submitted (user:<id>, api:<id>, or anon:<fingerprint of the report> for nobody) and their
    # client-generated key: a retried submission finds the first one through this pair instead of creating a
    # second case.
    submitter_key: Mapped[str] = mapped_column(String(40))
    idempotency_key: Mapped[str] = mapped_column(String(80))
    request_hash: Mapped[str] = mapped_column(String(64))

    channel: Mapped[str] = mapped_column(String(12))  # a handful of values: filtered on, never indexed
    state: Mapped[str] = mapped_column(String(16), default=CaseState.REPORTED)  # indexed with area_path
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id", ondelete="RESTRICT"))  # with reported_at
    urgency: Mapped[str] = mapped_column(String(10))
    description: Mapped[str] = mapped_column(Text)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    lon: Mapped[float]
    lat: Mapped[float]
    address: Mapped[str] = mapped_column(String(200), default="")
    grid_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"))
    # The component (部件) the report names, from the registers (``intake.hooks.resolve_component``); no foreign
    # key, as the registers sit above cases and may be absent
    component_id: Mapped[int | None] = mapped_column(index=True)
    centre_area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"))
    centre_path: Mapped[str] = mapped_column(
        String(160).with_variant(String(160, collation="C"), "postgresql")
    )
    occurred_at: Mapped[datetime | None]
    reported_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    # The reporter: a user (grid worker, logged-in citizen, department staff) or nobody (anonymous,
    # hotline caller, external system). Contact data is personal data: encrypted, masked when shown.
    reporter_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"),
                                                         index=True)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    api_client_id: Mapped[int | None] = mapped_column(ForeignKey("api_client.id", ondelete="SET NULL"))
    anonymous: Mapped[bool] = mapped_column(default=False)
    reporter_name: Mapped[str | None] = personal("name")
    reporter_name_hash: Mapped[str | None] = blind_index()
    reporter_phone: Mapped[str | None] = personal("phone")
    reporter_phone_hash: Mapped[str | None] = blind_index()
    # The last four digits of the phone as their own blind index: a caller reads them out on the line
    # (``phone_tail_hash``, kept by the attribute listener at the end of this module).
    reporter_phone_tail_hash: Mapped[str | None] = blind_index()
    # Tracking code, description and address normalised, with their character grams: the desk's search
    # (``shiyu.core.textsearch``), kept by the attribute listeners at the end of this module.
    search_text: Mapped[str] = mapped_column(Text, default="")
    search_grams: Mapped[list[str] | None] = mapped_column(textsearch.Grams())

    # The routing suggestion made at registration, with the rule that chose it and why.
    routing: Mapped[dict[str, Any] | None]
    main_department_id: Mapped[int | None] = mapped_column(  # indexed with area_path
        ForeignKey("department.id", ondelete="RESTRICT"))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("case.id", ondelete="SET NULL"))
    self_resolved: Mapped[bool] = mapped_column(default=False)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    # The running step's clock, in working or natural time (``step_basis``, fixed when the step starts).
    # ``step_limit_seconds`` grows with approved extensions; ``step_used_seconds`` is the time of that basis
    # consumed before the current running segment, which starts at ``step_segment_start`` (None while
    # suspended). warn/due/escalate are derived instants kept for queries.
    step: Mapped[str | None] = mapped_column(String(12))
    step_basis: Mapped[str] = mapped_column(String(8), default="working", server_default="working")
    step_started_at: Mapped[datetime | None]
    step_limit_seconds: Mapped[float | None]
    step_used_seconds: Mapped[float] = mapped_column(default=0.0)
    step_segment_start: Mapped[datetime | None]
    step_warn_at: Mapped[datetime | None]
    step_due_at: Mapped[datetime | None]
    step_escalate_at: Mapped[datetime | None]
    # 0 on time, 1 warned (yellow), 2 overdue (red), 3 overdue long enough to be escalated (auto 督办).
    step_alert: Mapped[int] = mapped_column(default=0, index=True)

    supervised: Mapped[bool] = mapped_column(default=False, index=True)
    listed_supervision: Mapped[bool] = mapped_column(default=False)
    rework_count: Mapped[int] = mapped_column(default=0)
    return_count: Mapped[int] = mapped_column(default=0)
    extension_count: Mapped[int] = mapped_column(default=0)
    overdue_steps: Mapped[int] = mapped_column(default=0)
    # Which steps were late, one bit per ``Step`` (``Step.bit``): set when a step ends after its due instant
    # or when the deadline scan marks it red. The indicators read this column, so a step finished late
    # counts as late whether or not a scan ran in between.
    late_steps: Mapped[int] = mapped_column(default=0)
    rating: Mapped[str | None] = mapped_column(String(12))
    registered_at: Mapped[datetime | None]
    dispatched_at: Mapped[datetime | None]
    handled_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    last_action_at: Mapped[datetime] = mapped_column(default=utcnow)

    assignments: Mapped[list[CaseAssignment]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseAssignment.id"
    )
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseEvent.id"
    )
    requests: Mapped[list[CaseRequest]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseRequest.id"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def state_enum(self) -> CaseState:
        return CaseState(self.state)

    def pending_request(self) -> CaseRequest | None:
        return next((r for r in self.requests if r.status == RequestStatus.PENDING), None)

    def assignment_of(self, department_id: int) -> CaseAssignment | None:
        return next((a for a in self.assignments if a.department_id == department_id), None)


@register_scoped
class CaseAssignment(ScopedMixin, Base):
    """A department on a case: the main one (主办) handles and reports the result; assisting ones (协办)
    report their part. Rows of an earlier dispatch stay, marked inactive, so the history keeps who had it."""

    __tablename__ = "case_assignment"
    __view_permission__ = "case.view"
    __write_permission__ = "case.dispatch"
    __extra_write__ = staticmethod(_may_write_child)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    role: Mapped[str] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(default=True)
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    reported_at: Mapped[datetime | None]
    report_note: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="assignments")


def _own_assignments(principal: Principal) -> list[Any]:
    ids = principal.departments_with("case.handle")
    return [CaseAssignment.department_id.in_(ids)] if ids else []


CaseAssignment.__extra_scope__ = staticmethod(_own_assignments)


def _live_facts(case: Case) -> dict[str, Any]:
    """What a live-update subscriber needs to apply the case scope above without reading the case: its main
    department (department staff) and its reporter (the reporter sees their own case); and its urgency, so
    the desk raises a 特急 case the moment it is committed without reading every other change."""
    return {"department_id": case.main_department_id, "reporter_user_id": case.reporter_user_id,
            "urgency": case.urgency}


PHONE_TAIL_DIGITS = 4


def phone_tail_hash(phone: str | None) -> str | None:
    """The blind index of a phone's last four digits (None for no phone or fewer digits)."""
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    return blind_hash("phone_tail", digits[-PHONE_TAIL_DIGITS:]) if len(digits) >= PHONE_TAIL_DIGITS else None


def _searchable(case: Case, changed: str, value: Any) -> None:
    parts = {key: (value if key == changed else case.__dict__.get(key)) or ""
             for key in ("tracking_code", "description", "address")}
    case.search_text = textsearch.normalise(" ".join(parts.values()))
    case.search_grams = textsearch.grams(case.search_text)


# Set on every write of the searched attributes, the constructor's included, so that the rows written with a
# Core INSERT from a constructed ``Case`` (intake's group commit, the demo history) carry them too.
for _key in ("tracking_code", "description", "address"):
    event.listen(getattr(Case, _key), "set",
                 lambda target, value, _old, _initiator, key=_key: _searchable(target, key, value))
event.listen(Case.reporter_phone, "set",
             lambda target, value, _old, _initiator: setattr(target, "reporter_phone_tail_hash",
                                                             phone_tail_hash(value)))

# Every committed change of a case (intake, workflow transition, deadline scan) is announced (shiyu.core.live).
live.watch(Case, "case", _live_facts)


@register_scoped
class CaseEvent(ScopedMixin, Base):
    """One timeline entry: who did what, when, the state before and after, the note and the attachments.
    ``public`` entries (and only their action, time and state) appear on the public tracking page."""

    __tablename__ = "case_event"
    __view_permission__ = "case.view"
    __write_permission__ = "case.report"
    __extra_write__ = staticmethod(_may_write_child)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(24), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    version: Mapped[int]
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    attachment_ids: Mapped[list[Any]] = mapped_column(default=list)
    public: Mapped[bool] = mapped_column(default=True)

    case: Mapped[Case] = relationship(back_populates="events")


CaseEvent.__extra_scope__ = staticmethod(_child_scope(CaseEvent))


@register_scoped
class CaseRequest(ScopedMixin, Base):
    """An extension (延期) or suspension (挂账/缓办) asked by the handling department, decided by the centre."""

    __tablename__ = "case_request"
    __view_permission__ = "case.view"
    __write_permission__ = "case.approve"
    __extra_write__ = staticmethod(_may_write_child)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(10), default=RequestStatus.PENDING)
    amount: Mapped[float | None]
    unit: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="requests")


CaseRequest.__extra_scope__ = staticmethod(_child_scope(CaseRequest))


def _owner(principal: Principal) -> tuple[Any, Any] | None:
    """The column of ``Attachment`` that names the caller as uploader, and the caller's value in it: a user
    by id, an API client by id, an anonymous request by its secret. A name is never an owner: an account
    called ``public`` owns nothing."""
    if principal.user_id is not None:
        return Attachment.uploader_id, principal.user_id
    if isinstance(principal, ApiPrincipal):
        return Attachment.uploader_client_id, principal.api_client_id
    if isinstance(principal, AnonymousReporter):
        return Attachment.upload_secret_hash, principal.upload_secret_hash
    return None


def owns_upload(principal: Principal, attachment: Attachment) -> bool:
    owner = _owner(principal)
    return owner is not None and getattr(attachment, owner[0].key) == owner[1]


def _attachment_scope(principal: Principal) -> list[Any]:
    clauses = _child_scope(Attachment)(principal)
    owner = _owner(principal)
    if owner is not None:
        clauses.append(owner[0] == owner[1])
    return clauses


def _may_write_attachment(principal: Principal, obj: Attachment) -> bool:
    """The uploader writes their own upload; nobody else does (linking it to a case is
    ``shiyu.cases.attachments.claim``)."""
    return owns_upload(principal, obj)


@register_scoped
class Attachment(ScopedMixin, Base):
    """A stored photo, recording or video. Uploaded first (``case_id`` empty, visible to the uploader only,
    ``area_path`` empty), then linked to a case by the intake or the action that uses it as evidence.

    The uploader is an id: ``uploader_id`` (a user), ``uploader_client_id`` (an API client), or for an
    anonymous upload neither, and ``upload_secret_hash`` (see ``AnonymousReporter``)."""

    __tablename__ = "attachment"
    __view_permission__ = "case.view"
    __write_permission__ = "case.report"
    __extra_write__ = staticmethod(_may_write_attachment)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id", ondelete="SET NULL"), index=True)
    uploader_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    uploader_client_id: Mapped[int | None] = mapped_column(ForeignKey("api_client.id", ondelete="SET NULL"))
    upload_secret_hash: Mapped[str | None] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    filename: Mapped[str] = mapped_column(String(200))
    mime: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(8))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    thumbnail_key: Mapped[str | None] = mapped_column(String(200))
    width: Mapped[int | None]
    height: Mapped[int | None]

    case: Mapped[Case | None] = relationship()


Attachment.__extra_scope__ = staticmethod(_attachment_scope)
