"""Routes for routing rules and the routing preview: rules are readable by every logged-in user and
written with routing.edit."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Query

from shiyu.cases.routing import service
from shiyu.cases.routing.schemas import DecisionOut, PreviewIn, RuleIn, RuleOut, RulePatch
from shiyu.core.http import CurrentPrincipal, Db, Paging
from shiyu.core.paging import Page

router = APIRouter(prefix="/routing", tags=["routing"])


@router.get("/rules", response_model=Page[RuleOut], summary="Routing rules for areas you see and above")
def list_rules(
    db: Db, principal: CurrentPrincipal, paging: Paging,
    category_id: int | None = None, department_id: int | None = None,
    active: bool | None = Query(None, description="only active (true) or inactive (false) rules"),
) -> dict[str, Any]:
    rules, total = service.list_rules(db, principal, paging, category_id=category_id, department_id=department_id,
                                      active=active)
    items = [RuleOut.model_validate(r) for r in rules]
    return {"items": items, "total": total, "limit": paging.limit, "offset": paging.offset}


@router.get("/rules/{rule_id}", response_model=RuleOut)
def get_rule(rule_id: int, db: Db, principal: CurrentPrincipal) -> RuleOut:
    return RuleOut.model_validate(service.get_rule(db, principal, rule_id))


@router.post("/rules", response_model=RuleOut, status_code=201, summary="Create a routing rule")
def create_rule(body: RuleIn, db: Db, principal: CurrentPrincipal) -> RuleOut:
    return RuleOut.model_validate(service.create_rule(db, principal, body))


@router.patch("/rules/{rule_id}", response_model=RuleOut, summary="Change a routing rule (only the fields sent)")
def update_rule(rule_id: int, body: RulePatch, db: Db, principal: CurrentPrincipal) -> RuleOut:
    return RuleOut.model_validate(service.update_rule(db, principal, rule_id, body))


@router.delete("/rules/{rule_id}", status_code=204, summary="Delete a routing rule")
def delete_rule(rule_id: int, db: Db, principal: CurrentPrincipal) -> None:
    service.delete_rule(db, principal, rule_id)


@router.post("/preview", response_model=DecisionOut, summary="Who would handle a case, and why")
def preview(body: PreviewIn, db: Db, principal: CurrentPrincipal) -> DecisionOut:
    if body.location is not None:
        placed = service.preview_at(db, principal, body.category_id, body.location.lon, body.location.lat,
                                    body.attributes)
        return DecisionOut(**asdict(placed.decision), area_id=placed.area_id, place=placed.place)
    assert body.area_id is not None
    return DecisionOut(**asdict(service.preview(db, body.category_id, body.area_id, body.attributes)))
