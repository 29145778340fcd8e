"""The demo city's geometry: every level tiles its parent exactly, shapes are valid, counts and bounds are
as asked, and the same seed gives the same city."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely import Polygon
from shapely.geometry import shape

from shiyu.demo.geography import FULL_SIZE, SMALL_SIZE, Cell, CitySize, generate, geojson

MEDIUM = CitySize(districts=3, streets=10, communities=40, grids=240)


@pytest.fixture(scope="module", params=[SMALL_SIZE, MEDIUM], ids=["small", "medium"])
def city(request: pytest.FixtureRequest) -> tuple[CitySize, Cell]:
    return request.param, generate(2026, request.param)


def _assert_tiles(parent: Cell) -> None:
    kids = np.array([c.geometry for c in parent.children])
    assert shapely.coverage_is_valid(kids), "siblings overlap or their shared edges do not match"
    tree = shapely.STRtree(kids)
    overlapping = tree.query(kids, predicate="overlaps")
    assert overlapping.shape[1] == 0
    assert shapely.coverage_union_all(kids).equals(parent.geometry)
    total = float(shapely.area(kids).sum())
    assert abs(total - parent.geometry.area) <= 1e-9 * parent.geometry.area


def test_every_cell_is_a_valid_polygon(city: tuple[CitySize, Cell]) -> None:
    _, root = city
    for _, cell in root.walk():
        assert isinstance(cell.geometry, Polygon)
        assert cell.geometry.is_valid and not cell.geometry.is_empty


def test_children_tile_their_parent_exactly(city: tuple[CitySize, Cell]) -> None:
    _, root = city
    parents = [cell for _, cell in root.walk() if cell.children]
    assert len(parents) > 1
    for parent in parents:
        _assert_tiles(parent)


def test_all_grids_form_one_coverage_of_the_city(city: tuple[CitySize, Cell]) -> None:
    _, root = city
    grids = np.array([c.geometry for c in root.level(4)])
    assert shapely.coverage_is_valid(grids)
    assert shapely.coverage_union_all(grids).equals(root.geometry)


def test_counts_and_nesting(city: tuple[CitySize, Cell]) -> None:
    size, root = city
    assert len(root.level(1)) == size.districts
    assert len(root.level(2)) == size.streets
    assert len(root.level(3)) == size.communities
    assert 0.95 * size.grids <= len(root.level(4)) <= size.grids
    assert all(c.children for d, c in root.walk() if d < 4)
    assert not any(c.children for c in root.level(4))


def test_city_sits_in_the_chosen_box_on_a_six_decimal_grid(city: tuple[CitySize, Cell]) -> None:
    _, root = city
    x0, y0, x1, y1 = root.geometry.bounds
    assert 118.0 <= x0 < x1 <= 118.4 and 24.4 <= y0 < y1 <= 24.7
    coords = shapely.get_coordinates([c.geometry for c in root.level(4)])
    assert np.array_equal(coords, np.round(coords, 6))


def test_grids_are_irregular_not_a_chessboard(city: tuple[CitySize, Cell]) -> None:
    _, root = city
    grids = [c.geometry for c in root.level(4)]
    vertex_counts = {len(g.exterior.coords) for g in grids}
    areas = shapely.area(grids)
    assert len(vertex_counts) > 3
    assert areas.max() / areas.min() > 2


def test_density_is_higher_downtown(city: tuple[CitySize, Cell]) -> None:
    _, root = city
    grids = root.level(4)
    dens = np.array([g.density for g in grids])
    areas = np.array([g.geometry.area for g in grids])
    assert dens.min() >= 1.0
    assert areas[dens > np.median(dens)].mean() < areas[dens <= np.median(dens)].mean()


def test_same_seed_same_city_other_seed_other_city() -> None:
    a, b, c = generate(7, SMALL_SIZE), generate(7, SMALL_SIZE), generate(8, SMALL_SIZE)
    wkb = [shapely.to_wkb(cell.geometry) for _, cell in a.walk()]
    assert wkb == [shapely.to_wkb(cell.geometry) for _, cell in b.walk()]
    assert [cell.density for _, cell in a.walk()] == [cell.density for _, cell in b.walk()]
    assert not a.geometry.equals(c.geometry)


def test_geojson_is_plain_lists_counter_clockwise_and_exact() -> None:
    poly = generate(3, SMALL_SIZE).level(4)[0].geometry
    gj = geojson(poly)
    assert gj["type"] == "Polygon"
    assert isinstance(gj["coordinates"][0][0], list)
    back = shape(gj)
    assert back.exterior.is_ccw
    assert back.equals(poly) and back.area == pytest.approx(poly.area, rel=1e-15)


def test_sizes_must_nest() -> None:
    with pytest.raises(ValueError):
        CitySize(districts=3, streets=2, communities=8, grids=40)


@pytest.mark.slow
def test_full_size_city() -> None:
    root = generate(2026, FULL_SIZE)
    assert [len(root.level(d)) for d in (1, 2, 3)] == [6, 40, 300]
    assert 1900 <= len(root.level(4)) <= 2000
    assert shapely.coverage_is_valid(np.array([c.geometry for c in root.level(4)]))
    for _, cell in root.walk():
        assert isinstance(cell.geometry, Polygon) and cell.geometry.is_valid
        if cell.children:
            _assert_tiles(cell)
