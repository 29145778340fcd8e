"""Centres and departments in bulk: every refusal of a single creation, reported per row; all or nothing;
the CLI from a file (on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shiyu.core.scoping import Principal
from shiyu.core.tabular import Table, write_table
from shiyu.org.areas.models import AreaLevel
from shiyu.org.units.models import Centre, Department
from tests.factories import add_area, box, login, populated
from tests.security.test_first_admin import shiyu  # noqa: F401  (the `shiyu …` command runner)


@pytest.fixture
def world(system_session):
    return populated(system_session)


def _count(factory, model):
    with factory() as s:
        s.info["principal"] = Principal.system()
        return s.scalar(select(func.count()).select_from(model))


def test_departments_dry_run_reports_every_row_and_writes_nothing(client, world, factory):
    a, a1, b = world.community_a.code, world.grids["a1"].code, world.community_b.code
    rows = [
        {"部门编码": "D-road", "部门名称": "甲社区市政", "区域编码": a, "类别": "部件、事件", "管辖区域": a1},
        {"部门编码": "D-a", "部门名称": "重复编码", "区域编码": a},                  # code taken (world)
        {"部门编码": "D-road", "部门名称": "文件内重复", "区域编码": a},              # taken by row 1
        {"部门编码": "D-x", "部门名称": "越权", "区域编码": b},                       # B: unknown to leader_a
        {"部门编码": "D-y", "部门名称": "类别错", "区域编码": a, "类别": "其他"},
        {"部门编码": "D-z", "部门名称": "管辖越界", "区域编码": a1, "管辖区域": a},   # jurisdiction outside
        {"部门编码": "坏 编码", "部门名称": "编码格式", "区域编码": a},
        {"部门名称": "没有编码", "区域编码": a},
    ]
    before = _count(factory, Department)
    h = login(client, "admin")
    r = client.post("/api/v1/departments/import", json={"rows": rows}, headers=h)
    assert r.status_code == 200, r.text
    codes = {row["row"]: [p["code"] for p in row["problems"]] for row in r.json()["rows"]}
    assert codes == {1: [], 2: ["department_code_taken"], 3: ["department_code_taken"], 4: [],
                     5: ["bad_category_kind"], 6: ["jurisdiction_outside"], 7: ["invalid_field"], 8: ["required"]}
    leader = client.post("/api/v1/departments/import", json={"rows": rows[3:4]}, headers=login(client, "leader_a"))
    assert [p["code"] for p in leader.json()["rows"][0]["problems"]] == ["unknown_area"]
    assert "乙社区" not in leader.text
    real = client.post("/api/v1/departments/import?dry_run=false", json={"rows": rows}, headers=h)
    assert real.status_code == 422 and real.json()["code"] == "import_has_errors"
    assert _count(factory, Department) == before


def test_centres_all_or_none_then_created(client, world, factory, system_session):
    h = login(client, "admin")
    new = add_area(system_session, "359901001003", "丙社区", AreaLevel.COMMUNITY, world.street,
                   box(118, 24, 118.1, 24.1))
    system_session.commit()
    rows = [{"区域编码": new.code, "名称": "丙社区综治中心"}, {"区域编码": world.grids["a1"].code, "名称": "网格中心"},
            {"区域编码": world.community_a.code, "名称": "又一个"}]
    before = _count(factory, Centre)
    r = client.post("/api/v1/centres/import?dry_run=false", json={"rows": rows}, headers=h)
    assert r.status_code == 422
    assert [[p["code"] for p in row["problems"]] for row in r.json()["detail"]["rows"]] == [
        [], ["centre_on_grid"], ["centre_exists"]]
    assert _count(factory, Centre) == before
    r = client.post("/api/v1/centres/import?dry_run=false", json={"rows": [{"area_code": new.code, "name": "丙中心"}]},
                    headers=h)
    assert r.status_code == 200 and r.json()["created"] == 1
    assert _count(factory, Centre) == before + 1


def test_the_cli_imports_departments_from_a_file(shiyu, world, tmp_path, factory):  # noqa: F811
    path = tmp_path / "部门.xlsx"
    write_table(path, Table(["部门编码", "部门名称", "区域编码", "类别", "电话"],
                            [["D-water", "甲社区水务", world.community_a.code, "事件", "0592-1234567"],
                             ["D-park", "甲社区园林", world.community_a.code, "部件", ""]]))
    before = _count(factory, Department)
    code, out, _ = shiyu("import", "departments", str(path), "--dry-run")
    assert code == 0 and "2 行可导入" in out and _count(factory, Department) == before
    code, out, err = shiyu("import", "departments", str(path))
    assert code == 0, err
    assert _count(factory, Department) == before + 2
    code, _, err = shiyu("import", "departments", str(path))
    assert code == 2 and "第 2 行" in err and "部门编码已存在" in err
