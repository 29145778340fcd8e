"""The administrator's home is a setup checklist: what a city needs before its first real report, each step
ticked from what the database holds (not from a flag someone sets) and linked to the page that does it.

Shown to a city-wide administrator (one who may import the city's boundaries); counts are the caller's
scope, which for such an administrator is the whole city."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from shiyu.cases.categories.service import count_selectable
from shiyu.cases.routing.service import count_routed
from shiyu.core.errors import Forbidden
from shiyu.core.paging import PageParams
from shiyu.core.scoping import Principal, require_citywide
from shiyu.org.areas.models import AreaLevel
from shiyu.org.areas.service import count_levels
from shiyu.org.calendar.service import year_ranges
from shiyu.org.identity.service import count_users
from shiyu.org.units.service import list_centres, list_departments

ONE = PageParams(limit=1, offset=0)


@dataclass(frozen=True)
class Step:
    key: str  # setup.<key> and setup.<key>.hint in the catalogue
    done: bool
    count: int
    href: str


def checklist(session: Session, principal: Principal, tz: ZoneInfo, now: datetime) -> list[Step] | None:
    """The steps with their ticks, or None for anyone but a city-wide administrator."""
    try:
        require_citywide(principal, "area.import")
        require_citywide(principal, "user.manage")
    except Forbidden:
        return None
    levels = count_levels(session)
    _, centres = list_centres(session, ONE)
    _, departments = list_departments(session, ONE)
    year = now.astimezone(tz).year
    holidays = sum(1 for r in year_ranges(session, year) for _ in range((r.end or r.start).toordinal()
                                                                        - r.start.toordinal() + 1))
    users, categories, routed = count_users(session), count_selectable(session), count_routed(session)
    return [
        Step("city", levels.get(AreaLevel.CITY, 0) > 0 and levels.get(AreaLevel.DISTRICT, 0) > 0,
             levels.get(AreaLevel.DISTRICT, 0), "/admin/areas/import"),
        Step("grids", levels.get(AreaLevel.GRID, 0) > 0, levels.get(AreaLevel.GRID, 0), "/admin/areas"),
        Step("centres", centres > 0, centres, "/admin/units/import?kind=centres"),
        Step("departments", departments > 0, departments, "/admin/units/import?kind=departments"),
        Step("categories", categories > 0, categories, "/admin/categories"),
        Step("calendar", holidays > 0, holidays, f"/admin/calendar?year={year}"),
        Step("users", users > 1, users, "/admin/users/import"),
        Step("routed", routed > 0, routed, "/admin/routing"),
    ]
