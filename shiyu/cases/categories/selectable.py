"""The categories a new case can be filed under, kept in memory for intake (``shiyu.core.refcache``).

A snapshot carries what intake reads of a minor class — its code, time limits, fields, default urgency —
and nothing that could lazy-load: it is shared by every request thread. Any edit of the tree moves
``updated_at`` or the row count, and intake sees it within a second. Triage reads it by code: the model's
labels are minor-class codes, and reading those categories from the database for every report cost more
than the prediction.
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
    code: str
    time_limits: dict[str, Any]
    fields: tuple[dict[str, Any], ...]
    default_urgency: str
    self_resolve_closes: bool


@dataclass(frozen=True)
class Selectable:
    """The same snapshots twice: by id for intake (the category a report names), by code for triage (the
    model's labels)."""

    by_id: dict[int, SelectableCategory]
    by_code: dict[str, SelectableCategory]


def _load(session: Session) -> Selectable:
    major = aliased(Category)
    rows = session.execute(
        select(Category.id, Category.code, Category.time_limits, Category.fields, Category.default_urgency,
               Category.self_resolve_closes)
        .join(major, Category.parent_id == major.id)
        .where(Category.active.is_(True), major.active.is_(True)),
        execution_options=UNSCOPED,
    )
    found = [SelectableCategory(r.id, r.code, dict(r.time_limits or {}), tuple(r.fields or ()), r.default_urgency,
                                r.self_resolve_closes) for r in rows]
    return Selectable({c.id: c for c in found}, {c.code: c for c in found})


SELECTABLE: ReferenceCache[Selectable] = ReferenceCache("categories", rows_generation(Category), _load)


def selectable(session: Session, category_id: int) -> SelectableCategory | None:
    return SELECTABLE.get(session).by_id.get(category_id)


def selectable_by_code(session: Session, code: str) -> SelectableCategory | None:
    return SELECTABLE.get(session).by_code.get(code)
