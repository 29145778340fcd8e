"""Disputes: registering one (from the grid, from a case, from a citizen's application), its parties and
their audited reveal, mediation sessions, 司法确认, referrals and their feedback, the legal adviser's
questions, and the lists the desk, the workbench and the portal show.

Everything shown is masked (parties' names, ID numbers, phones; free text with numbers in it); the clear
value of one field needs ``dispute.reveal`` there and a reason, and is recorded in the audit log.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from shiyu.cases import service as cases
from shiyu.core import audit, outbox
from shiyu.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shiyu.core.paging import PageParams, paginate
from shiyu.core.pii import mask, mask_text, reveal_reason
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.disputes import limits, workflow
from shiyu.disputes.models import (
    ADVISE,
    MANAGE,
    MEDIATE,
    OPEN_STATES,
    REGISTER,
    REPORT,
    REVEAL,
    Confirmation,
    ConfirmationResult,
    Dispute,
    DisputeEvent,
    DisputeState,
    DisputeType,
    FollowUp,
    LegalQuestion,
    MediationOrg,
    MediationSession,
    Mediator,
    OrgKind,
    Party,
    PartyKind,
    PartyRole,
    Referral,
    ReferralStatus,
    RiskLevel,
    Source,
    visible,
)
from shiyu.org.areas.lookup import INDEXES
from shiyu.org.areas.models import Area
from shiyu.org.identity.models import Grant, User
from shiyu.org.identity.roles import Role, permissions_of
from shiyu.org.units.responsible import centre_for
from shiyu.registry.models import Person

UNSCOPED = {"unscoped": True}
PARTY_PII = {"name": "name", "id_number": "id_number", "phone": "phone"}

# The type tree's defaults (coverage §3; the 人民调解 statistics' categories). Parents first.
DEFAULT_TYPES: tuple[tuple[str, str | None, str, str], ...] = (
    ("family", None, "婚姻家庭", "Marriage and family"),
    ("neighbour", None, "邻里", "Neighbours"),
    ("housing", None, "房屋宅基地", "Housing and homesteads"),
    ("land", None, "土地山林", "Land and forest"),
    ("labour", None, "劳资", "Wages and labour"),
    ("labour_wages", "labour", "拖欠工资", "Unpaid wages"),
    ("property", None, "物业", "Property management"),
    ("expropriation", None, "征地拆迁", "Expropriation and demolition"),
    ("medical", None, "医疗", "Medical"),
    ("consumer", None, "消费", "Consumer"),
    ("traffic", None, "交通事故", "Traffic accidents"),
    ("enterprise", None, "涉企", "Involving enterprises"),
    ("taiwan", None, "涉台", "Involving Taiwan"),
    ("sector", None, "行业性专业性", "Sector-specific"),
    ("other", None, "其他", "Other"),
)


def ensure_types(session: Session) -> None:
    """Insert the default type tree where it is missing (idempotent; install, demo and tests call it)."""
    have = set(session.scalars(select(DisputeType.code)))
    for position, (code, parent, zh, en) in enumerate(DEFAULT_TYPES):
        if code not in have:
            session.add(DisputeType(code=code, parent_code=parent, name_zh=zh, name_en=en, position=position))
    session.flush()


def types(session: Session) -> list[DisputeType]:
    """The tree, seeded with the defaults the first time it is asked for (a new city starts with them)."""
    rows = list(session.scalars(select(DisputeType).order_by(DisputeType.position, DisputeType.id)))
    if not rows:
        ensure_types(session)
        rows = list(session.scalars(select(DisputeType).order_by(DisputeType.position, DisputeType.id)))
    return rows


def type_names(session: Session, lang: str) -> dict[str, str]:
    return {t.code: (t.name_en or t.name_zh) if lang == "en" else t.name_zh for t in types(session)}


def _check_type(session: Session, code: str) -> None:
    if code not in {t.code for t in types(session)}:
        raise ValidationFailed("unknown_type", "没有该纠纷类型", "No such dispute type", detail={"field": "type_code"})


# -- registering ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartyIn:
    role: str
    name: str
    kind: str = PartyKind.PERSON.value
    id_number: str | None = None
    phone: str | None = None
    person_id: int | None = None


@dataclass(frozen=True)
class DisputeIn:
    title: str
    type_code: str
    lon: float
    lat: float
    description: str = ""
    address: str = ""
    source: str = Source.GRID.value
    amount: Decimal | None = None
    people_count: int = 2
    is_group: bool = False
    risk_level: str = RiskLevel.LOW.value
    signals: tuple[str, ...] = ()
    parties: tuple[PartyIn, ...] = field(default_factory=tuple)
    preferred_mediator_id: int | None = None


def _code(now: datetime) -> str:
    return f"MD{now:%Y%m%d}{secrets.randbelow(10**6):06d}"


def _new(session: Session, principal: Principal, data: DisputeIn, grid_id: int, grid_path: str,
         applying: bool = False, **extra: Any) -> Dispute:
    _check_type(session, data.type_code)
    centre = centre_for(session, grid_path)
    if centre is None:
        raise Conflict("no_centre", "该位置没有负责的中心", "No centre answers for this place")
    now = utcnow()
    level = RiskLevel.HIGH.value if data.signals else data.risk_level
    dispute = Dispute(code=_code(now), title=data.title, description=data.description or None,
                      type_code=data.type_code, source=data.source, lon=data.lon, lat=data.lat,
                      address=data.address, grid_id=grid_id, area_path=grid_path, centre_area_id=centre.area_id,
                      centre_path=centre.area_path, amount=data.amount, people_count=data.people_count,
                      is_group=data.is_group, risk_level=level, signals=sorted(set(data.signals)),
                      registered_by=principal.user_id, registered_at=now, **extra)
    dispute.applying_now = applying  # type: ignore[attr-defined]
    session.add(dispute)
    session.flush()
    for party in data.parties:
        _add_party(session, dispute, party)
    event = DisputeEvent(dispute_id=dispute.id, seq=1, action="register", from_state="",
                         to_state=dispute.state, actor_id=principal.user_id, at=now, area_path=dispute.area_path)
    event.dispute = dispute
    session.add(event)
    session.flush()
    outbox.emit(session, "dispute.registered", "dispute", dispute.id, dispute.area_path,
                {"dispute_id": dispute.id, "source": dispute.source, "type_code": dispute.type_code})
    return dispute


def _locate(session: Session, lon: float, lat: float) -> tuple[int, str]:
    record = INDEXES.get(session).locate(lon, lat)
    if record is None:
        raise ValidationFailed("outside_city", "该位置不在任何网格内", "This place is in no grid",
                               detail={"field": "location"})
    return record.ref.id, record.area_path


def register(session: Session, principal: Principal, data: DisputeIn) -> Dispute:
    """A dispute found by the grid (排查) or brought to the centre: its grid by the point, its centre the
    nearest one above the grid. Only where the caller may report or register disputes."""
    grid_id, path = _locate(session, data.lon, data.lat)
    if not (principal.can(REPORT, path) or principal.can(REGISTER, path)):
        raise NotFound(detail={"object": "area"})
    if data.source in (Source.APPLICATION, Source.CASE):
        raise ValidationFailed("invalid_source", "该来源须通过对应入口登记", "Use the portal or a case for this source",
                               detail={"field": "source"})
    return _new(session, principal, data, grid_id, path)


def from_case(session: Session, principal: Principal, case_id: int, type_code: str, title: str | None = None
              ) -> Dispute:
    """转为矛盾纠纷: a dispute from a case the caller sees, at the case's place; the case links to it (one each)."""
    found = cases.get_case(session, case_id)
    if not principal.can(REGISTER, found.area_path):
        raise Forbidden(detail={"permission": REGISTER})
    existing = session.scalar(select(Dispute.id).where(Dispute.case_id == found.id), execution_options=UNSCOPED)
    if existing is not None:
        raise Conflict("already_converted", "该事件已转为矛盾纠纷", "This case is already a dispute",
                       detail={"dispute_id": existing})
    data = DisputeIn(title=(title or found.description[:40] or found.tracking_code)[:100], type_code=type_code,
                     lon=found.lon, lat=found.lat, description=found.description, address=found.address,
                     source=Source.CASE.value)
    return _new(session, principal, data, found.grid_id, found.area_path, case_id=found.id)


def open_from_petition(session: Session, principal: Principal, data: DisputeIn, petition_id: int) -> Dispute:
    """信访转入 (``shiyu.disputes.from_petition``): the dispute at the point chosen inside the petition's area."""
    grid_id, path = _locate(session, data.lon, data.lat)
    return _new(session, principal, data, grid_id, path, petition_id=petition_id)


def id_for_code(session: Session, code: str) -> int:
    """The id of the dispute with this code among those the caller sees (404 otherwise)."""
    found = session.scalar(select(Dispute.id).where(Dispute.code == code))
    if found is None:
        raise NotFound(detail={"object": "dispute"})
    return found


def for_case(session: Session, case_id: int) -> Dispute | None:
    """The dispute a case was converted to, when the caller sees it (the case page links to it)."""
    return session.scalar(select(Dispute).where(Dispute.case_id == case_id))


def apply_as_citizen(session: Session, principal: Principal, data: DisputeIn) -> Dispute:
    """当事人申请 through the portal: a logged-in citizen is the applicant; a mediator they picked from the
    public pool is recorded as their preference for the centre (which assigns)."""
    if principal.user_id is None:
        raise Forbidden()
    if data.preferred_mediator_id is not None and data.preferred_mediator_id not in {
            m["id"] for m in public_pool(session)}:
        raise ValidationFailed("unknown_mediator", "没有该调解员", "No such mediator",
                               detail={"field": "preferred_mediator_id"})
    grid_id, path = _locate(session, data.lon, data.lat)
    applied = replace(data, source=Source.APPLICATION.value, risk_level=RiskLevel.LOW.value, signals=())
    return _new(session, principal, applied, grid_id, path, applicant_user_id=principal.user_id,
                preferred_mediator_id=data.preferred_mediator_id, applying=True)


def applications_of(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """A citizen's own applications: code, title, state, submitted — read unscoped, filtered to them."""
    rows = session.execute(select(Dispute.code, Dispute.title, Dispute.state, Dispute.registered_at)
                           .where(Dispute.applicant_user_id == principal.user_id)
                           .order_by(Dispute.registered_at.desc()).limit(50), execution_options=UNSCOPED)
    return [dict(r._mapping) for r in rows]


# -- parties ---------------------------------------------------------------------------------------------


def _add_party(session: Session, dispute: Dispute, data: PartyIn) -> Party:
    if data.role not in set(PartyRole) or data.kind not in set(PartyKind):
        raise ValidationFailed("invalid_party", "当事人角色或类型有误", "A party's role or kind is not valid",
                               detail={"field": "parties"})
    if data.person_id is not None and visible(session, Person, data.person_id) is None:
        raise ValidationFailed("unknown_person", "实有人口中没有该人员", "No such person in the register",
                               detail={"field": "person_id"})
    person = data.kind == PartyKind.PERSON
    party = Party(dispute_id=dispute.id, role=data.role, kind=data.kind, name=data.name if person else None,
                  unit_name="" if person else data.name, id_number=data.id_number if person else None,
                  phone=data.phone, person_id=data.person_id if person else None, area_path=dispute.area_path)
    party.dispute = dispute
    session.add(party)
    session.flush()
    return party


def add_party(session: Session, principal: Principal, dispute_id: int, data: PartyIn) -> Party:
    dispute = workflow.load(session, dispute_id)
    require_any(principal, dispute, (REGISTER, REPORT), (MEDIATE,))
    if dispute.state not in OPEN_STATES:
        raise Conflict("dispute_finished", "纠纷已办结，不能再修改", "The dispute is finished")
    return _add_party(session, dispute, data)


def parties(session: Session, dispute_id: int) -> list[Party]:
    return list(session.scalars(select(Party).where(Party.dispute_id == dispute_id).order_by(Party.id)))


def party_out(party: Party) -> dict[str, Any]:
    return {"id": party.id, "role": party.role, "kind": party.kind, "unit_name": party.unit_name,
            "person_id": party.person_id,
            **{attr: mask(kind, getattr(party, attr)) for attr, kind in PARTY_PII.items()}}


def reveal_party(session: Session, principal: Principal, party_id: int, field_name: str, reason: str) -> str | None:
    """One field of a party in the clear, for a holder of ``dispute.reveal`` there, with a recorded reason."""
    if field_name not in PARTY_PII:
        raise ValidationFailed("unknown_field", "该字段不可查看", "No such personal-data field",
                               detail={"field": field_name[:40]})
    reason = reveal_reason(reason)
    party = visible(session, Party, party_id)
    if party is None:
        raise NotFound(detail={"object": "party", "id": party_id})
    principal.require(REVEAL, party.area_path)
    audit.record(session, "reveal", "dispute_party", party.id, area_path=party.area_path, reason=reason,
                 after={"field": field_name})
    value: str | None = getattr(party, field_name)
    return value


def require_any(principal: Principal, dispute: Dispute, centre_perms: tuple[str, ...],
                 area_perms: tuple[str, ...] = ()) -> None:
    if any(principal.can(p, dispute.centre_path) for p in centre_perms):
        return
    if any(principal.can(p, dispute.area_path) for p in (*centre_perms, *area_perms)):
        return
    raise Forbidden(detail={"permission": centre_perms[0]})


# -- sessions, confirmation, uploads' owner check --------------------------------------------------------


def add_session(session: Session, principal: Principal, dispute_id: int, *, starts_at: datetime, place: str,
                video_link: str, attendees: str, record: str) -> MediationSession:
    """One sitting, scheduled ahead (no record yet) or recorded after; only while mediating or assigned."""
    dispute = workflow.load(session, dispute_id)
    require_any(principal, dispute, (REGISTER,), (MEDIATE,))
    if dispute.state not in (DisputeState.ASSIGNED, DisputeState.MEDIATING):
        raise Conflict("not_mediating", "只有待调解或调解中的纠纷可以安排调解",
                       "Only an assigned or mediating dispute has sessions")
    if not place.strip() and not video_link.strip():
        raise ValidationFailed("place_required", "请填写调解地点或视频链接", "Give a place or a video link",
                               detail={"field": "place"})
    row = MediationSession(dispute_id=dispute.id, starts_at=starts_at, place=place.strip(),
                           video_link=video_link.strip(), attendees=attendees or None, record=record or None,
                           recorded_by=principal.user_id, area_path=dispute.area_path)
    session.add(row)
    session.flush()
    return row


def sessions(session: Session, dispute_id: int) -> list[MediationSession]:
    return list(session.scalars(select(MediationSession).where(MediationSession.dispute_id == dispute_id)
                                .order_by(MediationSession.starts_at)))


CONFIRMABLE = (DisputeState.AGREED, DisputeState.PERFORMING, DisputeState.FOLLOWED_UP, DisputeState.CLOSED)


def apply_confirmation(session: Session, principal: Principal, dispute_id: int, court: str, applied_on: date
                       ) -> Confirmation:
    """司法确认 application: for an agreement (人民调解法 第三十三条: within 30 days of it taking effect)."""
    dispute = workflow.load(session, dispute_id)
    require_any(principal, dispute, (REGISTER,), (MEDIATE,))
    if dispute.state not in CONFIRMABLE:
        raise Conflict("no_agreement", "尚未达成调解协议", "There is no agreement to confirm")
    if session.scalar(select(Confirmation.id).where(Confirmation.dispute_id == dispute.id)) is not None:
        raise Conflict("already_applied", "已申请司法确认", "Judicial confirmation was already applied for")
    row = Confirmation(dispute_id=dispute.id, court=court, applied_on=applied_on, area_path=dispute.area_path)
    session.add(row)
    session.flush()
    return row


def confirmation_result(session: Session, principal: Principal, dispute_id: int, result: str, ruling_no: str,
                        decided_on: date) -> Confirmation:
    dispute = workflow.load(session, dispute_id)
    require_any(principal, dispute, (REGISTER,), (MEDIATE,))
    row = session.scalar(select(Confirmation).where(Confirmation.dispute_id == dispute.id))
    if row is None:
        raise Conflict("not_applied", "尚未申请司法确认", "No judicial confirmation was applied for")
    if result not in (ConfirmationResult.CONFIRMED, ConfirmationResult.REJECTED):
        raise ValidationFailed("invalid_result", "结果须为确认有效或驳回", "The result must be confirmed or rejected",
                               detail={"field": "result"})
    row.result, row.ruling_no, row.decided_on = result, ruling_no, decided_on
    session.flush()
    return row


def confirmation(session: Session, dispute_id: int) -> Confirmation | None:
    return session.scalar(select(Confirmation).where(Confirmation.dispute_id == dispute_id))


def follow_ups(session: Session, dispute_id: int) -> list[FollowUp]:
    return list(session.scalars(select(FollowUp).where(FollowUp.dispute_id == dispute_id).order_by(FollowUp.at)))


# -- referrals -------------------------------------------------------------------------------------------


def referral_feedback(session: Session, principal: Principal, referral_id: int, status: str, feedback: str,
                      external_ref: str | None) -> Referral:
    """The counterpart accepted it or answered: recorded by the referring centre. A referral is never
    removed; it leaves the open list only with the counterpart's result (``done``)."""
    row = visible(session, Referral, referral_id)
    if row is None:
        raise NotFound(detail={"object": "referral", "id": referral_id})
    principal.require(REGISTER, row.centre_path)
    if row.status == ReferralStatus.DONE:
        raise Conflict("referral_done", "该移交已有反馈结果", "This referral already has its result")
    if status not in (ReferralStatus.ACCEPTED, ReferralStatus.DONE):
        raise ValidationFailed("invalid_status", "状态须为已受理或已反馈", "Status must be accepted or done",
                               detail={"field": "status"})
    if status == ReferralStatus.DONE and not feedback.strip():
        raise ValidationFailed("feedback_required", "请填写对方反馈的结果", "Give the counterpart's result",
                               detail={"field": "feedback"})
    row.status, row.feedback = status, feedback.strip()
    if external_ref:
        row.external_ref = external_ref
    if status == ReferralStatus.DONE:
        row.feedback_at = utcnow()
    session.flush()
    return row


def referrals(session: Session, *, open_only: bool = False, dispute_id: int | None = None,
              params: PageParams | None = None) -> tuple[list[Referral], int]:
    stmt = select(Referral).order_by(Referral.referred_at)
    if open_only:
        stmt = stmt.where(Referral.status != ReferralStatus.DONE)
    if dispute_id is not None:
        stmt = stmt.where(Referral.dispute_id == dispute_id)
    return paginate(session, stmt, params or PageParams(limit=200, offset=0))


def referral_out(row: Referral) -> dict[str, Any]:
    return {"id": row.id, "dispute_id": row.dispute_id, "centre_path": row.centre_path, "channel": row.channel,
            "counterpart": row.counterpart, "reason": mask_text(row.reason), "external_ref": row.external_ref,
            "status": row.status, "feedback": mask_text(row.feedback), "referred_at": row.referred_at,
            "feedback_at": row.feedback_at}


# -- legal adviser's questions ---------------------------------------------------------------------------


def ask(session: Session, principal: Principal, dispute_id: int, question: str) -> LegalQuestion:
    dispute = workflow.load(session, dispute_id)
    require_any(principal, dispute, (REGISTER, REPORT), (MEDIATE,))
    row = LegalQuestion(dispute_id=dispute.id, question=question, asked_by=principal.user_id, asked_at=utcnow(),
                        area_path=dispute.area_path)
    session.add(row)
    session.flush()
    return row


def answer(session: Session, principal: Principal, question_id: int, text: str) -> LegalQuestion:
    row = visible(session, LegalQuestion, question_id)
    if row is None:
        raise NotFound(detail={"object": "question", "id": question_id})
    principal.require(ADVISE, row.area_path)
    if row.answered_at is not None:
        raise Conflict("already_answered", "该问题已答复", "This question is already answered")
    row.answer, row.answered_by, row.answered_at = text, principal.user_id, utcnow()
    session.flush()
    return row


def questions(session: Session, *, unanswered: bool = False, dispute_id: int | None = None) -> list[LegalQuestion]:
    stmt = select(LegalQuestion).order_by(LegalQuestion.asked_at)
    if unanswered:
        stmt = stmt.where(LegalQuestion.answered_at.is_(None))
    if dispute_id is not None:
        stmt = stmt.where(LegalQuestion.dispute_id == dispute_id)
    return list(session.scalars(stmt.limit(200)))


def question_out(row: LegalQuestion) -> dict[str, Any]:
    return {"id": row.id, "dispute_id": row.dispute_id, "question": mask_text(row.question),
            "asked_at": row.asked_at, "answer": mask_text(row.answer), "answered_at": row.answered_at}


# -- organisations and mediators -------------------------------------------------------------------------
#
# The pool a centre assigns from and citizens choose from. 停用 (``active`` false) is how an organisation or a
# mediator leaves it: nothing is deleted, because disputes name them and their records must still say who
# mediated. An inactive one is not offered for new assignments nor on the portal; the disputes assigned before
# keep it (its account still works them; the centre may reassign one not yet in mediation). An organisation is
# stopped only once none of its mediators is active — each is moved to another organisation or stopped on its
# own first (409 ``org_has_active_mediators``), so a later reactivation never has to guess who had left.


def _checked_version(current: int, expected: int | None) -> None:
    """Someone changed the row since the caller read it (the form's hidden version): refuse rather than
    overwrite their change. ``None``: the caller chose last-write-wins (an API client sending no version)."""
    if expected is not None and expected != current:
        raise Conflict(detail={"version": current})


def _flush_versioned(session: Session, row: MediationOrg | Mediator) -> None:
    """Write the change; the UPDATE carries the version read, so a change committed meanwhile is a 409."""
    try:
        session.flush()
    except StaleDataError:
        raise Conflict(detail={"id": row.id}) from None


def _no_nulls(changes: dict[str, Any], nullable: frozenset[str] = frozenset()) -> None:
    for name, value in changes.items():
        if value is None and name not in nullable:
            raise ValidationFailed("field_required", "请填写 {name}", "{name} is required", detail={"field": name},
                                   name=name)


def _name(value: str, field_name: str = "name") -> str:
    name = value.strip()
    if not name:
        raise ValidationFailed("name_required", "请填写名称", "Give a name", detail={"field": field_name})
    return name


def _kind(value: str) -> str:
    if value not in set(OrgKind):
        raise ValidationFailed("invalid_kind", "调解组织类型有误", "Not an organisation kind", detail={"field": "kind"})
    return value


def _specialties(session: Session, codes: tuple[str, ...] | list[str]) -> list[str]:
    if set(codes) - {t.code for t in types(session)}:
        raise ValidationFailed("unknown_type", "擅长领域须为纠纷类型", "Specialties must be dispute types",
                               detail={"field": "specialties"})
    return sorted(set(codes))


def _mediating_roles() -> list[str]:
    return [r.value for r in Role if MEDIATE in permissions_of(r)]


def mediator_accounts(session: Session, limit: int = 500) -> list[User]:
    """Active accounts the caller sees that can work a mediator's disputes (a role carrying
    ``dispute.mediate``): the accounts a mediator may be linked to, by login name, for the form's list."""
    holders = select(Grant.user_id).where(Grant.role.in_(_mediating_roles()))
    ids = set(session.scalars(holders, execution_options=UNSCOPED))
    return list(session.scalars(select(User).where(User.id.in_(ids), User.is_active.is_(True))
                                .order_by(User.username).limit(limit)))


def _account(session: Session, user_id: int | None) -> int | None:
    """A linked account must be one the caller sees and one that can mediate: any other would either reveal
    that an account exists or give a mediator an account that cannot open the disputes assigned to it."""
    if user_id is None:
        return None
    mediates = session.scalar(select(Grant.id).where(Grant.user_id == user_id, Grant.role.in_(_mediating_roles()))
                              .limit(1), execution_options=UNSCOPED)
    seen = session.scalar(select(User.id).where(User.id == user_id, User.is_active.is_(True)))
    if mediates is None or seen is None:
        raise ValidationFailed("unknown_account", "没有该调解员账号（须为有调解权限的在用账号）",
                               "No such mediator account (an active account with the mediator role)",
                               detail={"field": "user_id"})
    return user_id


def _managed_org(session: Session, principal: Principal, org_id: int) -> MediationOrg:
    """An active organisation the caller manages, for a mediator to join; one the caller does not see is a
    404 like any object outside scope (named by ``org_id``, so a form shows it by that field)."""
    org = visible(session, MediationOrg, org_id)
    if org is None:
        raise NotFound(detail={"object": "mediation_org", "id": org_id, "field": "org_id"})
    principal.require(MANAGE, org.area_path)
    if not org.active:
        raise Conflict("org_inactive", "该调解组织已停用，不能添加或调入调解员",
                       "The organisation is inactive: it takes no mediators", detail={"field": "org_id"})
    return org


def create_org(session: Session, principal: Principal, *, area_id: int, kind: str, name: str, phone: str = "",
               address: str = "", department_id: int | None = None) -> MediationOrg:
    area = visible(session, Area, area_id)
    if area is None:
        raise NotFound(detail={"object": "area", "id": area_id, "field": "area_id"})
    principal.require(MANAGE, area.area_path)
    org = MediationOrg(area_id=area.id, kind=_kind(kind), name=_name(name), phone=phone.strip(),
                       address=address.strip(), department_id=department_id, area_path=area.area_path)
    session.add(org)
    session.flush()
    return org


def update_org(session: Session, principal: Principal, org_id: int, changes: dict[str, Any],
               expected_version: int | None = None) -> MediationOrg:
    """Change the fields given (kind, name, phone, address, active) of an organisation the caller manages.
    Everything is checked before anything is set: a query after a change would flush it early, outside the
    version check."""
    org = get_org(session, org_id)
    principal.require(MANAGE, org.area_path)
    _checked_version(org.version, expected_version)
    _no_nulls(changes)
    values: dict[str, Any] = {k: changes[k].strip() for k in ("phone", "address") if k in changes}
    if "kind" in changes:
        values["kind"] = _kind(changes["kind"])
    if "name" in changes:
        values["name"] = _name(changes["name"])
    if "active" in changes:
        if not changes["active"] and org.active:
            _refuse_with_active_mediators(session, org)
        values["active"] = changes["active"]
    for key, value in values.items():
        setattr(org, key, value)
    _flush_versioned(session, org)
    return org


def _refuse_with_active_mediators(session: Session, org: MediationOrg) -> None:
    staying = list(session.scalars(select(Mediator.name).where(Mediator.org_id == org.id, Mediator.active)
                                   .order_by(Mediator.id), execution_options=UNSCOPED))
    if staying:
        raise Conflict("org_has_active_mediators",
                       "该组织还有{n}名在用调解员（{names}），请先将其调往其他组织或停用",
                       "{n} of its mediators are still active ({names}): move or deactivate them first",
                       detail={"field": "active", "mediators": staying}, n=len(staying), names="、".join(staying))


def create_mediator(session: Session, principal: Principal, *, org_id: int, name: str, user_id: int | None = None,
                    specialties: tuple[str, ...] = (), expert: bool = False, intro: str = "") -> Mediator:
    org = _managed_org(session, principal, org_id)
    mediator = Mediator(org_id=org.id, name=_name(name), user_id=_account(session, user_id),
                        specialties=_specialties(session, specialties), expert=expert, intro=intro.strip(),
                        area_path=org.area_path)
    session.add(mediator)
    session.flush()
    return mediator


def update_mediator(session: Session, principal: Principal, mediator_id: int, changes: dict[str, Any],
                    expected_version: int | None = None) -> Mediator:
    """Change the fields given of a mediator the caller manages: name, account (``None`` unlinks it),
    specialties, 专家, introduction, organisation (one the caller manages), active. A mediator comes back
    only into an active organisation (409 ``org_inactive``). Checked first, set after (see ``update_org``)."""
    mediator = get_mediator(session, mediator_id)
    principal.require(MANAGE, mediator.area_path)
    _checked_version(mediator.version, expected_version)
    _no_nulls(changes, nullable=frozenset({"user_id"}))
    values: dict[str, Any] = {k: changes[k] for k in ("expert", "active") if k in changes}
    org = None
    if "org_id" in changes and changes["org_id"] != mediator.org_id:
        org = _managed_org(session, principal, changes["org_id"])
        values |= {"org_id": org.id, "area_path": org.area_path}
    if "name" in changes:
        values["name"] = _name(changes["name"])
    if "user_id" in changes:
        values["user_id"] = _account(session, changes["user_id"])
    if "specialties" in changes:
        values["specialties"] = _specialties(session, changes["specialties"])
    if "intro" in changes:
        values["intro"] = changes["intro"].strip()
    if changes.get("active") is True and not mediator.active:
        org = org or visible(session, MediationOrg, mediator.org_id)
        if org is None or not org.active:
            raise Conflict("org_inactive", "所在调解组织已停用，请先启用组织或将其调往其他组织",
                           "The organisation is inactive: reactivate it or move the mediator first",
                           detail={"field": "active"})
    for key, value in values.items():
        setattr(mediator, key, value)
    _flush_versioned(session, mediator)
    return mediator


def get_org(session: Session, org_id: int) -> MediationOrg:
    org = visible(session, MediationOrg, org_id)
    if org is None:
        raise NotFound(detail={"object": "mediation_org", "id": org_id})
    return org


def get_mediator(session: Session, mediator_id: int) -> Mediator:
    mediator = visible(session, Mediator, mediator_id)
    if mediator is None:
        raise NotFound(detail={"object": "mediator", "id": mediator_id})
    return mediator


def orgs(session: Session) -> list[MediationOrg]:
    return list(session.scalars(select(MediationOrg).order_by(MediationOrg.area_path, MediationOrg.id)))


def managed_orgs(session: Session, principal: Principal) -> list[MediationOrg]:
    """The active organisations the caller manages: where a mediator may be added or moved to."""
    return [o for o in orgs(session) if o.active and principal.can(MANAGE, o.area_path)]


def pool_listing(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """Every organisation the caller sees with its area's name, its mediators (workload, success rate,
    active or not) and whether the caller may change it — the pool page."""
    org_rows = orgs(session)
    members = mediators(session)
    stats = mediator_stats(session, [m.id for m in members])
    by_org: dict[int, list[dict[str, Any]]] = {}
    for m in members:
        by_org.setdefault(m.org_id, []).append(mediator_out(m, stats[m.id]))
    names = {r.id: r.name for r in session.execute(select(Area.id, Area.name).where(
        Area.id.in_({o.area_id for o in org_rows})))}
    return [{"id": o.id, "name": o.name, "kind": o.kind, "area_name": names.get(o.area_id, ""), "phone": o.phone,
             "address": o.address, "active": o.active, "may_manage": principal.can(MANAGE, o.area_path),
             "mediators": by_org.get(o.id, [])} for o in org_rows]


def mediators(session: Session, org_id: int | None = None) -> list[Mediator]:
    stmt = select(Mediator).order_by(Mediator.org_id, Mediator.id)
    if org_id is not None:
        stmt = stmt.where(Mediator.org_id == org_id)
    return list(session.scalars(stmt))


def mediator_stats(session: Session, ids: list[int], *, unscoped: bool = False) -> dict[int, dict[str, Any]]:
    """Workload (open disputes) and success rate (agreements ÷ mediations that ended) per mediator."""
    if not ids:
        return {}
    ended = (DisputeState.AGREED, DisputeState.PERFORMING, DisputeState.FOLLOWED_UP, DisputeState.CLOSED)
    finished = (*ended, DisputeState.FAILED, DisputeState.REFERRED, DisputeState.ESCALATED)
    active = (DisputeState.ASSIGNED, DisputeState.MEDIATING)
    rows = session.execute(
        select(Dispute.mediator_id,
               func.sum(case((Dispute.state.in_(active), 1), else_=0)),
               func.sum(case((Dispute.state.in_(ended), 1), else_=0)),
               func.sum(case((Dispute.state.in_(finished), 1), else_=0)))
        .where(Dispute.mediator_id.in_(ids)).group_by(Dispute.mediator_id),
        execution_options=UNSCOPED if unscoped else {})
    out = {i: {"workload": 0, "agreed": 0, "ended": 0, "success_rate": None} for i in ids}
    for mid, open_, agreed, ended_n in rows:
        out[mid] = {"workload": int(open_ or 0), "agreed": int(agreed or 0), "ended": int(ended_n or 0),
                    "success_rate": round(agreed / ended_n, 3) if ended_n else None}
    return out


def mediator_out(m: Mediator, stats: dict[str, Any], org_name: str = "") -> dict[str, Any]:
    return {"id": m.id, "org_id": m.org_id, "org_name": org_name, "user_id": m.user_id, "name": m.name,
            "specialties": m.specialties, "expert": m.expert, "intro": m.intro, "active": m.active,
            "version": m.version, **stats}


def mediator_full(session: Session, m: Mediator) -> dict[str, Any]:
    """One mediator as the API answers it: with its organisation's name, workload and success rate."""
    org = visible(session, MediationOrg, m.org_id)
    return mediator_out(m, mediator_stats(session, [m.id])[m.id], org.name if org else "")


def assignable(session: Session) -> list[dict[str, Any]]:
    """Who the desk may assign: active mediators of active organisations the caller sees, with workload —
    the same rule the ``assign`` action enforces (``effects._assign``)."""
    rows = list(session.scalars(select(Mediator).join(MediationOrg, MediationOrg.id == Mediator.org_id)
                                .where(Mediator.active, MediationOrg.active).order_by(Mediator.org_id, Mediator.id)))
    stats = mediator_stats(session, [m.id for m in rows])
    return [mediator_out(m, stats[m.id]) for m in rows]


def assigned_mediator(session: Session, mediator_id: int | None) -> dict[str, Any] | None:
    """The mediator a dispute names, as its record shows them: active or not (one who has left stays on the
    disputes they had), and read unscoped — a township's expert sent to a community's dispute is named on it
    though the community's staff do not see the township's pool; the name is a public role's."""
    if mediator_id is None:
        return None
    row = session.execute(select(Mediator.name, Mediator.active, MediationOrg.name.label("org_name"))
                          .join(MediationOrg, MediationOrg.id == Mediator.org_id).where(Mediator.id == mediator_id),
                          execution_options=UNSCOPED).first()
    return None if row is None else dict(row._mapping)


def public_pool(session: Session) -> list[dict[str, Any]]:
    """The pool citizens choose from (专家超市): active mediators of active organisations — names,
    organisation, specialties, 专家, success rate; no account ids. Read unscoped: the portal is public."""
    rows = session.execute(select(Mediator, MediationOrg.name).join(MediationOrg, MediationOrg.id == Mediator.org_id)
                           .where(Mediator.active, MediationOrg.active).order_by(Mediator.expert.desc(), Mediator.id),
                           execution_options=UNSCOPED).all()
    stats = mediator_stats(session, [m.id for m, _ in rows], unscoped=True)
    return [{"id": m.id, "name": m.name, "org_name": org_name, "specialties": m.specialties, "expert": m.expert,
             "intro": m.intro, "success_rate": stats[m.id]["success_rate"]} for m, org_name in rows]


def my_mediator_ids(session: Session, principal: Principal) -> list[int]:
    if principal.user_id is None:
        return []
    return list(session.scalars(select(Mediator.id).where(Mediator.user_id == principal.user_id),
                                execution_options=UNSCOPED))


# -- lists -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DisputeFilter:
    state: str | None = None
    risk_level: str | None = None
    mediator_ids: tuple[int, ...] | None = None
    open_only: bool = False
    area_path: str | None = None


_RISK_ORDER = case((Dispute.risk_level == RiskLevel.HIGH, 0), (Dispute.risk_level == RiskLevel.MEDIUM, 1), else_=2)


def filtered(f: DisputeFilter) -> Select[Any]:
    stmt = select(Dispute).order_by(_RISK_ORDER, Dispute.registered_at.desc(), Dispute.id.desc())
    if f.state:
        stmt = stmt.where(Dispute.state == f.state)
    if f.risk_level:
        stmt = stmt.where(Dispute.risk_level == f.risk_level)
    if f.mediator_ids is not None:
        stmt = stmt.where(Dispute.mediator_id.in_(f.mediator_ids))
    if f.open_only:
        stmt = stmt.where(Dispute.state.in_([s.value for s in OPEN_STATES]))
    if f.area_path:
        stmt = stmt.where(Dispute.area_path.startswith(f.area_path, autoescape=True))
    return stmt


def list_disputes(session: Session, f: DisputeFilter, params: PageParams) -> tuple[list[Dispute], int]:
    return paginate(session, filtered(f), params)


def queue_counts(session: Session) -> dict[str, int]:
    """How many disputes the caller sees in each state, and how many open ones are high risk."""
    counts = {s.value: 0 for s in DisputeState}
    for state, n in session.execute(select(Dispute.state, func.count()).group_by(Dispute.state)):
        counts[state] = n
    counts["high_risk"] = session.scalar(select(func.count()).select_from(Dispute).where(
        Dispute.risk_level == RiskLevel.HIGH, Dispute.state.in_([s.value for s in OPEN_STATES]))) or 0
    return counts


def dispute_out(dispute: Dispute, lang: str = "zh") -> dict[str, Any]:
    state = DisputeState(dispute.state)
    return {
        "id": dispute.id, "version": dispute.version, "code": dispute.code, "title": dispute.title,
        "description": mask_text(dispute.description), "type_code": dispute.type_code, "source": dispute.source,
        "lon": dispute.lon, "lat": dispute.lat, "address": dispute.address, "grid_id": dispute.grid_id,
        "area_path": dispute.area_path, "centre_area_id": dispute.centre_area_id,
        "amount": dispute.amount, "people_count": dispute.people_count, "is_group": dispute.is_group,
        "risk_level": dispute.risk_level, "signals": dispute.signals, "state": dispute.state,
        "state_label": workflow.STATE_LABELS[state][1 if lang == "en" else 0], "reason": mask_text(dispute.reason),
        "case_id": dispute.case_id, "org_id": dispute.org_id, "mediator_id": dispute.mediator_id,
        "preferred_mediator_id": dispute.preferred_mediator_id, "registered_at": dispute.registered_at,
        "agreement_terms": mask_text(dispute.agreement_terms), "perform_by": dispute.perform_by,
        "resolved_at": dispute.resolved_at, "closed_at": dispute.closed_at,
        "mediation_due_at": dispute.mediation_due_at, "mediation": _standing(dispute),
    }


def _standing(dispute: Dispute) -> dict[str, Any] | None:
    """The mediation limit while it runs: days left (or past), overdue, in its last days (``limits``)."""
    now = limits.standing(dispute, utcnow())
    return None if now is None else {"due_at": now.due_at, "days": now.days, "overdue": now.overdue,
                                     "warn": now.warn}


def detail(session: Session, principal: Principal, dispute_id: int, lang: str = "zh") -> dict[str, Any]:
    """The whole record as shown: masked parties (the read audited), sessions, timeline, follow-ups,
    司法确认, referrals, questions, and the actions the caller may take now."""
    dispute = workflow.load(session, dispute_id)
    audit.record(session, "read", "dispute", dispute.id, area_path=dispute.area_path)
    events = list(session.scalars(select(DisputeEvent).where(DisputeEvent.dispute_id == dispute.id)
                                  .order_by(DisputeEvent.seq)))
    conf = confirmation(session, dispute.id)
    return {
        **dispute_out(dispute, lang),
        "parties": [party_out(p) for p in parties(session, dispute.id)],
        "sessions": [{"id": s.id, "starts_at": s.starts_at, "place": s.place, "video_link": s.video_link,
                      "attendees": mask_text(s.attendees), "record": mask_text(s.record)}
                     for s in sessions(session, dispute.id)],
        "events": [{"seq": e.seq, "action": e.action, "from_state": e.from_state, "to_state": e.to_state,
                    "at": e.at, "note": mask_text(e.note)} for e in events],
        "follow_ups": [{"id": f.id, "at": f.at, "performed": f.performed, "satisfied": f.satisfied,
                        "residual_risk": f.residual_risk, "note": mask_text(f.note)}
                       for f in follow_ups(session, dispute.id)],
        "confirmation": None if conf is None else {
            "court": conf.court, "applied_on": conf.applied_on, "result": conf.result, "ruling_no": conf.ruling_no,
            "decided_on": conf.decided_on},
        "referrals": [referral_out(r) for r in referrals(session, dispute_id=dispute.id)[0]],
        "questions": [question_out(q) for q in questions(session, dispute_id=dispute.id)],
        "actions": [{"action": t.action, "label": t.label_en if lang == "en" else t.label_zh,
                     "fields": [f.name for f in t.fields], "note_required": t.note_required}
                    for t in workflow.available(session, principal, dispute)],
    }


def map_points(session: Session) -> list[dict[str, Any]]:
    """Open disputes for the map layer: point, type, risk, state, code — no names, no description."""
    rows = session.execute(select(Dispute.id, Dispute.code, Dispute.lon, Dispute.lat, Dispute.type_code,
                                  Dispute.risk_level, Dispute.state, Dispute.is_group)
                           .where(Dispute.state.in_([s.value for s in OPEN_STATES])).limit(2000))
    return [dict(r._mapping) for r in rows]
