"""The disputes domain's tables (矛盾纠纷排查化解, 人民调解).

Every row belonging to a place carries ``area_path`` (the grid's path), so grid staff see their grids'
disputes and the centres above see their subtrees (docs/adr/0001). ``centre_path`` names the centre that
answers for a dispute now; escalation moves it one level up. Parties' names, ID numbers and phones are
personal data (``shiyu.core.pii``): encrypted, masked when shown, revealed only with a reason (audited). A
session's record and a legal question's text are free text where names are typed, so they are encrypted too.

Rows are never deleted: a dispute that is not accepted, failed or referred stays with its reason, and a
referral to a court or a procuratorate stays open until the counterpart's feedback is recorded.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from shiyu.core.db import Base, TimestampMixin
from shiyu.core.pii import blind_index, personal
from shiyu.core.scoping import Principal, ScopedMixin, register_scoped

VIEW = "dispute.view"
REPORT = "dispute.report"
REGISTER = "dispute.register"
MEDIATE = "dispute.mediate"
ADVISE = "dispute.advise"
REVEAL = "dispute.reveal"
MANAGE = "dispute.manage"


class DisputeState(StrEnum):
    REGISTERED = "registered"  # 登记受理
    NOT_ACCEPTED = "not_accepted"  # 不予受理
    ASSIGNED = "assigned"  # 已指派调解员
    MEDIATING = "mediating"  # 调解中
    AGREED = "agreed"  # 达成协议
    FAILED = "failed"  # 调解不成
    REFERRED = "referred"  # 分流（诉讼、仲裁、行政裁决、信访）
    ESCALATED = "escalated"  # 上报上级中心
    PERFORMING = "performing"  # 履行中
    FOLLOWED_UP = "followed_up"  # 已回访
    CLOSED = "closed"  # 案结事了


# The states a dispute still needs work in (queues, the map, 化解率's denominator excludes none of them).
OPEN_STATES = frozenset(DisputeState) - {DisputeState.NOT_ACCEPTED, DisputeState.REFERRED, DisputeState.CLOSED}


class Source(StrEnum):
    GRID = "grid"  # 网格排查
    APPLICATION = "application"  # 当事人申请
    INITIATIVE = "initiative"  # 调委会主动调解
    POLICE = "police"  # 公安机关移交
    COURT = "court"  # 法院委托
    GOVERNMENT = "government"  # 政府部门指定
    PETITION = "petition"  # 信访转入
    HOTLINE = "hotline"  # 12345
    CASE = "case"  # 由事件转入


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Signal(StrEnum):
    """Escalation signals: each one raises the risk to high (民转刑 cues are counted on their own)."""

    THREATS = "threats"  # 扬言极端
    REPEATED = "repeated"  # 多次反复
    CRIMINAL = "criminal"  # 民转刑苗头


class PartyRole(StrEnum):
    APPLICANT = "applicant"  # 申请人
    RESPONDENT = "respondent"  # 被申请人
    THIRD = "third"  # 第三人


class PartyKind(StrEnum):
    PERSON = "person"
    UNIT = "unit"


class OrgKind(StrEnum):
    VILLAGE = "village"  # 村（居）人民调解委员会
    TOWNSHIP = "township"  # 乡镇（街道）人民调解委员会
    SECTOR = "sector"  # 行业性专业性调委会
    BRAND = "brand"  # 个人品牌调解室
    LITIGATION = "litigation"  # 诉非联动中心


class ReferralChannel(StrEnum):
    COURT = "court"  # 诉调对接
    PROCURATORATE = "procuratorate"  # 检调对接
    POLICE = "police"  # 警调对接
    PETITION = "petition"  # 访调对接
    ARBITRATION = "arbitration"  # 仲裁
    ADMINISTRATIVE = "administrative"  # 行政裁决


class ReferralStatus(StrEnum):
    OPEN = "open"  # 已移交，待对方受理
    ACCEPTED = "accepted"  # 对方已受理
    DONE = "done"  # 对方已反馈结果


class DocumentKind(StrEnum):
    ACCEPTANCE = "acceptance"  # 受理登记表
    RECORD = "record"  # 调解记录
    AGREEMENT = "agreement"  # 调解协议书
    PERFORMANCE = "performance"  # 履行凭证 (uploaded)


class ConfirmationResult(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"  # 裁定确认有效
    REJECTED = "rejected"  # 裁定驳回申请


_T = TypeVar("_T")


def visible(session: Session, model: type[_T], ident: int) -> _T | None:
    """The row with this id if the caller may see it. A query, not ``Session.get``: an object already in the
    session's identity map (loaded by an unscoped read, or written by the system in the same session) must
    still be checked against the caller's scope."""
    found: _T | None = session.scalars(select(model).where(model.id == ident)).first()  # type: ignore[attr-defined]
    return found


class DisputeType(Base):
    """The type tree (婚姻家庭, 邻里…): data, so a city adds 涉企 or 涉台 without a release."""

    __tablename__ = "dispute_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    parent_code: Mapped[str | None] = mapped_column(String(20))
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(60), default="")
    position: Mapped[int] = mapped_column(default=0)


class _Scoped(ScopedMixin, TimestampMixin):
    __view_permission__ = VIEW
    __write_permission__ = REPORT


def _own_application(principal: Principal, dispute: Any) -> bool:
    """A citizen's new application (当事人申请, through the portal): written by the applicant, who holds no
    grant anywhere; only while it is being created (pending, or flagged ``applying_now`` in memory by
    ``service.apply_as_citizen`` for its parties and first timeline entry, flushed after it)."""
    being_created = inspect(dispute).pending or getattr(dispute, "applying_now", False) if dispute else False
    return (dispute is not None and being_created and principal.user_id is not None
            and dispute.applicant_user_id == principal.user_id and dispute.source == Source.APPLICATION)


def _may_write_dispute(principal: Principal, row: Any) -> bool:
    return (any(principal.can(p, row.area_path) for p in (REGISTER, MEDIATE, ADVISE))
            or _own_application(principal, row))


def _may_write_child(principal: Principal, row: Any) -> bool:
    return (any(principal.can(p, row.area_path) for p in (REGISTER, MEDIATE, ADVISE))
            or _own_application(principal, row.__dict__.get("dispute")))


@register_scoped
class MediationOrg(ScopedMixin, TimestampMixin, Base):
    """调解组织: a 调委会, a 个人品牌调解室 or a 诉非联动中心, at the area it serves. ``department_id`` links the
    community's 人民调解委员会 where it is already a department the case desk dispatches to.

    停用 (``active`` false) takes it out of new assignments and the portal's pool; the disputes it already has
    keep it. ``version`` lets two administrators editing it at once find out (409 ``conflict``)."""

    __tablename__ = "dispute_org"
    __view_permission__ = VIEW
    __write_permission__ = MANAGE

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(30), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


@register_scoped
class Mediator(ScopedMixin, TimestampMixin, Base):
    """调解员 of an organisation. The name is a public role's (the portal lists it for citizens to choose), so
    it is not personal data; ``user_id`` links the account that works the mediator's disputes. An inactive
    mediator (left, retired) is offered for nothing new but stays on the disputes assigned before."""

    __tablename__ = "dispute_mediator"
    __view_permission__ = VIEW
    __write_permission__ = MANAGE

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("dispute_org.id", ondelete="RESTRICT"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    specialties: Mapped[list[Any]] = mapped_column(default=list)  # dispute type codes
    expert: Mapped[bool] = mapped_column(default=False)  # 专家
    intro: Mapped[str] = mapped_column(String(300), default="")
    active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


@register_scoped
class Dispute(_Scoped, Base):
    """One dispute: where (point, grid, responsible centre), what (type, amount, people, 群体性), how risky,
    who mediates, where it stands."""

    __tablename__ = "dispute"
    __table_args__ = (Index("ix_dispute_state_path", "state", "area_path"),)
    __extra_write__ = staticmethod(_may_write_dispute)

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=1)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = personal("text")
    type_code: Mapped[str] = mapped_column(String(20), index=True)
    source: Mapped[str] = mapped_column(String(12))
    lon: Mapped[float]
    lat: Mapped[float]
    address: Mapped[str] = mapped_column(String(200), default="")
    grid_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"), index=True)
    centre_area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"))
    centre_path: Mapped[str] = mapped_column(String(160), index=True)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    people_count: Mapped[int] = mapped_column(default=2)
    is_group: Mapped[bool] = mapped_column(default=False)  # 群体性
    risk_level: Mapped[str] = mapped_column(String(8), default=RiskLevel.LOW.value)
    signals: Mapped[list[Any]] = mapped_column(default=list)
    state: Mapped[str] = mapped_column(String(14), default=DisputeState.REGISTERED.value)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id", ondelete="SET NULL"), unique=True)
    # 信访转入: the petition's id, no foreign key (petitions sit above disputes; docs/adr/0012)
    petition_id: Mapped[int | None] = mapped_column(index=True, unique=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("dispute_org.id", ondelete="SET NULL"))
    mediator_id: Mapped[int | None] = mapped_column(ForeignKey("dispute_mediator.id", ondelete="SET NULL"),
                                                    index=True)
    preferred_mediator_id: Mapped[int | None] = mapped_column(ForeignKey("dispute_mediator.id",
                                                                         ondelete="SET NULL"))
    applicant_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"),
                                                          index=True)
    registered_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    registered_at: Mapped[datetime]
    mediation_due_at: Mapped[datetime | None]  # 调解期限: set on assignment (see ``MEDIATION_LIMIT``)
    mediation_alert: Mapped[int] = mapped_column(default=0, server_default="0")  # the scan announced: 1 yellow, 2 red
    reason: Mapped[str] = mapped_column(String(500), default="")  # not accepted / failed: why
    agreement_terms: Mapped[str | None] = personal("text")
    perform_by: Mapped[date | None]  # 履行期限
    resolved_at: Mapped[datetime | None]  # agreement reached
    resolved_level: Mapped[int | None]  # the level of the centre it was resolved at
    closed_at: Mapped[datetime | None]

    __mapper_args__ = {"version_id_col": version}


class _Child(_Scoped):
    """A row of one dispute, scoped by the dispute's grid path (copied when written)."""

    __extra_write__ = staticmethod(_may_write_child)


@register_scoped
class Party(_Child, Base):
    """当事人: a person (name, ID number, phone; optionally the registry person) or a unit."""

    __tablename__ = "dispute_party"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("dispute.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(8), default=PartyKind.PERSON.value)
    name: Mapped[str | None] = personal("name")
    id_number: Mapped[str | None] = personal("id_number")
    id_number_hash: Mapped[str | None] = blind_index()
    phone: Mapped[str | None] = personal("phone")
    unit_name: Mapped[str] = mapped_column(String(200), default="")
    person_id: Mapped[int | None] = mapped_column(ForeignKey("registry_person.id", ondelete="SET NULL"))

    dispute: Mapped[Dispute] = relationship(lazy="raise")


@register_scoped
class MediationSession(_Child, Base):
    """调解记录: one sitting — when, where or over which video link, who came, what was said."""

    __tablename__ = "dispute_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("dispute.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    place: Mapped[str] = mapped_column(String(200), default="")
    video_link: Mapped[str] = mapped_column(String(300), default="")
    attendees: Mapped[str | None] = personal("text")
    record: Mapped[str | None] = personal("text")
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))


@register_scoped
class FollowUp(_Child, Base):
    """回访记录: whether the agreement is kept, how satisfied the parties are, what risk remains."""

    __tablename__ = "dispute_follow_up"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("dispute.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    performed: Mapped[bool] = mapped_column(default=True)
    satisfied: Mapped[bool] = mapped_column(default=True)
    residual_risk: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str | None] = personal("text")
    by_user: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))


@register_scoped
class Confirmation(_Child, Base):
    """司法确认: the application to a court for an agreement and the court's ruling."""

    __tablename__ = "dispute_confirmation"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("dispute.id", ondelete="CASCADE"), unique=True)
    court: Mapped[str] = mapped_column(String(100))
    applied_on: Mapped[date]
    result: Mapped[str] = mapped_column(String(10), default=ConfirmationResult.PENDING.value)
    ruling_no: Mapped[str] = mapped_column(String(60), default="")  # 民事裁定书 number
    decided_on: Mapped[date | None]


@register_scoped
class Referral(_Child, Base):
    """诉调/检调/警调/访调对接: a failed mediation handed to another institution, tracked until it answers."""

    __tablename__ = "dispute_referral"
    __table_args__ = (Index("ix_dispute_referral_open", "status", "centre_path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("dispute.id", ondelete="CASCADE"), index=True)
    centre_path: Mapped[str] = mapped_column(String(160))  # the centre that referred it and tracks it
    channel: Mapped[str] = mapped_column(String(16))
    counterpart: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(500))
    external_ref: Mapped[str] = mapped_column(String(60), default="")
    status: Mapped[str] = mapped_column(String(10), default=ReferralStatus.OPEN.value)
    feedback: Mapped[str] = mapped_column(Text, default="")
    referred_at: Mapped[datetime]
    feedback_at: Mapped[datetime | None]


@register_scoped
class LegalQuestion(_Child, Base):
    """A grid worker's question to the legal adviser about a dispute, and the adviser's answer."""

    __tablename__ = "dispute_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("dispute.id", ondelete="CASCADE"), index=True)
    question: Mapped[str | None] = personal("text")
    asked_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    asked_at: Mapped[datetime]
    answer: Mapped[str | None] = personal("text")
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None] = mapped_column(index=True)


@register_scoped
class Document(_Child, Base):
    """An uploaded paper of the file (履行凭证): the bytes are in the media storage under ``storage_key``.
    The generated papers (受理登记表, 调解记录, 调解协议书) are not stored: each download builds them from the
    record, so a corrected name is never left behind in an old copy, and each is an audited reveal."""

    __tablename__ = "dispute_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("dispute.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    file_name: Mapped[str] = mapped_column(String(120))
    content_type: Mapped[str] = mapped_column(String(80))
    size: Mapped[int]
    storage_key: Mapped[str] = mapped_column(String(200))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))


@register_scoped
class DisputeEvent(_Child, Base):
    """The timeline: one row per action applied, with the states before and after and the actor."""

    __tablename__ = "dispute_event"
    __table_args__ = (UniqueConstraint("dispute_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("dispute.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int]
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str] = mapped_column(String(14))
    to_state: Mapped[str] = mapped_column(String(14))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    at: Mapped[datetime]
    note: Mapped[str | None] = personal("text")

    dispute: Mapped[Dispute] = relationship(lazy="raise")
