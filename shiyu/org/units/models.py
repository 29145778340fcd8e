"""Governance centres (综治中心) and departments (职能部门)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shiyu.core.db import Base, TimestampMixin
from shiyu.core.scoping import Principal, ScopedMixin, register_scoped
from shiyu.org.areas.models import Area


@register_scoped
class Centre(ScopedMixin, TimestampMixin, Base):
    """The comprehensive-governance centre of one area, at levels city..community."""

    __tablename__ = "centre"
    __view_permission__ = "centre.view"
    __write_permission__ = "centre.edit"

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(30), default="")

    area: Mapped[Area] = relationship()


def _own_departments(principal: Principal) -> list[Any]:
    """Department staff see their own department even when it sits above their area grants."""
    ids = principal.departments_with("department.view")
    return [Department.id.in_(ids)] if ids else []


@register_scoped
class Department(ScopedMixin, TimestampMixin, Base):
    """A functional department. It sits at one level (``area_id``), answers for a set of jurisdiction
    areas and for the category kinds it handles (component 部件 / incident 事件)."""

    __tablename__ = "department"
    __view_permission__ = "department.view"
    __write_permission__ = "department.edit"
    __extra_scope__ = staticmethod(_own_departments)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"), index=True)
    category_kinds: Mapped[list[Any]] = mapped_column(default=list)
    phone: Mapped[str] = mapped_column(String(30), default="")

    area: Mapped[Area] = relationship()
    jurisdictions: Mapped[list[DepartmentJurisdiction]] = relationship(
        back_populates="department", cascade="all, delete-orphan"
    )


@register_scoped
class DepartmentJurisdiction(ScopedMixin, Base):
    """An area (subtree) a department answers for; ``area_path`` is the jurisdiction area's path."""

    __tablename__ = "department_jurisdiction"
    __table_args__ = (UniqueConstraint("department_id", "area_id"),)
    __view_permission__ = "department.view"
    __write_permission__ = "department.edit"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"))

    department: Mapped[Department] = relationship(back_populates="jurisdictions")
    area: Mapped[Area] = relationship()
