"""Hot issues (热点问题) of the city's cases: groups of cases about the same matter in one community within
the last weeks, ranked by heat (``shiyu.triage.hot.hot_cases``).

An issue belongs to its community (``area_path`` is the community's path), so an analyst or centre leader
sees the issues of their subtree only. Members are rows of their own: one case is in at most one issue, and
a member ``pinned`` by a person (a split) is never moved by the daily job.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shiyu.core.db import Base, TimestampMixin
from shiyu.core.scoping import ScopedMixin, register_scoped


class HotIssueStatus(StrEnum):
    OPEN = "open"  # proposed by the job, nobody decided yet
    CONFIRMED = "confirmed"  # an analyst confirmed it is one matter worth attention
    DISMISSED = "dismissed"  # not a hot issue; the job keeps it dismissed


@register_scoped
class HotIssue(ScopedMixin, TimestampMixin, Base):
    __tablename__ = "hot_issue"
    __table_args__ = (Index("ix_hot_issue_status_heat", "status", "heat"),)
    __view_permission__ = "case.view"
    __write_permission__ = "hot_issue.manage"

    id: Mapped[int] = mapped_column(primary_key=True)
    place_area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(12), default=HotIssueStatus.OPEN)
    title: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id", ondelete="SET NULL"))
    period_start: Mapped[datetime | None]
    period_end: Mapped[datetime | None]
    size: Mapped[int] = mapped_column(default=0)
    reporters: Mapped[int] = mapped_column(default=0)
    followers: Mapped[int] = mapped_column(default=0)
    recent: Mapped[int] = mapped_column(default=0)
    growth: Mapped[float] = mapped_column(default=0.0)
    heat: Mapped[float] = mapped_column(default=0.0)
    computed_on: Mapped[date | None]
    split_from_id: Mapped[int | None] = mapped_column(ForeignKey("hot_issue.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]

    members: Mapped[list[HotIssueMember]] = relationship(
        back_populates="issue", cascade="all, delete-orphan", order_by="HotIssueMember.case_id"
    )


@register_scoped
class HotIssueMember(ScopedMixin, Base):
    __tablename__ = "hot_issue_member"
    __view_permission__ = "case.view"
    __write_permission__ = "hot_issue.manage"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("hot_issue.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), unique=True)
    pinned: Mapped[bool] = mapped_column(default=False)

    issue: Mapped[HotIssue] = relationship(back_populates="members")
