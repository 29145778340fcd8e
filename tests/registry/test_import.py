"""``shiyu import houses|persons|units FILE``: every bad row reported with its row number and reason, nothing
written while any row is bad, everything written (addresses, buildings, houses, persons with residences)
when none is; on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shiyu.core.audit import AuditEntry
from shiyu.core.errors import Forbidden
from shiyu.core.pii import blind_hash
from shiyu.core.scoping import Principal
from shiyu.core.tabular import Table, write_table
from shiyu.registry.bulk import rows as bulk_rows
from shiyu.registry.bulk import service
from shiyu.registry.models import Building, House, Person, Residence, Unit
from tests.factories import login, populated
from tests.registry.registry_fixtures import credit_code, id_number, principal
from tests.security.test_first_admin import shiyu  # noqa: F401  (the `shiyu …` command runner)
from tests.web.test_pages import hx
from tests.web.test_pages import log_in as log_in_page

HOUSE_COLUMNS = ["网格编码", "小区/道路", "楼栋", "单元", "户室", "用途", "面积"]
PERSON_COLUMNS = ["姓名", "身份证号", "手机", "民族", "人员类型", "网格编码", "小区/道路", "楼栋", "单元", "户室"]


def _count(factory, model) -> int:
    with factory() as s:
        s.info["principal"] = Principal.system()
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_houses_then_persons_from_files(shiyu, system_session, tmp_path, factory):  # noqa: F811
    w = populated(system_session)
    a1 = w.grids["a1"].code
    houses = tmp_path / "房屋.xlsx"
    rooms = [[a1, "幸福小区", "1", "1", str(101 + i), "出租", "70"] for i in range(5)]
    write_table(houses, Table(HOUSE_COLUMNS, rooms))
    code, out, err = shiyu("import", "houses", str(houses))
    assert code == 0, err
    assert _count(factory, House) == 5 and _count(factory, Building) == 1
    persons = tmp_path / "人口.csv"
    good = [["张伟", id_number(), "13800001111", "汉", "流动", a1, "幸福小区", "1", "1", "101"],
            ["李娜", id_number(), "", "回", "户籍", a1, "幸福小区", "1", "1", "102"]]
    bad = [["王五", "350203198001010010", "", "汉", "户籍", a1, "幸福小区", "1", "1", "103"],  # wrong check digit
           ["赵六", id_number(), "123", "汉", "户籍", a1, "幸福小区", "1", "1", "104"],  # bad phone
           ["钱七", id_number(), "", "汉", "户籍", a1, "幸福小区", "1", "1", "909"]]  # no such house
    write_table(persons, Table(PERSON_COLUMNS, good + bad + [good[0]]))  # and a repeated ID number
    code, _, err = shiyu("import", "persons", str(persons))
    assert code == 2
    for row, reason in ((4, "校验位"), (5, "电话号码"), (6, "房屋尚未登记"), (7, "与第 2 行重复")):
        assert f"第 {row} 行" in err and reason in err, err
    assert not any(line.startswith(("第 2 行", "第 3 行")) for line in err.splitlines())  # the good rows
    assert _count(factory, Person) == 0
    write_table(persons, Table(PERSON_COLUMNS, good))
    code, out, _ = shiyu("import", "persons", str(persons), "--dry-run")
    assert code == 0 and "2 行均可导入" in out and _count(factory, Person) == 0
    code, out, err = shiyu("import", "persons", str(persons))
    assert code == 0, err
    assert _count(factory, Person) == 2 and _count(factory, Residence) == 2
    with factory() as s:
        s.info["principal"] = Principal.system()
        zhang = s.scalar(select(Person).where(Person.id_number_hash == blind_hash("id_number", good[0][1])))
        assert zhang is not None and zhang.name == "张伟" and zhang.residence_type == "floating"
        assert zhang.area_path == w.grids["a1"].area_path and zhang.name_hash == blind_hash("name", "张伟")
    code, _, err = shiyu("import", "persons", str(persons))
    assert code == 2 and "已登记" in err


def test_units_and_who_may_import(system_session, factory):
    w = populated(system_session)
    rows = bulk_rows.rows_from_records("units", [
        {"统一社会信用代码": credit_code(), "名称": "甲社区超市", "类型": "个体工商户", "网格编码": w.grids["a1"].code,
         "场所类型": "九小场所", "风险标签": "消防、燃气", "从业人数": "4"},
        {"统一社会信用代码": "91350200MA00000010", "名称": "坏代码", "网格编码": w.grids["a1"].code},
        {"统一社会信用代码": credit_code(), "名称": "乙社区店", "网格编码": "000000000000000"},
    ])
    with pytest.raises(service.ImportHasErrors) as refused:
        service.run(system_session, Principal.system(), "units", rows, dry_run=False)
    assert [(d["row"], d["problems"][0]["code"]) for d in refused.value.detail] == [
        (2, "invalid_credit_code"), (3, "unknown_grid")]
    system_session.rollback()
    worker = principal(system_session, w, "worker_a1")
    with pytest.raises(Forbidden):
        service.run(system_session, worker, "units", rows[:1], dry_run=True)
    admin = principal(system_session, w, "admin")
    report = service.run(system_session, admin, "units", bulk_rows.rows_from_records("units", [
        {"统一社会信用代码": credit_code(), "名称": "甲社区超市", "类型": "个体工商户", "网格编码": w.grids["a1"].code,
         "场所类型": "九小场所", "风险标签": "消防、燃气", "从业人数": "4"}]), dry_run=False)
    system_session.commit()
    assert report.written == 1
    with factory() as s:
        s.info["principal"] = Principal.system()
        unit = s.scalars(select(Unit)).one()
        assert (unit.kind, unit.place_type, unit.risk_tags, unit.staff_count) == ("sole_trader", "nine_small",
                                                                                  ["消防", "燃气"], 4)


def _houses_csv(grid: str, rooms: list[str]) -> bytes:
    lines = [",".join(HOUSE_COLUMNS)] + [f"{grid},和平里,3,1,{room},出租,60" for room in rooms]
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def test_the_api_checks_then_imports_the_good_rows(client, system_session, factory):
    """``check`` writes nothing and names each bad row; ``import`` writes the good ones (one audit entry);
    ``all`` refuses the whole file (422) while any row is bad; a grid worker may not import at all."""
    w = populated(system_session)
    a1 = w.grids["a1"].code
    h = login(client, "admin")
    csv = _houses_csv(a1, ["101", "102", "101"]) + f"{a1},,3,1,103,自住,60\n".encode()
    files = {"file": ("房屋.csv", csv, "text/csv")}
    r = client.post("/api/v1/registry/imports?kind=houses&mode=check", files=files, headers=h)
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["total"], report["valid"], report["invalid"], report["written"]) == (4, 2, 2, 0)
    assert [(p["row"], p["column"], p["code"]) for p in report["problems"]] == [
        (4, "户室", "repeated_in_file"), (5, "小区/道路", "required")]
    assert _count(factory, House) == 0
    r = client.post("/api/v1/registry/imports?kind=houses&mode=all", files=files, headers=h)
    assert r.status_code == 422 and r.json()["code"] == "import_has_errors"
    assert _count(factory, House) == 0
    r = client.post("/api/v1/registry/imports?kind=houses&mode=import", files=files, headers=h)
    assert r.status_code == 200 and r.json()["written"] == 2, r.text
    assert _count(factory, House) == 2
    with factory() as s:
        s.info["principal"] = Principal.system()
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "import")).one()
        assert entry.after["count"] == 2 and entry.after["skipped"] == 2
    rows = {"rows": [{"姓名": "张伟", "身份证号": id_number(), "网格编码": a1, "小区/道路": "和平里", "楼栋": "3",
                      "单元": "1", "户室": "101", "与户主关系": "户主"},
                     {"姓名": "李娜", "身份证号": id_number(), "网格编码": a1, "小区/道路": "和平里", "楼栋": "3",
                      "单元": "1", "户室": "101", "与户主关系": "配偶"}]}
    r = client.post("/api/v1/registry/imports?kind=persons&mode=all", json=rows, headers=h)
    assert r.status_code == 200 and r.json()["written"] == 2, r.text
    with factory() as s:
        s.info["principal"] = Principal.system()
        assert len({p.household_id for p in s.scalars(select(Person))} - {None}) == 1  # one household
    worker = login(client, "worker_a1")
    r = client.post("/api/v1/registry/imports?kind=houses&mode=check", files=files, headers=worker)
    assert r.status_code == 403
    for bad in ({"kind": "people", "mode": "check"}, {"kind": "houses", "mode": "later"}):
        r = client.post(f"/api/v1/registry/imports?kind={bad['kind']}&mode={bad['mode']}", files=files, headers=h)
        assert r.status_code == 422 and r.json()["code"] in ("unknown_kind", "invalid_mode"), r.text
    r = client.post("/api/v1/registry/imports?kind=houses", json={"rows": "no"}, headers=h)
    assert r.status_code == 422 and r.json()["code"] == "invalid_body"


def test_the_import_page(client, system_session, factory):
    w = populated(system_session)
    csrf = log_in_page(client, "admin")
    assert "批量导入" in client.get("/registry").text
    page = client.get("/registry/import")
    assert page.status_code == 200 and "实有人口" in page.text
    files = {"file": ("房屋.csv", _houses_csv(w.grids["a1"].code, ["101", "101"]), "text/csv")}
    r = client.post("/registry/import", data={"kind": "houses", "mode": "check"}, files=files, headers=hx(csrf))
    assert r.status_code == 200 and 'data-import-state="valid"' in r.text and "与第 2 行重复" in r.text
    assert _count(factory, House) == 0
    r = client.post("/registry/import", data={"kind": "houses", "mode": "import"}, files=files, headers=hx(csrf))
    assert r.status_code == 200 and 'id="report-written">1<' in r.text
    assert _count(factory, House) == 1
    r = client.post("/registry/import", data={"kind": "houses", "mode": "check"},
                    files={"file": ("x.csv", b"", "text/csv")}, headers=hx(csrf))
    assert r.status_code == 422 and "请选择要导入的文件" in r.text
    worker = log_in_page(client, "worker_a1")
    assert client.get("/registry/import").status_code == 403
    assert "批量导入" not in client.get("/registry").text
    r = client.post("/registry/import", data={"kind": "houses", "mode": "import"}, files=files, headers=hx(worker))
    assert r.status_code == 403 and _count(factory, House) == 1
