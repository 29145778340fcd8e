"""GCJ-02 and BD-09 back to WGS-84: the accuracy that docs/areas.md states is measured here, over a
200 × 200 lattice of points covering China (round trip WGS-84 → GCJ-02 → WGS-84, and through BD-09)."""

import numpy as np
import pytest
from shapely.geometry import box

from shiyu.org.areas import crs

LON, LAT = (a.ravel() for a in np.meshgrid(np.linspace(73.6, 134.7, 200), np.linspace(18.2, 53.5, 200)))


def metres(lon_a, lat_a, lon_b, lat_b):
    return np.hypot((lon_a - lon_b) * np.cos(np.radians(lat_a)) * 111_320, (lat_a - lat_b) * 110_574)


def test_gcj02_inverse_round_trip_within_half_a_metre():
    back = crs.gcj02_to_wgs84(*crs.wgs84_to_gcj02(LON, LAT))
    worst = metres(LON, LAT, *back).max()
    assert worst < 0.5
    assert worst < 0.001  # measured: about 1e-8 m (the iteration stops at 1e-9°)


def test_bd09_inverse_round_trip_within_half_a_metre():
    back = crs.bd09_to_wgs84(*crs.gcj02_to_bd09(*crs.wgs84_to_gcj02(LON, LAT)))
    assert metres(LON, LAT, *back).max() < 0.001


def test_the_shift_is_the_known_tens_to_hundreds_of_metres():
    shift = metres(LON, LAT, *crs.wgs84_to_gcj02(LON, LAT))
    assert shift.min() > 10 and shift.max() < 800  # measured: 20–710 m


def test_outside_china_nothing_moves():
    lon, lat = np.array([2.35, -74.0, 139.7]), np.array([48.85, 40.7, 35.7])  # Paris, New York, Tokyo
    assert np.array_equal(crs.gcj02_to_wgs84(lon, lat)[0], lon)


@pytest.mark.parametrize(("name", "moved"), [("wgs84", 0), ("cgcs2000", 0), ("gcj02", 10), ("bd09", 10)])
def test_geometries_convert_in_one_call(name, moved):
    geoms = [box(118.0, 24.4, 118.1, 24.5), box(118.1, 24.4, 118.2, 24.5)]
    out, points = crs.to_wgs84(geoms, name)
    assert points == moved
    assert (out[0].bounds == geoms[0].bounds) == (moved == 0)
