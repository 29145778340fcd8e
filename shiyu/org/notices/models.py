"""One notice to one user. ``key`` names what it is about (``petition.overdue:12:2026-12-07T08:00``): a
subscriber that runs twice for the same event sends nothing the second time (unique per user and key)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shiyu.core.db import Base


class Notice(Base):
    """Not area-scoped: a notice belongs to its user, and every read is filtered to the reader's own id."""

    __tablename__ = "notice"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_notice_user_key"),
                      Index("ix_notice_user_unread", "user_id", "read_at", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(40))  # the event's topic: petition.overdue, dispute.warning …
    # The words are the reader's language's: the page renders ``notice.<kind>`` with these values
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    body: Mapped[str] = mapped_column(Text, default="")  # a person's own words (a reason), shown as written
    link: Mapped[str] = mapped_column(String(300), default="")  # a page of ours, always starting with "/"
    urgent: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
