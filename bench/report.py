"""Weekly report benchmark: ``python bench/report.py [--database-url URL] [--size 1000000] [--weeks 13]``.

Target (issue 13): the city's weekly report in under 10 s. Builds the demo city (~2,000 grids, its
departments, the seeded category tree) in a scratch database — by default a temporary PostgreSQL database on
postgresql://postgres@127.0.0.1:5432, dropped afterwards — and loads ``--size`` cases spread over the last
``--weeks`` weeks with the indicator benchmark's generator (``bench/indicators.py``: realistic states,
returns, rework, extensions, overdue steps, ratings). Open cases with an overdue step are marked red and
one in five of them supervised, so 超期督办 has rows to find. The indicator facts are rebuilt, then the last
complete week's report is made for the city and for one district, as a city leader would (scoped session):
gathering the figures, writing the workbook, writing the document with its charts. Prints a table; asserts
nothing about time. ``--smoke``: the small demo city and 5,000 cases in a temporary SQLite file.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import shiyu.domains  # noqa: E402,F401
from bench.common import SMOKE_HELP, print_table, scratch_postgres  # noqa: E402
from bench.indicators import SH, generate, pg_index, pg_load, pg_prepare, prepare_city, say, sqlite_load  # noqa: E402
from shiyu.cases.indicators import facts  # noqa: E402
from shiyu.core.scoping import GrantScope, Principal  # noqa: E402
from shiyu.demo.geography import FULL_SIZE, SMALL_SIZE  # noqa: E402
from shiyu.org.identity.roles import permissions_of  # noqa: E402
from shiyu.reports import data, excel, periods, word  # noqa: E402

MARK_OVERDUE = """
UPDATE "case" SET step_alert = 2, step_due_at = reported_at, supervised = (id % 5 = 0)
WHERE late_steps <> 0 AND state NOT IN ('closed', 'rejected', 'merged')
"""
REPORT_INDEXES = ["state", "step_alert", "supervised"]  # what the model declares and the loader dropped


def leader(area_path: str) -> Principal:
    return Principal(user_id=None, username="bench_leader", grants=(GrantScope("centre_leader", area_path),),
                     permissions_of=permissions_of)


def timed_report(factory: Any, code: str, path: str, period: periods.ReportPeriod) -> tuple[data.Report, list[float]]:
    """(report, [gather ms, xlsx ms, docx ms])."""
    principal = leader(path)
    with factory() as s:
        s.info["principal"] = principal
        t0 = time.perf_counter()
        report = data.build(s, principal, SH, code, period)
        t1 = time.perf_counter()
        excel.write(report)
        t2 = time.perf_counter()
        word.write(report)
        t3 = time.perf_counter()
    return report, [(t1 - t0) * 1000, (t2 - t1) * 1000, (t3 - t2) * 1000]


def run(url: str, args: argparse.Namespace) -> None:
    engine, factory, city = prepare_city(url, SMALL_SIZE if args.smoke else FULL_SIZE)
    pg = engine.dialect.name == "postgresql"
    say(f"city: {len(city.grid_ids)} grids, {len(city.department_ids)} departments, {len(city.minors)} categories")
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.astimezone(SH).date()
    first_day = today - timedelta(days=7 * args.weeks)
    start = datetime.combine(first_day, datetime.min.time(), SH)
    days = (today - first_day).days + 1
    rng = np.random.default_rng(args.seed)
    if pg:
        pg_prepare(engine, city)
    loaded = 0
    while loaded < args.size:
        n = min(args.chunk, args.size - loaded)
        chunk = generate(rng, city, n, loaded + 1, start, days, now)
        (pg_load(engine, chunk) if pg else sqlite_load(engine, city, chunk))
        loaded += n
        say(f"  loaded {loaded:,} cases")
    with engine.begin() as conn:
        conn.execute(text(MARK_OVERDUE))
        if pg:
            conn.execute(text("SET maintenance_work_mem = '1GB'"))
            for column in REPORT_INDEXES:
                conn.execute(text(f'CREATE INDEX IF NOT EXISTS "bx_case_{column}" ON "case" ({column})'))
    if pg:
        pg_index(engine)
    all_days = [first_day + timedelta(days=k) for k in range(days)]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(args.rebuild_workers) as pool:
        list(pool.map(lambda d: facts.rebuild(factory, SH, d, d), all_days))
    say(f"facts rebuilt for {days} days in {time.perf_counter() - t0:.0f}s")
    if pg:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE indicator_fact"))
            conn.execute(text("ANALYZE indicator_grid_fact"))

    week = periods.last_complete(periods.Kind.WEEKLY, today)
    month = periods.last_complete(periods.Kind.MONTHLY, today)
    targets = [("city weekly", city.city, week), ("district weekly", city.districts[0], week),
               ("city monthly", city.city, month)]
    rows = []
    for label, area, period in targets:
        timings = []
        for _ in range(args.runs):
            report, parts = timed_report(factory, area.code, area.area_path, period)
            timings.append(parts)
        best = min(timings, key=sum)
        worst = max(sum(t) for t in timings)
        rows.append((label, f"{args.size:,}", f"{report.totals['reported']:,}", f"{best[0]:.0f} ms",
                     f"{best[1]:.0f} ms", f"{best[2]:.0f} ms", f"{sum(best) / 1000:.2f} s", f"{worst / 1000:.2f} s",
                     f"{report.overdue_open:,}"))
        say(f"  {label} ({period.label}): {sum(best) / 1000:.2f} s best of {args.runs}")
    print()
    print(f"Weekly/monthly report on {engine.dialect.name}, {len(city.grid_ids)} grids; target: city weekly < 10 s")
    print_table(rows, ("report", "cases", "in period", "figures", "xlsx", "docx+charts", "total (best)",
                       "total (worst)", "red now"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="default: a temporary PostgreSQL database")
    parser.add_argument("--size", type=int, default=1_000_000, help="cases to load")
    parser.add_argument("--weeks", type=int, default=13, help="weeks of history they are spread over")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20261130)
    parser.add_argument("--rebuild-workers", type=int, default=2, help="days rebuilt in parallel")
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP)
    args = parser.parse_args()
    if args.smoke:
        args.size, args.weeks, args.runs = 5000, 6, 1
    if args.database_url:
        run(args.database_url, args)
    elif args.smoke:
        with tempfile.TemporaryDirectory(prefix="shiyu-bench-") as tmp:
            run(f"sqlite:///{tmp}/report.db", args)
    else:
        with scratch_postgres("report") as url:
            run(url, args)


if __name__ == "__main__":
    main()
