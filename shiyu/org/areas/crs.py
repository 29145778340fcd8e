"""Coordinate systems of Chinese boundary files, converted to the WGS-84 the platform stores.

- ``wgs84`` and ``cgcs2000`` (the national datum; 天地图 and official survey data): CGCS2000 and WGS-84
  differ by centimetres, far below the detail of any administrative or grid boundary, so nothing moves.
- ``gcj02`` (the "Mars" coordinates of 高德 and 腾讯 maps and of DataV GeoAtlas files): the published forward
  transform WGS-84 → GCJ-02 shifts points by up to a few hundred metres inside China. It has no closed-form
  inverse, so it is inverted by fixed-point iteration (w ← w − (f(w) − g)) until f(w) is within 1e-9° of
  the given point: the result, sent through the forward transform again, comes back to within millimetres
  (``tests/org/test_area_crs.py`` measures the round trip over points across China).
- ``bd09`` (Baidu): BD-09 is the published transform GCJ-02 → BD-09 applied on top of GCJ-02; it is inverted
  the same way, then GCJ-02 → WGS-84.

Points outside China's rough bounding box are not shifted by GCJ-02 (the published transform's own rule),
so the same holds here. Everything is vectorised over numpy arrays: a city of 2,000 grids converts in
well under a second.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

CRS_NAMES = ("wgs84", "cgcs2000", "gcj02", "bd09")
SHIFTED = ("gcj02", "bd09")
CRS_LABELS = {"wgs84": "WGS-84", "cgcs2000": "CGCS2000", "gcj02": "GCJ-02", "bd09": "BD-09"}

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as in the published transform
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0
_TOLERANCE = 1e-9  # degrees, about 0.1 mm
_MAX_ROUNDS = 30

Transform = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def _d_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out: np.ndarray = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    out += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    out += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    out += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return out


def _d_lon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out: np.ndarray = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    out += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    out += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    out += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return out


def wgs84_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The published forward transform (what a 高德 map does to a GPS fix)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    d_lat = _d_lat(lon - 105.0, lat - 35.0)
    d_lon = _d_lon(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    inside = _in_china(lon, lat)
    return np.where(inside, lon + d_lon, lon), np.where(inside, lat + d_lat, lat)


def gcj02_to_bd09(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The published forward transform GCJ-02 → BD-09."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def invert(forward: Transform, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The point w with forward(w) = (lon, lat), by fixed-point iteration from w = (lon, lat). The shifts
    change slowly with position, so each round gains about four digits; two or three rounds suffice."""
    g_lon, g_lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(_MAX_ROUNDS):
        f_lon, f_lat = forward(w_lon, w_lat)
        e_lon, e_lat = f_lon - g_lon, f_lat - g_lat
        w_lon, w_lat = w_lon - e_lon, w_lat - e_lat
        if e_lon.size == 0 or max(np.abs(e_lon).max(), np.abs(e_lat).max()) < _TOLERANCE:
            break
    return w_lon, w_lat


def gcj02_to_wgs84(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return invert(wgs84_to_gcj02, lon, lat)


def bd09_to_wgs84(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return gcj02_to_wgs84(*invert(gcj02_to_bd09, lon, lat))


TO_WGS84: dict[str, Transform] = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}


def to_wgs84(geoms: list[BaseGeometry], crs: str) -> tuple[list[BaseGeometry], int]:
    """The geometries in WGS-84 and how many points were moved (0 for wgs84/cgcs2000). One call for all of
    them: shapely hands every coordinate of the list to the transform as one array."""
    convert = TO_WGS84.get(crs)
    if convert is None or not geoms:
        return geoms, 0

    def move(xy: np.ndarray) -> np.ndarray:
        lon, lat = convert(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    arr: Any = np.asarray(geoms, dtype=object)
    moved = shapely.transform(arr, move)
    return list(moved), int(shapely.get_num_coordinates(arr).sum())
