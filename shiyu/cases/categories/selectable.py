"""The categories a new case can be filed under, kept in memory for intake (``shiyu.core.refcache``).

A snapshot carries what intake reads of a minor class — its time limits, its fields, its default urgency —
and nothing that could lazy-load: it is shared by every request thread. Any edit of the tree moves
``updated_at`` or the row count, and intake sees it within a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from shiyu.cases.categories.models import Category
from shiyu.core.refcache import ReferenceCache, rows_generation

UNSCOPED = {"unscoped": True}


@dataclass(frozen=True)
class SelectableCategory:
    """An active minor class of an active major class, as of the last change of the tree."""

    id: int
    time_limits: dict[str, Any]
    fields: tuple[dict[str, Any], ...]
    default_urgency: str
    self_resolve_closes: bool


def _load(session: Session) -> dict[int, SelectableCategory]:
    major = aliased(Category)
    rows = session.execute(
        select(Category.id, Category.time_limits, Category.fields, Category.default_urgency,
               Category.self_resolve_closes)
        .join(major, Category.parent_id == major.id)
        .where(Category.active.is_(True), major.active.is_(True)),
        execution_options=UNSCOPED,
    )
    return {r.id: SelectableCategory(r.id, dict(r.time_limits or {}), tuple(r.fields or ()), r.default_urgency,
                                     r.self_resolve_closes) for r in rows}


SELECTABLE: ReferenceCache[dict[int, SelectableCategory]] = ReferenceCache(
    "categories", rows_generation(Category), _load)


def selectable(session: Session, category_id: int) -> SelectableCategory | None:
    return SELECTABLE.get(session).get(category_id)
