"""The petitions' API shapes. Petitions are answered as the service shapes them (masked dicts); inputs are
bounded here (lengths, ids within what the database holds, plausible receipt times)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from shiyu.core.bounds import INT32_MAX, DbId, plausible_occurrence

Text = Annotated[str, Field(max_length=4000)]


class PetitionerIn(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    id_number: str | None = Field(None, max_length=30)
    phone: str | None = Field(None, max_length=30)


class PetitionIn(BaseModel):
    area_id: DbId
    channel: str = Field(max_length=16, description="letter, visit, online, phone, leader_mailbox, hotline")
    demands: Text = Field(min_length=1)
    petitioners: list[PetitionerIn] = Field(min_length=1, max_length=50)
    group_size: int = Field(1, ge=1, le=100_000)
    complained_unit: str = Field("", max_length=200)
    skip_level: bool = False
    received_at: Annotated[datetime | None, AfterValidator(plausible_occurrence)] = None


class PetitionerOut(BaseModel):
    id: int
    person_id: int | None
    name: str | None
    id_number: str | None
    phone: str | None


class PetitionOut(BaseModel):
    id: int
    version: int
    number: str
    area_id: int
    channel: str
    received_at: datetime
    group_size: int
    collective: bool
    demands: str
    complained_unit: str
    first_time: bool
    repeat: bool
    earlier_count: int
    skip_level: bool
    state: str
    notice: str
    assigned_unit: str
    leader_id: int | None
    answer: str
    satisfied: bool | None
    review_answer: str
    re_review_answer: str
    extended: bool
    due_at: datetime | None
    colour: str = Field(description="green, yellow (past 80 % of the limit), red (past it); empty when no clock runs")
    accept_due_at: datetime | None
    decided_at: datetime | None
    handle_due_at: datetime | None
    answered_at: datetime | None
    closed_at: datetime | None
    petitioners: list[PetitionerOut]


class TimelineEntry(BaseModel):
    at: datetime
    actor: str
    action: str
    from_state: str
    to_state: str
    note: str
    late: bool


class PetitionDetail(PetitionOut):
    leader: str | None
    actions: list[str]
    timeline: list[TimelineEntry]


class ActionIn(BaseModel):
    note: Text = ""
    assigned_unit: str = Field("", max_length=200)
    leader_id: DbId | None = None
    satisfied: bool | None = None
    expected_version: int | None = Field(None, ge=1, le=INT32_MAX)


class RevealIn(BaseModel):
    petitioner_id: DbId
    field: str = Field(max_length=40)
    reason: str = Field(max_length=500)


class PaperIn(BaseModel):
    reason: str = Field(max_length=500, description="why the petitioners' names are printed (audited)")


class RevealOut(BaseModel):
    field: str
    value: str | None


class LinkIn(BaseModel):
    kind: str = Field(max_length=24, description="spawn_dispute, raise_warning or enrol_key_person")
    reason: str = Field(min_length=1, max_length=1000)
    dispute_type: str | None = Field(None, max_length=24, description="spawn_dispute only: the dispute type's "
                                     "code (GET /api/v1/disputes/types); an unknown one opens the dispute as 其他")


class BacklogGroup(BaseModel):
    unit: str
    overdue: int
    repeat: int
    items: list[PetitionOut]


class ReceptionIn(BaseModel):
    area_id: DbId
    leader_id: DbId
    day: date
    place: str = Field(min_length=1, max_length=200)
    note: str = Field("", max_length=2000)
    petition_ids: list[DbId] = Field(default_factory=list, max_length=200)


class ReceptionOut(BaseModel):
    id: int
    area_id: int
    leader_id: int
    leader: str
    day: date
    place: str
    note: str
    petition_ids: list[int]
    numbers: list[str] = Field(default_factory=list, description="the petitions' numbers, in the same order")


class Indicators(BaseModel):
    total: int
    first_time_evaluated: int
    first_time_resolved: int
    first_time_resolved_rate: float | None
    decided: int
    decided_on_time: int
    on_time_acceptance_rate: float | None
    answered: int
    answered_on_time: int
    on_time_closure_rate: float | None
    repeat: int
    repeat_rate: float | None


class LimitOut(BaseModel):
    key: str
    amount: int
    unit: str


class LimitIn(BaseModel):
    amount: int = Field(ge=1, le=3650)
    unit: str = Field(max_length=16, description="natural_days or working_days")
