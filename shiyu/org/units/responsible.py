"""Which centre answers for a place: the nearest centre up the place's area chain (normally the
community's). Intake asks for every case, centres change rarely, so their paths are kept in memory
(``shiyu.core.refcache``): a centre created or removed is seen within a second."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shiyu.core.refcache import ReferenceCache
from shiyu.org.units.models import Centre

UNSCOPED = {"unscoped": True}


@dataclass(frozen=True)
class CentreRef:
    area_id: int
    area_path: str


def _generation(session: Session) -> tuple[Any, ...]:
    return tuple(session.execute(select(func.count(Centre.id), func.max(Centre.updated_at)),
                                 execution_options=UNSCOPED).one())


def _load(session: Session) -> dict[str, CentreRef]:
    rows = session.execute(select(Centre.area_id, Centre.area_path), execution_options=UNSCOPED)
    return {r.area_path: CentreRef(r.area_id, r.area_path) for r in rows}


CENTRES: ReferenceCache[dict[str, CentreRef]] = ReferenceCache("centres", _generation, _load)


def centre_for(session: Session, area_path: str) -> CentreRef | None:
    """The nearest centre strictly above ``area_path`` (a grid has none of its own), or None."""
    centres = CENTRES.get(session)
    codes = [c for c in area_path.split("/") if c]
    for n in range(len(codes) - 1, 0, -1):
        found = centres.get("/" + "/".join(codes[:n]) + "/")
        if found is not None:
            return found
    return None
