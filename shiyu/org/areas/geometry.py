"""GeoJSON ↔ shapely for area boundaries.

Boundaries are stored as GeoJSON geometry dicts in WGS 84 longitude/latitude (the JSON column) and handled
as shapely 2 geometries in memory. Only polygons are area boundaries; everything that parses is also checked
for validity here, so the rules and the lookup index can assume clean input.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

POLYGONAL = ("Polygon", "MultiPolygon")


class GeometryProblem(ValueError):
    """Why a GeoJSON geometry cannot be an area boundary (English; the rules add the Chinese text)."""


def parse_boundary(obj: Any) -> BaseGeometry:
    """A valid, non-empty Polygon/MultiPolygon within longitude/latitude range, or GeometryProblem."""
    if not isinstance(obj, dict) or obj.get("type") not in POLYGONAL:
        kind = obj.get("type") if isinstance(obj, dict) else type(obj).__name__
        raise GeometryProblem(f"type {kind!s} is not Polygon or MultiPolygon")
    try:
        geom = shape(obj)
    except (ValueError, TypeError, IndexError, AttributeError, shapely.errors.GEOSException) as exc:
        raise GeometryProblem(f"unreadable coordinates ({exc})") from exc
    if geom.is_empty:
        raise GeometryProblem("empty geometry")
    minx, miny, maxx, maxy = geom.bounds
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise GeometryProblem("non-finite coordinates")
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise GeometryProblem("coordinates outside longitude/latitude range")
    if not geom.is_valid:
        raise GeometryProblem(shapely.is_valid_reason(geom))
    return geom


def to_geojson(geom: BaseGeometry) -> dict[str, Any]:
    """A GeoJSON dict with lists (not tuples), as stored in the JSON column and sent by the API. Written by
    GEOS and read back: the same values as walking ``mapping(geom)``, six times faster (a city's import)."""
    data = json.loads(shapely.to_geojson(geom))
    return {"type": data["type"], "coordinates": data["coordinates"]}


def same_shape(a: BaseGeometry, b: BaseGeometry, tolerance: float = 1e-9) -> bool:
    """True when two boundaries are the same shape, whatever the ring start or orientation."""
    return bool(shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), tolerance)) or a.equals(b)


# Simplification tolerance (degrees) for drawing the areas of each level (0 city … 4 grid) on a map: coarse
# levels are drawn zoomed out, so their outlines can lose detail; grids keep nearly all of theirs.
DRAW_TOLERANCE = {0: 0.002, 1: 0.0015, 2: 0.0006, 3: 0.0002, 4: 0.00004}


def for_drawing(geometry: dict[str, Any], tolerance: float) -> dict[str, Any]:
    """A stored boundary simplified by ``tolerance`` (topology kept) with coordinates rounded to 1e-6°, as a
    GeoJSON geometry for a map: a fraction of the stored size and still exact at the zoom it is drawn at."""
    geom = shape(geometry)
    if tolerance:
        geom = geom.simplify(tolerance, preserve_topology=True)
    drawn: dict[str, Any] = mapping(shapely.set_precision(geom, 0.000001))
    return drawn


EARTH_RADIUS_M = 6371007.2  # the authalic radius: a sphere with the WGS-84 ellipsoid's surface area


def area_m2(geom: BaseGeometry) -> float:
    """Area in square metres of a lon/lat geometry, on Lambert's cylindrical equal-area projection
    (x = Rλ, y = R sin φ), which keeps areas exact on the sphere: within a few tenths of a percent of the
    ellipsoidal area at China's latitudes — plenty for saying how much a clip cut off."""

    def project(xy: Any) -> Any:
        return np.column_stack([np.radians(xy[:, 0]) * EARTH_RADIUS_M, np.sin(np.radians(xy[:, 1])) * EARTH_RADIUS_M])

    return float(shapely.transform(geom, project).area)


def polygonal(geom: BaseGeometry) -> BaseGeometry:
    """The polygon parts of an overlay result (an intersection may add lines or points where edges touch)."""
    if geom.geom_type in POLYGONAL:
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in POLYGONAL]
    return shapely.union_all(parts) if parts else shapely.Polygon()
