"""The registers' API shapes. Register rows are answered as the service shapes them (masked dicts), so the
output models only document and filter them; inputs are checked here for shape and in
``shiyu.registry.fields`` for meaning."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class PersonOut(BaseModel):
    id: int
    grid_id: int
    name: str | None
    id_number: str | None
    phone: str | None
    hukou_address: str | None
    sex: str
    birth_date: date | None
    ethnicity: str
    residence_type: str
    arrival_date: date | None
    permit_no: str
    permit_expires_on: date | None
    occupation: str
    household_id: int | None
    relation: str
    status: str
    merged_into_id: int | None
    police_note: str | None = Field(None, description="only for holders of registry.police_view")


class ResidenceOut(BaseModel):
    id: int
    house_id: int
    address: str
    moved_in_on: date | None
    moved_out_on: date | None


class MemberOut(BaseModel):
    id: int
    name: str | None
    relation: str


class PersonProfile(PersonOut):
    residences: list[ResidenceOut]
    household: list[MemberOut]


class UnitOut(BaseModel):
    id: int
    grid_id: int
    credit_code: str | None
    name: str
    kind: str
    address_text: str
    legal_rep_name: str | None
    legal_rep_phone: str | None
    staff_count: int
    place_type: str
    risk_tags: list[str]
    red_property: bool
    status: str


class HouseOut(BaseModel):
    id: int
    grid_id: int
    building_id: int | None
    address_id: int
    address: str
    use: str
    area_m2: float | None
    landlord_name: str | None
    landlord_phone: str | None
    tenant_count: int
    rental_filed_on: date | None
    last_inspected_on: date | None


class HouseDetail(HouseOut):
    residents: list[PersonOut]
    households: list[int]
    units: list[UnitOut]


class BuildingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    grid_id: int
    road: str
    building_no: str
    floors: int | None
    use: str
    lon: float | None
    lat: float | None


class ComponentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    grid_id: int
    code: str
    class_code: str
    name: str
    lon: float
    lat: float
    owner_name: str
    status: str


class ChangeIn(BaseModel):
    entity: str = Field(max_length=16, description="household | person | house | unit | component")
    action: str = Field(max_length=16, description="create | update | move_out | death (see ACTIONS)")
    target_id: int | None = Field(None, ge=1, le=2**62)
    grid_id: int | None = Field(None, ge=1, le=2**62, description="else the grid containing the point given")
    data: dict[str, Any] = Field(default_factory=dict)
    photos: list[int] = Field(default_factory=list, max_length=9)
    client_key: str | None = Field(None, min_length=8, max_length=80, description="a resend answers the first record")


class ChangeOut(BaseModel):
    id: int
    grid_id: int
    entity: str
    action: str
    target_id: int | None
    status: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    photos: list[int]
    duplicates: list[int]
    submitted_by: int | None
    submitted_at: datetime
    reviewed_by: int | None
    decided_by: int | None
    note: str
    applied_ids: list[str]


class DecisionIn(BaseModel):
    note: str = Field("", max_length=500)


class RevealIn(BaseModel):
    field: str = Field(max_length=40)
    reason: str = Field(max_length=500)


class RevealOut(BaseModel):
    field: str
    value: str | None


class MergeIn(BaseModel):
    duplicate_id: int = Field(ge=1, le=2**62)


class ImportProblem(BaseModel):
    row: int = Field(description="the row as the spreadsheet numbers it (the header is row 1)")
    field: str
    column: str = Field(description="the column of the file (身份证号 …)")
    code: str
    message: str
    message_en: str


class ImportReportOut(BaseModel):
    kind: str
    mode: str
    total: int
    valid: int
    invalid: int
    written: int
    problems: list[ImportProblem]
    more_problems: int = Field(description="problems beyond the first 1,000 listed")


class ExportIn(BaseModel):
    grid_id: int | None = Field(None, ge=1, le=2**62, description="one grid; all you see if omitted")
    reason: str = Field("", max_length=500, description="why personal data must be in the clear (registry.reveal); "
                                                        "empty: masked")
