"""Routes for the category tree: readable by every logged-in user, written with category.edit."""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from shiyu.cases.categories import service
from shiyu.cases.categories.models import CategoryKind
from shiyu.cases.categories.schemas import CategoryIn, CategoryOut, CategoryPatch
from shiyu.core.http import CurrentPrincipal, Db

router = APIRouter(prefix="/categories", tags=["categories"])


@router.get("", response_model=list[CategoryOut], summary="The category tree (major classes with minor classes)")
def list_categories(
    db: Db,
    kind: CategoryKind | None = Query(None, description="component or incident"),
    include_inactive: bool = Query(False, description="also list deactivated classes"),
) -> list[CategoryOut]:
    return service.tree(db, kind, include_inactive)


class SuggestedCode(BaseModel):
    code: str = Field(description="the next free code in the scheme of the new class's siblings")


class CopyLimitsIn(BaseModel):
    source_id: int = Field(description="a minor class of the same major class")


@router.get("/suggested-code", response_model=SuggestedCode, summary="A code for a new class, following its siblings")
def suggested_code(
    db: Db, kind: CategoryKind = Query(CategoryKind.INCIDENT, description="for a major class: its kind"),
    parent_id: int | None = Query(None, description="for a minor class: its major class"),
) -> SuggestedCode:
    return SuggestedCode(code=service.suggest_code(db, kind, parent_id))


@router.get("/{category_id}", response_model=CategoryOut, summary="One category (a major class with its minors)")
def get_category(category_id: int, db: Db) -> CategoryOut:
    return service.category_out(service.get_category(db, category_id))


@router.post("", response_model=CategoryOut, status_code=201, summary="Create a major or minor class")
def create_category(body: CategoryIn, db: Db, principal: CurrentPrincipal) -> CategoryOut:
    return service.category_out(service.create_category(db, principal, body))


@router.patch("/{category_id}", response_model=CategoryOut, summary="Change a category (only the fields sent)")
def update_category(category_id: int, body: CategoryPatch, db: Db, principal: CurrentPrincipal) -> CategoryOut:
    return service.category_out(service.update_category(db, principal, category_id, body))


@router.post("/{category_id}/copy-limits", response_model=CategoryOut,
             summary="Give a minor class the time limits of a sibling")
def copy_limits(category_id: int, body: CopyLimitsIn, db: Db, principal: CurrentPrincipal) -> CategoryOut:
    return service.category_out(service.copy_limits(db, principal, category_id, body.source_id))
