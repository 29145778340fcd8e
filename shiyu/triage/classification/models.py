"""What smart triage keeps in the database: the versions of the category model, the suggestions made for
each case at intake, and the training examples that human decisions produce.

``TriageModelVersion`` is city-wide (one model serves the whole city, like the category tree); its rows are
written through the ORM, so activating and retiring versions is in the audit log. The model itself is a
file in the storage directory (``storage_key``); the row holds what is needed to judge it without loading
it. Exactly one version is ``active`` at a time (a partial unique index enforces it).

``CaseSuggestion`` and ``TrainingExample`` belong to a case and carry its ``area_path``: a suggestion is
seen exactly like the case's other child rows; training examples quote citizens' words and are read only
by the system's training job (their view permission, ``triage.manage``, is checked over the case's area).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shiyu.cases.models import Case, _child_scope, _may_write_child
from shiyu.core.db import Base, TimestampMixin
from shiyu.core.scoping import ScopedMixin, register_scoped
from shiyu.core.timeutil import utcnow

MANAGE = "triage.manage"


class VersionStatus(StrEnum):
    QUEUED = "queued"  # retraining asked for, waiting for a worker
    TRAINING = "training"  # a worker is training and evaluating it
    ACTIVE = "active"  # the model that makes suggestions now (exactly one)
    RETIRED = "retired"  # was active, replaced by a better one or by a rollback
    REJECTED = "rejected"  # trained, but scored below the active model on the held-out part
    FAILED = "failed"  # training could not run (too little data …); ``reason`` says why


USABLE = (VersionStatus.ACTIVE, VersionStatus.RETIRED, VersionStatus.REJECTED)


class ExampleSource(StrEnum):
    DECISION = "decision"  # a person registered the case (or changed its category)
    HISTORY = "history"  # imported from a closed case


class TriageModelVersion(TimestampMixin, Base):
    __tablename__ = "triage_model_version"
    __table_args__ = (
        Index("uq_triage_model_version_one_active", "status", unique=True,
              sqlite_where=text("status = 'active'"), postgresql_where=text("status = 'active'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    status: Mapped[str] = mapped_column(String(10), index=True)
    storage_key: Mapped[str | None] = mapped_column(String(200))
    labels: Mapped[list[Any]] = mapped_column(default=list)  # minor-class category codes
    training_size: Mapped[int] = mapped_column(default=0)
    heldout_size: Mapped[int] = mapped_column(default=0)
    macro_f1: Mapped[float | None]  # on the held-out part
    accuracy: Mapped[float | None]
    # The active model's scores on the same held-out part when this one was judged (None: nothing active).
    compared_version: Mapped[int | None]
    compared_macro_f1: Mapped[float | None]
    compared_accuracy: Mapped[float | None]
    created_by: Mapped[str] = mapped_column(String(64))  # a username, or the job that made it
    reason: Mapped[str] = mapped_column(Text, default="")
    progress: Mapped[str] = mapped_column(String(200), default="")
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    activated_at: Mapped[datetime | None]


@register_scoped
class CaseSuggestion(ScopedMixin, Base):
    """The top categories the active model proposed for a case at intake, best first:
    ``[{"category_id", "code", "confidence"}]``. ``auto_action`` records what auto-dispatch did."""

    __tablename__ = "triage_case_suggestion"
    __view_permission__ = "case.view"
    __write_permission__ = "case.report"
    __extra_write__ = staticmethod(_may_write_child)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), unique=True)
    model_version_id: Mapped[int] = mapped_column(ForeignKey("triage_model_version.id", ondelete="RESTRICT"))
    model_version: Mapped[int]
    suggestions: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    auto_action: Mapped[str | None] = mapped_column(String(60))  # dispatched | below_threshold | no_department …

    case: Mapped[Case] = relationship()


CaseSuggestion.__extra_scope__ = staticmethod(_child_scope(CaseSuggestion))


@register_scoped
class TrainingExample(ScopedMixin, TimestampMixin, Base):
    """One labelled text. One per case: a later decision on the same case replaces the earlier one."""

    __tablename__ = "triage_training_example"
    __view_permission__ = MANAGE
    __write_permission__ = MANAGE

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), unique=True)
    text: Mapped[str] = mapped_column(Text)
    category_code: Mapped[str] = mapped_column(String(20), index=True)
    source: Mapped[str] = mapped_column(String(10))
    decided_by: Mapped[str | None] = mapped_column(String(64))
