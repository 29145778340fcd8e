import pytest
from shapely.geometry import box

from shiyu.org.areas import rules
from shiyu.org.areas.geometry import GeometryProblem, parse_boundary, same_shape, to_geojson
from shiyu.org.areas.models import AreaLevel
from shiyu.org.areas.rules import Severity


@pytest.mark.parametrize(("code", "level"), [
    ("350200000000", AreaLevel.CITY),
    ("350203000000", AreaLevel.DISTRICT),
    ("350203001000", AreaLevel.STREET),
    ("350203001001", AreaLevel.COMMUNITY),
    ("350203001001007", AreaLevel.GRID),
])
def test_well_formed_codes(code, level):
    assert rules.check_code(code, level, "x") is None


@pytest.mark.parametrize(("code", "level"), [
    ("35020000000", AreaLevel.CITY),  # 11 digits
    ("350201000000", AreaLevel.CITY),  # a district's code
    ("3502a0000000", AreaLevel.CITY),
    ("350200000000", AreaLevel.DISTRICT),  # district digits 00
    ("350203001001", AreaLevel.DISTRICT),
    ("350203000000", AreaLevel.STREET),
    ("350203001000", AreaLevel.COMMUNITY),
    ("350203001001", AreaLevel.GRID),  # 12 digits
    ("350203001001000", AreaLevel.GRID),  # serial 000
])
def test_malformed_codes(code, level):
    found = rules.check_code(code, level, "某区域")
    assert found is not None and found.code == "invalid_code"
    assert code in found.zh and code in found.en and "某区域" in found.en


def test_child_code_extends_parent_prefix():
    assert rules.check_code_prefix("350203000000", AreaLevel.DISTRICT, "350200000000", "d") is None
    assert rules.check_code_prefix("350203001001005", AreaLevel.GRID, "350203001001", "g") is None
    bad = rules.check_code_prefix("350203001002005", AreaLevel.GRID, "350203001001", "g")
    assert bad.code == "code_prefix_mismatch" and bad.detail["prefix"] == "350203001001"
    bad = rules.check_code_prefix("350303000000", AreaLevel.DISTRICT, "350200000000", "d")
    assert bad.detail == {"parent": "350200000000", "digits": 4, "prefix": "3502"}


def test_every_grid_hangs_under_a_community():
    assert rules.check_parent_level(AreaLevel.GRID, AreaLevel.COMMUNITY, "c", "g") is None
    bad = rules.check_parent_level(AreaLevel.GRID, AreaLevel.STREET, "350203001000", "g")
    assert bad.code == "wrong_parent_level"
    assert "社区村" in bad.zh and "community" in bad.en and "street" in bad.en


def test_household_and_population_norms_are_warnings():
    assert rules.check_counts(AreaLevel.GRID, 1000, 400, "g") == []
    assert rules.check_counts(AreaLevel.COMMUNITY, 9000, 3000, "c") == []
    found = rules.check_counts(AreaLevel.GRID, 3000, 250, "g")
    assert [i.code for i in found] == ["households_out_of_range", "population_unusual"]
    assert all(i.severity is Severity.WARNING for i in found)


def test_inside_parent_with_half_percent_tolerance():
    parent = box(0, 0, 10, 10)
    assert rules.check_inside(box(0, 0, 5, 5), parent, "p", "c") is None
    assert rules.check_inside(box(-0.01, 0, 4.99, 5), parent, "p", "c") is None  # 0.2 % out
    found = rules.check_inside(box(-0.1, 0, 4.9, 5), parent, "p", "c")  # 2 % out
    assert found.code == "outside_parent" and found.detail["percent"] == "2.00"


def test_overlaps_and_touching():
    a, b = box(0, 0, 1, 1), box(1, 0, 2, 1)
    c = box(0.5, 0, 1.5, 1)
    assert rules.overlapping_pairs([a, b]) == []
    pairs = rules.overlapping_pairs([a, b, c])
    assert {(i, j) for i, j, _ in pairs} == {(0, 2), (1, 2)}
    assert all(abs(f - 0.5) < 1e-9 for *_, f in pairs)
    assert rules.overlapping_pairs([a, box(0.99999999, 0, 2, 1)]) == []  # below tolerance


def test_coverage_gap_points_at_the_hole():
    parent = box(0, 0, 10, 10)
    assert rules.coverage_gap(parent, [box(0, 0, 5, 10), box(5, 0, 10, 10)], "p") is None
    found = rules.coverage_gap(parent, [box(0, 0, 5, 10), box(5, 0, 10, 5)], "p")
    assert found.code == "coverage_gap" and found.detail["percent"] == "25.00"
    assert 5 <= found.detail["lon"] <= 10 and 5 <= found.detail["lat"] <= 10


def test_check_boundary_names_neighbours():
    issues = rules.check_boundary(
        "g", box(0, 0, 6, 5), ("P", box(0, 0, 10, 10)), [("S", box(5, 0, 10, 5))], [("K", box(0, 0, 7, 1))]
    )
    assert {(i.code, i.detail.get("other")) for i in issues} == {("sibling_overlap", "S"), ("child_outside", "K")}


def test_rule_error_carries_every_issue():
    err = rules.AreaRuleError([rules.issue("outside_parent", "g {x}", parent="P", percent="3.00"),
                               rules.issue("sibling_overlap", "g {x}", other="S", percent="1.00")])
    body = err.body("en")
    assert body["code"] == "outside_parent" and err.status == 422
    assert body["message"].endswith("(and 1 more)") and "g {x}" in body["message"]
    assert [i["code"] for i in body["detail"]["issues"]] == ["outside_parent", "sibling_overlap"]
    assert "超出上级" in err.body("zh")["message"]


@pytest.mark.parametrize("geometry", [
    {"type": "Point", "coordinates": [118, 24]},
    {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},  # bow-tie
    {"type": "Polygon", "coordinates": [[[0, 0], [1]]]},
    {"type": "Polygon", "coordinates": [[[200, 0], [201, 0], [201, 1], [200, 0]]]},
    {"type": "Polygon", "coordinates": []},
    "POLYGON((0 0, 1 0, 1 1, 0 0))",
])
def test_invalid_boundaries(geometry):
    with pytest.raises(GeometryProblem):
        parse_boundary(geometry)


def test_geojson_round_trip_and_shape_equality():
    geom = parse_boundary({"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 0]]]]})
    data = to_geojson(geom)
    assert isinstance(data["coordinates"][0][0][0], list)
    assert same_shape(parse_boundary(data), geom)
    reversed_ring = {"type": "Polygon", "coordinates": [[[1, 0], [0, 0], [1, 1], [1, 0]]]}
    assert same_shape(parse_boundary(reversed_ring), geom)
    assert not same_shape(box(0, 0, 1, 1), geom)
