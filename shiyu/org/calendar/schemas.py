"""API shapes of the working-time calendar. Day overrides travel as ranges (国庆节 10-01..10-07), are
stored one row per day, and come back grouped into ranges again."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated

from pydantic import BaseModel, Field, WithJsonSchema, model_validator

from shiyu.org.calendar.models import DayKind
from shiyu.org.calendar.worktime import TimeUnit

# A local wall-clock time, sent as "08:30:00" and taken as "08:30" too. Declared as a pattern, not as
# ``format: time``: that format is RFC 3339's full-time, which needs a zone offset these times have not
# (security review L6: schemathesis found every answer violating it).
LocalTime = Annotated[time, WithJsonSchema({"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$",
                                            "examples": ["08:30"]})]


class Period(BaseModel):
    start: LocalTime = Field(description="local opening time, e.g. 08:30")
    end: LocalTime = Field(description="local closing time, e.g. 12:00")


class OfficeHours(BaseModel):
    periods: list[Period] = Field(min_length=1, max_length=6, description="sorted, not overlapping")
    weekend: list[int] = Field(description="weekdays off, Monday = 0 … Sunday = 6", max_length=6)


class DayRange(BaseModel):
    start: date
    end: date | None = Field(None, description="inclusive; defaults to start")
    kind: DayKind = Field(description="holiday = day off; workday = 调休上班 (a weekend working day)")
    name_zh: str = Field("", max_length=50)
    name_en: str = Field("", max_length=80)

    @model_validator(mode="after")
    def _default_end(self) -> DayRange:
        if self.end is None:
            self.end = self.start
        return self


class YearDaysIn(BaseModel):
    ranges: list[DayRange] = Field(max_length=366)


class YearDaysOut(BaseModel):
    year: int
    ranges: list[DayRange]


class DeadlineOut(BaseModel):
    start: datetime
    amount: float
    unit: TimeUnit
    deadline: datetime = Field(description="in the city's time zone")
    working_seconds: float = Field(description="office time between start and deadline")
