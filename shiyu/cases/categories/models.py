"""The category tree: major classes (大类) with minor classes (小类) below them, of one kind each.

City-wide reference data (not area-scoped): every logged-in user reads it, ``category.edit`` writes it.
Only minor classes are chosen for cases, so only they carry time limits, the fields a report asks for
and a default urgency. ``time_limits`` is ``{"register"|"dispatch"|"accept"|"verify": {"amount", "unit"},
"handle": {"normal"|"urgent"|"critical": {"amount", "unit"}}, "critical_natural": bool}`` (validated by
``schemas.TimeLimits``); a unit names its basis, working or natural time (``worktime.TimeUnit``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shiyu.core.db import Base, TimestampMixin


class CategoryKind(StrEnum):
    COMPONENT = "component"  # 部件: a physical thing with an owner (manhole cover, street lamp …)
    INCIDENT = "incident"  # 事件: something happening at a place (stall on the pavement, dispute …)

    @property
    def label(self) -> tuple[str, str]:
        return ("部件", "component") if self is CategoryKind.COMPONENT else ("事件", "incident")


class Urgency(StrEnum):
    NORMAL = "normal"  # 一般
    URGENT = "urgent"  # 紧急
    CRITICAL = "critical"  # 特急


class Step(StrEnum):
    """The steps of the loop that have a time limit."""

    REGISTER = "register"  # 立案
    DISPATCH = "dispatch"  # 派遣
    ACCEPT = "accept"  # 签收
    HANDLE = "handle"  # 处置 (limit depends on the urgency)
    VERIFY = "verify"  # 核查

    @property
    def bit(self) -> int:
        """This step's bit in ``Case.late_steps`` (register 1, dispatch 2, accept 4, handle 8, verify 16)."""
        return 1 << list(Step).index(self)


class Category(TimestampMixin, Base):
    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("category.id", ondelete="RESTRICT"), index=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name_zh: Mapped[str] = mapped_column(String(50))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(default=0)
    time_limits: Mapped[dict[str, Any] | None]
    fields: Mapped[list[Any]] = mapped_column(default=list)
    default_urgency: Mapped[str] = mapped_column(String(10), default=Urgency.NORMAL)
    # 自行处置 on the spot closes the case at once (minor matters); otherwise someone else verifies it first.
    self_resolve_closes: Mapped[bool] = mapped_column(default=False)
    # 核查通过 needs an on-site photo taken by the verifier (a fixed pothole, a replaced cover): what the
    # handler's own photo claims is checked by someone else's eyes (采办分离).
    verify_photo_required: Mapped[bool] = mapped_column(default=False, server_default=false())

    parent: Mapped[Category | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Category]] = relationship(
        back_populates="parent", order_by=lambda: (Category.sort_order, Category.code)
    )

    @property
    def is_minor(self) -> bool:
        return self.parent_id is not None

    @property
    def selectable(self) -> bool:
        """Can a new case be filed under it: an active minor class of an active major class."""
        return self.is_minor and self.active and self.parent is not None and self.parent.active
