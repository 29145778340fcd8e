"""The registers on the one map (``/command``): buildings, units and components as points — a label, a kind
and a count, never a person's data — for the roles that may see the registers, in their scope and under the
area they look at. Units are placed at their standard address; one without a located address stays off
the map.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shiyu.core.scoping import Principal
from shiyu.registry.models import VIEW, Address, Building, Component, House, Unit

MAX_POINTS = 20_000  # per layer: beyond it the map is zoomed out too far to read points anyway


def points(session: Session, principal: Principal, area_path: str) -> dict[str, Any]:
    """A GeoJSON FeatureCollection; ``properties.layer`` is building, unit or component."""
    principal.require(VIEW)
    under = area_path
    houses = select(House.building_id, func.count().label("n")).group_by(House.building_id).subquery()
    buildings = session.execute(
        select(Building.id, Building.road, Building.building_no, Building.lon, Building.lat, houses.c.n)
        .outerjoin(houses, houses.c.building_id == Building.id)
        .where(Building.area_path.startswith(under, autoescape=True), Building.lon.is_not(None))
        .order_by(Building.id).limit(MAX_POINTS))
    units = session.execute(
        select(Unit.id, Unit.name, Unit.place_type, Address.lon, Address.lat)
        .join(Address, Address.id == Unit.address_id)
        .where(Unit.area_path.startswith(under, autoescape=True), Unit.status == "active", Address.lon.is_not(None))
        .order_by(Unit.id).limit(MAX_POINTS))
    components = session.execute(
        select(Component.id, Component.name, Component.class_code, Component.status, Component.lon, Component.lat)
        .where(Component.area_path.startswith(under, autoescape=True)).order_by(Component.id).limit(MAX_POINTS))
    features = [_point(b.lon, b.lat, layer="building", id=b.id, label=f"{b.road} {b.building_no}栋", houses=b.n or 0)
                for b in buildings]
    features += [_point(u.lon, u.lat, layer="unit", id=u.id, label=u.name, place_type=u.place_type) for u in units]
    features += [_point(c.lon, c.lat, layer="component", id=c.id, label=c.name or c.class_code,
                        class_code=c.class_code, status=c.status) for c in components]
    return {"type": "FeatureCollection", "features": features}


def _point(lon: float, lat: float, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": properties}
