"""Parked outbox deliveries over the API, for a city-wide administrator (``outbox.manage``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from shiyu.core import outbox_admin
from shiyu.core.http import CurrentPrincipal, Db, Paging
from shiyu.core.paging import Page

router = APIRouter(prefix="/outbox", tags=["outbox"])


@router.get("/parked", response_model=Page[outbox_admin.Parked], summary="Deliveries parked after too many failures")
def list_parked(db: Db, principal: CurrentPrincipal, paging: Paging) -> dict[str, Any]:
    rows, total = outbox_admin.parked(db, principal, paging)
    return {"items": rows, "total": total,
            "limit": paging.limit, "offset": paging.offset}


@router.post("/parked/{delivery_id}/redeliver", status_code=204, summary="Deliver a parked delivery again")
def redeliver(delivery_id: int, db: Db, principal: CurrentPrincipal) -> Response:
    outbox_admin.redeliver(db, principal, delivery_id)
    return Response(status_code=204)


@router.post("/parked/{delivery_id}/discard", status_code=204, summary="Give up a parked delivery")
def discard(delivery_id: int, db: Db, principal: CurrentPrincipal) -> Response:
    outbox_admin.discard(db, principal, delivery_id)
    return Response(status_code=204)
