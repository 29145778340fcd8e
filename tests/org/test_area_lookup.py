import math

import numpy as np
import pytest
import shapely
from shapely.geometry import box

from shiyu.core import refcache
from shiyu.core.errors import NotFound
from shiyu.core.scoping import Principal
from shiyu.org.areas import lookup, service
from shiyu.org.areas.lookup import AreaRef, GridIndex, GridRecord
from shiyu.org.identity.service import principal_for
from tests.factories import make_people, make_world
from tests.org.data import voronoi_city


def records(geoms, codes=None):
    codes = codes or [f"359901001001{i:03d}" for i in range(1, len(geoms) + 1)]
    pairs = enumerate(zip(codes, geoms, strict=True))
    return [GridRecord(AreaRef(100 + i, c, f"g{i}", 4), "/", g, ()) for i, (c, g) in pairs]


def naive(index: GridIndex, x, y):
    """Every polygon, in code order, first one covering the point wins (the index's edge rule)."""
    out = np.full(len(x), -1)
    for g in range(len(index.geoms) - 1, -1, -1):
        out[shapely.intersects_xy(index.geoms[g], x, y)] = g
    return out


@pytest.fixture(scope="module")
def city():
    return GridIndex(records(voronoi_city(300)))


def check_all_ways(index, x, y):
    expected = naive(index, x, y)
    assert (index.positions(x, y) == expected).all()
    assert [index.position(a, b) for a, b in zip(x.tolist(), y.tolist(), strict=True)] == expected.tolist()
    return expected


def test_random_points_match_naive(city):
    rng = np.random.default_rng(11)
    minx, miny, maxx, maxy = shapely.total_bounds(city.geoms)
    x, y = rng.uniform(minx - 0.01, maxx + 0.01, 20_000), rng.uniform(miny - 0.01, maxy + 0.01, 20_000)
    expected = check_all_ways(city, x, y)
    assert (expected == -1).any() and (expected >= 0).mean() > 0.5
    assert 0 < city.boundary_share < 0.5


def test_vertices_and_edge_midpoints_get_one_deterministic_answer(city):
    coords = shapely.get_coordinates(shapely.get_rings(city.geoms))
    points = np.concatenate([coords, (coords[:-1] + coords[1:]) / 2])
    expected = check_all_ways(city, points[:, 0], points[:, 1])
    inner = shapely.contains_xy(shapely.union_all(city.geoms).buffer(-1e-9), points[:, 0], points[:, 1])
    assert (expected[inner] >= 0).all()  # no point inside the city falls through a crack


def test_shared_edge_aligned_with_raster_goes_to_lowest_code():
    geoms = [box(0, 0, 1, 1), box(1, 0, 2, 1), box(0, 1, 1, 2), box(1, 1, 2, 2)]
    index = GridIndex(records(geoms, ["359901001001004", "359901001001003", "359901001001002", "359901001001001"]))
    grid = np.array([(i / 4, j / 4) for i in range(9) for j in range(9)])
    check_all_ways(index, grid[:, 0], grid[:, 1])
    assert index.locate(1.0, 1.0).ref.code == "359901001001001"  # the corner shared by all four
    assert index.locate(1.0, 0.5).ref.code == "359901001001003"
    assert index.locate(0.5, 0.5).ref.code == "359901001001004"


def test_outside_nan_and_empty():
    index = GridIndex(records([box(0, 0, 1, 1)]))
    assert index.locate(5, 5) is None and index.locate(-0.5, 0.5) is None
    assert index.position(math.nan, 0.5) == -1
    assert index.area_ids([0.5, 2.0, math.nan], [0.5, 0.5, 0.5]).tolist() == [100, -1, -1]
    empty = GridIndex([])
    assert empty.locate(0, 0) is None and empty.area_ids([0.0], [0.0]).tolist() == [-1]


def test_grids_near_a_box_are_those_whose_bounds_touch_it(city):
    """The grids a search around a point reads: every grid the box touches (edges count) is among them, and
    the others are grids whose bounds touch the box (a caller keeps only the points inside it)."""
    rng = np.random.default_rng(5)
    minx, miny, maxx, maxy = shapely.total_bounds(city.geoms)
    bounds = shapely.box(*shapely.bounds(city.geoms).T)
    for x, y in zip(rng.uniform(minx, maxx, 50), rng.uniform(miny, maxy, 50), strict=True):
        d = rng.uniform(0.0005, 0.02)
        found = city.grid_ids_near(x - d, y - d, x + d, y + d)
        touched = {int(i) for i in city.ids[shapely.intersects(city.geoms, box(x - d, y - d, x + d, y + d))]}
        assert touched <= set(found)
        assert found == [int(i) for i in city.ids[shapely.intersects(bounds, box(x - d, y - d, x + d, y + d))]]
    squares = GridIndex(records([box(0, 0, 1, 1), box(1, 0, 2, 1), box(5, 5, 6, 6)]))
    assert squares.grid_ids_near(0.9, 0.2, 1.0, 0.3) == [100, 101]  # the shared edge touches both
    assert squares.grid_ids_near(3, 3, 4, 4) == [] and GridIndex([]).grid_ids_near(0, 0, 1, 1) == []
    triangle = GridIndex(records([shapely.Polygon([(0, 0), (1, 0), (0, 1)])]))
    assert triangle.grid_ids_near(0.8, 0.8, 0.9, 0.9) == [100]  # inside its bounds, outside the triangle


def test_holes_and_multipolygons():
    ring = box(0, 0, 4, 4).difference(box(1, 1, 3, 3))
    pair = shapely.MultiPolygon([box(1, 1, 2, 3), box(2, 1, 3, 3)]).union(box(1.5, 1, 2.5, 3))
    index = GridIndex(records([ring, pair]))
    rng = np.random.default_rng(5)
    check_all_ways(index, rng.uniform(-1, 5, 5000), rng.uniform(-1, 5, 5000))
    assert index.locate(0.5, 0.5).ref.name == "g0" and index.locate(2, 2).ref.name == "g1"


def test_index_from_database_refreshes_on_generation(system_session):
    world = make_world(system_session)
    system_session.commit()
    cache = lookup.index_cache(recheck_seconds=0)
    first = cache.get(system_session)
    assert cache.get(system_session) is first and len(first) == 4
    hit = first.locate(118.1, 24.6)
    assert hit.ref.code == world.grids["b1"].code
    assert [r.code for r in hit.chain] == [a.code for a in (world.grids["b1"], world.community_b, world.street,
                                                            world.district, world.city)]
    lookup.bump_generation(system_session)
    system_session.commit()
    assert cache.get(system_session) is not first
    lookup.bump_generation(system_session)
    system_session.commit()
    assert system_session.get(lookup.AreaGeneration, 1).value == 2


def test_index_rechecks_the_generation_at_most_once_per_interval(system_session, monkeypatch):
    make_world(system_session)
    system_session.commit()
    clock = [1000.0]
    monkeypatch.setattr(refcache.time, "monotonic", lambda: clock[0])
    cache = lookup.index_cache(recheck_seconds=1.0)
    first = cache.get(system_session)
    lookup.bump_generation(system_session)
    system_session.commit()
    clock[0] += 0.5
    assert cache.get(system_session) is first  # within the interval: no query, the index as it was
    clock[0] += 0.6
    assert cache.get(system_session) is not first  # interval over: the bump is seen


def test_locate_is_scoped(system_session):
    world = make_world(system_session)
    make_people(system_session, world)
    system_session.commit()
    leader_a = principal_for(world.users["leader_a"])
    cache = lookup.index_cache(recheck_seconds=0)
    assert service.locate(system_session, leader_a, 118.0, 24.6, cache).ref.id == world.grids["a1"].id
    with pytest.raises(NotFound) as hidden:
        service.locate(system_session, leader_a, 118.1, 24.6, cache)
    assert hidden.value.code == "not_found"
    with pytest.raises(service.OutsideCity) as outside:
        service.locate(system_session, Principal.system(), 100.0, 30.0, cache)
    assert outside.value.code == "outside_city"
