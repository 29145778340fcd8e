"""The city's own base map (``/api/v1/map/base``): anyone gets the outlines and names of the areas a map shows,
one level per zoom, only those in the map's box, with a label point inside each; a changed boundary shows at
once; a box the wrong way round is a 422 in Chinese."""

from __future__ import annotations

import pytest
from shapely.geometry import Point, shape

from shiyu.core.scoping import Principal
from shiyu.org.areas import drawing
from shiyu.org.areas.models import AreaLevel
from tests.factories import box, populated

URL = "/api/v1/map/base"
CITY_BOX = {"west": 117.8, "south": 24.3, "east": 118.3, "north": 24.8}


@pytest.fixture
def world(system_session):
    return populated(system_session)


def names(answer: dict) -> set[str]:
    return {f["properties"]["name"] for f in answer["features"]}


@pytest.mark.parametrize(("zoom", "level"), [(3, AreaLevel.CITY), (10, AreaLevel.DISTRICT), (12, AreaLevel.STREET),
                                             (13, AreaLevel.COMMUNITY), (14, AreaLevel.GRID), (19, AreaLevel.GRID)])
def test_each_zoom_names_one_level(zoom, level):
    assert drawing.level_for_zoom(zoom) == level


def test_anyone_gets_the_outlines_and_names_of_the_level_the_zoom_shows(client, world):
    r = client.get(URL, params={"zoom": 13, **CITY_BOX})  # no log-in: the citizen portal's map uses it too
    assert r.status_code == 200 and r.headers["cache-control"] == "public, max-age=300"
    assert r.json()["level"] == AreaLevel.COMMUNITY and names(r.json()) == {"甲社区", "乙社区"}
    grids = client.get(URL, params={"zoom": 16, **CITY_BOX}).json()
    assert names(grids) == {"甲社区第一网格", "甲社区第二网格", "乙社区第一网格", "乙社区第二网格"}
    for feature in grids["features"]:
        lon, lat = feature["properties"]["label"]
        assert shape(feature["geometry"]).contains(Point(lon, lat))
        assert set(feature["properties"]) == {"name", "code", "level", "label"}  # nothing but what is public
    assert names(client.get(URL, params={"zoom": 10, **CITY_BOX}).json()) == {"东区"}


def test_only_the_areas_in_the_box_come(client, world):
    west_half = {"west": 117.91, "south": 24.41, "east": 118.0, "north": 24.5}
    assert names(client.get(URL, params={"zoom": 16, **west_half}).json()) == {"甲社区第二网格"}
    far = {"west": 100.0, "south": 30.0, "east": 101.0, "north": 31.0}
    assert client.get(URL, params={"zoom": 16, **far}).json()["features"] == []


def test_a_changed_boundary_shows_at_once(client, world, system_session):
    assert "甲社区第一网格" in names(client.get(URL, params={"zoom": 16, **CITY_BOX}).json())
    system_session.info["principal"] = Principal.system("test")
    grid = system_session.merge(world.grids["a1"])
    grid.name, grid.geometry = "甲社区新一网格", box(117.9, 24.6, 118.05, 24.7)
    system_session.commit()
    grids = client.get(URL, params={"zoom": 16, **CITY_BOX}).json()
    moved = next(f for f in grids["features"] if f["properties"]["name"] == "甲社区新一网格")
    assert shape(moved["geometry"]).bounds == pytest.approx((117.9, 24.6, 118.05, 24.7))


@pytest.mark.parametrize("params", [
    {"zoom": 12, "west": 118.3, "south": 24.3, "east": 117.8, "north": 24.8},
    {"zoom": 12, "west": 117.8, "south": 24.8, "east": 118.3, "north": 24.3},
])
def test_a_box_the_wrong_way_round_is_refused_in_chinese(client, world, params):
    r = client.get(URL, params=params)
    assert r.status_code == 422 and r.json()["code"] == "bad_box" and "西边界" in r.json()["message"]


@pytest.mark.parametrize("params", [{"zoom": 30, **CITY_BOX}, {"zoom": 12, **CITY_BOX, "west": -200}, {"zoom": 12}])
def test_values_out_of_range_are_refused(client, world, params):
    assert client.get(URL, params=params).status_code == 422
