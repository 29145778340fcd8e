"""Request and response shapes of the indicator API."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field


class FigureOut(BaseModel):
    name: str
    label: str
    formula: str
    is_rate: bool
    higher_is_better: bool
    numerator: int
    denominator: int | None
    rate: float | None
    cases_url: str = Field(description="the cases counted in the numerator")
    denominator_cases_url: str | None = Field(description="the cases counted in the denominator")


class IndicatorsOut(BaseModel):
    start: date
    end: date
    filters: dict[str, Any]
    figures: list[FigureOut]
    score: float | None = Field(description="100-point composite score (None when no weighted rate has cases)")
    weights: dict[str, float]


class TrendPoint(BaseModel):
    start: date
    end: date
    values: dict[str, float | int | None] = Field(description="rate of each rate indicator, count of each count")
    score: float | None


class TrendOut(BaseModel):
    bucket: str
    start: date
    end: date
    filters: dict[str, Any]
    points: list[TrendPoint]


class RankingRow(BaseModel):
    rank: int
    level: str
    id: int
    code: str
    name: str
    score: float | None
    values: dict[str, float | int | None]


class RankingOut(BaseModel):
    level: str
    start: date
    end: date
    filters: dict[str, Any]
    items: list[RankingRow]


class WeightsIn(BaseModel):
    weights: dict[str, float] = Field(description="rate indicator name → weight (0..1000); others keep theirs")


class WeightsOut(BaseModel):
    weights: dict[str, float]
    defaults: dict[str, float]
