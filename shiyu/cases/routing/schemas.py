"""API shapes of routing rules and routing decisions."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shiyu.cases.categories.models import CategoryKind
from shiyu.cases.routing.models import Basis
from shiyu.cases.schemas import Point

Conditions = dict[str, str]


class RuleIn(BaseModel):
    name: str = Field("", max_length=100, description="a note for editors")
    kind: CategoryKind | None = Field(None, description="when no category is given: all classes of this kind")
    category_id: int | None = Field(None, description="a minor or a major class")
    area_id: int | None = Field(None, description="the subtree covered; empty = the whole city")
    conditions: Conditions = Field(default_factory=dict, max_length=10,
                                   description='case attributes that must be equal, e.g. {"owner": "供电公司"}')
    department_id: int | None = None
    territory_level: int | None = Field(None, ge=0, le=3,
                                        description="instead of a department: the centre at this level "
                                                    "(0 city, 1 district, 2 street, 3 community)")
    priority: int = Field(0, ge=-1000, le=1000, description="higher wins among equally specific rules")
    active: bool = True

    @model_validator(mode="after")
    def _one_target(self) -> RuleIn:
        if (self.department_id is None) == (self.territory_level is None):
            raise ValueError("give either department_id or territory_level")
        return self


class RulePatch(BaseModel):
    """Only the fields sent are changed; to switch target send the new one and null for the other."""

    name: str | None = Field(None, max_length=100)
    kind: CategoryKind | None = None
    category_id: int | None = None
    area_id: int | None = None
    conditions: Conditions | None = Field(None, max_length=10)
    department_id: int | None = None
    territory_level: int | None = Field(None, ge=0, le=3)
    priority: int | None = Field(None, ge=-1000, le=1000)
    active: bool | None = None


class RuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: CategoryKind | None
    category_id: int | None
    area_id: int | None
    area_prefix: str
    conditions: Conditions
    department_id: int | None
    territory_level: int | None
    priority: int
    active: bool
    basis: Basis


class PreviewIn(BaseModel):
    category_id: int
    area_id: int | None = Field(None, description="the case's grid (or any area); or give a location")
    location: Point | None = Field(None, description="a point: its grid is found as intake finds a report's")
    attributes: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_place(self) -> PreviewIn:
        if (self.area_id is None) == (self.location is None):
            raise ValueError("give either area_id or location")
        return self


class DecisionOut(BaseModel):
    department_id: int | None
    centre_id: int | None
    rule_id: int | None = Field(description="empty when the territory fallback decided")
    basis: Basis
    target_name: str
    explanation_zh: str
    explanation_en: str
    area_id: int | None = Field(None, description="the grid a location fell in")
    place: str = Field("", description="that grid, named down from the district")
