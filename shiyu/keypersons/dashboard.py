"""The centre's dashboard and indicators for an area the caller leads: figures for the area and, per child
area and group, 动态掌控率, 管控率 and the on-time visit rate (``plans.summary`` / ``plans.indicators``); per
child area the census campaigns' 清查完成率 (``census.by_child_area``) over the same days."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.core.errors import Forbidden
from shiyu.core.scoping import Principal
from shiyu.keypersons import census, items, plans
from shiyu.keypersons.models import VIEW, KeyPersonGroup
from shiyu.org.areas import service as areas
from shiyu.org.areas.models import Area

INDICATOR_DAYS = 90


def area_for(session: Session, principal: Principal, area_id: int | None) -> Area:
    """The area asked for (it must lie where the caller holds ``keyperson.view``), else the caller's own."""
    if area_id is None:
        paths = principal.paths_with(VIEW)
        if not paths:
            raise Forbidden(detail={"permission": VIEW})
        code = paths[0].rstrip("/").rsplit("/", 1)[-1]
        area = session.scalar(select(Area).where(Area.code == code))
        if area is None:
            raise Forbidden(detail={"permission": VIEW})
        return area
    area = areas.get_area(session, area_id)
    principal.require(VIEW, area.area_path)
    return area


def child_names(session: Session, area: Area) -> tuple[int, dict[str, str]]:
    """How figures are grouped by child area: the length of the children's paths and their names (the area
    itself when it has no children — a grid)."""
    children = areas.children(session, area.id)
    prefix = len(children[0].area_path) if children else len(area.area_path)
    return prefix, {a.area_path: a.name for a in children} or {area.area_path: area.name}


def census_by_child_area(session: Session, area: Area, since: datetime | None = None,
                         until: datetime | None = None) -> dict[str, Any]:
    """``census.completion`` under ``area`` by its child areas, each row named (an item on the area itself is
    the area's row)."""
    prefix, names = child_names(session, area)
    figures = census.completion(session, since, until, area_path=area.area_path, prefix_len=prefix)
    for row in figures["areas"]:
        row["area_name"] = names.get(row["area_path"], area.name)
    return figures


def dashboard(session: Session, principal: Principal, area_id: int | None, today: date) -> dict[str, Any]:
    area = area_for(session, principal, area_id)
    prefix, names = child_names(session, area)
    groups = {g.code: (g.name_zh, g.name_en) for g in session.scalars(select(KeyPersonGroup))}
    rows = plans.indicators(session, today, prefix, area.area_path, today - timedelta(days=INDICATOR_DAYS))
    for row in rows:
        row["area_name"] = names.get(row["area_path"], row["area_path"])
        row["group_name"], row["group_name_en"] = groups.get(row["group_code"], (row["group_code"],) * 2)
    active, in_hand = sum(r["active"] for r in rows), sum(r["in_hand"] for r in rows)
    visits, on_time = sum(r["visits"] for r in rows), sum(r["on_time"] for r in rows)
    since = today - timedelta(days=INDICATOR_DAYS)
    return {"area_id": area.id, "area_name": area.name, "today": today,
            "figures": plans.summary(session, today, area.area_path),
            "dynamic_rate": plans.rate(in_hand, active), "on_time_rate": plans.rate(on_time, visits),
            "since": since, "rows": rows,
            "census": census_by_child_area(session, area, datetime.combine(since, time(), items.TZ))}
