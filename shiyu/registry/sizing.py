"""Grid sizing from the register: households and persons actually registered in an area, against the norms
of a grid (300–500 households, about 1,000 people; ``shiyu.org.areas.rules``), so the area page shows
counted figures instead of typed ``Area.population`` / ``Area.households`` wherever the register holds data.

One grouped query per call (active persons by grid: count, distinct households), summed up the tree by the
area path in Python — the areas asked about are one page's worth, the grids under them a few thousand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shiyu.org.areas.models import Area, AreaLevel
from shiyu.org.areas.rules import GRID_HOUSEHOLDS, GRID_POPULATION
from shiyu.registry.models import Person, PersonStatus


@dataclass(frozen=True)
class Counted:
    persons: int
    households: int
    grid: bool

    @property
    def households_off(self) -> bool:
        return self.grid and not GRID_HOUSEHOLDS[0] <= self.households <= GRID_HOUSEHOLDS[1]

    @property
    def persons_off(self) -> bool:
        return self.grid and not GRID_POPULATION[0] <= self.persons <= GRID_POPULATION[1]


def counted(session: Session, areas: Sequence[Area]) -> dict[int, Counted]:
    """The registered persons and households of each area the caller's scope shows; an area with none is
    left out (the page keeps its typed figures)."""
    if not areas:
        return {}
    prefixes = [a.area_path for a in areas]
    stmt = (select(Person.area_path, func.count(), func.count(func.distinct(Person.household_id)))
            .where(Person.status == PersonStatus.ACTIVE.value).group_by(Person.area_path))
    common = min(prefixes, key=len)
    if all(p.startswith(common) for p in prefixes):
        stmt = stmt.where(Person.area_path.startswith(common, autoescape=True))
    rows = session.execute(stmt).all()
    out: dict[int, Counted] = {}
    for area in areas:
        inside = [r for r in rows if r[0].startswith(area.area_path)]
        if inside:
            out[area.id] = Counted(sum(r[1] for r in inside), sum(r[2] for r in inside),
                                   area.level == int(AreaLevel.GRID))
    return out
