"""Boundary files as cities have them: DataV GeoAtlas downloads (a city outline, then its districts), files
keyed by Chinese property names through ``--map``, GCJ-02/BD-09/CGCS2000 coordinates through ``--crs`` and
children sticking out of their parent through ``--clip-to-parent`` — in the importer, the CLI and the API,
on SQLite and PostgreSQL (the ``system_session``/``client`` fixtures run on both)."""

import argparse
import json

import pytest
import shapely
from shapely.geometry import box, shape
from sqlalchemy import select

from shiyu.core.scoping import Principal
from shiyu.org.areas import importer, sources
from shiyu.org.areas.models import Area
from tests.factories import login, populated
from tests.org import datav
from tests.org.data import COMMUNITY, GRID1, small_city

SYSTEM = Principal.system("test")
CITY = "350200000000"
DISTRICT_CODES = ["350203000000", "350205000000", "350206000000", "350211000000"]


def run(session, data, dry_run=True, **options):
    opts = importer.ImportOptions.parse(options.pop("crs", "wgs84"), options.pop("mapping", None), **options)
    return importer.import_areas(session, SYSTEM, data, dry_run=dry_run, options=opts).to_dict()


def errors(report):
    return {i["code"] for f in report["features"] for i in f["errors"]} | {i["code"] for i in report["general"]}


def areas(session):
    return {a.code: a for a in session.scalars(select(Area))}


def test_datav_city_outline_then_districts_clipped(system_session):
    outline = run(system_session, datav.city_outline(), dry_run=False, crs="gcj02")
    assert outline["written"] and outline["source"]["formats"] == ["datav"]
    assert outline["source"]["converted_points"] == 5 and outline["source"]["crs_label"] == "GCJ-02"
    city = areas(system_session)[CITY]
    assert city.name == "厦门市" and city.level == 0 and city.area_path == f"/{CITY}/"
    # GCJ-02 → WGS-84: the stored outline is the WGS-84 box the file was made from, to well under a metre.
    assert shape(city.geometry).hausdorff_distance(box(*datav.CITY_BOX)) < 1e-6

    refused = run(system_session, datav.districts(), crs="gcj02")
    assert not refused["valid"] and errors(refused) == {"outside_parent"}
    first = refused["features"][0]["errors"][0]
    zh = first["message_zh"]
    assert "0.99%" in zh and "--clip-to-parent" in zh and "平方米" in zh
    assert "--clip-to-parent" in first["message_en"] and "m²" in first["message_en"]

    dry = run(system_session, datav.districts(), crs="gcj02", clip_to_parent=True)
    assert dry["valid"] and not dry["written"] and dry["summary"]["clipped"] == 4
    assert not areas(system_session).keys() - {CITY}  # a dry run writes nothing
    done = run(system_session, datav.districts(), dry_run=False, crs="gcj02", clip_to_parent=True)
    assert done["written"] and done["summary"]["create"] == 4
    for f in done["features"]:
        assert f["clipped"]["percent"] == "0.99" and 1_000_000 < f["clipped"]["m2"] < 1_300_000
    again = run(system_session, datav.districts(), crs="gcj02", clip_to_parent=True)
    assert again["valid"] and again["summary"]["unchanged"] == 4  # the same file clipped again: nothing to do
    stored = areas(system_session)
    assert sorted(stored) == sorted([CITY, *DISTRICT_CODES])
    assert stored["350203000000"].name == "思明区" and stored["350203000000"].area_path == f"/{CITY}/350203000000/"
    outline_geom = shape(city.geometry)
    for code in DISTRICT_CODES:  # clipped: nothing sticks out any more
        assert shape(stored[code].geometry).difference(outline_geom).area < 1e-12


def test_a_district_file_under_a_city_already_imported_in_wgs84(system_session):
    run(system_session, datav.city_outline("wgs84"), dry_run=False)
    report = run(system_session, datav.districts("wgs84"), clip_to_parent=True)
    assert report["valid"] and report["source"]["converted_points"] == 0


@pytest.mark.parametrize(("change", "expected"), [
    ({"adcode": "35020X"}, "invalid_adcode"),
    ({"adcode": 3502031}, "invalid_adcode"),
    ({"parent": {"adcode": "abc"}}, "invalid_adcode"),
    ({"parent": {"adcode": 350300}}, "unknown_parent"),
    ({"level": "province"}, "invalid_level"),
])
def test_bad_datav_files_say_what_is_wrong(system_session, change, expected):
    run(system_session, datav.city_outline(), dry_run=False, crs="gcj02")
    report = run(system_session, datav.with_props(datav.districts(), 0, **change), crs="gcj02", clip_to_parent=True)
    assert not report["valid"] and expected in errors(report)
    issue = next(i for i in report["features"][0]["errors"] if i["code"] == expected)
    assert issue["message_zh"] and issue["message_en"]
    if expected == "invalid_adcode":
        assert "6位" in issue["message_zh"] and "6-digit" in issue["message_en"]
        assert "invalid_code" not in errors(report)  # said once, as the adcode it is


def test_districts_without_their_city_name_the_missing_parent(system_session):
    report = run(system_session, datav.districts(), crs="gcj02")
    assert {i["code"] for i in report["features"][0]["errors"]} == {"unknown_parent"}
    assert CITY in report["features"][0]["errors"][0]["message_en"]


def test_clipping_a_child_entirely_outside_its_parent_is_an_error(system_session):
    run(system_session, datav.city_outline("wgs84"), dry_run=False)
    far = datav.districts("wgs84")
    far["features"][0]["geometry"] = json.loads(json.dumps(shapely.geometry.mapping(box(119, 25, 119.1, 25.1))))
    report = run(system_session, far, clip_to_parent=True)
    assert "clipped_away" in errors(report)


@pytest.mark.parametrize("levels", [True, False])
def test_chinese_keyed_file_through_a_mapping(system_session, levels):
    mapping = datav.CHINESE_MAP if levels else datav.CHINESE_MAP.replace("层级=level,", "")
    report = run(system_session, datav.chinese_keyed(small_city(), levels=levels), dry_run=False, mapping=mapping)
    assert report["written"] and report["summary"]["create"] == 6 and report["source"]["formats"] == ["mapped"]
    stored = areas(system_session)
    assert stored[GRID1].name == "第一网格" and stored[GRID1].level == 4 and stored[GRID1].households == 400
    assert stored[COMMUNITY].level == 3


def test_mapping_written_on_a_chinese_keyboard():
    assert sources.parse_mapping("网格编码＝code，网格名称=name\n上级编码=parent_code") == {
        "网格编码": "code", "网格名称": "name", "上级编码": "parent_code"}


@pytest.mark.parametrize(("text", "code"), [
    ("网格编码=gridcode", "unknown_map_field"),
    ("网格编码", "invalid_map"),
    ("网格编码=code,编码=code", "invalid_map"),
])
def test_bad_mappings_are_refused(text, code):
    with pytest.raises(sources.InvalidMapping) as refused:
        importer.ImportOptions.parse("wgs84", text)
    assert refused.value.code == code and refused.value.status == 422
    assert "code, name, level" in refused.value.en and "目标字段" in refused.value.zh


def test_a_mapped_source_field_missing_from_the_file(system_session):
    mapping = datav.CHINESE_MAP.replace("户数=", "网格户数=")
    report = run(system_session, datav.chinese_keyed(small_city()), mapping=mapping)
    assert "map_source_missing" in errors(report)


@pytest.mark.parametrize("name", ["mercator", "", "wgs-84x"])
def test_unknown_crs(name):
    if name == "":
        assert importer.ImportOptions.parse(name).crs == "wgs84"
        return
    with pytest.raises(importer.UnknownCrs) as refused:
        importer.ImportOptions.parse(name)
    assert refused.value.status == 422 and "gcj02" in refused.value.en and "坐标系" in refused.value.zh


@pytest.mark.parametrize("system", ["bd09", "cgcs2000"])
def test_other_coordinate_systems(system_session, system):
    report = run(system_session, datav.city_outline(system if system == "bd09" else "wgs84"), dry_run=False,
                 crs=system)
    assert report["written"]
    assert report["source"]["converted_points"] == (5 if system == "bd09" else 0)
    city = areas(system_session)[CITY]
    assert shape(city.geometry).hausdorff_distance(box(*datav.CITY_BOX)) < 1e-6


def _parser():
    from shiyu.org.areas import cli

    parser = argparse.ArgumentParser(prog="shiyu")
    cli.register(parser.add_subparsers(dest="command", required=True))
    return parser


def test_cli_takes_datav_files_with_options(db_url, system_session, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SHIYU_DATABASE_URL", db_url)
    monkeypatch.setenv("SHIYU_DEMO_MODE", "1")
    parser = _parser()

    def shiyu(*argv):
        args = parser.parse_args(argv)
        return args.handler(args)

    outline, full = tmp_path / "350200.json", tmp_path / "350200_full.json"
    outline.write_text(json.dumps(datav.city_outline(), ensure_ascii=False), encoding="utf-8")
    full.write_text(json.dumps(datav.districts(), ensure_ascii=False), encoding="utf-8")
    assert shiyu("import", "areas", str(outline), "--crs", "gcj02") == 0
    assert "converted 5 points from GCJ-02 to WGS-84" in capsys.readouterr().out
    assert shiyu("import", "areas", str(full), "--crs", "gcj02") == 1
    out = capsys.readouterr().out
    assert "outside_parent" in out and "--clip-to-parent" in out
    assert shiyu("import", "areas", str(full), "--crs", "gcj02", "--clip-to-parent") == 0
    out = capsys.readouterr().out
    assert "350203000000 思明区：已裁剪到上级，裁掉 0.99%" in out and "0.99% (1,12" in out and "已写入" in out


@pytest.mark.parametrize(("argv", "words"), [
    (["--crs", "mercator"], "unknown coordinate system 'mercator'"),
    (["--map", "网格编码=gridcode"], "unknown target field 'gridcode'"),
])
def test_cli_usage_errors_exit_with_2(tmp_path, capsys, argv, words):
    with pytest.raises(SystemExit) as done:
        _parser().parse_args(["import", "areas", str(tmp_path / "x.json"), *argv])
    assert done.value.code == 2 and words in capsys.readouterr().err.lower()


def test_api_options(client, system_session):
    world = populated(system_session)
    admin = login(client, "admin")
    a1 = world.grids["a1"]
    update = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": a1.geometry, "properties": {
        "网格编码": a1.code, "网格名称": a1.name, "上级编码": world.community_a.code, "户数": 444}}]}
    mapping = "网格编码=code,网格名称=name,上级编码=parent_code,户数=households"
    done = client.post("/api/v1/areas/import", params={"dry_run": "false", "map": mapping, "crs": "cgcs2000"},
                       json=update, headers=admin)
    assert done.status_code == 200 and done.json()["summary"]["update"] == 1, done.text
    assert done.json()["source"] == {"formats": ["mapped"], "crs": "cgcs2000", "crs_label": "CGCS2000",
                                     "converted_points": 0}
    for params, code in (({"crs": "mercator"}, "unknown_crs"), ({"map": "户数=hh"}, "unknown_map_field")):
        bad = client.post("/api/v1/areas/import", params=params, json=update, headers=admin)
        assert bad.status_code == 422 and bad.json()["code"] == code and bad.json()["detail"]["field"] in (
            "crs", "map")
