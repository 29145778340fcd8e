"""The key persons' API shapes (inputs checked for shape here, for meaning in the service)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field


class TeamIn(BaseModel):
    grid_worker_id: int | None = Field(None, ge=1, le=2**62)
    police_id: int | None = Field(None, ge=1, le=2**62)
    cadre_id: int | None = Field(None, ge=1, le=2**62)
    guardian_name: str | None = Field(None, max_length=50)
    guardian_phone: str | None = Field(None, max_length=20)
    version: int | None = Field(None, ge=1, le=2**31)


class RecordIn(BaseModel):
    person_id: int = Field(ge=1, le=2**62)
    group_code: str = Field(max_length=32)
    grade: str = Field(max_length=10)
    source: str = Field(max_length=16, description="judicial | police | health | petition | grid | dispute | warning")
    source_ref: str = Field("", max_length=80)
    attributes: dict[str, Any] = Field(default_factory=dict, description="the group's form")
    team: TeamIn = Field(default_factory=TeamIn)
    period_start: date | None = None
    period_end: date | None = None


class RecordRow(BaseModel):
    id: int
    person_id: int
    group_code: str
    group_name: str
    grade: str
    state: str
    source: str
    grid_id: int
    name: str | None
    id_number: str | None
    next_due_on: date | None
    last_visit_on: date | None
    last_verified_on: date | None = Field(description="the day a census last confirmed the person is here")
    overdue_days: int
    warning: str
    version: int


class RecordDetail(RecordRow):
    source_ref: str
    phone: str | None
    attributes: dict[str, Any]
    form: list[dict[str, Any]]
    team: dict[str, Any]
    period_start: date | None
    period_end: date | None
    enrolled_on: date | None
    closed_on: date | None
    case_id: int | None
    pending_grade: dict[str, Any] | None
    actions: list[str]
    may_visit: bool
    may_manage: bool
    may_reveal: bool


class ActIn(BaseModel):
    action: str = Field(max_length=20)
    note: str = Field("", max_length=500)
    version: int | None = Field(None, ge=1, le=2**31)


class GradeIn(BaseModel):
    to_grade: str = Field(max_length=10)
    reason: str = Field(max_length=500)


class DecideIn(BaseModel):
    approve: bool
    note: str = Field("", max_length=500)


class GradeChangeOut(BaseModel):
    id: int
    record_id: int
    from_grade: str
    to_grade: str
    reason: str
    status: str = "pending"
    requested_at: datetime


class VisitIn(BaseModel):
    visited_on: date
    findings: dict[str, Any] = Field(default_factory=dict, description="what the visitor found (free fields)")
    assessed_grade: str | None = Field(None, max_length=10)
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    photos: list[int] = Field(default_factory=list, max_length=9)
    client_uuid: str | None = Field(None, min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")


class VisitOut(BaseModel):
    id: int
    record_id: int
    due_on: date | None
    visited_on: date
    by_id: int | None
    assessed_grade: str | None
    on_time: bool
    lon: float | None
    lat: float | None


class EventOut(BaseModel):
    id: int
    kind: str
    at: datetime
    by: str | None
    data: dict[str, Any]


class HandoverIn(BaseModel):
    group_code: str = Field(max_length=32)
    to_grid_id: int = Field(ge=1, le=2**62)
    person_id: int | None = Field(None, ge=1, le=2**62, description="intake: the person in the register")
    record_id: int | None = Field(None, ge=1, le=2**62, description="transfer: the record that moves")
    from_org: str = Field("", max_length=100)
    sender_name: str = Field("", max_length=50)
    document_no: str = Field("", max_length=60)
    due_on: date | None = None
    items: list[str] = Field(default_factory=list, max_length=20)
    note: str = Field("", max_length=500)


class ReceiveIn(BaseModel):
    received_items: list[str] = Field(default_factory=list, max_length=20)
    grid_worker_id: int = Field(ge=1, le=2**62)
    grade: str | None = Field(None, max_length=10)
    attributes: dict[str, Any] = Field(default_factory=dict)
    note: str = Field("", max_length=500)


class CancelIn(BaseModel):
    note: str = Field("", max_length=500)


class HandoverOut(BaseModel):
    id: int
    kind: str
    state: str
    record_id: int | None
    person_id: int
    group_code: str
    from_org: str
    to_grid_id: int
    document_no: str
    due_on: date | None
    items: list[str]
    received_items: list[str]
    sent_at: datetime
    received_at: datetime | None
    version: int
    direction: str


class GroupOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    grade_scheme: str
    grades: list[str]
    form: list[dict[str, Any]]


class PlanOut(BaseModel):
    id: int
    group_code: str
    grade: str
    interval_days: int
    basis: str


class PlanIn(BaseModel):
    interval_days: int = Field(ge=1, le=366)


class CensusAreaOut(BaseModel):
    area_path: str
    area_name: str
    sent: int
    checked: int
    unable: int
    rate: float | None = Field(description="checked ÷ sent, in percent")


class CensusCompletionOut(BaseModel):
    sent: int = Field(description="census items sent (one per record)")
    checked: int = Field(description="items done, or reviewed after done")
    unable: int = Field(description="items marked unable to check")
    rate: float | None = Field(description="清查完成率: checked ÷ sent, in percent; none before any census")
    areas: list[CensusAreaOut]


class DashboardOut(BaseModel):
    area_id: int
    area_name: str
    today: date
    figures: dict[str, int]
    dynamic_rate: float | None
    on_time_rate: float | None
    since: date
    rows: list[dict[str, Any]]
    census: CensusCompletionOut = Field(description="census campaigns sent since ``since``, by child area")


class CensusIn(BaseModel):
    area_id: int = Field(ge=1, le=2**62, description="every open record in the grids under this area is checked")
    due_at: datetime
    title: str = Field("", max_length=200, description="default 重点人员集中清查")
    group_codes: list[Annotated[str, Field(max_length=32)]] = Field(
        default_factory=list, max_length=20, description="only these special groups (default: all)")


class CensusOut(BaseModel):
    assignment_id: int
    items: int = Field(description="one work item per record")
    title: str
    due_at: datetime
