"""Where a register record lies: the grid (by the existing point → grid lookup, or named), its community,
and the standard address and building it belongs to, created on first use.

An address's code is the community's 12-digit code and a digest of its normalised parts, so the same
address typed twice (by two workers, or by an import and a worker) is one address. Lookups of an existing
address are unscoped — the code is unique city-wide — but an address lying in a grid the caller cannot see
is refused like one outside the city, never returned.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.core.errors import NotFound, ShiyuError
from shiyu.core.scoping import Principal
from shiyu.org.areas.lookup import INDEXES
from shiyu.org.areas.models import Area, AreaLevel
from shiyu.registry.models import Address, Building

UNSCOPED = {"unscoped": True}


class OutsideGrids(ShiyuError):
    status = 422
    code = "outside_grids"
    zh = "该位置不在您负责的网格内"
    en = "This place is not in a grid you look after"


def grid_at(session: Session, principal: Principal, permission: str, *, grid_id: int | None = None,
            lon: float | None = None, lat: float | None = None) -> Area:
    """The grid a record belongs to: the one named, else the one containing the point. The caller must hold
    ``permission`` there: a named grid they cannot act in answers like no grid (404); a point outside their
    grids is the collector's mistake to correct (422)."""
    if grid_id is not None:
        grid = session.get(Area, grid_id)
        if grid is None or grid.level != int(AreaLevel.GRID) or not principal.can(permission, grid.area_path):
            raise NotFound(detail={"object": "grid", "id": grid_id})
        return grid
    record = INDEXES.get(session).locate(lon, lat) if lon is not None and lat is not None else None
    located = session.get(Area, record.ref.id) if record is not None else None
    if located is None or not principal.can(permission, located.area_path):
        raise OutsideGrids(detail={"lon": lon, "lat": lat})
    return located


def community_of(session: Session, grid: Area) -> Area:
    community = session.get(Area, grid.parent_id) if grid.parent_id is not None else None
    if community is None:
        raise NotFound(detail={"object": "area", "id": grid.parent_id})
    return community


def _norm(part: str) -> str:
    return "".join(part.split()).upper()


def address_code(community_code: str, parts: dict[str, Any]) -> str:
    key = "|".join(_norm(str(parts.get(k) or "")) for k in ("road", "building_no", "unit_no", "room_no"))
    return community_code + hashlib.sha1(key.encode()).hexdigest()[:12].upper()


def ensure_building(session: Session, grid: Area, community: Area, parts: dict[str, Any]) -> Building | None:
    """The building of these address parts (none without a building number), created in ``grid``."""
    if not parts.get("building_no"):
        return None
    building: Building | None = session.scalar(
        select(Building).where(Building.community_id == community.id, Building.road == parts["road"],
                               Building.building_no == parts["building_no"]), execution_options=UNSCOPED)
    if building is not None:
        _visible_or_refused(grid, building.area_path)
        return building
    building = Building(grid_id=grid.id, area_path=grid.area_path, community_id=community.id, road=parts["road"],
                        building_no=parts["building_no"], lon=parts.get("lon"), lat=parts.get("lat"))
    session.add(building)
    return building


def ensure_address(session: Session, grid: Area, parts: dict[str, Any]) -> Address:
    """The standard address of these parts, created in ``grid`` when new."""
    community = community_of(session, grid)
    code = address_code(community.code, parts)
    address: Address | None = session.scalar(select(Address).where(Address.code == code),
                                             execution_options=UNSCOPED)
    if address is not None:
        _visible_or_refused(grid, address.area_path)
        return address
    address = Address(code=code, grid_id=grid.id, area_path=grid.area_path, community_id=community.id,
                      road=parts["road"], building_no=parts.get("building_no") or "",
                      unit_no=parts.get("unit_no") or "", room_no=parts.get("room_no") or "",
                      lon=parts.get("lon"), lat=parts.get("lat"))
    session.add(address)
    return address


def _visible_or_refused(grid: Area, path: str) -> None:
    """An existing address or building of another grid: the record must go there, not here."""
    if path != grid.area_path:
        raise OutsideGrids(detail={"grid_id": grid.id})


def address_label(address: Address) -> str:
    """How an address reads on a page: 幸福小区 3栋 2单元 501."""
    parts = [address.road]
    if address.building_no:
        parts.append(f"{address.building_no}栋")
    if address.unit_no:
        parts.append(f"{address.unit_no}单元")
    if address.room_no:
        parts.append(address.room_no)
    return " ".join(parts)
