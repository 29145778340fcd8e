"""Routes for the category tree: readable by every logged-in user, written with category.edit."""

from __future__ import annotations

from fastapi import APIRouter, Query

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


@router.get("/{category_id}", response_model=CategoryOut, summary="One category (a major class with its minors)")
def get_category(category_id: int, db: Db) -> CategoryOut:
    return service.category_out(service.get_category(db, category_id))


@router.post("", response_model=CategoryOut, status_code=201, summary="Create a major or minor class")
def create_category(body: CategoryIn, db: Db, principal: CurrentPrincipal) -> CategoryOut:
    return service.category_out(service.create_category(db, principal, body))


@router.patch("/{category_id}", response_model=CategoryOut, summary="Change a category (only the fields sent)")
def update_category(category_id: int, body: CategoryPatch, db: Db, principal: CurrentPrincipal) -> CategoryOut:
    return service.category_out(service.update_category(db, principal, category_id, body))
