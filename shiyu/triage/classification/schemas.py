"""API shapes of triage model versions and case suggestions."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class VersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    status: str
    labels: list[str]
    training_size: int
    heldout_size: int
    macro_f1: float | None
    accuracy: float | None
    compared_version: int | None
    compared_macro_f1: float | None
    compared_accuracy: float | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    activated_at: datetime | None
    progress: str
    reason: str


class SuggestionItem(BaseModel):
    category_id: int
    code: str
    confidence: float


class CaseSuggestionsOut(BaseModel):
    case_id: int
    model_version: int | None = None
    created_at: datetime | None = None
    auto_action: str | None = None
    suggestions: list[SuggestionItem] = []
