"""Test data for areas, generated rather than stored: a tiny valid city file that each test bends into
one error kind, and an irregular Voronoi city for the lookup index."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Point

from tests.factories import box

CITY, DISTRICT, STREET, COMMUNITY = "359800000000", "359801000000", "359801001000", "359801001001"
GRID1, GRID2 = "359801001001001", "359801001001002"
WHOLE = (118.0, 24.0, 118.2, 24.2)


def feature(code: str, name: str, level: str, parent: str | None, geometry: dict | None,
            population: int = 1000, households: int = 400) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry,
            "properties": {"code": code, "name": name, "level": level, "parent_code": parent,
                           "population": population, "households": households}}


def small_city() -> dict[str, Any]:
    """City → district → street → community → two grids (west and east halves); valid as it is."""
    return {"type": "FeatureCollection", "features": [
        feature(CITY, "试验市", "city", None, box(*WHOLE), 2000, 800),
        feature(DISTRICT, "试验区", "district", CITY, box(*WHOLE), 2000, 800),
        feature(STREET, "试验街道", "street", DISTRICT, box(*WHOLE), 2000, 800),
        feature(COMMUNITY, "试验社区", "community", STREET, box(*WHOLE), 2000, 800),
        feature(GRID1, "第一网格", "grid", COMMUNITY, box(118.0, 24.0, 118.1, 24.2)),
        feature(GRID2, "第二网格", "grid", COMMUNITY, box(118.1, 24.0, 118.2, 24.2)),
    ]}


def changed(collection: dict[str, Any], which: str, geometry: Any = None, **props: Any) -> dict[str, Any]:
    """A copy with one feature's geometry and/or properties replaced."""
    out = copy.deepcopy(collection)
    for f in out["features"]:
        if f["properties"]["code"] == which:
            if geometry is not None:
                f["geometry"] = geometry
            f["properties"].update(props)
    return out


def voronoi_city(n: int, seed: int = 3, centre: tuple[float, float] = (118.1, 24.5),
                 radius: float = 0.1) -> list[shapely.Polygon]:
    """``n``-ish irregular grids filling a round city: Voronoi cells of random seeds, clipped."""
    rng = np.random.default_rng(seed)
    outline = Point(*centre).buffer(radius, 32)
    x = rng.uniform(centre[0] - radius, centre[0] + radius, 2 * n)
    y = rng.uniform(centre[1] - radius, centre[1] + radius, 2 * n)
    inside = shapely.contains_xy(outline, x, y)
    seeds = shapely.multipoints(np.column_stack([x[inside], y[inside]])[:n])
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=outline.envelope))
    return [c for c in shapely.intersection(cells, outline) if not c.is_empty]
