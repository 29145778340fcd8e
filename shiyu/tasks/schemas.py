"""The task engine's API shapes: checked here for shape, in ``shiyu.tasks.service`` and ``forms`` for meaning."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

ID = Field(ge=1, le=2**62)
Id = Annotated[int, Field(ge=1, le=2**62)]


class FormField(BaseModel):
    name: str = Field(max_length=40)
    label: str = Field(max_length=100)
    label_en: str = Field("", max_length=100)
    type: str = Field(max_length=12, description="text | textarea | number | date | choice | multichoice | yesno | "
                                                  "photo | gps")
    required: bool = False
    options: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=50)


class TypeIn(BaseModel):
    code: str = Field(max_length=60, description="lower-case, dotted: rental.check")
    name: str = Field(max_length=100)
    department_id: int = ID
    legal_basis: str = Field(max_length=2000)
    form: list[FormField] = Field(max_length=40)
    cycle_days: int | None = Field(None, ge=1, le=3660)
    funding_note: str = Field("", max_length=2000)


class TypeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name: str
    owner_department_id: int | None
    area_id: int | None
    legal_basis: str
    form: list[dict[str, Any]]
    cycle_days: int | None
    funding_note: str
    status: str
    system: bool
    proposed_by_id: int | None
    decided_by_id: int | None
    admitted_by_area_id: int | None
    admitted_at: datetime | None
    exit_at: datetime | None
    decision_note: str


class DecisionIn(BaseModel):
    decision: str = Field(max_length=10, description="admit | refuse")
    note: str = Field("", max_length=2000)


class ExitIn(BaseModel):
    note: str = Field(max_length=2000)


class TargetIn(BaseModel):
    kind: str = Field(max_length=30)
    id: int | None = Field(None, ge=1, le=2**62)
    area_id: int = ID
    label: str = Field("", max_length=200)


class AssignmentIn(BaseModel):
    type_code: str = Field(max_length=60)
    title: str = Field(max_length=200)
    due_at: AwareDatetime
    grid_ids: list[Id] = Field(default_factory=list, max_length=5000)
    targets: list[TargetIn] = Field(default_factory=list, max_length=5000)
    instructions: str = Field("", max_length=2000)
    priority: str = Field("normal", max_length=10, description="normal | urgent")


class AssignmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    type_id: int
    issuer_area_id: int
    issuer_id: int | None
    title: str
    instructions: str
    due_at: datetime
    priority: str
    created_at: datetime
    items: int = 0


class ProgressOut(BaseModel):
    area_id: int
    name: str
    level: int
    items: int
    open: int
    in_progress: int
    done: int
    unable: int
    reviewed: int
    overdue: int
    percent: int


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    version: int
    assignment_id: int | None
    type_id: int
    type_code: str
    type_name: str
    title: str
    target_kind: str
    target_id: int | None
    target_label: str
    grid_id: int
    assignee_id: int | None
    due_at: datetime
    state: str
    outcome: str | None
    unable_reason: str
    review_note: str
    warning: str
    data: dict[str, Any] | None
    done_at: datetime | None
    reviewed_at: datetime | None
    actions: list[str] = Field(description="what the caller may do now")
    form: list[dict[str, Any]] = Field(description="the type's form, so the phone renders it offline")


class ActionIn(BaseModel):
    action: str = Field(max_length=16, description="start | submit | unable | review | return")
    data: dict[str, Any] | None = None
    reason: str | None = Field(None, max_length=2000)
    client_uuid: str | None = Field(None, max_length=36, description="a resend answers the first result")
