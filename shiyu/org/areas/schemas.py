"""API shapes for areas, the point lookup, boundary versions and the import report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

LEVEL_DOC = "0 city 市, 1 district 区县, 2 street 街道乡镇, 3 community 社区村, 4 grid 网格"


class AreaRefOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="area id")
    code: str = Field(description="12-digit division code; grids: community code + 3-digit serial")
    name: str = Field(description="name, e.g. 甲社区第一网格")
    level: int = Field(description=LEVEL_DOC)


class AreaOut(AreaRefOut):
    parent_id: int | None = Field(description="id of the parent area; null for the city")
    area_path: str = Field(description="codes from the city down to this area, e.g. /350200000000/…/")
    population: int = Field(description="registered population")
    households: int = Field(description="number of households")


class AreaDetailOut(AreaOut):
    geometry: dict[str, Any] | None = Field(description="current approved boundary (GeoJSON, WGS 84 lon/lat)")
    chain: list[AreaRefOut] = Field(description="this area and its ancestors, up to the city")


class LookupOut(BaseModel):
    grid: AreaRefOut = Field(description="the grid containing the point")
    chain: list[AreaRefOut] = Field(description="grid, community, street, district, city")


class BoundaryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="boundary version id (also the proposal id)")
    area_id: int
    version: int = Field(description="1, 2, … per area")
    status: str = Field(description="proposed, approved, rejected or superseded")
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon")
    effective_from: datetime | None = Field(description="when this version came into force (approved ones)")
    effective_to: datetime | None = Field(description="when a later version replaced it (superseded ones)")
    proposed_by_id: int | None
    proposed_at: datetime
    decided_by_id: int | None
    decided_at: datetime | None
    note: str = Field(description="the proposer's reason, then each decision's note")


class ProposalIn(BaseModel):
    geometry: dict[str, Any] = Field(description="the new boundary: GeoJSON Polygon or MultiPolygon")
    note: str = Field("", max_length=400, description="why the boundary changes")


class DecisionIn(BaseModel):
    note: str = Field("", max_length=400, description="the decision's note; required to reject")


class IssueOut(BaseModel):
    code: str = Field(description="stable issue code, e.g. sibling_overlap, outside_parent, unknown_parent")
    severity: str = Field(description="error (blocks the import) or warning")
    subject: str = Field(description="the feature or area concerned: code and name")
    message_zh: str
    message_en: str
    detail: dict[str, Any] = Field(description="the values in the message")


class ClipOut(BaseModel):
    percent: str = Field(description="share of the feature's area cut off, e.g. 1.02")
    m2: int = Field(description="square metres cut off")


class SourceOut(BaseModel):
    formats: list[str] = Field(description="shiyu (our properties), datav (DataV GeoAtlas), mapped (--map)")
    crs: str = Field(description="the coordinate system the file was read in")
    crs_label: str
    converted_points: int = Field(description="points converted to WGS-84 (0 for wgs84/cgcs2000)")


class FeatureReportOut(BaseModel):
    index: int = Field(description="1-based position of the feature in the file")
    code: str
    name: str
    level: str | None
    action: str = Field(description="create, update, unchanged, or none when the feature has errors")
    errors: list[IssueOut]
    warnings: list[IssueOut]
    clipped: ClipOut | None = Field(None, description="what clip_to_parent cut off this feature, if anything")


class ImportSummaryOut(BaseModel):
    features: int
    create: int
    update: int
    unchanged: int
    errors: int
    warnings: int
    clipped: int = Field(description="features cut to their parent's boundary")


class ImportReportOut(BaseModel):
    valid: bool = Field(description="no errors: the file can be imported as a whole")
    dry_run: bool
    written: bool = Field(description="true when the areas were created/updated")
    summary: ImportSummaryOut
    features: list[FeatureReportOut]
    source: SourceOut
    general: list[IssueOut] = Field(description="issues not tied to one feature (e.g. holes in an existing parent)")
