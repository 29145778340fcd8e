"""Routes for the working-time calendar: readable by every logged-in user, written with calendar.edit."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from shiyu.core.config import Settings
from shiyu.core.http import CurrentPrincipal, Db, get_settings
from shiyu.core.timeutil import utcnow
from shiyu.org.calendar import service as service
from shiyu.org.calendar.schemas import DeadlineOut, OfficeHours, YearDaysIn, YearDaysOut
from shiyu.org.calendar.worktime import TimeUnit

router = APIRouter(prefix="/calendar", tags=["calendar"])
Year = Annotated[int, Path(ge=2000, le=2100, description="calendar year")]


@router.get("/office-hours", response_model=OfficeHours, summary="Office periods and weekend days")
def get_office_hours(db: Db) -> OfficeHours:
    return service.get_office_hours(db)


@router.put("/office-hours", response_model=OfficeHours, summary="Change office periods and weekend days")
def put_office_hours(body: OfficeHours, db: Db, principal: CurrentPrincipal) -> OfficeHours:
    return service.set_office_hours(db, principal, body)


@router.get("/years/{year}", response_model=YearDaysOut, summary="Public holidays and make-up working days")
def get_year(year: Year, db: Db) -> YearDaysOut:
    return YearDaysOut(year=year, ranges=service.year_ranges(db, year))


@router.put("/years/{year}", response_model=YearDaysOut,
            summary="Replace the holidays and make-up working days of one year")
def put_year(year: Year, body: YearDaysIn, db: Db, principal: CurrentPrincipal) -> YearDaysOut:
    return YearDaysOut(year=year, ranges=service.replace_year(db, principal, year, body.ranges))


@router.get("/deadline", response_model=DeadlineOut, summary="Add working time to a start instant")
def get_deadline(
    db: Db,
    settings: Settings = Depends(get_settings),
    amount: float = Query(gt=0, le=5000, description="how many units"),
    unit: TimeUnit = Query(TimeUnit.WORKING_DAYS),
    start: datetime | None = Query(None, description="ISO 8601; without an offset it is city time; default now"),
) -> DeadlineOut:
    start = utcnow() if start is None else start if start.tzinfo else start.replace(tzinfo=settings.tz)
    result = service.deadline(db, settings.tz, start, amount, unit)
    return DeadlineOut.model_validate(result, from_attributes=True)
