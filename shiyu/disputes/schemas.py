"""The disputes API's shapes: inputs checked for shape here (lengths, ranges) and for meaning in the
service; outputs are the service's masked dicts, documented and filtered by these models."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

ID = Field(ge=1, le=2**31 - 1)


class PartyIn(BaseModel):
    role: str = Field(max_length=12, description="applicant | respondent | third")
    kind: str = Field("person", max_length=8, description="person | unit")
    name: str = Field(min_length=1, max_length=100)
    id_number: str | None = Field(None, max_length=30)
    phone: str | None = Field(None, max_length=30)
    person_id: int | None = Field(None, ge=1, le=2**31 - 1, description="the registry person, when known")


class DisputeIn(BaseModel):
    title: str = Field(min_length=1, max_length=100)
    type_code: str = Field(max_length=20)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    description: str = Field("", max_length=4000)
    address: str = Field("", max_length=200)
    source: str = Field("grid", max_length=12, description="grid | initiative | police | court | government | "
                                                           "petition | hotline")
    amount: Decimal | None = Field(None, ge=0, le=Decimal("999999999999"), decimal_places=2)
    people_count: int = Field(2, ge=1, le=100000)
    is_group: bool = False
    risk_level: str = Field("low", pattern="^(low|medium|high)$")
    signals: list[str] = Field(default_factory=list, max_length=3)
    parties: list[PartyIn] = Field(default_factory=list, max_length=30)


class FromCaseIn(BaseModel):
    type_code: str = Field(max_length=20)
    title: str | None = Field(None, max_length=100)


class ActionIn(BaseModel):
    version: int = Field(ge=1, le=2**31 - 1, description="the version the caller saw")
    note: str = Field("", max_length=2000)
    fields: dict[str, Any] = Field(default_factory=dict)


class PartyOut(BaseModel):
    id: int
    role: str
    kind: str
    name: str | None
    id_number: str | None
    phone: str | None
    unit_name: str
    person_id: int | None


class MediationStanding(BaseModel):
    due_at: datetime
    days: int = Field(description="whole days left, or days past the due instant when overdue")
    overdue: bool
    warn: bool = Field(description="in the last five days")


class DisputeOut(BaseModel):
    id: int
    version: int
    code: str
    title: str
    description: str | None
    type_code: str
    source: str
    lon: float
    lat: float
    address: str
    grid_id: int
    centre_area_id: int
    amount: Decimal | None
    people_count: int
    is_group: bool
    risk_level: str
    signals: list[str]
    state: str
    state_label: str
    reason: str | None
    case_id: int | None
    org_id: int | None
    mediator_id: int | None
    preferred_mediator_id: int | None
    registered_at: datetime
    agreement_terms: str | None
    perform_by: date | None
    resolved_at: datetime | None
    closed_at: datetime | None
    mediation_due_at: datetime | None = Field(
        None, description="调解期限: a month from the assignment (人民调解工作若干规定 第三十三条), extendable")
    mediation: MediationStanding | None = Field(None, description="while assigned or mediating: where it stands")


class SessionOut(BaseModel):
    id: int
    starts_at: datetime
    place: str
    video_link: str
    attendees: str | None
    record: str | None


class EventOut(BaseModel):
    seq: int
    action: str
    from_state: str
    to_state: str
    at: datetime
    note: str | None


class FollowUpOut(BaseModel):
    id: int
    at: datetime
    performed: bool
    satisfied: bool
    residual_risk: bool
    note: str | None


class ConfirmationOut(BaseModel):
    court: str
    applied_on: date
    result: str
    ruling_no: str
    decided_on: date | None


class ReferralOut(BaseModel):
    id: int
    dispute_id: int
    channel: str
    counterpart: str
    reason: str | None
    external_ref: str
    status: str
    feedback: str | None
    referred_at: datetime
    feedback_at: datetime | None


class QuestionOut(BaseModel):
    id: int
    dispute_id: int
    question: str | None
    asked_at: datetime
    answer: str | None
    answered_at: datetime | None


class ActionOut(BaseModel):
    action: str
    label: str
    fields: list[str]
    note_required: bool


class DisputeDetail(DisputeOut):
    parties: list[PartyOut]
    sessions: list[SessionOut]
    events: list[EventOut]
    follow_ups: list[FollowUpOut]
    confirmation: ConfirmationOut | None
    referrals: list[ReferralOut]
    questions: list[QuestionOut]
    actions: list[ActionOut]


class SessionIn(BaseModel):
    starts_at: datetime
    place: str = Field("", max_length=200)
    video_link: str = Field("", max_length=300, pattern=r"^(https://\S*)?$")
    attendees: str = Field("", max_length=1000)
    record: str = Field("", max_length=8000)


class ConfirmationIn(BaseModel):
    court: str = Field(min_length=2, max_length=100)
    applied_on: date


class ConfirmationResultIn(BaseModel):
    result: str = Field(max_length=10, description="confirmed | rejected")
    ruling_no: str = Field("", max_length=60)
    decided_on: date


class FeedbackIn(BaseModel):
    status: str = Field(max_length=10, description="accepted | done")
    feedback: str = Field("", max_length=4000)
    external_ref: str | None = Field(None, max_length=60)


class QuestionIn(BaseModel):
    question: str = Field(min_length=2, max_length=2000)


class AnswerIn(BaseModel):
    answer: str = Field(min_length=2, max_length=4000)


class OrgIn(BaseModel):
    area_id: int = Field(ge=1, le=2**31 - 1)
    kind: str = Field(max_length=12, description="village | township | sector | brand | litigation")
    name: str = Field(min_length=2, max_length=100)
    phone: str = Field("", max_length=30)
    address: str = Field("", max_length=200)


VERSION = Field(None, ge=1, le=2**31 - 1, description="the version you saw: when someone changed it since, 409 "
                                                      "conflict and nothing is written; leave it out to overwrite")


class OrgPatch(BaseModel):
    """Only the fields sent change. The area is fixed: the organisation's mediators and records are scoped by
    it, so another area is another organisation. ``active: false`` (停用) is refused with 409
    ``org_has_active_mediators`` while any of its mediators is active."""

    kind: str | None = Field(None, max_length=12, description="village | township | sector | brand | litigation")
    name: str | None = Field(None, min_length=2, max_length=100)
    phone: str | None = Field(None, max_length=30)
    address: str | None = Field(None, max_length=200)
    active: bool | None = None
    version: int | None = VERSION


class OrgOut(BaseModel):
    id: int
    area_id: int
    kind: str
    name: str
    phone: str
    address: str
    active: bool
    version: int


class MediatorIn(BaseModel):
    org_id: int = Field(ge=1, le=2**31 - 1)
    name: str = Field(min_length=1, max_length=40)
    user_id: int | None = Field(None, ge=1, le=2**31 - 1)
    specialties: list[str] = Field(default_factory=list, max_length=20)
    expert: bool = False
    intro: str = Field("", max_length=300)


class MediatorPatch(BaseModel):
    """Only the fields sent change; ``user_id: null`` unlinks the account. ``org_id`` moves the mediator to
    another organisation the caller manages (an active one)."""

    org_id: int | None = Field(None, ge=1, le=2**31 - 1)
    name: str | None = Field(None, min_length=1, max_length=40)
    user_id: int | None = Field(None, ge=1, le=2**31 - 1, description="a mediator's account; null unlinks it")
    specialties: list[str] | None = Field(None, max_length=20, description="dispute type codes")
    expert: bool | None = None
    intro: str | None = Field(None, max_length=300)
    active: bool | None = None
    version: int | None = VERSION


class MediatorOut(BaseModel):
    id: int
    org_id: int
    org_name: str
    user_id: int | None
    name: str
    specialties: list[str]
    expert: bool
    intro: str
    active: bool
    version: int
    workload: int
    agreed: int
    ended: int
    success_rate: float | None


class TypeOut(BaseModel):
    code: str
    parent_code: str | None
    name_zh: str
    name_en: str


class IndicatorsOut(BaseModel):
    total: int
    accepted: int
    resolved: int
    by_state: dict[str, int]
    resolution_rate: float | None
    success_rate: float | None
    screening_rate: float | None
    screening: dict[str, Any]
    resolved_by_level: dict[str, float | None]
    criminal_count: int
    mediators: list[dict[str, Any]]


class ScreeningIn(BaseModel):
    area_id: int = Field(ge=1, le=2**31 - 1, description="every grid under this area gets the round")
    due_at: datetime
    title: str = Field("", max_length=200)
    instructions: str = Field("", max_length=2000)


class ScreeningOut(BaseModel):
    assignment_id: int
    grids: int


class MapPoint(BaseModel):
    id: int
    code: str
    lon: float
    lat: float
    type_code: str
    risk_level: str
    state: str
    is_group: bool
