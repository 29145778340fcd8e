"""The petitions' tables. A petition is scoped by the path of the area it was registered for, and so are its
petitioners, its timeline and the reception days; only petition roles and the centres' leaders hold
``petition.view`` (docs/petitions.md), so a grid worker or an operator of the same community sees nothing.

Petitioners' names, ID numbers and phones are encrypted (``shiyu.core.pii``); the ID number's blind index
finds earlier petitions of the same person (the repeat flag) without decrypting anything.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shiyu.core.db import Base, TimestampMixin
from shiyu.core.pii import blind_index, personal
from shiyu.core.scoping import ScopedMixin, register_scoped

VIEW = "petition.view"
HANDLE = "petition.handle"
REVEAL = "petition.reveal"
CONFIGURE = "petition.configure"
COLLECTIVE_SIZE = 5  # 集体访: five or more people with the same demand


class Channel(StrEnum):
    LETTER = "letter"  # 来信
    VISIT = "visit"  # 来访
    ONLINE = "online"  # 网上信访
    PHONE = "phone"  # 电话
    LEADER_MAILBOX = "leader_mailbox"  # 领导信箱
    HOTLINE = "hotline"  # 12345 转来


class State(StrEnum):
    REGISTERED = "registered"  # 登记
    ACCEPTED = "accepted"  # 受理
    NOT_ACCEPTED = "not_accepted"  # 不予受理（书面告知）
    ASSIGNED = "assigned"  # 交办（责任单位、包案领导）
    HANDLING = "handling"  # 办理中
    ANSWERED = "answered"  # 已出具处理意见
    EVALUATED = "evaluated"  # 已评价（满意/不满意）
    REVIEW = "review"  # 复查中
    REVIEWED = "reviewed"  # 已出具复查意见
    RE_REVIEW = "re_review"  # 复核中
    RE_REVIEWED = "re_reviewed"  # 已出具复核意见
    CONCLUDED = "concluded"  # 办结


YELLOW, RED = 1, 2

CLOSED_STATES = frozenset({State.NOT_ACCEPTED, State.CONCLUDED})
OPEN_STATES = tuple(s for s in State if s not in CLOSED_STATES)


@register_scoped
class Petition(ScopedMixin, TimestampMixin, Base):
    """信访事项. ``due_at`` is the deadline of the step running now (acceptance, handling, 复查, 复核) from the
    time limits (``shiyu.petitions.limits``); the instants each step ended at are kept, so on-time
    acceptance and closure are read from the row. ``earlier_count`` is how many petitions the same ID
    numbers brought before (any area: the count says nothing about where)."""

    __tablename__ = "petition"
    __table_args__ = (Index("ix_petition_state_path", "state", "area_path"),)
    __view_permission__ = VIEW
    __write_permission__ = HANDLE

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=1)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime]
    group_size: Mapped[int] = mapped_column(default=1)
    collective: Mapped[bool] = mapped_column(default=False)  # 集体访
    demands: Mapped[str] = mapped_column(Text)
    complained_unit: Mapped[str] = mapped_column(String(200), default="")
    first_time: Mapped[bool] = mapped_column(default=True)  # 初信初访
    earlier_count: Mapped[int] = mapped_column(default=0)  # 重复信访: earlier petitions of the same people
    skip_level: Mapped[bool] = mapped_column(default=False)  # 越级
    state: Mapped[str] = mapped_column(String(16), default=State.REGISTERED.value)
    notice: Mapped[str] = mapped_column(Text, default="")  # 不予受理告知
    assigned_unit: Mapped[str] = mapped_column(String(200), default="")
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    answer: Mapped[str] = mapped_column(Text, default="")
    satisfied: Mapped[bool | None]
    review_answer: Mapped[str] = mapped_column(Text, default="")
    re_review_answer: Mapped[str] = mapped_column(Text, default="")
    extended: Mapped[bool] = mapped_column(default=False)
    step_started_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    warn_at: Mapped[datetime | None]  # yellow from here (``limits.WARN_AT`` of the running limit)
    alert: Mapped[int] = mapped_column(default=0)  # what the deadline scan has announced: 1 yellow, 2 red
    accept_due_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]  # accepted or not accepted
    handle_due_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    registered_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_repeat(self) -> bool:
        return self.earlier_count > 0


@register_scoped
class Petitioner(ScopedMixin, Base):
    """One petitioner of a petition (a collective visit names its representatives). ``person_id`` links a
    person of the registers found by the same ID number."""

    __tablename__ = "petition_petitioner"
    __view_permission__ = VIEW
    __write_permission__ = HANDLE

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = personal("name")
    id_number: Mapped[str | None] = personal("id_number")
    id_number_hash: Mapped[str | None] = blind_index()
    phone: Mapped[str | None] = personal("phone")
    person_id: Mapped[int | None] = mapped_column(ForeignKey("registry_person.id", ondelete="SET NULL"))


@register_scoped
class PetitionEvent(ScopedMixin, Base):
    """The timeline: every transition and every link raised, by whom and when, with its note."""

    __tablename__ = "petition_event"
    __view_permission__ = VIEW
    __write_permission__ = HANDLE

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(80), default="")
    action: Mapped[str] = mapped_column(String(24))
    from_state: Mapped[str] = mapped_column(String(16), default="")
    to_state: Mapped[str] = mapped_column(String(16), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    late: Mapped[bool] = mapped_column(default=False)


@register_scoped
class Reception(ScopedMixin, TimestampMixin, Base):
    """接访日: a leader receives petitioners on a day at a place; ``petition_ids`` are those received."""

    __tablename__ = "petition_reception"
    __view_permission__ = VIEW
    __write_permission__ = HANDLE

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"), index=True)
    leader_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"), index=True)
    day: Mapped[date]
    place: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    petition_ids: Mapped[list[Any]] = mapped_column(default=list)


class TimeLimit(Base):
    """A city's own figure for one of the regulation's limits (``shiyu.petitions.limits.DEFAULTS``); a limit
    without a row uses the default."""

    __tablename__ = "petition_time_limit"

    key: Mapped[str] = mapped_column(String(24), primary_key=True)
    amount: Mapped[int]
    unit: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime]
