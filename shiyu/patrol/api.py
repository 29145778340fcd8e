"""Routes for check-ins and presence. Thin: parse, call one service function, return.

The field app calls these with its page session (cookie + ``X-CSRF-Token``), other clients with a bearer
token; both are the same principal and the same scope.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query, Request, Response

from shiyu.core.http import Db, Paging
from shiyu.core.paging import Page
from shiyu.patrol import service
from shiyu.patrol.models import CheckinKind
from shiyu.patrol.schemas import CheckinIn, CheckinOut, HeartbeatOut, PresenceOut

router = APIRouter(prefix="/patrol", tags=["patrol"])


@router.post("/checkins", response_model=CheckinOut, status_code=201,
             summary="Check in on patrol or a visit; a retry with the same idempotency key answers 200 with the "
                     "first check-in")
def create_checkin(body: CheckinIn, db: Db, request: Request, response: Response) -> dict[str, Any]:
    checkin, created = service.check_in(db, db.info["principal"], body, request.app.state.settings.tz)
    if not created:
        response.status_code = 200
    return service.checkins_out(db, [checkin], created)[0]


@router.get("/checkins", response_model=Page[CheckinOut], summary="Check-ins within your scope, newest first")
def list_checkins(
    db: Db, paging: Paging,
    user_id: int | None = None, grid_id: int | None = None, kind: CheckinKind | None = None,
    day_from: date | None = Query(None, description="local day, inclusive"),
    day_to: date | None = Query(None, description="local day, inclusive"),
    in_grid: bool | None = None,
) -> dict[str, Any]:
    filters = service.CheckinFilters(user_id=user_id, grid_id=grid_id, kind=kind.value if kind else None,
                                     day_from=day_from, day_to=day_to, in_grid=in_grid)
    rows, total = service.list_checkins(db, paging, filters)
    return {"items": service.checkins_out(db, rows), "total": total, "limit": paging.limit,
            "offset": paging.offset}


@router.post("/presence", response_model=HeartbeatOut,
             summary="Heartbeat of an open field app: counts the current five-minute slot as online (idempotent)")
def heartbeat(db: Db, request: Request) -> dict[str, Any]:
    row, slot = service.heartbeat(db, db.info["principal"], request.app.state.settings.tz)
    return {"day": row.day, "slot": slot, "minutes": row.minutes}


@router.get("/presence", response_model=Page[PresenceOut],
            summary="Online minutes per user on one day, for the users of your area (yourself otherwise)")
def list_presence(
    db: Db, paging: Paging, request: Request,
    day: date | None = Query(None, alias="date", description="local day; default today"),
) -> dict[str, Any]:
    rows, total = service.list_presence(db, paging, day or service.today(request.app.state.settings.tz))
    return {"items": service.presence_out(db, rows), "total": total, "limit": paging.limit, "offset": paging.offset}
