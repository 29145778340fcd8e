"""Patrol check-ins (巡查/走访) and online presence per user per day.

A check-in belongs to the grid it was made for: ``area_path`` is that grid's path, so it is seen by whoever
holds ``patrol.view`` over the grid, and by its author (a worker keeps seeing their own record after a
grant moves). The pair (user, idempotency key) is unique, so a phone retrying a queued check-in finds the
first row instead of writing a second one.

Presence is one row per user per local day with a bitmap of the day's 288 five-minute slots: a heartbeat
sets the bit of the slot it arrives in, so retries and a second open tab in the same slot change nothing,
and the online minutes are five times the bits set. One row per day (not per slot) keeps a city's worth of
workers at thousands of rows a day instead of hundreds of thousands. The row is scoped by the user's home
area: the leaders of that area see it; the user sees their own.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shiyu.core.db import Base
from shiyu.core.scoping import Principal, ScopedMixin, register_scoped
from shiyu.core.timeutil import utcnow

SLOT_MINUTES = 5
SLOTS_PER_DAY = 24 * 60 // SLOT_MINUTES
SLOT_HEX_DIGITS = SLOTS_PER_DAY // 4


class CheckinKind(StrEnum):
    PATROL = "patrol"  # 巡查
    VISIT = "visit"  # 走访


KIND_LABELS = {CheckinKind.PATROL: ("巡查", "patrol"), CheckinKind.VISIT: ("走访", "visit")}


def _own_checkins(principal: Principal) -> list[Any]:
    return [PatrolCheckin.user_id == principal.user_id] if principal.user_id is not None else []


@register_scoped
class PatrolCheckin(ScopedMixin, Base):
    """One check-in: who, which grid, where the phone was (``in_grid`` says whether that point lies in the
    grid), when the phone says it happened (``client_time``: a check-in queued offline arrives later) and
    when it arrived (``server_time``). ``day`` is the local day of ``client_time``."""

    __tablename__ = "patrol_checkin"
    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_key"),
        Index("ix_patrol_checkin_user_day", "user_id", "day"),
    )
    __view_permission__ = "patrol.view"
    __write_permission__ = "patrol.report"
    __extra_scope__ = staticmethod(_own_checkins)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    grid_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    lon: Mapped[float]
    lat: Mapped[float]
    in_grid: Mapped[bool]
    client_time: Mapped[datetime]
    server_time: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    day: Mapped[date]
    note: Mapped[str] = mapped_column(String(500), default="")
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachment.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str] = mapped_column(String(80))
    request_hash: Mapped[str] = mapped_column(String(64))


def _own_presence(principal: Principal) -> list[Any]:
    return [PresenceDay.user_id == principal.user_id] if principal.user_id is not None else []


def _is_own_presence(principal: Principal, row: PresenceDay) -> bool:
    return principal.user_id is not None and row.user_id == principal.user_id


@register_scoped
class PresenceDay(ScopedMixin, Base):
    """A user's online time on one local day. Only the user writes it (through heartbeats); nobody holds
    ``presence.edit``, so the flush check refuses any other write path."""

    __tablename__ = "patrol_presence"
    __table_args__ = (UniqueConstraint("user_id", "day"), Index("ix_patrol_presence_day", "day"))
    __view_permission__ = "presence.view"
    __write_permission__ = "presence.edit"
    __extra_scope__ = staticmethod(_own_presence)
    __extra_write__ = staticmethod(_is_own_presence)

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=1)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    day: Mapped[date]
    # 288 bits, slot 0 (00:00–00:05 local) in the lowest bit, as 72 hex digits.
    slots: Mapped[str] = mapped_column(String(SLOT_HEX_DIGITS))
    minutes: Mapped[int] = mapped_column(default=0)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]

    # Two tabs of one user beating at once: the second UPDATE finds a newer version and retries.
    __mapper_args__ = {"version_id_col": version}
