"""The demo builder on a small city, on every test database: what it writes, that it never writes twice,
that it is deterministic, and that the demo logins work through the API."""

from __future__ import annotations

import argparse
import re
import time
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from shiyu.core.audit import AuditEntry
from shiyu.core.scoping import Principal
from shiyu.core.validators import validate_phone
from shiyu.demo import cli
from shiyu.demo.build import (
    DEMO_LOGINS,
    DEMO_PASSWORD,
    HOUSEHOLDS,
    DemoRefused,
    build,
    login_places,
    plan,
)
from shiyu.demo.geography import FULL_SIZE, SMALL_SIZE
from shiyu.demo.names import CITY_CODE, chinese_number
from shiyu.org.areas.models import Area, AreaBoundary, AreaLevel
from shiyu.org.identity.models import Grant, User
from shiyu.org.identity.roles import Role
from shiyu.org.units.models import Centre, Department, DepartmentJurisdiction
from tests.conftest import _empty_tables
from tests.factories import login


@pytest.fixture
def built(factory: Any) -> Any:
    build(factory, seed=2026, size=SMALL_SIZE)
    return factory


def _count(s: Session, model: Any, *where: Any) -> int:
    return s.scalar(select(func.count()).select_from(model).where(*where))


# --- the plan (no database) ---------------------------------------------------------------------------


def test_chinese_numbers() -> None:
    got = [chinese_number(n) for n in (1, 9, 10, 12, 20, 21, 100, 105, 110, 999)]
    assert got == ["一", "九", "十", "十二", "二十", "二十一", "一百", "一百零五", "一百一十", "九百九十九"]


def test_plan_codes_paths_names_and_households() -> None:
    city = plan(2026, SMALL_SIZE)
    nodes = list(city.walk())
    assert len({n.code for n in nodes}) == len(nodes)
    assert city.code == CITY_CODE and city.path == f"/{CITY_CODE}/" and city.name == "鹭江市"
    for n in nodes:
        assert re.fullmatch(r"\d{15}" if n.level == AreaLevel.GRID else r"\d{12}", n.code)
        if n.parent is not None:
            assert n.path == f"{n.parent.path}{n.code}/"
    for d in city.children:
        assert re.fullmatch(r"3599\d\d000000", d.code) and d.name.endswith("区")
        for s in d.children:
            assert s.code[:6] == d.code[:6] and s.code.endswith("000")
            assert s.name.endswith("街道") == (s.code[6] == "0") and s.name[-1] in "道镇"
            for c in s.children:
                assert c.code[:9] == s.code[:9]
                assert c.name.endswith("社区") == (c.code[9] == "0") and c.name[-1] in "区村"
                assert c.name.endswith("社区") or s.name.endswith("镇")
                for k, g in enumerate(c.children, start=1):
                    assert g.code == f"{c.code}{k:03d}" and g.name == f"{c.name}第{chinese_number(k)}网格"
                    assert HOUSEHOLDS[0] <= g.households <= HOUSEHOLDS[1]
                    assert 2.5 <= g.population / g.households <= 3.1
    for n in nodes:
        if n.children:
            assert n.households == sum(c.households for c in n.children)
            assert n.population == sum(c.population for c in n.children)


def test_plan_is_deterministic() -> None:
    def flat(seed: int) -> list[tuple]:
        return [(n.code, n.name, n.households, n.population, n.geometry) for n in plan(seed, SMALL_SIZE).walk()]

    assert flat(11) == flat(11)
    assert flat(11) != flat(12)


# --- the build --------------------------------------------------------------------------------------------


def test_build_writes_the_city(built: Any) -> None:
    with built() as s:
        s.info["principal"] = _system()
        by_level = Counter(s.scalars(select(Area.level)).all())
        assert [by_level[lv] for lv in AreaLevel] == [1, 2, 4, 8, by_level[AreaLevel.GRID]]
        assert 38 <= by_level[AreaLevel.GRID] <= 40
        areas = s.scalars(select(Area)).all()
        by_id = {a.id: a for a in areas}
        for a in areas:
            parent = by_id.get(a.parent_id)
            assert a.area_path == (parent.area_path if parent else "/") + a.code + "/"
            assert a.geometry["type"] == "Polygon"
            if a.level == AreaLevel.GRID:
                assert HOUSEHOLDS[0] <= a.households <= HOUSEHOLDS[1]
        city = next(a for a in areas if a.level == AreaLevel.CITY)
        assert city.households == sum(a.households for a in areas if a.level == AreaLevel.GRID)

        boundaries = s.scalars(select(AreaBoundary)).all()
        assert sorted(b.area_id for b in boundaries) == sorted(by_id)
        for b in boundaries:
            assert b.version == 1 and b.status == "approved" and b.effective_from is not None
            assert b.effective_to is None and b.geometry == by_id[b.area_id].geometry
            assert b.area_path == by_id[b.area_id].area_path

        centres = s.scalars(select(Centre)).all()
        assert sorted(c.area_id for c in centres) == sorted(a.id for a in areas if a.level < AreaLevel.GRID)

        depts = s.scalars(select(Department).options(selectinload(Department.jurisdictions))).all()
        streets = [a for a in areas if a.level == AreaLevel.STREET]
        communities = by_level[AreaLevel.COMMUNITY]
        assert len(depts) == 2 * 6 + 4 + 4 * len(streets) + communities and len({d.code for d in depts}) == len(depts)
        assert {by_id[d.area_id].level for d in depts} == {AreaLevel.CITY, AreaLevel.DISTRICT, AreaLevel.STREET,
                                                          AreaLevel.COMMUNITY}
        assert sum(1 for d in depts if d.code.endswith("-tjwh")) == communities
        first_street = min(streets, key=lambda a: a.code)
        short = first_street.name.removesuffix("街道")
        assert sorted(d.name for d in depts if d.area_id == first_street.id) == sorted(
            f"{short}{n}" for n in ("城管中队", "派出所", "市场监管所", "司法所"))
        for d in depts:
            assert d.category_kinds and set(d.category_kinds) <= {"component", "incident"}
            assert [j.area_id for j in d.jurisdictions] == [d.area_id]
        assert _count(s, DepartmentJurisdiction) == len(depts)


def test_the_planner_has_statistics_of_the_built_city(built: Any) -> None:
    """A bulk load without ANALYZE leaves PostgreSQL planning on no statistics (and autovacuum may be off or
    late): the duplicate look-ups read every case of their window. The build ends with one."""
    with built() as s:
        conn = s.connection()
        if conn.dialect.name == "postgresql":
            analysed = conn.exec_driver_sql("SELECT count(*) FROM pg_stats WHERE tablename = 'case'").scalar()
        else:
            analysed = conn.exec_driver_sql("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'case'").scalar()
        assert analysed


def test_posts_are_filled(built: Any) -> None:
    with built() as s:
        s.info["principal"] = _system()
        areas = {a.id: a for a in s.scalars(select(Area)).all()}
        grants = s.scalars(select(Grant)).all()
        per_role = Counter((g.role, g.area_id) for g in grants if g.area_id)
        for a in areas.values():
            if a.level == AreaLevel.GRID:
                assert per_role[("grid_worker", a.id)] == 1
            if a.level == AreaLevel.COMMUNITY:
                assert per_role[("grid_leader", a.id)] == 1 and per_role[("centre_operator", a.id)] == 1
            if a.level == AreaLevel.STREET:
                assert per_role[("grid_instructor", a.id)] == 1 and per_role[("mediator", a.id)] == 1
            if a.level <= AreaLevel.STREET:
                assert per_role[("centre_leader", a.id)] == 1 and per_role[("centre_operator", a.id)] >= 2
        for g in grants:
            if g.department_id:
                dept = s.get(Department, g.department_id)
                assert g.role == "department_handler" and g.area_id is None and g.area_path == dept.area_path
            else:
                assert g.area_path == areas[g.area_id].area_path
        handlers = Counter(g.department_id for g in grants if g.department_id)
        assert set(handlers.values()) <= {1, 2} and len(handlers) == _count(s, Department)
        users = s.scalars(select(User)).all()
        assert len({u.phone for u in users}) == len(users)
        for u in users:
            assert validate_phone(u.phone) == u.phone
            assert re.fullmatch(r"[\u4e00-\u9fff]{2,3}", u.full_name)
        assert len({u.password_hash for u in users}) == 1


def test_one_demo_login_per_role_with_the_right_grant(built: Any) -> None:
    with built() as s:
        s.info["principal"] = _system()
        users = {
            u.username: u
            for u in s.scalars(select(User).options(selectinload(User.grants))
                               .where(User.username.like("demo\\_%", escape="\\"))).all()
        }
        assert set(users) == {d.username for d in DEMO_LOGINS}
        assert {d.role for d in DEMO_LOGINS} == set(Role)
        expected_level = {
            Role.GRID_WORKER: AreaLevel.GRID, Role.GRID_LEADER: AreaLevel.COMMUNITY,
            Role.GRID_INSTRUCTOR: AreaLevel.STREET, Role.CENTRE_OPERATOR: AreaLevel.STREET,
            Role.MEDIATOR: AreaLevel.STREET, Role.POLICE: AreaLevel.COMMUNITY,
            Role.PETITION_OFFICER: AreaLevel.STREET,
        }
        operator = sorted(users["demo_operator"].grants, key=lambda g: g.area_path)
        assert [s.get(Area, g.area_id).level for g in operator] == [AreaLevel.STREET, AreaLevel.COMMUNITY]
        assert operator[1].area_path.startswith(operator[0].area_path) and {g.role for g in operator} == {
            "centre_operator"}
        for d in DEMO_LOGINS:
            (grant, *_) = sorted(users[d.username].grants, key=lambda g: g.area_path)
            assert grant.role == d.role.value
            if d.role == Role.DEPARTMENT_HANDLER:
                dept = s.get(Department, grant.department_id)
                assert dept.name.endswith("城市管理局") and grant.area_id is None
                continue
            area = s.get(Area, grant.area_id)
            assert area.level == expected_level.get(d.role, AreaLevel.CITY)
            assert users[d.username].area_path == area.area_path
    places = dict((d.username, place) for d, place in login_places(built))
    assert places["demo_admin"] == "鹭江市" and places["demo_grid_worker"].endswith("第一网格")


def test_one_audit_entry_for_the_whole_build(built: Any) -> None:
    with built() as s:
        s.info["principal"] = _system()
        entries = s.scalars(select(AuditEntry)).all()
    assert [e.action for e in entries] == ["demo_build"]
    assert entries[0].actor_name == "demo" and entries[0].after["seed"] == 2026
    assert entries[0].after["counts"]["districts"] == 2


def test_never_builds_twice(built: Any) -> None:
    with built() as s:
        s.info["principal"] = _system()
        before = (_count(s, Area), _count(s, User), _count(s, Department))
    with pytest.raises(DemoRefused) as err:
        build(built, seed=2026, size=SMALL_SIZE)
    assert err.value.code == "demo_city_exists"
    with pytest.raises(DemoRefused):
        build(built, seed=99, size=SMALL_SIZE)
    with built() as s:
        s.info["principal"] = _system()
        assert (_count(s, Area), _count(s, User), _count(s, Department)) == before


def test_refuses_a_database_with_other_areas(factory: Any) -> None:
    with factory() as s:
        s.info["principal"] = _system()
        s.add(Area(code="350200000000", name="别的市", level=0, area_path="/350200000000/"))
        s.commit()
    with pytest.raises(DemoRefused) as err:
        build(factory, seed=2026, size=SMALL_SIZE)
    assert err.value.code == "demo_database_not_empty"


def test_same_seed_same_data(factory: Any, db_url: str) -> None:
    def snapshot() -> tuple[list, list]:
        with factory() as s:
            s.info["principal"] = _system()
            areas = s.execute(select(Area.code, Area.name, Area.area_path, Area.households, Area.population,
                                     Area.geometry).order_by(Area.code)).all()
            users = [
                (u.username, u.full_name, u.phone, u.area_path, sorted((g.role, g.area_path) for g in u.grants))
                for u in s.scalars(select(User).options(selectinload(User.grants)).order_by(User.username))
            ]
        return [tuple(a) for a in areas], users

    build(factory, seed=5, size=SMALL_SIZE)
    first = snapshot()
    _empty_tables(db_url)
    build(factory, seed=5, size=SMALL_SIZE)
    assert snapshot() == first
    planned = {n.code: n.geometry for n in plan(5, SMALL_SIZE).walk()}
    assert {a[0]: a[5] for a in first[0]} == planned


def test_demo_logins_work_through_the_api(built: Any, settings: Any) -> None:
    from fastapi.testclient import TestClient

    from shiyu.app import create_app

    app = create_app(settings.model_copy(update={"demo_mode": True}))
    with TestClient(app) as client:
        _demo_logins_work(client)
    app.state.engine.dispose()


def test_demo_password_opens_nothing_outside_demo_mode(built: Any, client: Any) -> None:
    """The demo password is public: a demo database served in production mode must not open with it."""
    r = client.post("/api/v1/auth/token", json={"username": "demo_admin", "password": DEMO_PASSWORD})
    assert r.status_code == 401 and r.json()["code"] == "login_failed"


def _demo_logins_work(client: Any) -> None:
    headers = login(client, "demo_admin", DEMO_PASSWORD)
    me = client.get("/api/v1/auth/me", headers=headers).json()
    assert me["username"] == "demo_admin" and [g["role"] for g in me["grants"]] == ["admin"]
    assert me["phone"].count("*") == 4
    users = client.get("/api/v1/users", headers=headers, params={"limit": 1}).json()
    assert users["total"] >= 40
    worker = login(client, "demo_grid_worker", DEMO_PASSWORD)
    seen = client.get("/api/v1/users", headers=worker, params={"limit": 500}).json()
    assert 1 <= seen["total"] < users["total"]


# --- the command ------------------------------------------------------------------------------------------


def _run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


@pytest.fixture
def demo_env(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    monkeypatch.setenv("SHIYU_DEMO_MODE", "1")
    monkeypatch.setenv("SHIYU_PII_KEYS", settings.pii_keys)
    monkeypatch.setenv("SHIYU_SECRET_KEY", settings.secret_key)


def test_cli_if_absent_is_a_quiet_no_op(built: Any, db_url: str, demo_env: None, capsys: Any) -> None:
    assert _run_cli(["demo", "--if-absent", "--database-url", db_url]) == 0
    out = capsys.readouterr().out
    assert "already exists" in out and "demo_grid_worker" in out and DEMO_PASSWORD in out
    assert _run_cli(["demo", "--database-url", db_url]) == 1
    assert "already exists" in capsys.readouterr().err


def test_cli_refuses_outside_demo_mode(
    db_url: str, monkeypatch: pytest.MonkeyPatch, settings: Any, capsys: Any
) -> None:
    monkeypatch.setenv("SHIYU_DEMO_MODE", "0")
    monkeypatch.setenv("SHIYU_PII_KEYS", settings.pii_keys)
    monkeypatch.setenv("SHIYU_SECRET_KEY", settings.secret_key)
    assert _run_cli(["demo", "--database-url", db_url]) == 2
    assert "SHIYU_DEMO_MODE" in capsys.readouterr().err


@pytest.mark.slow
def test_full_city_build(factory: Any, db_url: str, demo_env: None, capsys: Any) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("the full-size build runs on SQLite only")
    started = time.perf_counter()
    assert _run_cli(["demo", "--database-url", db_url]) == 0
    seconds = time.perf_counter() - started
    out = capsys.readouterr().out
    assert "规划完成" in out and "demo city built" in out
    with factory() as s:
        s.info["principal"] = _system()
        by_level = Counter(s.scalars(select(Area.level)).all())
        assert [by_level[lv] for lv in list(AreaLevel)[:4]] == [1, 6, 40, 300]
        assert 0.95 * FULL_SIZE.grids <= by_level[AreaLevel.GRID] <= FULL_SIZE.grids
        assert _count(s, Department) == 40 + 4 * 40 + 300 and _count(s, Centre) == 347
        assert _count(s, User) > 2500
    print(f"full demo build: {seconds:.1f} s")


def _system() -> Principal:
    return Principal.system("test")
