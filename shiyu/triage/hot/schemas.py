"""API shapes of duplicate candidates, repeat complaints and hot issues."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class CandidateOut(BaseModel):
    case_id: int
    tracking_code: str
    state: str
    description: str
    reported_at: datetime
    address: str
    score: float = Field(description="text cosine plus the boosts named in reasons, at most 1")
    similarity: float = Field(description="character 3-gram TF-IDF cosine of the two descriptions")
    reasons: list[str]


class EarlierOut(BaseModel):
    id: int
    tracking_code: str
    reported_at: datetime
    description: str
    state: str
    similarity: float
    reasons: list[str]


class RepeatOut(BaseModel):
    count: int
    flagged_at: datetime
    earlier: list[EarlierOut]


class FindingsOut(BaseModel):
    candidates: list[CandidateOut]
    repeat: RepeatOut | None


class HotIssueOut(BaseModel):
    id: int
    status: str
    title: str
    place_area_id: int
    place: str
    category_id: int | None
    period_start: datetime | None
    period_end: datetime | None
    size: int
    reporters: int
    followers: int = Field(description="reports merged into member cases ('me too')")
    recent: int = Field(description="member cases of the last 7 days")
    growth: float
    heat: float
    computed_on: date | None
    split_from_id: int | None
    decided_at: datetime | None


class MemberOut(BaseModel):
    id: int
    tracking_code: str
    state: str
    description: str
    reported_at: datetime
    grid_id: int


class HotIssueDetail(HotIssueOut):
    members: list[MemberOut]


class SplitIn(BaseModel):
    case_ids: list[int] = Field(min_length=1, max_length=1000)
