"""Boundary files as a city downloads them, generated for the tests: a DataV GeoAtlas city outline and the
file of its districts (6-digit adcodes, ``parent`` as ``{"adcode": …}``, the centre/centroid/childrenNum/
acroutes clutter, MultiPolygons, coordinates in GCJ-02), whose districts stick out of the city by about
1 % of their area as independently simplified public files do; and a table-like file keyed by Chinese
property names."""

from __future__ import annotations

import copy
import json
from typing import Any

import numpy as np
import shapely
from shapely.geometry import box, mapping

from shiyu.org.areas import crs

CITY_ADCODE = 350200
CITY_BOX = (118.0, 24.4, 118.2, 24.6)  # WGS-84
DISTRICTS = [(350203, "思明区"), (350205, "海沧区"), (350206, "湖里区"), (350211, "集美区")]
STICK_OUT = 0.0005  # degrees added to each district's outer edges: ~1 % of a 0.1° × 0.1° quadrant


def _quadrants() -> list[shapely.Polygon]:
    """The city's four quarters, each grown outwards (never into a sibling) by STICK_OUT."""
    x0, y0, x1, y1 = CITY_BOX
    xm, ym, d = (x0 + x1) / 2, (y0 + y1) / 2, STICK_OUT
    return [box(x0 - d, ym, xm, y1 + d), box(xm, ym, x1 + d, y1 + d),
            box(x0 - d, y0 - d, xm, ym), box(xm, y0 - d, x1 + d, ym)]


def _in(system: str, geom: shapely.Geometry) -> dict[str, Any]:
    """A MultiPolygon (as DataV writes every boundary) in ``system``: the WGS-84 shape sent through the
    published forward transform(s)."""
    def move(xy: np.ndarray) -> np.ndarray:
        lon, lat = xy[:, 0], xy[:, 1]
        if system in ("gcj02", "bd09"):
            lon, lat = crs.wgs84_to_gcj02(lon, lat)
        if system == "bd09":
            lon, lat = crs.gcj02_to_bd09(lon, lat)
        return np.column_stack([lon, lat])

    moved = shapely.transform(shapely.MultiPolygon([geom]), move)
    return json.loads(json.dumps(mapping(moved)))  # tuples → lists, as a file has them


def _props(adcode: Any, name: str, level: str, parent: Any, geom: shapely.Geometry, children: int) -> dict:
    c = geom.centroid
    return {"adcode": adcode, "name": name, "center": [round(c.x, 6), round(c.y, 6)],
            "centroid": [round(c.x, 6), round(c.y, 6)], "childrenNum": children, "level": level,
            "parent": {"adcode": parent}, "subFeatureIndex": 0, "acroutes": [100000, 350000]}


def city_outline(system: str = "gcj02") -> dict[str, Any]:
    """``350200.json``: the city's own outline."""
    geom = box(*CITY_BOX)
    return {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": _in(system, geom),
            "properties": _props(CITY_ADCODE, "厦门市", "city", 350000, geom, len(DISTRICTS))}]}


def districts(system: str = "gcj02") -> dict[str, Any]:
    """``350200_full.json``: the city's districts, each sticking out of the outline by ~1 %."""
    features = []
    for i, ((adcode, name), geom) in enumerate(zip(DISTRICTS, _quadrants(), strict=True)):
        props = _props(adcode, name, "district", CITY_ADCODE, geom, 0) | {"subFeatureIndex": i}
        props["acroutes"] = [100000, 350000, CITY_ADCODE]
        features.append({"type": "Feature", "geometry": _in(system, geom), "properties": props})
    return {"type": "FeatureCollection", "features": features}


def with_props(collection: dict[str, Any], index: int, **props: Any) -> dict[str, Any]:
    out = copy.deepcopy(collection)
    out["features"][index]["properties"].update(props)
    return out


CHINESE_KEYS = {"code": "网格编码", "name": "网格名称", "level": "层级", "parent_code": "上级编码",
                "population": "人口", "households": "户数"}
CHINESE_LEVELS = {"city": "市", "district": "区", "street": "街道", "community": "社区", "grid": "网格"}
CHINESE_MAP = ",".join(f"{zh}={en}" for en, zh in CHINESE_KEYS.items())


def chinese_keyed(collection: dict[str, Any], *, levels: bool = True) -> dict[str, Any]:
    """Our-format features with Chinese property names and level words (or no level column at all)."""
    out = copy.deepcopy(collection)
    for f in out["features"]:
        props = f["properties"]
        props["level"] = CHINESE_LEVELS[props["level"]]
        f["properties"] = {CHINESE_KEYS[k]: v for k, v in props.items() if levels or k != "level"}
    return out
