"""The working-time calendar as data: day overrides (public holidays, make-up working days) and one
settings row with the office periods and weekend days.

City-wide reference data, not area-scoped: everyone reads it, ``calendar.edit`` writes it. ``revision``
changes on every write, so each process can keep the built ``WorkCalendar`` and re-check it with one tiny
query (see ``shiyu.org.calendar.service.load_calendar``).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from shiyu.core.db import Base, TimestampMixin


class DayKind(StrEnum):
    HOLIDAY = "holiday"  # 法定节假日 (incl. the swapped rest days of 调休)
    WORKDAY = "workday"  # 调休上班: a weekend day that is a working day


class CalendarDay(TimestampMixin, Base):
    __tablename__ = "calendar_day"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    name_zh: Mapped[str] = mapped_column(String(50), default="")
    name_en: Mapped[str] = mapped_column(String(80), default="")


class CalendarSettings(TimestampMixin, Base):
    """A single row (``id = 1``). ``periods`` is ``[["08:30", "12:00"], ["14:00", "17:30"]]``;
    ``weekend`` the weekday numbers off (Monday = 0)."""

    __tablename__ = "calendar_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    periods: Mapped[list[Any]]
    weekend: Mapped[list[Any]]
    revision: Mapped[str] = mapped_column(String(32))
