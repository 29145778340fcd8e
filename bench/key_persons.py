"""Key-person benchmark: ``python bench/key_persons.py [--records 200000] [--smoke]`` (PostgreSQL).

Issue 16: 200,000 records over a city of 200 grids (20 communities, 4 streets), one grid worker per grid, one
past visit per record. On a scratch PostgreSQL database (``SHIYU_BENCH_POSTGRES``, the server) the run times

1. the city-wide due computation: every active record's next due date from the plan table (one UPDATE,
   ``plans.recompute_due``, timed the night after a day on which one record in a hundred was visited; the
   first computation of a freshly loaded city is shown apart), the warnings raised (``plans.raise_warnings``)
   and the city's due/overdue figures (``plans.summary``) — target < 2 s together;
2. the centre dashboard of the city's leader (``dashboard.dashboard``: figures and indicators by district and
   group, through the scoped session) — target < 300 ms;
3. a grid worker's visit list (``plan_admin.my_visits``: scope, masked rows, the audit entry) — target
   < 100 ms;

Prints a table and a last line ``key persons: N records, due X ms, dashboard p95 Y ms, visit list p95 Z ms``.
Asserts nothing about times.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, text, update

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import SMOKE_HELP, print_table, scratch_postgres  # noqa: E402
from bench.registers import build_city, p95  # noqa: E402
from shiyu import domains  # noqa: E402
from shiyu.core import migrate, pii  # noqa: E402
from shiyu.core.db import make_engine, make_session_factory, transaction, with_defaults  # noqa: E402
from shiyu.core.scoping import GrantScope, Principal  # noqa: E402
from shiyu.core.timeutil import utcnow  # noqa: E402
from shiyu.keypersons import dashboard, plan_admin, plans  # noqa: E402
from shiyu.keypersons.groups import PLANS  # noqa: E402
from shiyu.keypersons.models import KeyPersonRecord, Visit  # noqa: E402
from shiyu.org.areas.models import Area  # noqa: E402
from shiyu.org.identity.models import User  # noqa: E402
from shiyu.org.identity.roles import permissions_of  # noqa: E402
from shiyu.registry.models import Person  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
SAMPLES = 30
BATCH = 20_000
# group, share of the records, its grades
MIX = [("released", 0.3, ("red", "yellow", "green")), ("mental", 0.3, ("0", "1", "2", "3", "4", "5")),
       ("correction", 0.15, ("red", "yellow", "green")), ("drugs", 0.1, ("red", "yellow", "green")),
       ("youth", 0.1, ("red", "yellow", "green")), ("petition", 0.05, ("red", "yellow", "green"))]


def _grid_workers(factory, grids: list[Area]) -> dict[int, int]:
    with transaction(factory, principal=Principal.system("bench")) as s:
        users = [User(username=f"gw_{g.code}", password_hash="-", area_path=g.area_path) for g in grids]
        s.add_all(users)
        s.flush()
        return {g.id: u.id for g, u in zip(grids, users, strict=True)}


def _fill(factory, grids: list[Area], workers: dict[int, int], records: int, today: date) -> None:
    """Persons (no personal data needed here), records and one past visit each, written below the ORM."""
    rng = random.Random(16)
    person_table, record_table, visit_table = Person.__table__, KeyPersonRecord.__table__, Visit.__table__
    now = utcnow()
    choices = [(code, grades) for code, share, grades in MIX for _ in range(int(share * 100))]
    with transaction(factory, principal=Principal.system("bench"), audit_off=True) as s:
        for start in range(0, records, BATCH):
            count = min(BATCH, records - start)
            batch_grids = [grids[(start + i) % len(grids)] for i in range(count)]
            ids = s.execute(insert(person_table).returning(person_table.c.id), [with_defaults(person_table, {
                "grid_id": g.id, "area_path": g.area_path, "created_at": now, "updated_at": now})
                for g in batch_grids]).scalars().all()
            rows, visits = [], []
            for person_id, grid in zip(ids, batch_grids, strict=True):
                group, grades = rng.choice(choices)
                grade = rng.choice(grades)
                # mostly within the plan's interval; about one in twelve a little past it
                last = today - timedelta(days=rng.randint(0, int(PLANS[(group, grade)][0] * 1.1)))
                state = "lost_contact" if rng.random() < 0.03 else "enrolled"
                rows.append(with_defaults(record_table, {
                    "person_id": person_id, "group_code": group, "grid_id": grid.id, "area_path": grid.area_path,
                    "source": "judicial", "grade": grade, "state": state, "opened_at": now,
                    "enrolled_on": today - timedelta(days=365), "last_visit_on": last,
                    "grid_worker_id": workers[grid.id], "created_at": now, "updated_at": now}))
            record_ids = s.execute(insert(record_table).returning(record_table.c.id, record_table.c.area_path,
                                                                  record_table.c.last_visit_on), rows).all()
            for (rid, path, last), row in zip(record_ids, rows, strict=True):
                visits.append(with_defaults(visit_table, {"record_id": rid, "group_code": row["group_code"],
                                                          "visited_on": last, "due_on": last,
                                                          "at": now, "on_time": rng.random() < 0.9,
                                                          "area_path": path}))
            s.execute(insert(visit_table), visits)


def _timed(factory, principal: Principal, call) -> list[float]:
    times = []
    for _ in range(SAMPLES):
        began = time.perf_counter()
        with transaction(factory, principal=principal) as s:
            call(s)
        times.append(time.perf_counter() - began)
    return times


def run(url: str, records: int) -> tuple[list[tuple[str, ...]], str]:
    migrate.upgrade(url)
    engine = make_engine(url, pool_size=2)
    factory = make_session_factory(engine)
    today = datetime.now(TZ).date()
    try:
        grids, _streets = build_city(factory)
        workers = _grid_workers(factory, grids)
        began = time.perf_counter()
        _fill(factory, grids, workers, records, today)
        fill_seconds = time.perf_counter() - began
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))  # what autovacuum does after a load: the visibility map
        system = Principal.system("bench")
        began = time.perf_counter()
        with transaction(factory, principal=system) as s:
            scheduled = plans.recompute_due(s)
        first = time.perf_counter() - began
        with transaction(factory, principal=system) as s:  # a day's visits: one record in a hundred
            s.execute(update(KeyPersonRecord).where(KeyPersonRecord.id % 100 == 0).values(last_visit_on=today))
        began = time.perf_counter()
        with transaction(factory, principal=system) as s:
            changed = plans.recompute_due(s)
        recompute = time.perf_counter() - began
        began = time.perf_counter()
        with transaction(factory, principal=system) as s:
            raised = plans.raise_warnings(s, today, plans.Limits())
        warnings = time.perf_counter() - began
        began = time.perf_counter()
        with transaction(factory, principal=system) as s:
            figures = plans.summary(s, today)
        summary = time.perf_counter() - began
        with factory() as s:
            s.info["principal"] = system
            city = s.scalar(select(Area).where(Area.parent_id.is_(None)))
            assert city is not None
            city_id, city_path = city.id, city.area_path
        leader = Principal(user_id=None, username="bench_leader", grants=(GrantScope("centre_leader", city_path),),
                           permissions_of=permissions_of)
        board = _timed(factory, leader, lambda s: dashboard.dashboard(s, leader, city_id, today))
        worker_grid = grids[len(grids) // 2]
        worker = Principal(user_id=workers[worker_grid.id], username="bench_worker",
                           grants=(GrantScope("grid_worker", worker_grid.area_path),), permissions_of=permissions_of)
        listed: list[int] = []
        visit_list = _timed(factory, worker, lambda s: listed.append(len(plan_admin.my_visits(s, worker, today))))
    finally:
        engine.dispose()
    due_ms = (recompute + warnings + summary) * 1000
    rows = [
        ("fill (persons, records, visits)", f"{records:,}", f"{records / fill_seconds:,.0f} records/s", ""),
        ("first due dates of a loaded city", f"{scheduled:,} scheduled", f"{first * 1000:,.0f} ms", "once"),
        ("nightly recompute (1 UPDATE)", f"{changed:,} changed", f"{recompute * 1000:,.0f} ms", ""),
        ("raise warnings (2 UPDATEs)", f"{raised['yellow']:,} yellow, {raised['red']:,} red",
         f"{warnings * 1000:,.0f} ms", ""),
        ("city due/overdue figures", f"{figures['overdue']:,} overdue, {figures['due_soon']:,} due in 7 d",
         f"{summary * 1000:,.0f} ms", ""),
        ("city-wide due computation (sum)", f"{records:,}", f"{due_ms:,.0f} ms", "target < 2,000 ms"),
        ("centre dashboard (city leader)", f"{SAMPLES} runs", f"p95 {p95(board):,.1f} ms", "target < 300 ms"),
        ("grid worker's visit list", f"{listed[0]:,} rows", f"p95 {p95(visit_list):,.1f} ms", "target < 100 ms"),
    ]
    last = (f"key persons: {records:,} records, due {due_ms:,.0f} ms, dashboard p95 {p95(board):,.1f} ms, "
            f"visit list p95 {p95(visit_list):,.1f} ms")
    return rows, last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP)
    args = parser.parse_args()
    records = 2_000 if args.smoke else args.records
    domains.install()
    pii.configure("bench:" + base64.b64encode(os.urandom(32)).decode(), None, "bench-secret-" + "x" * 32)
    with scratch_postgres("key_persons") as url:
        rows, last = run(url, records)
    print_table(rows)
    print(last)


if __name__ == "__main__":
    main()
