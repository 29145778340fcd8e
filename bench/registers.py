"""Base-register benchmark: ``python bench/registers.py [--persons 1000000] [--smoke]`` (PostgreSQL).

Issue 15 sizes the registers at a city of 10,000,000 persons. On a scratch PostgreSQL database
(``SHIYU_BENCH_POSTGRES``, the server) holding a city of 200 grids in 20 communities and 4 streets, the run

1. imports houses (one per 2.5 persons: standard address, building, house) and then persons (each with a
   residence in a house), through the import service (``shiyu.registry.bulk.service.run``: every check,
   encryption, blind indexes, all-or-nothing per file) in files of ``--batch`` rows;
2. looks persons up by ID number (the blind index) as a street's centre leader through
   ``shiyu.registry.service.list_persons`` — scope, count, page and the audit entry of the read included;
3. searches exact full names within a street the same way (the name's blind index and the street's path);
4. times the register pages a street's centre leader opens (the browser from the street down to a grid, a
   building, a house, a person's profile, data quality, change records) in-process through the ASGI app
   (``TestClient``: no network, no browser), each once to warm and then ``PAGE_REPEAT`` times — after the
   data-quality counts were made as the worker's periodic job makes them (timed too: that job's cost).

Prints a table and a last line ``registers: N persons, ID-number lookup p95 X ms, name search p95 Y ms,
import R rows/s, slowest page Z ms`` with the peak memory of the process. Asserts nothing about times.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import resource
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient  # noqa: E402

from bench.common import SMOKE_HELP, print_table, scratch_postgres  # noqa: E402
from shiyu import domains  # noqa: E402
from shiyu.app import create_app  # noqa: E402
from shiyu.core import migrate, pii  # noqa: E402
from shiyu.core.config import Settings  # noqa: E402
from shiyu.core.db import make_engine, make_session_factory, transaction  # noqa: E402
from shiyu.core.paging import PageParams  # noqa: E402
from shiyu.core.scoping import GrantScope, Principal  # noqa: E402
from shiyu.core.validators import id_check_digit  # noqa: E402
from shiyu.org.areas.models import Area, AreaLevel  # noqa: E402
from shiyu.org.identity.models import Grant, User  # noqa: E402
from shiyu.org.identity.passwords import hash_password  # noqa: E402
from shiyu.org.identity.roles import permissions_of  # noqa: E402
from shiyu.registry import quality, service  # noqa: E402
from shiyu.registry.bulk import rows as bulk_rows  # noqa: E402
from shiyu.registry.bulk import service as bulk  # noqa: E402
from shiyu.registry.models import Building, House, Person  # noqa: E402

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰玉华建国红梅志文斌波辉鹏宇浩然欣怡子涵梓轩佳琪雨萱俊杰"
PERSONS_PER_HOUSE = 2.5
SAMPLES = 200
PAGE_REPEAT = 5
PASSWORD = "Bench-Leader-2026"


def build_city(factory) -> tuple[list[Area], list[Area]]:
    """A city, 2 districts, 4 streets, 20 communities, 200 grids: (grids, streets)."""
    with transaction(factory, principal=Principal.system("bench")) as s:
        def add(code: str, name: str, level: AreaLevel, parent: Area | None) -> Area:
            area = Area(code=code, name=name, level=int(level), parent=parent,
                        area_path=(parent.area_path if parent else "/") + code + "/")
            s.add(area)
            return area

        city = add("359900000000", "测试市", AreaLevel.CITY, None)
        grids, streets = [], []
        for d in range(1, 3):
            district = add(f"3599{d:02d}000000", f"第{d}区", AreaLevel.DISTRICT, city)
            for t in range(1, 3):
                street = add(f"3599{d:02d}{t:03d}000", f"第{d}区第{t}街道", AreaLevel.STREET, district)
                streets.append(street)
                for c in range(1, 6):
                    community = add(f"3599{d:02d}{t:03d}{c:03d}", f"{street.name}第{c}社区", AreaLevel.COMMUNITY,
                                    street)
                    grids += [add(f"{community.code}{g:03d}", f"{community.name}第{g}网格", AreaLevel.GRID, community)
                              for g in range(1, 11)]
        s.flush()
        return grids, streets


def id_number(i: int) -> str:
    """The i-th synthetic resident: a distinct birth day per thousand, the serial within it."""
    born = date(1950, 1, 1) + timedelta(days=i // 1000)
    first17 = f"359901{born:%Y%m%d}{i % 1000:03d}"
    return first17 + id_check_digit(first17)


def name(i: int) -> str:
    """The i-th resident's name, spread over the name lists by a multiplicative hash (nothing kept in memory)."""
    x = (i * 2654435761) & 0xFFFFFFFF
    given = GIVEN[(x >> 8) % len(GIVEN)] + (GIVEN[(x >> 16) % len(GIVEN)] if (x >> 24) % 10 < 7 else "")
    return SURNAMES[x % len(SURNAMES)] + given


def house_record(h: int, grids: list[Area]) -> dict[str, str]:
    grid = grids[h % len(grids)]
    return {"网格编码": grid.code, "小区/道路": f"第{h // 4000}小区", "楼栋": str(h // 40 % 100 + 1),
            "单元": str(h // 8 % 5 + 1), "户室": str(h % 8 + 101), "用途": "自住" if h % 5 else "出租", "面积": "88"}


def import_in_files(factory, kind: str, records, total: int, batch: int) -> float:
    """Import ``total`` records in files of ``batch`` rows; seconds spent in the import service."""
    spent = 0.0
    system = Principal.system("bench")
    for start in range(0, total, batch):
        rows = bulk_rows.rows_from_records(kind, (records(i) for i in range(start, min(start + batch, total))))
        began = time.perf_counter()
        with transaction(factory, principal=system) as s:
            bulk.run(s, system, kind, rows, dry_run=False, file_name=f"bench-{kind}-{start}")
        spent += time.perf_counter() - began
    return spent


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18] * 1000 if len(samples) > 1 else samples[0] * 1000


def timed_lookups(factory, principal: Principal, filters: list[service.PersonFilter]) -> tuple[list[float], int]:
    times, found = [], 0
    for f in filters:
        began = time.perf_counter()
        with transaction(factory, principal=principal) as s:
            rows, _total = service.list_persons(s, f, PageParams(limit=20))
            found += bool(rows)
        times.append(time.perf_counter() - began)
    return times, found


def timed_pages(settings: Settings, factory, street: Area, grid: Area, person_id: int) -> list[tuple[str, ...]]:
    """The register pages as the street's centre leader opens them: (page, url, median, slowest) rows."""
    with transaction(factory, principal=Principal.system("bench")) as s:
        leader = User(username="bench_street_leader", password_hash=hash_password(PASSWORD),
                      area_path=street.area_path)
        leader.grants.append(Grant(role="centre_leader", area_id=street.id, area_path=street.area_path))
        s.add(leader)
        building = s.scalar(select(Building.id).where(Building.grid_id == grid.id).order_by(Building.id).limit(1))
        house = s.scalar(select(House.id).where(House.grid_id == grid.id).order_by(House.id).limit(1))
    pages = [("register, the street", f"/registry?area={street.id}"), ("register, a grid", f"/registry?area={grid.id}"),
             ("a building", f"/registry/buildings/{building}"), ("a house", f"/registry/houses/{house}"),
             ("a person's profile", f"/registry/persons/{person_id}"), ("data quality", "/registry/quality"),
             ("change records", "/registry/changes")]
    app = create_app(settings)
    rows: list[tuple[str, ...]] = []
    try:
        with TestClient(app) as client:
            client.get("/login")
            r = client.post("/login", data={"username": "bench_street_leader", "password": PASSWORD,
                                             "csrf_token": client.cookies.get("shiyu_csrf"), "next": "/"},
                            follow_redirects=False)
            assert r.status_code == 303, r.text
            for label, path in pages:
                assert client.get(path).status_code == 200, path
                times = []
                for _ in range(PAGE_REPEAT):
                    began = time.perf_counter()
                    client.get(path)
                    times.append((time.perf_counter() - began) * 1000)
                rows.append((f"page: {label}", path, f"median {statistics.median(times):.0f} ms",
                             f"slowest {max(times):.0f} ms"))
    finally:
        app.state.engine.dispose()
    return rows


def run(url: str, persons: int, batch: int, settings: Settings) -> tuple[list[tuple[str, ...]], str]:
    migrate.upgrade(url)
    engine = make_engine(url, pool_size=2)
    factory = make_session_factory(engine)
    try:
        grids, streets = build_city(factory)
        houses = max(1, int(persons / PERSONS_PER_HOUSE))
        house_seconds = import_in_files(factory, "houses", lambda h: house_record(h, grids), houses, batch)
        def person(i: int) -> dict[str, str]:
            h = house_record(i % houses, grids)
            return {"姓名": name(i), "身份证号": id_number(i), "手机": f"13{i % 1_000_000_000:09d}", "民族": "汉",
                    "人员类型": "户籍" if i % 4 else "流动", "网格编码": h["网格编码"], "小区/道路": h["小区/道路"],
                    "楼栋": h["楼栋"], "单元": h["单元"], "户室": h["户室"]}

        sample = set(random.Random(15).sample(range(persons), min(SAMPLES, persons)))
        person_seconds = import_in_files(factory, "persons", person, persons, batch)
        # The planner's statistics after a bulk load, as autovacuum would gather them shortly after: without
        # them PostgreSQL takes the fresh tables for empty and walks the primary key for a blind-index lookup.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
        with factory() as s:
            s.info["principal"] = Principal.system("bench")
            stored = s.scalar(select(func.count()).select_from(Person)) or 0
        assert stored == persons, (stored, persons)
        street_of = {g.area_path: next(st.area_path for st in streets if g.area_path.startswith(st.area_path))
                     for g in grids}
        leaders = {st.area_path: Principal(user_id=None, username="bench_leader", permissions_of=permissions_of,
                                           grants=(GrantScope("centre_leader", st.area_path),)) for st in streets}
        city_path = "/" + grids[0].area_path.split("/")[1] + "/"
        city_leader = Principal(user_id=None, username="bench_leader", permissions_of=permissions_of,
                                grants=(GrantScope("centre_leader", city_path),))
        id_times, id_found = timed_lookups(factory, city_leader,
                                           [service.PersonFilter(id_number=id_number(i)) for i in sorted(sample)])
        name_filters = []
        for i in sorted(sample):
            grid_path = grids[(i % houses) % len(grids)].area_path
            name_filters.append((street_of[grid_path], service.PersonFilter(name=name(i),
                                                                            area_path=street_of[grid_path])))
        name_times: list[float] = []
        name_found = 0
        for street_path, f in name_filters:
            t, found = timed_lookups(factory, leaders[street_path], [f])
            name_times += t
            name_found += found
        assert id_found == len(sample) and name_found == len(sample), (id_found, name_found)
        rate = (houses + persons) / (house_seconds + person_seconds)
        street = streets[0]
        grid = next(g for g in grids if g.area_path.startswith(street.area_path))
        with factory() as s:
            s.info["principal"] = Principal.system("bench")
            person_id = s.scalar(select(Person.id).where(Person.grid_id == grid.id).order_by(Person.id).limit(1))
        began = time.perf_counter()
        with transaction(factory, principal=Principal.system("bench")) as s:
            counted = quality.refresh(s)
        quality_seconds = time.perf_counter() - began
        page_rows = timed_pages(settings.model_copy(update={"database_url": url}), factory, street, grid,
                                person_id or 0)
        slowest_page = max(float(r[3].split()[1]) for r in page_rows)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows = [
            ("import houses", f"{houses:,}", f"{house_seconds:.1f} s", f"{houses / house_seconds:,.0f} rows/s"),
            ("import persons", f"{persons:,}", f"{person_seconds:.1f} s", f"{persons / person_seconds:,.0f} rows/s"),
            ("ID-number lookup", f"{len(id_times)} queries", f"p95 {p95(id_times):.1f} ms",
             f"median {statistics.median(id_times) * 1000:.1f} ms"),
            ("name search in a street", f"{len(name_times)} queries", f"p95 {p95(name_times):.1f} ms",
             f"median {statistics.median(name_times) * 1000:.1f} ms"),
            ("data quality counted (background job)", f"{counted} grids", f"{quality_seconds:.1f} s",
             f"every {quality.REFRESH_MINUTES} min"),
            *page_rows,
        ]
        last = (f"registers: {persons} persons, ID-number lookup p95 {p95(id_times):.1f} ms, name search p95 "
                f"{p95(name_times):.1f} ms, import {rate:,.0f} rows/s, slowest page {slowest_page:.0f} ms "
                f"(peak memory {peak_mb:,.0f} MB)")
        return rows, last
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=50_000, help="rows per imported file (one transaction each)")
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP)
    args = parser.parse_args()
    persons, batch = (2_000, 1_000) if args.smoke else (args.persons, args.batch)
    domains.install()
    # The app the pages are timed through must read what the import encrypted: the same keys for both.
    settings = Settings(pii_keys="bench:" + base64.b64encode(os.urandom(32)).decode(),
                        secret_key="bench-secret-" + "x" * 32, cookie_secure=False)
    pii.configure(settings.pii_keys, None, settings.secret_key)
    with scratch_postgres("registers") as url:
        rows, last = run(url, persons, batch, settings)
    print_table(rows)
    print(last)


if __name__ == "__main__":
    main()
