import json

import pytest
from sqlalchemy import func, select

from shiyu.core.audit import AuditEntry
from shiyu.core.scoping import Principal
from shiyu.org.areas import importer
from shiyu.org.areas.models import Area, AreaBoundary
from tests.factories import box
from tests.org.data import (
    CITY,
    COMMUNITY,
    DISTRICT,
    GRID1,
    GRID2,
    STREET,
    changed,
    feature,
    small_city,
)

SYSTEM = Principal.system("test")


def codes_of(report, severity="errors"):
    found = {i["code"] for f in report["features"] for i in f[severity]}
    if severity == "errors":
        found |= {i["code"] for i in report["general"]}
    return found


def dry(session, collection):
    return importer.import_areas(session, SYSTEM, collection, dry_run=True).to_dict()


def with_extra(*features):
    c = small_city()
    c["features"].extend(features)
    return c


ERROR_CASES = {
    "invalid_geometry": changed(small_city(), GRID2, {"type": "Polygon", "coordinates": [
        [[118.1, 24.0], [118.2, 24.2], [118.2, 24.0], [118.1, 24.2], [118.1, 24.0]]]}),
    "outside_parent": changed(small_city(), GRID2, box(118.1, 24.0, 118.3, 24.2)),
    "sibling_overlap": changed(small_city(), GRID2, box(118.05, 24.0, 118.2, 24.2)),
    "coverage_gap": changed(small_city(), GRID2, box(118.1, 24.0, 118.2, 24.1)),
    "duplicate_code": with_extra(feature(GRID1, "重复", "grid", COMMUNITY, box(118.0, 24.0, 118.1, 24.2))),
    "invalid_code": changed(small_city(), GRID2, code="35980100100100"),
    "code_prefix_mismatch": with_extra(feature("359801001002001", "错配", "grid", COMMUNITY,
                                               box(118.0, 24.0, 118.01, 24.01))),
    "unknown_parent": with_extra(feature("359801001009001", "无主", "grid", "359801001009",
                                         box(118.0, 24.0, 118.01, 24.01))),
    "wrong_parent_level": with_extra(feature("359801001001003", "越级", "grid", STREET,
                                             box(118.0, 24.0, 118.01, 24.01))),
    "invalid_level": changed(small_city(), GRID2, level="block"),
    "invalid_number": changed(small_city(), GRID2, households=-3),
    "invalid_name": changed(small_city(), GRID2, name=""),
    "parent_required": changed(small_city(), GRID2, parent_code=None),
    "unexpected_parent": changed(small_city(), CITY, parent_code="350000000000"),
    "geometry_missing": with_extra(feature("359801001001003", "无边界", "grid", COMMUNITY, None)),
}


@pytest.mark.parametrize("kind", sorted(ERROR_CASES))
def test_each_error_kind_is_reported(system_session, kind):
    report = dry(system_session, ERROR_CASES[kind])
    assert not report["valid"]
    assert kind in codes_of(report), report
    assert system_session.scalar(select(func.count(Area.id))) == 0


def test_error_names_the_feature_in_both_languages(system_session):
    report = dry(system_session, ERROR_CASES["sibling_overlap"])
    grid2 = next(f for f in report["features"] if f["code"] == GRID2)
    issue = next(i for i in grid2["errors"] if i["code"] == "sibling_overlap")
    assert GRID1 in issue["message_en"] and GRID1 in issue["message_zh"] and "第二网格" in issue["subject"]
    assert grid2["action"] == "none"


def test_valid_file_reports_warnings_and_writes_nothing_on_dry_run(system_session):
    collection = changed(small_city(), GRID2, households=200, population=3000)
    report = dry(system_session, collection)
    assert report["valid"] and report["summary"]["create"] == 6 and not report["written"]
    assert codes_of(report, "warnings") == {"households_out_of_range", "population_unusual"}
    assert system_session.scalar(select(func.count(Area.id))) == 0


def test_import_writes_tree_with_version_one(system_session):
    report = importer.import_areas(system_session, SYSTEM, json.dumps(small_city()).encode(), dry_run=False)
    system_session.commit()
    assert report.written
    grid = system_session.scalar(select(Area).where(Area.code == GRID1))
    assert grid.area_path == f"/{CITY}/{DISTRICT}/{STREET}/{COMMUNITY}/{GRID1}/"
    assert grid.parent.code == COMMUNITY and grid.households == 400
    versions = system_session.scalars(select(AreaBoundary).where(AreaBoundary.area_id == grid.id)).all()
    assert [(b.version, b.status, b.effective_to) for b in versions] == [(1, "approved", None)]
    assert versions[0].effective_from is not None and versions[0].geometry == grid.geometry


def test_all_or_nothing(system_session):
    bad = with_extra(feature("359801001009001", "无主", "grid", "359801001009", box(118.0, 24.0, 118.01, 24.01)))
    with pytest.raises(importer.ImportInvalid) as caught:
        importer.import_areas(system_session, SYSTEM, bad, dry_run=False)
    assert caught.value.detail["summary"]["errors"] >= 1 and caught.value.status == 422
    system_session.rollback()
    assert system_session.scalar(select(func.count(Area.id))) == 0


def test_reimport_updates_counts_but_never_boundaries(system_session):
    importer.import_areas(system_session, SYSTEM, small_city(), dry_run=False)
    system_session.commit()
    same = dry(system_session, small_city())
    assert same["valid"] and same["summary"]["unchanged"] == 6
    counts = importer.import_areas(system_session, SYSTEM, changed(small_city(), GRID1, households=450),
                                   dry_run=False)
    system_session.commit()
    assert counts.to_dict()["summary"]["update"] == 1
    assert system_session.scalar(select(Area.households).where(Area.code == GRID1)) == 450
    moved = dry(system_session, changed(small_city(), GRID1, box(118.0, 24.0, 118.11, 24.2)))
    assert "boundary_change_requires_proposal" in codes_of(moved)
    clash = dry(system_session, changed(small_city(), GRID1, level="community", parent_code=STREET))
    assert "code_clash" in codes_of(clash)


def test_export_round_trip(system_session, factory):
    importer.import_areas(system_session, SYSTEM, small_city(), dry_run=False)
    system_session.commit()
    exported = importer.export_areas(system_session)
    system_session.commit()
    assert len(exported["features"]) == 6
    first = exported["features"][0]["properties"]
    assert first == {"code": CITY, "name": "试验市", "level": "city", "parent_code": None,
                     "population": 2000, "households": 800}
    assert dry(system_session, json.loads(json.dumps(exported)))["summary"]["unchanged"] == 6
    community = system_session.scalar(select(Area).where(Area.code == COMMUNITY))
    sub = importer.export_areas(system_session, community.id)
    assert [f["properties"]["code"] for f in sub["features"]] == [COMMUNITY, GRID1, GRID2]
    assert sub["features"][0]["properties"]["parent_code"] == STREET
    assert system_session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "export"))
    # into an empty database: the whole city comes back identical
    system_session.execute(AreaBoundary.__table__.delete())
    for level in range(4, -1, -1):
        system_session.execute(Area.__table__.delete().where(Area.__table__.c.level == level))
    system_session.commit()
    system_session.expunge_all()
    importer.import_areas(system_session, SYSTEM, exported, dry_run=False)
    system_session.commit()
    assert importer.export_areas(system_session)["features"] == exported["features"]


@pytest.mark.parametrize("data", [b"{not json", b'{"type": "Feature"}', b'{"type": "FeatureCollection"}'])
def test_unreadable_files(system_session, data):
    with pytest.raises(importer.InvalidGeoJSON):
        dry(system_session, data)


def test_cli_import_and_export(db_url, system_session, tmp_path, monkeypatch, capsys):
    import argparse

    from shiyu.core.commands import command_group
    from shiyu.org.areas import cli

    monkeypatch.setenv("SHIYU_DATABASE_URL", db_url)
    monkeypatch.setenv("SHIYU_DEMO_MODE", "1")
    parser = argparse.ArgumentParser(prog="shiyu")
    sub = parser.add_subparsers(dest="command", required=True)
    cli.register(sub)
    kinds = command_group(sub, "import", "")  # another domain joining the same group
    kinds.add_parser("residents").set_defaults(handler=lambda a: 0)

    def run(*argv):
        args = parser.parse_args(argv)
        return args.handler(args)

    good, bad = tmp_path / "city.geojson", tmp_path / "bad.geojson"
    good.write_text(json.dumps(small_city()), encoding="utf-8")
    bad.write_text(json.dumps(ERROR_CASES["sibling_overlap"]), encoding="utf-8")
    assert run("import", "areas", str(bad)) == 1
    out = capsys.readouterr().out
    assert out.index("文件有错误") < out.index("The file has errors") and "sibling_overlap" in out
    assert run("import", "areas", str(good), "--dry-run") == 0
    assert "试运行" in capsys.readouterr().out
    assert run("import", "areas", str(good)) == 0
    assert "已写入" in capsys.readouterr().out
    target = tmp_path / "out.geojson"
    assert run("export", "areas", "--root", COMMUNITY, "-o", str(target)) == 0
    assert len(json.loads(target.read_text(encoding="utf-8"))["features"]) == 3
    assert run("export", "areas", "--root", "359899999999") == 1
    assert run("import", "residents") == 0
