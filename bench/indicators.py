"""Indicator query benchmark: ``python bench/indicators.py [--database-url URL] [--sizes 1000000,10000000]``.

Builds the demo city (~2,000 grids, its departments) and the seeded category tree (~80 minor classes) in
a scratch database — by default a temporary PostgreSQL database on postgresql://postgres@127.0.0.1:5432,
dropped afterwards; SQLite works too — then, for each size, generates that many cases over ``--months``
months with numpy (grids weighted by population, categories Zipf-like, departments by district and
category, states by age, realistic shares of returns, rework, extensions, overdue steps and ratings),
loads them (PostgreSQL: binary COPY of numeric columns into a staging table, then one INSERT … SELECT;
SQLite: executemany), builds the facts with ``facts.rebuild`` and times the indicator query for a
city-wide month, a district-month and a department-month: through the facts (what the API does, under a
city-wide principal's scope) against the same totals computed from the case table in the same run.
Checks that both give the same numbers; prints a table; asserts nothing about time.

Load shortcuts, for the benchmark only: the case table is loaded without its secondary indexes and
constraints, and only the indexes the measured queries use are built afterwards.
"""

from __future__ import annotations

import argparse
import struct
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import SMOKE_HELP, print_table, scratch_postgres  # noqa: E402
from shiyu import domains  # noqa: E402
from shiyu.cases.categories.models import Category, Step  # noqa: E402
from shiyu.cases.categories.seed import seed_categories  # noqa: E402
from shiyu.cases.indicators import facts, service  # noqa: E402
from shiyu.cases.models import Case  # noqa: E402,F401
from shiyu.core import pii  # noqa: E402
from shiyu.core.db import Base, make_engine, make_session_factory, transaction  # noqa: E402
from shiyu.core.scoping import GrantScope, Principal  # noqa: E402
from shiyu.demo.build import build  # noqa: E402
from shiyu.demo.geography import FULL_SIZE, SMALL_SIZE  # noqa: E402
from shiyu.org.areas.models import Area, AreaLevel  # noqa: E402
from shiyu.org.identity import passwords  # noqa: E402
from shiyu.org.units.models import Department  # noqa: E402

SH = ZoneInfo("Asia/Shanghai")
STATES = ["reported", "rejected", "merged", "to_dispatch", "to_accept", "handling", "suspended", "to_verify",
          "to_close", "closed"]
CHANNELS = ["grid", "citizen", "hotline", "department", "api"]
RATINGS = ["", "satisfied", "basically", "unsatisfied"]
STAGING = [("id", "i8"), ("grid", "i4"), ("cat", "i4"), ("dept", "i4"), ("rep", "i8"), ("reg", "i4"),
           ("dis", "i4"), ("han", "i4"), ("clo", "i4"), ("state", "i2"), ("ret", "i2"), ("rew", "i2"),
           ("ext", "i2"), ("ovd", "i2"), ("rating", "i2"), ("selfres", "i2"), ("hovd", "i2"), ("late", "i2")]
STARTED = time.perf_counter()


def say(message: str) -> None:
    print(f"[{time.perf_counter() - STARTED:7.1f}s] {message}", flush=True)


# -- the city ---------------------------------------------------------------------------------------------


class City:
    def __init__(self, factory: Any) -> None:
        with transaction(factory, principal=Principal.system("bench")) as s:
            grids = s.scalars(select(Area).where(Area.level == AreaLevel.GRID).order_by(Area.id)).all()
            by_id = {a.id: a for a in s.scalars(select(Area))}
            self.city = s.scalars(select(Area).where(Area.level == AreaLevel.CITY)).one()
            self.districts = s.scalars(select(Area).where(Area.level == AreaLevel.DISTRICT).order_by(Area.id)).all()
            self.minors = np.array(s.scalars(select(Category.id).where(Category.parent_id.is_not(None))).all())
            departments = s.scalars(select(Department).order_by(Department.id)).all()
        self.grid_ids = np.array([g.id for g in grids])
        self.grid_paths = [g.area_path for g in grids]
        self.communities = [by_id[g.parent_id] for g in grids]
        district_index = {d.area_path: i for i, d in enumerate(self.districts)}
        self.grid_district = np.array([district_index[p[: len(self.districts[0].area_path)]] for p in self.grid_paths])
        weights = np.array([max(g.population, 1) for g in grids], dtype=float)
        self.grid_p = weights / weights.sum()
        per_district = [[d.id for d in departments if d.area_path == dist.area_path] for dist in self.districts]
        width = max(len(x) for x in per_district)
        self.dept_table = np.array([[ids[k % len(ids)] for k in range(width)] for ids in per_district])
        self.department_ids = [d.id for d in departments]


def generate(rng: np.random.Generator, city: City, n: int, first_id: int, start: datetime, days: int,
             now: datetime) -> np.ndarray:
    """``n`` cases as a structured array of numeric columns (offsets in seconds, -1 for "not yet")."""
    out = np.zeros(n, dtype=[(name, kind) for name, kind in STAGING])
    out["id"] = np.arange(first_id, first_id + n)
    grid = rng.choice(len(city.grid_ids), n, p=city.grid_p)
    out["grid"] = grid
    zipf = 1.0 / np.arange(1, len(city.minors) + 1) ** 0.9
    out["cat"] = city.minors[rng.choice(len(city.minors), n, p=zipf / zipf.sum())]
    day = rng.integers(0, days, n)
    weekday = (start.weekday() + day) % 7
    day = np.where((weekday >= 5) & (rng.random(n) < 0.35), rng.integers(0, days, n), day)
    seconds = (day * 86400 + rng.normal(10.5 * 3600, 3 * 3600, n).clip(0, 86399)).astype(np.int64)
    rep = int(start.timestamp()) + seconds
    out["rep"] = rep
    age_days = (int(now.timestamp()) - rep) / 86400
    old = age_days > 14
    p_old = [0.01, 0.05, 0.02, 0.01, 0.01, 0.03, 0.01, 0.01, 0.01, 0.84]
    p_new = [0.08, 0.05, 0.02, 0.08, 0.06, 0.25, 0.02, 0.10, 0.04, 0.30]
    state = np.where(old, rng.choice(10, n, p=p_old), rng.choice(10, n, p=p_new))
    out["state"] = state
    selfres = (state == 9) & (rng.random(n) < 0.06)
    out["selfres"] = selfres
    registered = (state >= 3) & ~selfres
    dispatched = (state >= 4) & ~selfres
    handled = (state >= 7) | selfres
    hours = lambda mean: (rng.exponential(mean * 3600, n)).astype(np.int64)  # noqa: E731
    reg = hours(2)
    dis = reg + hours(3)
    han = dis + hours(40)
    clo = han + hours(20)
    out["reg"] = np.where(registered, reg, -1)
    out["dis"] = np.where(dispatched, dis, -1)
    out["han"] = np.where(handled, np.where(selfres, hours(1), han), -1)
    out["clo"] = np.where(state == 9, np.where(selfres, hours(2), clo), -1)
    out["dept"] = np.where(dispatched, city.dept_table[city.grid_district[grid], out["cat"] % city.dept_table.shape[1]],
                           0)
    out["ret"] = np.where(dispatched & (rng.random(n) < 0.08), 1, 0)
    out["rew"] = np.where(handled & (rng.random(n) < 0.05), 1, 0)
    out["ext"] = np.where(dispatched & (rng.random(n) < 0.04), 1, 0)
    overdue = registered & (rng.random(n) < 0.12)
    out["ovd"] = np.where(overdue, rng.integers(1, 3, n), 0)
    out["hovd"] = overdue & handled & (rng.random(n) < 0.5)
    # Which steps were late (Case.late_steps, one bit per Step): the handle step when its overdue event is
    # generated, otherwise dispatch; a second overdue step adds the register step.
    out["late"] = (np.where(out["hovd"] == 1, Step.HANDLE.bit, np.where(overdue, Step.DISPATCH.bit, 0))
                   | np.where(out["ovd"] == 2, Step.REGISTER.bit, 0))
    rated = (state == 9) & (rng.random(n) < 0.6)
    out["rating"] = np.where(rated, rng.choice([1, 2, 3], n, p=[0.72, 0.2, 0.08]), 0)
    out = out[np.argsort(out["rep"], kind="stable")]
    out["id"] = np.arange(first_id, first_id + n)  # ids grow with time, as they do in a live system
    return out


# -- loading ----------------------------------------------------------------------------------------------


def pg_binary(rows: np.ndarray) -> bytes:
    """PostgreSQL binary COPY of a structured array of non-null integers (one fixed-size record per row)."""
    fields = [("n", ">i2")]
    for name, kind in STAGING:
        fields += [(f"{name}_len", ">i4"), (name, ">" + kind)]
    record = np.zeros(len(rows), dtype=fields)
    record["n"] = len(STAGING)
    for name, kind in STAGING:
        record[f"{name}_len"] = int(kind[1])
        record[name] = rows[name]
    return b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0) + record.tobytes() + struct.pack(">h", -1)


def _ts(column: str) -> str:
    return f"CASE WHEN b.{column} < 0 THEN NULL ELSE to_timestamp(b.rep + b.{column}) END"


PG_INSERT = f"""
INSERT INTO "case" (id, version, tracking_code, submitter_key, idempotency_key, request_hash, channel, state,
  category_id, urgency, description, attributes, lon, lat, address, grid_id, centre_area_id, centre_path,
  area_path, reported_at, anonymous, main_department_id, self_resolved, step_used_seconds, step_alert, supervised,
  listed_supervision, rework_count, return_count, extension_count, overdue_steps, late_steps, rating, registered_at,
  dispatched_at, handled_at, closed_at, search_text, last_action_at, created_at, updated_at)
SELECT b.id, 1, 'B' || b.id, 'bench', b.id::text, '', (ARRAY{CHANNELS!r})[b.id % 5 + 1],
  (ARRAY{STATES!r})[b.state + 1], b.cat, 'normal', '', '{{}}', 118.1, 24.5, '', g.grid_id, g.community_id,
  g.community_path, g.area_path, to_timestamp(b.rep), false, NULLIF(b.dept, 0), b.selfres = 1, 0, 0, false,
  false, b.rew, b.ret, b.ext, b.ovd, b.late, NULLIF((ARRAY{RATINGS!r})[b.rating + 1], ''), {_ts("reg")}, {_ts("dis")},
  {_ts("han")}, {_ts("clo")}, '', to_timestamp(b.rep), now(), now()
FROM bench_case b JOIN bench_grid g ON g.idx = b.grid
"""

PG_EVENTS = """
INSERT INTO case_event (case_id, at, action, actor_name, from_state, to_state, version, note, data,
  attachment_ids, public, area_path)
SELECT b.id, to_timestamp(b.rep + b.han), 'overdue', 'deadlines', 'handling', 'handling', 2, '',
  '{"step": "handle"}', '[]', false, g.area_path
FROM bench_case b JOIN bench_grid g ON g.idx = b.grid WHERE b.hovd = 1
"""

KEEP_INDEXES = {
    "case": ["reported_at", "grid_id", "area_path", "main_department_id", "category_id"],
    "case_event": ["case_id", "action"],
}


def pg_prepare(engine: Any, city: City) -> None:
    """Drop the loaded tables' secondary indexes and constraints; staging tables; the grid lookup."""
    with engine.begin() as conn:
        for table in KEEP_INDEXES:
            for (name,) in conn.execute(text("SELECT conname FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) "
                                             "AND contype IN ('f', 'u')"), {"t": f'"{table}"'}):
                conn.execute(text(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"'))
            for (name,) in conn.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = :t AND indexname "
                                             "NOT LIKE 'pk_%'"), {"t": table}):
                conn.execute(text(f'DROP INDEX IF EXISTS "{name}"'))
        columns = ", ".join(f"{name} {'bigint' if kind == 'i8' else 'integer' if kind == 'i4' else 'smallint'}"
                            for name, kind in STAGING)
        conn.execute(text(f"CREATE UNLOGGED TABLE IF NOT EXISTS bench_case ({columns})"))
        conn.execute(text("CREATE TABLE IF NOT EXISTS bench_grid (idx integer PRIMARY KEY, grid_id integer, "
                          "area_path text COLLATE \"C\", community_id integer, community_path text COLLATE \"C\")"))
        conn.execute(text("TRUNCATE bench_grid"))
        conn.execute(text("INSERT INTO bench_grid VALUES (:idx, :grid_id, :area_path, :community_id, "
                          ":community_path)"), [
            {"idx": i, "grid_id": int(g), "area_path": p, "community_id": c.id, "community_path": c.area_path}
            for i, (g, p, c) in enumerate(zip(city.grid_ids, city.grid_paths, city.communities, strict=True))])


def pg_load(engine: Any, chunk: np.ndarray) -> None:
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cur:
            cur.execute("TRUNCATE bench_case")
            with cur.copy("COPY bench_case FROM STDIN WITH (FORMAT binary)") as copy:
                copy.write(pg_binary(chunk))
            cur.execute(PG_INSERT)
            cur.execute(PG_EVENTS)
        raw.commit()
    finally:
        raw.close()


def pg_drop_indexes(engine: Any) -> None:
    with engine.begin() as conn:
        for table, columns in KEEP_INDEXES.items():
            for column in columns:
                conn.execute(text(f'DROP INDEX IF EXISTS "bx_{table}_{column}"'))


def pg_index(engine: Any) -> None:
    with engine.begin() as conn:
        conn.execute(text("SET maintenance_work_mem = '1GB'"))
        for table, columns in KEEP_INDEXES.items():
            for column in columns:
                conn.execute(text(f'CREATE INDEX IF NOT EXISTS "bx_{table}_{column}" ON "{table}" ({column})'))
        conn.execute(text('ANALYZE "case"'))
        conn.execute(text("ANALYZE case_event"))


def sqlite_load(engine: Any, city: City, chunk: np.ndarray) -> None:
    def ts(rep: int, offset: int) -> str | None:
        return None if offset < 0 else datetime.fromtimestamp(rep + offset, UTC).strftime("%Y-%m-%d %H:%M:%S.000000")

    rows, events = [], []
    for r in chunk.tolist():
        cid, grid, cat, dept, rep, reg, dis, han, clo, state, ret, rew, ext, ovd, rating, selfres, hovd, late = r
        community = city.communities[grid]
        rows.append((cid, f"B{cid}", str(cid), CHANNELS[cid % 5], STATES[state], cat, int(city.grid_ids[grid]),
                     community.id, community.area_path, city.grid_paths[grid], ts(rep, 0), dept or None, selfres,
                     rew, ret, ext, ovd, late, RATINGS[rating] or None, ts(rep, reg), ts(rep, dis), ts(rep, han),
                     ts(rep, clo)))
        if hovd:
            events.append((cid, ts(rep, han), city.grid_paths[grid]))
    with engine.begin() as conn:
        conn.exec_driver_sql(
            'INSERT INTO "case" (id, tracking_code, idempotency_key, channel, state, category_id, grid_id, '
            "centre_area_id, centre_path, area_path, reported_at, main_department_id, self_resolved, rework_count, "
            "return_count, extension_count, overdue_steps, late_steps, rating, registered_at, dispatched_at, "
            "handled_at, closed_at, version, submitter_key, request_hash, urgency, description, attributes, lon, lat, "
            "address, anonymous, step_used_seconds, step_alert, supervised, listed_supervision, search_text, "
            "last_action_at, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,1,'bench',"
            "'','normal','','{}',118.1,24.5,'',0,0,0,0,0,'',?,?,?)", [(*r, r[10], r[10], r[10]) for r in rows])
        conn.exec_driver_sql(
            "INSERT INTO case_event (case_id, at, action, actor_name, from_state, to_state, version, note, data, "
            "attachment_ids, public, area_path) VALUES (?,?,'overdue','deadlines','handling','handling',2,'',"
            "'{\"step\": \"handle\"}','[]',0,?)", events)


# -- measuring ----------------------------------------------------------------------------------------------


def timed(fn: Any, runs: int) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return times, result


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


def measure(factory: Any, city: City, month: tuple[date, date], runs: int, raw_runs: int) -> list[tuple]:
    leader = Principal(user_id=None, username="bench_city_leader",
                       grants=(GrantScope("centre_leader", city.city.area_path),),
                       permissions_of=lambda _role: frozenset({"indicator.view", "case.view", "area.view",
                                                               "department.view"}))
    busiest = city.department_ids[0]
    queries = [("city-wide month", {}), ("district month", {"area_id": city.districts[0].id}),
               ("department month", {"department_id": busiest})]
    out = []
    for label, kw in queries:
        with factory() as s:
            s.info["principal"] = leader
            q = service.resolve(s, leader, SH, start=month[0], end=month[1], **kw)
            fact_times, _ = timed(lambda: service.overview(s, q, "zh"), runs)  # noqa: B023
            raw_times, raw_totals = timed(lambda: service.raw_totals(s, q), raw_runs)  # noqa: B023
            agree = service.totals(s, q) == raw_totals
        out.append((label, raw_totals["reported"], pct(fact_times, 0.5), pct(fact_times, 0.95), pct(raw_times, 0.5),
                    pct(raw_times, 0.95), agree))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="default: a temporary PostgreSQL database")
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--raw-runs", type=int, default=5)
    parser.add_argument("--chunk", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20260301)
    parser.add_argument("--rebuild-workers", type=int, default=2, help="days rebuilt in parallel")
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP)
    args = parser.parse_args()
    args.size = SMALL_SIZE if args.smoke else FULL_SIZE
    if args.smoke:
        args.sizes, args.months, args.runs, args.raw_runs = "5000", 2, 3, 1
    if args.database_url:
        run(args.database_url, args)
        return
    with scratch_postgres("indicators") as url:
        run(url, args)


def prepare_city(url: str, size: Any) -> tuple[Any, Any, City]:
    """The schema, the demo city of ``size`` without cases and the seeded categories in ``url``: (engine,
    session factory, city). Cases come from ``generate``, with ids from 1."""
    pii.configure("bench:" + "A" * 43 + "=", None, "bench-secret-key-bench-secret-key-bench")
    passwords.configure(1, 1024)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    Base.metadata.create_all(engine)
    say(f"schema ready on {engine.dialect.name}; building the demo city")
    domains.install()  # as `shiyu demo` does: the domains' roles and hooks before their demo steps
    build(factory, size=size, cases=0)
    with transaction(factory, principal=Principal.system("bench")) as s:
        seed_categories(s)
    return engine, factory, City(factory)


def run(url: str, args: argparse.Namespace) -> None:
    engine, factory, city = prepare_city(url, args.size)
    pg = engine.dialect.name == "postgresql"
    say(f"city: {len(city.grid_ids)} grids, {len(city.department_ids)} departments, {len(city.minors)} categories")
    if pg:
        pg_prepare(engine, city)
    now = datetime.now(UTC).replace(microsecond=0)
    first_day = (now.astimezone(SH).date().replace(day=1) - timedelta(days=31 * (args.months - 1))).replace(day=1)
    start = datetime.combine(first_day, datetime.min.time(), SH)
    days = (now.astimezone(SH).date() - first_day).days + 1
    last_full_month_end = now.astimezone(SH).date().replace(day=1) - timedelta(days=1)
    month = (last_full_month_end.replace(day=1), last_full_month_end)
    rng = np.random.default_rng(args.seed)
    loaded, results = 0, []
    for size in sorted(int(x) for x in args.sizes.split(",")):
        t0 = time.perf_counter()
        if pg:
            pg_drop_indexes(engine)
        while loaded < size:
            n = min(args.chunk, size - loaded)
            chunk = generate(rng, city, n, loaded + 1, start, days, now)
            (pg_load(engine, chunk) if pg else sqlite_load(engine, city, chunk))
            loaded += n
            say(f"  loaded {loaded:,} cases")
        if pg:
            pg_index(engine)
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        last_day = now.astimezone(SH).date()
        all_days = [first_day + timedelta(days=k) for k in range((last_day - first_day).days + 1)]
        with ThreadPoolExecutor(args.rebuild_workers) as pool:
            list(pool.map(lambda d: facts.rebuild(factory, SH, d, d), all_days))
        build_s = time.perf_counter() - t0
        with engine.connect() as conn:
            fact_rows = conn.execute(text("SELECT count(*) FROM indicator_fact")).scalar()
            grid_rows = conn.execute(text("SELECT count(*) FROM indicator_grid_fact")).scalar()
            if pg:
                conn.execute(text("ANALYZE indicator_fact"))
                conn.execute(text("ANALYZE indicator_grid_fact"))
                conn.commit()
        say(f"{size:,} cases: load+index {load_s:.0f}s, facts rebuilt in {build_s:.0f}s "
            f"({fact_rows:,} fact rows, {grid_rows:,} grid rows)")
        for row in measure(factory, city, month, args.runs, args.raw_runs):
            results.append((size, *row))
            say(f"  {row[0]}: facts p50 {row[2]:.1f} ms p95 {row[3]:.1f} ms; raw p50 {row[4]:.0f} ms")
    print()
    print(f"Indicator query, month {month[0]}..{month[1]}, {engine.dialect.name}; facts: {args.runs} runs, "
          f"raw: {args.raw_runs} runs")
    print_table([(f"{size:,}", label, f"{n:,}", f"{fp50:.1f} ms", f"{fp95:.1f} ms", f"{rp50:.0f} ms", f"{rp95:.0f} ms",
                  "yes" if agree else "NO") for size, label, n, fp50, fp95, rp50, rp95, agree in results],
                ("cases", "query", "cases in it", "facts p50", "facts p95", "raw p50", "raw p95", "same"))


if __name__ == "__main__":
    main()
