"""The task engine's tables: the admitted list of task types (准入事项清单), assignments (campaigns), the work
items they fan out to, and the submissions that close items.

Task types are reference data (like case categories): every signed-in user may read them, writes go through
``shiyu.tasks.service`` which checks who proposes and who admits. Assignments are scoped by the issuing
area, work items and submissions by the grid they belong to, so a grid worker sees exactly their grids' items
and a centre sees its subtree (docs/adr/0001).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, and_, exists, or_, select, true
from sqlalchemy.orm import Mapped, mapped_column

from shiyu.core.db import Base, TimestampMixin
from shiyu.core.scoping import Principal, ScopedMixin, register_scoped
from shiyu.core.timeutil import utcnow

VIEW = "task.view"
WORK = "task.work"
ASSIGN = "task.assign"
ADMIT = "task.admit"
REVIEW = "task.review"
PROPOSE = "task.propose"


class TypeStatus(StrEnum):
    PROPOSED = "proposed"  # 申请准入
    ADMITTED = "admitted"  # 已准入
    REFUSED = "refused"  # 不予准入
    EXITED = "exited"  # 已退出


class Priority(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"


class ItemState(StrEnum):
    OPEN = "open"  # 待办
    IN_PROGRESS = "in_progress"  # 办理中
    DONE = "done"  # 已完成
    UNABLE = "unable"  # 无法完成
    REVIEWED = "reviewed"  # 已审核（销号）


OPEN_STATES = (ItemState.OPEN.value, ItemState.IN_PROGRESS.value)


class WarningLevel(StrEnum):
    NONE = "none"
    YELLOW = "yellow"  # 临期
    RED = "red"  # 逾期


class TaskType(TimestampMixin, Base):
    """One entry of the admitted list: who owns it, on what legal basis, what the grid worker fills in
    (``form``), its usual cycle and its admission. ``area_id`` is the level it was proposed at: the centre of
    that same area admits it (002·A3: 事项准入 by the same-level centre). System types (a domain's built-in
    work: visits, screenings, stale checks) have no department and no area and are admitted on creation."""

    __tablename__ = "task_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    owner_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"), index=True)
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    form: Mapped[list[Any]] = mapped_column(default=list)
    cycle_days: Mapped[int | None]
    funding_note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=TypeStatus.PROPOSED.value, index=True)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    admitted_by_area_id: Mapped[int | None] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    admitted_at: Mapped[datetime | None]
    decision_note: Mapped[str] = mapped_column(Text, default="")
    exit_at: Mapped[datetime | None]
    system: Mapped[bool] = mapped_column(default=False)


# Task types whose items not every holder of ``task.view`` over the grid may see: code → the permission that
# sees all of them in an area. A key person's visit, search or census item is work about a person whom the
# grid's other staff (an operator, an analyst, another grid worker) may not know of, and its answers describe
# that person (docs/adr/0010). Such an item is seen by holders of that permission over its grid and by its
# own assignee; the domain declares its types at import (``restrict_type``).
_RESTRICTED: dict[str, str] = {}


def restrict_type(code: str, view_permission: str) -> None:
    """Items of task type ``code`` are seen only with ``view_permission`` over their grid, or by their
    assignee (on top of ``task.view``)."""
    _RESTRICTED[code] = view_permission


def _restricted_types(principal: Principal, type_id: Any, area_path: Any, assignee_id: Any) -> Any:
    """The narrowing of items (or, through their item, submissions) to what ``principal`` may see of the
    restricted types: for each permission, items of other types, or under a path where the principal holds
    it, or assigned to the principal."""
    by_permission: dict[str, list[str]] = {}
    for code, permission in _RESTRICTED.items():
        by_permission.setdefault(permission, []).append(code)
    return and_(true(), *(
        or_(type_id.not_in(select(TaskType.id).where(TaskType.code.in_(sorted(codes)))),
            assignee_id == principal.user_id,
            *(area_path.startswith(p, autoescape=True) for p in principal.paths_with(permission)))
        for permission, codes in by_permission.items()))


def _may_write_item(principal: Principal, row: Any) -> bool:
    """Items and submissions are written by the grid's workers (``task.work``, the class's write permission)
    and also by the centres above: an assignment creates items in the grids below the issuer
    (``task.assign``) and a review closes or returns them (``task.review``)."""
    return principal.can(ASSIGN, row.area_path) or principal.can(REVIEW, row.area_path)


@register_scoped
class Assignment(ScopedMixin, Base):
    """A campaign: one task type sent by a centre (``issuer_area_id``, whose path is the row's scope) to
    target grids or target records, due at one time."""

    __tablename__ = "task_assignment"
    __view_permission__ = VIEW
    __write_permission__ = ASSIGN

    id: Mapped[int] = mapped_column(primary_key=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("task_type.id", ondelete="RESTRICT"), index=True)
    issuer_area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"))
    issuer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    instructions: Mapped[str] = mapped_column(Text, default="")
    targets: Mapped[list[Any]] = mapped_column(default=list)  # [{"kind", "id", "area_id", "label"}]
    due_at: Mapped[datetime]
    priority: Mapped[str] = mapped_column(String(10), default=Priority.NORMAL.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


@register_scoped
class WorkItem(ScopedMixin, TimestampMixin, Base):
    """One piece of work for one grid: a target (the grid itself, or a record of a domain), a due time, a
    state of the transition table (``shiyu.tasks.table``) and a warning level raised at most once per level.
    ``source_ref`` lets the domain that opened the item find it again (unique per type: opening twice is
    opening once). ``target_label`` is display text and never carries personal data in clear."""

    __tablename__ = "task_item"
    __table_args__ = (
        UniqueConstraint("type_id", "source_ref"),
        Index("ix_task_item_open_due", "state", "due_at"),
    )
    __view_permission__ = VIEW
    __write_permission__ = WORK
    __extra_write__ = staticmethod(_may_write_item)
    __narrow_scope__ = staticmethod(lambda principal: _restricted_types(
        principal, WorkItem.type_id, WorkItem.area_path, WorkItem.assignee_id))

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=1)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("task_assignment.id", ondelete="CASCADE"),
                                                      index=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("task_type.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    target_kind: Mapped[str] = mapped_column(String(30))
    target_id: Mapped[int | None]
    target_label: Mapped[str] = mapped_column(String(200), default="")
    grid_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    due_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), default=ItemState.OPEN.value)
    outcome: Mapped[str | None] = mapped_column(String(16))  # done | unable, kept through review
    unable_reason: Mapped[str] = mapped_column(Text, default="")
    review_note: Mapped[str] = mapped_column(Text, default="")
    warning: Mapped[str] = mapped_column(String(8), default=WarningLevel.NONE.value)
    source_ref: Mapped[str | None] = mapped_column(String(120))
    data: Mapped[dict[str, Any] | None]  # the accepted submission's form data
    done_at: Mapped[datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    __mapper_args__ = {"version_id_col": version}


@register_scoped
class Submission(ScopedMixin, Base):
    """What a worker sent for an item (submit or unable): the form data, photos, GPS point. ``client_uuid`` is
    chosen by the phone: the same uuid sent twice (an offline queue retrying) is stored once."""

    __tablename__ = "task_submission"
    __view_permission__ = VIEW
    __write_permission__ = WORK
    __extra_write__ = staticmethod(_may_write_item)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("task_item.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    photos: Mapped[list[Any]] = mapped_column(default=list)  # attachment ids
    lon: Mapped[float | None]
    lat: Mapped[float | None]
    client_uuid: Mapped[str | None] = mapped_column(String(36), unique=True)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)


# A submission is narrowed through its item: seen when its item would be (the item's type, grid and assignee).
Submission.__narrow_scope__ = staticmethod(lambda principal: exists().where(
    WorkItem.id == Submission.item_id,
    _restricted_types(principal, WorkItem.type_id, WorkItem.area_path, WorkItem.assignee_id)))
