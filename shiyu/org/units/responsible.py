"""Which centre answers for a place: the nearest centre up the place's area chain (normally the
community's). Intake asks for every case, centres change rarely, so their paths are kept in memory
(``shiyu.core.refcache``): a centre created or removed is seen within a second."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.core.refcache import ReferenceCache, rows_generation
from shiyu.org.units.models import Centre

UNSCOPED = {"unscoped": True}


@dataclass(frozen=True)
class CentreRef:
    area_id: int
    area_path: str


def _load(session: Session) -> dict[str, CentreRef]:
    rows = session.execute(select(Centre.area_id, Centre.area_path), execution_options=UNSCOPED)
    return {r.area_path: CentreRef(r.area_id, r.area_path) for r in rows}


CENTRES: ReferenceCache[dict[str, CentreRef]] = ReferenceCache("centres", rows_generation(Centre), _load)


def centre_for(session: Session, area_path: str) -> CentreRef | None:
    """The nearest centre strictly above ``area_path`` (a grid has none of its own), or None."""
    centres = CENTRES.get(session)
    codes = [c for c in area_path.split("/") if c]
    for n in range(len(codes) - 1, 0, -1):
        found = centres.get("/" + "/".join(codes[:n]) + "/")
        if found is not None:
            return found
    return None
