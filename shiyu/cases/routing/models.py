"""Routing rules as data: category × area subtree × attribute conditions → department or territory centre.

City-wide reference data, edited with ``routing.edit`` by holders over a whole city; a reader lists the
rules of the areas they see and of the areas above them (``service._readable``). A rule whose
conditions name the case's owner (``owner``) is an *owner* rule (属主); any other rule is a *territorial*
rule (属地). How rules compete is the resolver's business (``service.route``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from shiyu.core.db import Base, TimestampMixin

OWNER_KEY = "owner"


class Basis(StrEnum):
    OWNER = "owner"  # 属主: the department owns or manages the thing
    TERRITORY = "territory"  # 属地: the department or centre answers for the place


class RoutingRule(TimestampMixin, Base):
    """``category_id`` (a minor or a major class) or else ``kind`` (or neither: every category) says what
    the rule covers; ``area_prefix`` is the covered subtree's ``area_path`` (``/`` for the whole city).
    The target is ``department_id`` or, for ``territory_level``, the centre of the case area's ancestor
    at that level (e.g. the street's centre)."""

    __tablename__ = "routing_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    kind: Mapped[str | None] = mapped_column(String(12))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id", ondelete="RESTRICT"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"))
    area_prefix: Mapped[str] = mapped_column(String(160), default="/", index=True)
    conditions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"), index=True)
    territory_level: Mapped[int | None]
    priority: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    @property
    def basis(self) -> Basis:
        return Basis.OWNER if OWNER_KEY in (self.conditions or {}) else Basis.TERRITORY
