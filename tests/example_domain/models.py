"""The example domain's one table: a notice posted on a grid, scoped like everything else by its area path."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from shiyu.core.db import Base, TimestampMixin
from shiyu.core.scoping import ScopedMixin, register_scoped


@register_scoped
class Notice(ScopedMixin, TimestampMixin, Base):
    __tablename__ = "example_notice"
    __view_permission__ = "notice.view"
    __write_permission__ = "notice.post"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    expired: Mapped[bool] = mapped_column(default=False)
