"""Boundaries as maps draw them: simplified for the level shown, and the city's own base map built from them.

``DRAWINGS`` remembers each area's simplified boundary by (area id, last change, level): simplifying the
city's 2,000 grids costs about 0.2 s and boundaries change rarely, so the command view and the base map
simplify an area once per change.

The base map (``base_layer``) is what every map shows under its own layers when no tile server is
configured, and over the tiles when one is: the outlines and names of one level of areas — districts
zoomed out, grids zoomed in — so a pin always lands somewhere with a name, with no tile download (the
machines of a centre often reach no internet). Outlines and names of administrative areas and grids are
public (they hang on every community's notice board), so it is read unscoped and served to anyone; it
holds nothing else. A level's features are kept with their bounding boxes until an area of that level
changes, so a request costs one small query and a filter by the map's box.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shapely.geometry import shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shiyu.org.areas.geometry import DRAW_TOLERANCE, for_drawing
from shiyu.org.areas.models import Area, AreaLevel

# Map zoom (Leaflet/Web Mercator) below which each level is shown: a district fills a screen around zoom 10,
# a street around 12, a community around 13; grids from 14 on (a grid worker's phone shows their grid at ~14).
ZOOM_LEVELS = ((9, AreaLevel.CITY), (11, AreaLevel.DISTRICT), (13, AreaLevel.STREET), (14, AreaLevel.COMMUNITY))
MAX_FEATURES = 3000
Box = tuple[float, float, float, float]  # west, south, east, north


class Drawings:
    """Simplified boundaries by (area id, last change, level); a changed area (new ``updated_at``) is drawn
    afresh. Which areas a caller gets is decided by the caller's query; this only remembers how one is drawn."""

    def __init__(self, size: int = 20_000) -> None:
        self._size = size
        self._items: OrderedDict[tuple[int, datetime, int], dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[int, datetime, int], geometry: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            drawn = self._items.get(key)
            if drawn is not None:
                self._items.move_to_end(key)
                return drawn
        drawn = for_drawing(geometry, DRAW_TOLERANCE[key[2]])
        with self._lock:
            self._items[key] = drawn
            if len(self._items) > self._size:
                self._items.popitem(last=False)
        return drawn


DRAWINGS = Drawings()


def level_for_zoom(zoom: int) -> AreaLevel:
    """The level of areas a map at ``zoom`` names: one level at a time, so labels never pile up."""
    return next((level for below, level in ZOOM_LEVELS if zoom < below), AreaLevel.GRID)


@dataclass(frozen=True)
class _Level:
    version: tuple[int, datetime | None]
    features: list[tuple[Box, dict[str, Any]]]


class _BaseLayers:
    """Each level's base-map features with their boxes, valid while the level's (count, last change) holds."""

    def __init__(self) -> None:
        self._levels: dict[int, _Level] = {}
        self._lock = threading.Lock()

    def features(self, session: Session, level: int) -> list[tuple[Box, dict[str, Any]]]:
        version = _version(session, level)
        with self._lock:
            known = self._levels.get(level)
        if known is not None and known.version == version:
            return known.features
        built = _Level(version, _build(session, level))
        with self._lock:
            self._levels[level] = built
        return built.features


_LAYERS = _BaseLayers()


def _drawn(level: int) -> Any:
    return (select(Area.id, Area.name, Area.code, Area.updated_at, Area.geometry)
            .where(Area.level == level, Area.geometry.is_not(None))
            .execution_options(unscoped=True))  # public outlines and names only, see the module's docstring


def _version(session: Session, level: int) -> tuple[int, datetime | None]:
    stmt = (select(func.count(Area.id), func.max(Area.updated_at))
            .where(Area.level == level, Area.geometry.is_not(None)).execution_options(unscoped=True))
    count, changed = session.execute(stmt).one()
    return int(count or 0), changed


def _build(session: Session, level: int) -> list[tuple[Box, dict[str, Any]]]:
    built = []
    for row in session.execute(_drawn(level).order_by(Area.code)):
        geometry = DRAWINGS.get((row.id, row.updated_at, level), row.geometry)
        outline = shape(geometry)
        label = outline.representative_point()
        built.append((outline.bounds, {
            "type": "Feature", "geometry": geometry,
            "properties": {"name": row.name, "code": row.code, "level": level,
                           "label": [round(label.x, 6), round(label.y, 6)]}}))
    return built


def base_layer(session: Session, zoom: int, box: Box) -> dict[str, Any]:
    """The outlines and names a map at ``zoom`` showing ``box`` draws under its own layers, as GeoJSON."""
    level = level_for_zoom(zoom)
    west, south, east, north = box
    shown = [feature for (w, s, e, n), feature in _LAYERS.features(session, level)
             if w <= east and e >= west and s <= north and n >= south]
    return {"type": "FeatureCollection", "level": int(level), "features": shown[:MAX_FEATURES],
            "truncated": len(shown) > MAX_FEATURES}
