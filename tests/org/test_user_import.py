"""People in bulk: reading the files people have, every check of the dry run, all-or-none confirmation,
the one download of the codes, first-login activation, and scope (on SQLite and PostgreSQL)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text, update

from shiyu.core.audit import AuditEntry
from shiyu.core.pii import blind_hash
from shiyu.core.scoping import Principal
from shiyu.core.tabular import Table, parse_table
from shiyu.core.timeutil import utcnow
from shiyu.org.identity.bulk import rows as bulk_rows
from shiyu.org.identity.bulk.models import ActivationCode
from shiyu.org.identity.models import Grant, User
from shiyu.org.identity.service import set_password
from tests.factories import login, populated
from tests.org.people_files import id_number, phone, write_people
from tests.security.test_first_admin import shiyu  # noqa: F401  (the `shiyu …` command runner)

NEW_PASSWORD = "Harbour-lights-42"


@pytest.fixture
def world(system_session):
    return populated(system_session)


def _row(n, area, role="网格员", **over):
    row = {"姓名": f"测试{n}", "手机": phone(n), "身份证号": id_number(n), "角色": role, "区域编码": area}
    return row | over


def _start(client, h, records):
    r = client.post("/api/v1/users/imports", json={"file_name": "people.xlsx", "rows": records}, headers=h)
    assert r.status_code == 201, r.text
    return r.json()


def _count(factory, model=User):
    with factory() as s:
        s.info["principal"] = Principal.system()
        return s.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_every_encoding_and_xlsx_read_alike(tmp_path, encoding):
    csv_text = f"姓名,手机,身份证号,角色,区域编码,备注\n王伟,13900000001,{id_number(1)},网格员,359901001001001,x\n"
    from_csv = bulk_rows.rows_from_table(parse_table(csv_text.encode(encoding), "p.csv"))
    xlsx = write_people(tmp_path / "p.xlsx", [["王伟", "13900000001", id_number(1), "网格员", "359901001001001"]])
    from_xlsx = bulk_rows.rows_from_table(parse_table(xlsx.read_bytes(), "p.xlsx"))
    assert from_csv == from_xlsx
    assert from_csv[0].number == 2 and from_csv[0].full_name == "王伟" and from_csv[0].role == "网格员"


def test_a_file_without_the_needed_columns_is_refused():
    from shiyu.core.tabular import TableError

    with pytest.raises(TableError) as err:
        bulk_rows.rows_from_table(Table(["姓名", "手机", "角色"], [["王伟", "13900000001", "网格员"]]))
    assert err.value.code == "table.missing_column" and "区域编码" in err.value.zh


def test_the_dry_run_reports_every_problem_and_writes_nothing(client, world, factory):
    a1, b1 = world.grids["a1"].code, world.grids["b1"].code
    rows = [
        _row(1, a1),                                                  # fine
        _row(2, a1, 身份证号=id_number(2)[:17] + ("0" if id_number(2)[17] != "0" else "1")),  # check digit
        _row(3, a1, 手机="1390000"),                                  # phone
        _row(4, a1, 手机=phone(1)),                                   # phone twice in the file
        _row(5, a1, 手机="13700001111"),                               # worker_a1's phone
        _row(6, "359901001001999"),                                   # no such area
        _row(7, b1),                                                  # community B: invisible to leader_a
        _row(8, a1, role="宇航员"),                                    # no such role
        _row(9, a1, role="系统管理员"),                                # more than leader_a holds
        _row(10, "", role="部门处置人员", 部门="不存在的部门"),         # no such department
        _row(11, "", role="grid_worker"),                             # an area role without area
        _row(12, a1, role="grid_leader", 用户名="worker_a1"),          # username taken (role by code)
    ]
    before = _count(factory)
    report = _start(client, login(client, "leader_a"), rows)
    codes = {r["row"]: [p["code"] for p in r["problems"]] for r in report["rows"]}
    assert codes == {
        1: [], 2: ["invalid_id_number"], 3: ["invalid_phone"], 4: ["duplicate_in_file"], 5: ["phone_taken"],
        6: ["unknown_area"], 7: ["unknown_area"], 8: ["unknown_role"], 9: ["grant_exceeds_own"],
        10: ["unknown_department"], 11: ["area_required"], 12: ["username_taken"],
    }
    assert report["valid"] == 1 and report["invalid"] == 11
    first = next(r for r in report["rows"] if r["row"] == 4)
    assert first["problems"][0]["message"] == "手机号与第 1 行重复"
    assert "乙社区" not in str(report)
    assert _count(factory) == before


def test_duplicate_id_numbers_against_accounts_and_in_english(client, world, system_session):
    world.users["worker_a1"].id_number = id_number(3)
    system_session.commit()
    h = login(client, "admin") | {"Accept-Language": "en"}
    report = _start(client, h, [_row(3, world.grids["a1"].code), _row(4, world.grids["a1"].code,
                                                                       身份证号=id_number(4).lower())])
    assert [p["code"] for p in report["rows"][0]["problems"]] == ["id_number_taken"]
    assert report["rows"][0]["problems"][0]["message"] == "An account with this ID number exists"
    assert report["rows"][1]["ok"]


def test_confirm_creates_accounts_grants_and_codes_downloadable_once(client, world, factory):
    h = login(client, "admin")
    rows = [_row(1, world.grids["a1"].code), _row(2, world.grids["b1"].code, role="网格长"),
            _row(3, "", role="部门处置人员", 部门="D-a", 用户名="handler.new")]
    report = _start(client, h, rows)
    assert report["invalid"] == 0
    r = client.post(f"/api/v1/users/imports/{report['import_id']}/confirm", json={}, headers=h)
    assert r.status_code == 200 and r.json()["imported"] == 3, r.text
    sheet = client.get(f"/api/v1/users/imports/{report['import_id']}/codes", headers=h)
    assert sheet.status_code == 200 and sheet.headers["cache-control"] == "no-store"
    cells = list(load_workbook(io.BytesIO(sheet.content)).worksheets[0].iter_rows(values_only=True))
    assert cells[0] == ("用户名", "姓名", "区域", "激活码", "有效期至")
    assert [c[1:3] for c in cells[1:]] == [("测试1", "甲社区第一网格"), ("测试2", "乙社区第一网格"),
                                           ("测试3", "甲社区物业办")]
    assert cells[3][0] == "handler.new" and cells[1][0].startswith("sy") and len(cells[1][3]) == 14
    again = client.get(f"/api/v1/users/imports/{report['import_id']}/codes", headers=h)
    assert again.status_code == 410 and again.json()["code"] == "codes_already_downloaded"
    assert client.post(f"/api/v1/users/imports/{report['import_id']}/confirm", json={},
                       headers=h).json()["code"] == "already_imported"
    with factory() as s:
        s.info["principal"] = Principal.system()
        user = s.scalar(select(User).where(User.username == cells[1][0]))
        assert user.full_name == "测试1" and user.phone_hash == blind_hash("phone", phone(1))
        raw = s.execute(text("select phone, id_number, password_hash from user_account where id = :i"),
                        {"i": user.id}).one()
        assert phone(1) not in raw.phone and id_number(1) not in raw.id_number
        assert not raw.password_hash.startswith("$argon2")
        grants = {(g.role, g.area_id, g.department_id) for g in s.scalars(select(Grant).join(User).where(
            User.username.in_([c[0] for c in cells[1:]])))}
        assert grants == {("grid_worker", world.grids["a1"].id, None), ("grid_leader", world.grids["b1"].id, None),
                          ("department_handler", None, world.departments["a"].id)}
        assert s.scalar(select(func.count()).select_from(ActivationCode)) == 3
        assert all(len(c.code_hash) == 64 for c in s.scalars(select(ActivationCode)))
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "download_codes")) == 1


def test_no_partial_write_when_a_row_turned_bad_before_the_confirmation(client, world, factory, system_session):
    h = login(client, "admin")
    a1 = world.grids["a1"].code
    report = _start(client, h, [_row(n, a1) for n in range(1, 6)])
    assert report["invalid"] == 0
    world.users["worker_b1"].phone = phone(4)  # someone took row 4's phone meanwhile (API rows count from 1)
    system_session.commit()
    before = _count(factory)
    r = client.post(f"/api/v1/users/imports/{report['import_id']}/confirm", json={"exclude": []}, headers=h)
    assert r.status_code == 422 and r.json()["code"] == "import_has_errors" and r.json()["detail"]["rows"] == [4]
    assert _count(factory) == before and _count(factory, ActivationCode) == 0
    r = client.post(f"/api/v1/users/imports/{report['import_id']}/confirm", json={"exclude": [4]}, headers=h)
    assert r.status_code == 200 and r.json()["imported"] == 4
    assert _count(factory) == before + 4


def test_an_import_is_its_creators_only(client, world):
    report = _start(client, login(client, "leader_a"), [_row(1, world.grids["a1"].code)])
    h = login(client, "admin")
    for method, path in (("POST", "confirm"), ("GET", "codes")):
        r = client.request(method, f"/api/v1/users/imports/{report['import_id']}/{path}", json={}, headers=h)
        assert r.status_code == 404, r.text


def test_without_user_manage_nothing_is_checked(client, world):
    r = client.post("/api/v1/users/imports", json={"rows": [_row(1, world.grids["a1"].code)]},
                    headers=login(client, "worker_a1"))
    assert r.status_code == 403


@pytest.fixture
def imported(client, world):
    """One grid worker imported by leader_a: (username, code)."""
    h = login(client, "leader_a")
    report = _start(client, h, [_row(1, world.grids["a1"].code)])
    client.post(f"/api/v1/users/imports/{report['import_id']}/confirm", json={}, headers=h)
    sheet = client.get(f"/api/v1/users/imports/{report['import_id']}/codes", headers=h)
    row = list(load_workbook(io.BytesIO(sheet.content)).worksheets[0].iter_rows(values_only=True))[1]
    return row[0], row[3]


def _activate(client, username, code, password=NEW_PASSWORD):
    return client.post("/api/v1/auth/activate", json={"username": username, "code": code, "new_password": password})


def test_activation_logs_in_once_with_the_new_password(client, imported):
    username, code = imported
    r = client.post("/api/v1/auth/token", json={"username": username, "password": code})
    assert r.status_code == 401  # no password before activation, the code is not one
    weak = _activate(client, username, code, "123456")
    assert weak.status_code == 422 and weak.json()["detail"]["field"] == "new_password"
    r = _activate(client, username, code.lower().replace("-", ""))  # as typed on a phone
    assert r.status_code == 200, r.text
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert me.json()["username"] == username
    login(client, username, NEW_PASSWORD)
    reused = _activate(client, username, code, "Another-harbour-43")
    assert reused.status_code == 401 and reused.json()["code"] == "activation_failed"


def test_wrong_and_expired_codes_answer_alike(client, imported, factory):
    username, code = imported
    wrong = _activate(client, username, "AAAA-BBBB-CCCC")
    unknown = _activate(client, "nobody-here", code)
    with factory.begin() as s:
        s.info["principal"] = Principal.system()
        s.execute(update(ActivationCode).values(expires_at=utcnow() - timedelta(minutes=1)))
    expired = _activate(client, username, code)
    assert wrong.status_code == unknown.status_code == expired.status_code == 401
    assert wrong.json() == unknown.json() == expired.json()


def test_a_password_set_by_an_administrator_voids_the_code(client, imported, factory):
    username, code = imported
    with factory.begin() as s:
        s.info["principal"] = Principal.system()
        set_password(s, s.scalar(select(User).where(User.username == username)), "Lighthouse-keeper-9")
    assert _activate(client, username, code).status_code == 401
    login(client, username, "Lighthouse-keeper-9")


def test_the_cli_checks_and_imports_with_codes_in_a_file(shiyu, world, tmp_path, factory):  # noqa: F811
    a1 = world.grids["a1"].code
    bad = write_people(tmp_path / "bad.xlsx", [["王伟", phone(1), id_number(1), "网格员", a1],
                                                ["李娜", "139000", id_number(2), "网格员", a1]])
    code, out, err = shiyu("users", "import", str(bad), "--codes", str(tmp_path / "codes.xlsx"))
    assert code == 2 and "第 3 行" in err and "电话号码格式不正确" in err
    assert not (tmp_path / "codes.xlsx").exists()
    good = write_people(tmp_path / "good.csv", [["王伟", phone(1), id_number(1), "网格员", a1]])
    before = _count(factory)
    code, out, _ = shiyu("users", "import", str(good), "--dry-run")
    assert code == 0 and "1 行均可导入" in out and _count(factory) == before
    code, out, err = shiyu("users", "import", str(good), "--codes", str(tmp_path / "codes.xlsx"))
    assert code == 0, err
    assert _count(factory) == before + 1
    sheet = list(load_workbook(tmp_path / "codes.xlsx").worksheets[0].iter_rows(values_only=True))
    assert sheet[1][1] == "王伟" and sheet[1][2] == "甲社区第一网格"


def test_unconfirmed_rows_and_undownloaded_codes_are_not_kept(client, world, factory):
    from shiyu.org.identity.bulk import service
    from shiyu.org.identity.bulk.models import UserImport

    h = login(client, "admin")
    draft = _start(client, h, [_row(1, world.grids["a1"].code)])["import_id"]
    done = _start(client, h, [_row(2, world.grids["a1"].code)])["import_id"]
    client.post(f"/api/v1/users/imports/{done}/confirm", json={}, headers=h)
    with factory.begin() as s:
        s.info["principal"] = Principal.system()
        assert service.forget_stale(s) == 0
        s.execute(update(UserImport).values(created_at=utcnow() - timedelta(days=2),
                                            imported_at=utcnow() - timedelta(days=service.ACTIVATION_DAYS + 1)))
        assert service.forget_stale(s) == 2
        assert s.get(UserImport, draft).rows is None and s.get(UserImport, done).codes is None
