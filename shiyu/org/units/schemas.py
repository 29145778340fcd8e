"""API shapes for centres and departments."""

from __future__ import annotations

from pydantic import BaseModel, Field

CATEGORY_KINDS = ("component", "incident")


class CentreOut(BaseModel):
    id: int
    area_id: int
    name: str
    phone: str
    area_path: str


class CentreIn(BaseModel):
    area_id: int
    name: str = Field(min_length=2, max_length=100)
    phone: str = Field("", max_length=30)


class DepartmentIn(BaseModel):
    code: str = Field(min_length=2, max_length=40, pattern=r"^[A-Za-z0-9_\-]+$")
    name: str = Field(min_length=2, max_length=100)
    area_id: int = Field(description="the area (level) the department belongs to")
    category_kinds: list[str] = Field(default_factory=lambda: ["incident"], description="component and/or incident")
    phone: str = Field("", max_length=30)
    jurisdiction_area_ids: list[int] = Field(default_factory=list, description="areas (subtrees) it answers for")


class DepartmentPatch(BaseModel):
    name: str | None = Field(None, min_length=2, max_length=100)
    category_kinds: list[str] | None = None
    phone: str | None = Field(None, max_length=30)
    jurisdiction_area_ids: list[int] | None = None


class DepartmentOut(BaseModel):
    id: int
    code: str
    name: str
    area_id: int
    area_path: str
    category_kinds: list[str]
    phone: str
    jurisdiction_area_ids: list[int]
    liaisons: list[str] = Field(description="usernames of the department's handlers")
