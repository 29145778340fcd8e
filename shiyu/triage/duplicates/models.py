"""What intake finds about a new case: possible duplicates among recent open cases, and earlier similar
complaints of the same place or person (重复诉求). Both are scoped like the case they describe (its grid's
``area_path``), so whoever sees the case sees its findings and nobody else does.

Rows are machine findings written by the system at intake (``shiyu.triage.duplicates.case_duplicates``); people act on
them through the workflow (``merge``), never by editing them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shiyu.core.db import Base
from shiyu.core.scoping import ScopedMixin, register_scoped
from shiyu.core.timeutil import utcnow


@register_scoped
class DuplicateCandidate(ScopedMixin, Base):
    """``candidate_id`` may be the same matter as ``case_id`` (reported earlier, still open). ``score`` is the
    text cosine plus the boosts named in ``reasons`` (see ``case_duplicates.score``)."""

    __tablename__ = "duplicate_candidate"
    __table_args__ = (UniqueConstraint("case_id", "candidate_id"),)
    __view_permission__ = "case.view"
    __write_permission__ = "case.register"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    score: Mapped[float]
    similarity: Mapped[float]
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    found_at: Mapped[datetime] = mapped_column(default=utcnow)


@register_scoped
class RepeatComplaint(ScopedMixin, Base):
    """The flag 重复诉求 on ``case_id``: ``earlier`` lists the earlier cases (``{"id", "similarity",
    "reasons"}``, most similar first) of the same place or person about a similar matter, closed ones too."""

    __tablename__ = "repeat_complaint"
    __view_permission__ = "case.view"
    __write_permission__ = "case.register"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), unique=True)
    earlier: Mapped[list[Any]] = mapped_column(default=list)
    earlier_count: Mapped[int] = mapped_column(default=0)
    flagged_at: Mapped[datetime] = mapped_column(default=utcnow)
