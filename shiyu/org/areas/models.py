"""Areas (区划/网格): one tree city → district → street → community → grid, with versioned boundaries."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shiyu.core.db import Base, TimestampMixin
from shiyu.core.scoping import Principal, ScopedMixin, register_scoped


class AreaLevel(IntEnum):
    """Depth in the tree. Codes: 12-digit GB/T 2260-style division codes; a grid adds a 3-digit serial."""

    CITY = 0
    DISTRICT = 1
    STREET = 2
    COMMUNITY = 3
    GRID = 4

    @property
    def label(self) -> tuple[str, str]:
        return LEVEL_LABELS[self]


LEVEL_LABELS = {
    AreaLevel.CITY: ("市", "city"),
    AreaLevel.DISTRICT: ("区县", "district"),
    AreaLevel.STREET: ("街道乡镇", "street"),
    AreaLevel.COMMUNITY: ("社区村", "community"),
    AreaLevel.GRID: ("网格", "grid"),
}


class BoundaryStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"


def _changed_columns(obj: Any) -> set[str]:
    state = inspect(obj)
    return {a.key for a in state.mapper.column_attrs if state.attrs[a.key].history.has_changes()}


def _area_extra_write(principal: Principal, area: Area) -> bool:
    """Writes allowed without ``area.edit``: an importer (``area.import``) creates areas and updates their
    counts; an approver (``area.approve``) writes the newly approved boundary onto the area."""
    if inspect(area).pending:
        return principal.can("area.import", area.area_path)
    changed = _changed_columns(area) - {"updated_at"}
    if changed <= {"population", "households"}:
        return principal.can("area.import", area.area_path)
    return changed <= {"geometry"} and principal.can("area.approve", area.area_path)


def _boundary_extra_write(principal: Principal, boundary: AreaBoundary) -> bool:
    """An import writes version 1 (already approved); an approver decides on proposals."""
    if inspect(boundary).pending:
        return principal.can("area.import", boundary.area_path)
    decision = {"status", "effective_from", "effective_to", "decided_by_id", "decided_at", "note"}
    return _changed_columns(boundary) <= decision and principal.can("area.approve", boundary.area_path)


@register_scoped
class Area(ScopedMixin, TimestampMixin, Base):
    """A node of the area tree. ``area_path`` is the chain of codes down to and including this node."""

    __tablename__ = "area"
    __view_permission__ = "area.view"
    __write_permission__ = "area.edit"
    __extra_write__ = staticmethod(_area_extra_write)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(15), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[int] = mapped_column(index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"), index=True)
    population: Mapped[int] = mapped_column(default=0)
    households: Mapped[int] = mapped_column(default=0)
    # The approved, currently effective boundary as a GeoJSON geometry (history in AreaBoundary).
    geometry: Mapped[dict[str, Any] | None]

    parent: Mapped[Area | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Area]] = relationship(back_populates="parent")

    @property
    def level_enum(self) -> AreaLevel:
        return AreaLevel(self.level)


@register_scoped
class AreaBoundary(ScopedMixin, Base):
    """One version of an area's boundary. Approved versions are never edited: a change is a new proposal
    that, once approved, supersedes the previous version (its ``effective_to`` is set), so records filed
    under the old boundary keep meaning what they meant."""

    __tablename__ = "area_boundary"
    __table_args__ = (
        UniqueConstraint("area_id", "version"),
        Index("ix_area_boundary_area_status", "area_id", "status"),
    )
    __view_permission__ = "area.view"
    __write_permission__ = "area.propose"
    __extra_write__ = staticmethod(_boundary_extra_write)

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="CASCADE"))
    version: Mapped[int]
    geometry: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(12), default=BoundaryStatus.PROPOSED)
    effective_from: Mapped[datetime | None]
    effective_to: Mapped[datetime | None]
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    proposed_at: Mapped[datetime]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(String(500), default="")

    area: Mapped[Area] = relationship()


class AreaGeneration(Base):
    """One counter row, bumped in the same transaction as every approved boundary change or area import.
    Each process keeps its point→grid index with the generation it was built from and rebuilds when the
    row says otherwise: one primary-key read per lookup, no clocks involved (see ``lookup.py``)."""

    __tablename__ = "area_generation"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(default=0)
