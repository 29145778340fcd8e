"""Pipeline benchmark: the work behind intake keeps up with intake (issue 19).

``python bench/pipeline.py [--smoke]`` makes its own PostgreSQL database on ``SHIYU_BENCH_POSTGRES`` (or takes
``--database-url`` holding the demo city), trains and activates a triage model from the demo's closed cases
(auto-dispatch at 0.9 unless ``--auto-threshold off``; duplicate finding always on), starts ``shiyu serve``
and two ``shiyu worker`` processes on the same machine, and measures:

a. **sustained**: reports offered through the API at ``--rate`` per second for ``--seconds`` (open loop, the
   intake bench's client): the time from each report's commit (its ``case.reported`` event) to its duplicate
   check and auto-dispatch being stored (the ``triage.case_reported`` delivery finished; the suggestions are
   written by the intake itself), p50/p95/p99, and the backlog when the offer ends, in seconds of work;
b. **drain**: the workers stopped while ``--backlog`` reports come in, then started: events per second until
   the outbox is empty, and the CPU per event (workers and PostgreSQL);
c. **failure**: one extra subscriber (``bench.flaky``, registered by this module in the bench's workers)
   raises for ``--fail-seconds`` while reports arrive at ``--fail-rate``: the other subscribers' p95 in that
   window, then, the failure over, whether every failed delivery was redelivered exactly once (its effect, an
   audit entry, is counted per event).
p. **profile** (only when asked, ``--phases p``): ``--profile-events`` reports come in with no worker running,
   then this process delivers them batch by batch (``SHIYU_OUTBOX_BATCH``) under cProfile (on the process's
   CPU clock) and prints where the time goes (the functions by own and cumulative CPU time), with the CPU
   and SQL statements per event.

Prints a table (workload | size | figure | comparison); asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import multiprocessing as mp
import os
import pstats
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from sqlalchemy import event as sa_event
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    ROOT,
    SMOKE_HELP,
    ensure_demo,
    ensure_triage_model,
    print_table,
    scratch_postgres,
    smoke_city,
    triage_storage,
)
from bench.intake import Plan, database_cpu, free_port, load, prepare, start_server, stop, tree_cpu  # noqa: E402
from shiyu.core import audit, outbox  # noqa: E402
from shiyu.platform_cli import WORKER_NICE  # noqa: E402

FLAKY = "bench.flaky"
CLEAR_WAIT = 600.0  # how long phase c waits, after the failure, for the redeliveries
FAIL_FLAG = "SHIYU_BENCH_FAIL_FLAG"  # a file: while it exists, the flaky subscriber raises
EFFECT = "bench_effect"
LOOPS = "SHIYU_BENCH_DELIVERY_LOOPS"  # delivery loops per worker process (``shiyu worker --delivery-loops``)
NICE = "SHIYU_BENCH_WORKER_NICE"  # the workers' ``shiyu worker --nice``


def _flaky(session: Any, event: Any) -> None:
    if Path(os.environ[FAIL_FLAG]).exists():
        raise RuntimeError("bench: the flaky subscriber is down")
    audit.record(session, EFFECT, "outbox_event", event.id)


if os.environ.get(FAIL_FLAG):  # imported by a worker of phase c
    outbox.subscribe("case.reported", name=FLAKY)(_flaky)


class Workers:
    """Two ``shiyu worker`` processes (delivery loop + job thread each), importing this module first."""

    def __init__(self, env: dict[str, str], log_dir: Path, count: int = 2) -> None:
        code = "import sys; import bench.pipeline; from shiyu.cli import main; main(sys.argv[1:])"
        loops, nice = env.get(LOOPS, "1"), env.get(NICE, str(WORKER_NICE))
        self.procs = [subprocess.Popen([sys.executable, "-c", code, "worker", "--workers", "1", "--delivery-loops",
                                        loops, "--nice", nice], cwd=ROOT, env=env,
                                       stdout=(log_dir / f"worker-{i}.log").open("a"), stderr=subprocess.STDOUT,
                                       start_new_session=True) for i in range(count)]

    def cpu(self) -> float:
        return sum(tree_cpu(p.pid) for p in self.procs)

    def stop(self) -> None:
        for p in self.procs:
            os.killpg(p.pid, signal.SIGINT)
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def q(conninfo: str, sql: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(conninfo) as conn:
        return conn.execute(sql, params).fetchall()


def unfinished(conninfo: str) -> int:
    """Deliveries still to make, counting an event not yet fanned out as one."""
    return q(conninfo, "SELECT (SELECT count(*) FROM outbox_delivery WHERE state = 'pending') + "
                       "(SELECT count(*) FROM outbox_event WHERE fanned_out_at IS NULL)")[0][0]


def events_left(conninfo: str) -> int:
    """Events with a delivery still to make: not yet fanned out, or with a delivery pending (events of
    every topic: the demo's own, merges, a report's; each topic has its own number of subscribers)."""
    return q(conninfo, "SELECT (SELECT count(*) FROM outbox_event WHERE fanned_out_at IS NULL) + "
                       "(SELECT count(DISTINCT event_id) FROM outbox_delivery WHERE state = 'pending')")[0][0]


def merges(conninfo: str, after: int) -> int:
    """Reports merged as exact repeats since event ``after``: a bench sending the same caller's text again
    measures merges, not the finding (the seeds once repeated that way)."""
    return q(conninfo, "SELECT count(*) FROM outbox_event WHERE topic = 'case.merge' AND id > %s", (after,))[0][0]


def deliveries_done(conninfo: str) -> int:
    return q(conninfo, "SELECT count(*) FROM outbox_delivery WHERE state = 'done'")[0][0]


def wait_drained(conninfo: str, timeout: float) -> float:
    """Seconds until nothing is left to deliver (or ``timeout``)."""
    t0 = time.monotonic()
    # One connection, and a question the first due row answers: a count of the backlog over a new connection
    # five times a second cost PostgreSQL more CPU than a tenth of the deliveries it watched.
    with psycopg.connect(conninfo, autocommit=True) as conn:
        while conn.execute("SELECT EXISTS (SELECT 1 FROM outbox_delivery WHERE state = 'pending') "
                           "OR EXISTS (SELECT 1 FROM outbox_event WHERE fanned_out_at IS NULL)").fetchone()[0] \
                and time.monotonic() - t0 < timeout:
            time.sleep(0.2)
    return time.monotonic() - t0


def last_event(conninfo: str) -> int:
    return q(conninfo, "SELECT coalesce(max(id), 0) FROM outbox_event")[0][0]


def latencies(conninfo: str, subscriber: str, after: int, until: int | None = None) -> np.ndarray:
    """Seconds from each ``case.reported`` event's commit to its delivery to ``subscriber`` (undelivered: inf)."""
    rows = q(conninfo, "SELECT CASE WHEN d.state = 'done' THEN extract(epoch FROM d.finished_at - e.created_at) "
                       "ELSE 'Infinity'::float8 END "
                       "FROM outbox_event e JOIN outbox_delivery d ON d.event_id = e.id AND d.subscriber = %s "
                       "WHERE e.topic = 'case.reported' AND e.id > %s AND e.id <= %s",
             (subscriber, after, until if until is not None else 2**62))
    return np.array([float(r[0]) for r in rows])


def nearest_rank(values: np.ndarray, p: float) -> float:
    """A percentile that is one of the values (an undelivered event is infinitely late, not interpolated)."""
    return float(np.percentile(values, p, method="higher")) if len(values) else float("inf")


def pcts(values: np.ndarray) -> str:
    if not len(values):
        return "no events"
    p50, p95, p99 = (nearest_rank(values, p) for p in (50, 95, 99))
    return f"p50 {p50:.2f} s, p95 {p95:.2f} s, p99 {p99:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None, help="a PostgreSQL database holding the demo city")
    parser.add_argument("--rate", type=float, default=200.0, help="offered reports/s (sustained)")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the sustained offer")
    parser.add_argument("--backlog", type=int, default=100_000, help="events of the drain run")
    parser.add_argument("--fail-seconds", type=float, default=600.0, help="how long the flaky subscriber raises")
    parser.add_argument("--fail-rate", type=float, default=50.0, help="offered reports/s while it raises")
    parser.add_argument("--delivery-loops", type=int, default=1,
                        help="delivery loops per worker process (``shiyu worker --delivery-loops``; 1, its default)")
    parser.add_argument("--worker-nice", type=int, default=WORKER_NICE,
                        help=f"the workers' ``shiyu worker --nice`` ({WORKER_NICE}, its default)")
    parser.add_argument("--phases", default="abc", help="which of a, b, c (and p, the profile) to run")
    parser.add_argument("--profile-events", type=int, default=400, help="reports delivered under the profiler")
    parser.add_argument("--profile-out", default=None, help="also write the profile here (pstats format)")
    parser.add_argument("--auto-threshold", default="0.9", help="auto-dispatch threshold of the workers, or 'off'")
    parser.add_argument("--backlog-by", choices=["api", "sql"], default="api",
                        help="phase b's backlog: reports through the API, or copies of the bench's earlier reports "
                             "made in SQL (fast on a busy machine; needs reports of an earlier run)")
    parser.add_argument("--drain-limit", type=float, default=3600.0,
                        help="longest drain of phase b: the rate is then that of the events delivered so far")
    parser.add_argument("--drain-wait", type=float, default=300.0,
                        help="longest wait for the backlog of phase a (what is left counts as never delivered)")
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP + " (in a scratch PostgreSQL database)")
    args = parser.parse_args()
    if args.smoke:
        args.rate, args.seconds, args.backlog, args.fail_seconds, args.fail_rate = 20.0, 2.0, 300, 2.0, 20.0
        args.profile_events = 50
    if args.database_url:
        measure(args.database_url, args)
        return
    if args.smoke:
        with smoke_city("pipeline", model=True) as url:
            measure(url, args)
        return
    with scratch_postgres("pipeline") as url:
        measure(ensure_demo(url), args)


def measure(url: str, args: argparse.Namespace) -> None:
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    tmp = Path(tempfile.mkdtemp(prefix="shiyu-pipeline-"))
    flag = tmp / "fail"
    storage = triage_storage(url)  # the workers' jobs.db goes beside it
    # Retries at most 10 s apart, so that phase c's redeliveries follow soon after the failure ends, and 100
    # of them (~16 min), so that none parks during its 10 minutes (with 5 s they ran out after 8).
    env = {**os.environ, "SHIYU_DATABASE_URL": url, "SHIYU_DEMO_MODE": "1", "SHIYU_STORAGE_DIR": str(storage),
           "SHIYU_OUTBOX_BACKOFF_MAX_SECONDS": "10", "SHIYU_OUTBOX_MAX_ATTEMPTS": "100", "PYTHONPATH": str(ROOT),
           LOOPS: str(args.delivery_loops), NICE: str(args.worker_nice)}
    if args.auto_threshold != "off":
        env["SHIYU_TRIAGE_AUTO_THRESHOLD"] = args.auto_threshold
    else:
        env.pop("SHIYU_TRIAGE_AUTO_THRESHOLD", None)
    os.environ["SHIYU_STORAGE_DIR"] = env["SHIYU_STORAGE_DIR"]
    model = ensure_triage_model(url, env)
    categories, points = prepare(url)
    port = free_port()
    server = start_server(url, 1 if args.smoke else 2, port, tmp / "server.log")
    plan = Plan(f"http://127.0.0.1:{port}", categories, points)
    rows: list[tuple[str, str, str, str]] = []
    try:
        with mp.get_context("spawn").Pool(2) as pool:
            if "a" in args.phases:
                rows += sustained(pool, plan, conninfo, env, tmp, args)
            if "b" in args.phases:
                rows += drain(pool, plan, conninfo, env, tmp, args)
            if "c" in args.phases:
                rows += failure(pool, plan, conninfo, {**env, FAIL_FLAG: str(flag)}, tmp, flag, args)
            if "p" in args.phases:
                rows += profile(pool, plan, conninfo, env, args)
    finally:
        stop(server)
        shutil.rmtree(tmp, ignore_errors=True)  # the server's and workers' logs
    print_table(rows)
    print(f"{model}; {os.cpu_count()} CPUs; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"autovacuum {q(conninfo, 'SHOW autovacuum')[0][0]} (off: the statistics are the demo build's, "
          "the reports of the run are not in them)")


def sustained(pool: Any, plan: Plan, conninfo: str, env: dict[str, str], tmp: Path,
              args: argparse.Namespace) -> list[tuple[str, str, str, str]]:
    workers = Workers(env, tmp)
    try:
        time.sleep(3)  # the workers have started and drained what was there
        wait_drained(conninfo, 60)
        first = last_event(conninfo)
        offered = load(pool, plan, "paced", 2, args.seconds, 0, args.rate)
        backlog = unfinished(conninfo)
        cleared = wait_drained(conninfo, args.drain_wait)
    finally:
        workers.stop()
    drained = f"cleared in {cleared:.1f} s" if cleared < args.drain_wait else \
        f"{unfinished(conninfo)} left after {cleared:.0f} s"
    dup = latencies(conninfo, "triage.case_reported", first)
    facts = latencies(conninfo, "indicators.mark_dirty", first)
    p95, p99 = nearest_rank(dup, 95), nearest_rank(dup, 99)
    size = f"{args.rate:.0f}/s offered for {args.seconds:.0f} s, {offered['ok']} reports, 2 workers"
    return [
        ("a. sustained: commit -> duplicates + auto-dispatch", size, pcts(dup),
         f"target p95 <= 5 s, p99 <= 15 s: {'met' if p95 <= 5 and p99 <= 15 else 'MISSED'}"),
        ("a. sustained: commit -> indicator marks", size, pcts(facts), "same events"),
        ("a. sustained: backlog when the offer ended", f"{backlog} deliveries", drained,
         f"target <= 5 s of work: {'met' if cleared <= 5 else 'MISSED'}"),
        ("a. sustained: intake answers", size, f"p50 {offered['p50']:.0f} ms, p99 {offered['p99']:.0f} ms",
         f"errors {offered['errors'] or 'none'}"),
    ]


def drain(pool: Any, plan: Plan, conninfo: str, env: dict[str, str], tmp: Path,
          args: argparse.Namespace) -> list[tuple[str, str, str, str]]:
    first = last_event(conninfo)
    while last_event(conninfo) - first < args.backlog:  # no workers: the backlog builds up
        if args.backlog_by == "sql":
            copy_reports(conninfo, min(5000, args.backlog - (last_event(conninfo) - first)))
        else:
            load(pool, plan, "sustained", 2, 1.0 if args.smoke else 20.0, 8, 0)
    # What is left from phase a counts too.
    events, delivered_before = events_left(conninfo), deliveries_done(conninfo)
    db_before = database_cpu(conninfo)
    workers = Workers(env, tmp)
    try:
        elapsed = wait_drained(conninfo, args.drain_limit)
        cpu = workers.cpu()
        db_cpu = database_cpu(conninfo) - db_before  # backends that ended are missed: a slight under-count
        done = events - events_left(conninfo)  # a limited drain counts what it delivered
        deliveries = deliveries_done(conninfo) - delivered_before
    finally:
        workers.stop()
    rate = done / elapsed
    left = "" if done == events else f", stopped after {args.drain_limit:.0f} s with {events - done} events left"
    return [
        ("b. drain: backlog of outbox events", f"{events} events ({merges(conninfo, first)} exact repeats merged), "
                                               "2 workers",
         f"{rate:.0f} events/s ({done} events, {deliveries} deliveries in {elapsed:.1f} s{left})",
         f"target >= 500 events/s: {'met' if rate >= 500 else 'MISSED'}"),
        ("b. drain: CPU per event", "workers (incl. start-up) + PostgreSQL",
         f"{1000 * cpu / max(done, 1):.2f} ms + {1000 * db_cpu / max(done, 1):.2f} ms",
         f"{os.cpu_count()} CPUs: at most {os.cpu_count() * done / max(cpu + db_cpu, 1e-9):.0f} events/s idle"),
    ]


def copy_reports(conninfo: str, count: int) -> None:
    """``count`` new reported cases, each a copy of one of the API's earlier unregistered reports (its text,
    place and suggestions; another caller's phone hash) reported now, with its ``case.reported`` event: what
    a subscriber reads of a report, made in three statements instead of an intake each."""
    columns = [r[0] for r in q(conninfo, "SELECT column_name FROM information_schema.columns "
                                         "WHERE table_name = 'case' AND column_name <> 'id' ORDER BY ordinal_position")]
    fresh = {"tracking_code": "upper(substr(md5(random()::text), 1, 16))",
             "idempotency_key": "'copy-' || s.id || '-' || md5(random()::text)",
             # another caller each (the bench's callers have random numbers): a copy is no exact repeat
             "reporter_phone_hash": "md5(random()::text) || md5(random()::text)",
             "reported_at": "clock_timestamp()", "created_at": "clock_timestamp()", "updated_at": "clock_timestamp()",
             "last_action_at": "clock_timestamp()", "version": "1"}
    exprs = ", ".join(fresh.get(c, f's."{c}"') for c in columns)
    names = ", ".join(f'"{c}"' for c in columns)
    with psycopg.connect(conninfo) as conn:
        made = conn.execute(
            f'INSERT INTO "case" ({names}) SELECT {exprs} FROM (SELECT c.* FROM "case" c '
            "JOIN triage_case_suggestion t ON t.case_id = c.id AND t.auto_action IS NOT NULL "
            "WHERE c.state = 'reported' AND c.idempotency_key NOT LIKE 'copy-%%' ORDER BY random() LIMIT %s) s "
            "RETURNING id, split_part(idempotency_key, '-', 2)::int", (count,)).fetchall()
        new, source = [m[0] for m in made], [m[1] for m in made]
        conn.execute("INSERT INTO triage_case_suggestion (case_id, area_path, model_version_id, model_version, "
                     "suggestions, created_at) SELECT m.new, t.area_path, t.model_version_id, t.model_version, "
                     "t.suggestions, clock_timestamp() FROM unnest(%s::int[], %s::int[]) AS m(new, src) "
                     "JOIN triage_case_suggestion t ON t.case_id = m.src", (new, source))
        conn.execute("INSERT INTO outbox_event (topic, aggregate, aggregate_id, area_path, actor_id, payload, "
                     "created_at) SELECT e.topic, e.aggregate, m.new, e.area_path, e.actor_id, "
                     "(e.payload::jsonb || jsonb_build_object('case_id', m.new, 'tracking_code', c.tracking_code))"
                     "::json, clock_timestamp() FROM unnest(%s::int[], %s::int[]) AS m(new, src) "
                     "JOIN outbox_event e ON e.topic = 'case.reported' AND e.aggregate_id = m.src "
                     'JOIN "case" c ON c.id = m.new ORDER BY m.new', (new, source))


def failure(pool: Any, plan: Plan, conninfo: str, env: dict[str, str], tmp: Path, flag: Path,
            args: argparse.Namespace) -> list[tuple[str, str, str, str]]:
    flag.touch()
    workers = Workers(env, tmp)
    try:
        time.sleep(3)
        first = last_event(conninfo)
        offered = load(pool, plan, "paced", 2, args.fail_seconds, 0, args.fail_rate)
        last = last_event(conninfo)
        flag.unlink()
        cleared = wait_drained(conninfo, CLEAR_WAIT)
        others = latencies(conninfo, "triage.case_reported", first, last)  # their times, read once delivered
        parked = q(conninfo, "SELECT count(*) FROM outbox_delivery WHERE state = 'parked'")[0][0]
    finally:
        workers.stop()
    failed = q(conninfo, "SELECT count(*) FROM outbox_delivery WHERE subscriber = %s AND attempts > 1", (FLAKY,))[0][0]
    effects = q(conninfo, "SELECT d.event_id, count(a.id) FROM outbox_delivery d LEFT JOIN audit_entry a "
                          "ON a.action = %s AND a.object_id = d.event_id::text WHERE d.subscriber = %s "
                          "GROUP BY d.event_id", (EFFECT, FLAKY))
    once = sum(1 for _e, n in effects if n == 1)
    twice = sum(1 for _e, n in effects if n > 1)  # a double effect; a 0 is a delivery still waiting
    p95 = nearest_rank(others, 95)
    size = f"{args.fail_rate:.0f}/s for {args.fail_seconds:.0f} s, {offered['ok']} reports"
    return [
        ("c. failure: other subscribers while one raises", size, pcts(others),
         f"target p95 <= 5 s: {'met' if p95 <= 5 else 'MISSED'}"),
        ("c. failure: redelivered after the failure", f"{failed} failed deliveries, {parked} parked",
         f"{once} of {len(effects)} took effect exactly once, {twice} more than once, "
         f"{len(effects) - once - twice} not yet; "
         + (f"cleared in {cleared:.1f} s" if cleared < CLEAR_WAIT else f"not cleared in {CLEAR_WAIT:.0f} s"),
         f"target every one once: {'met' if once == len(effects) and not parked else 'MISSED'}"),
    ]


def profile(pool: Any, plan: Plan, conninfo: str, env: dict[str, str],
            args: argparse.Namespace) -> list[tuple[str, str, str, str]]:
    """Deliver a backlog of ``--profile-events`` reports in this process, configured as a worker is."""
    from shiyu import domains
    from shiyu.core.config import Settings
    from shiyu.core.jobs import build_queue

    first = last_event(conninfo)
    while q(conninfo, "SELECT count(*) FROM outbox_event WHERE id > %s AND topic = 'case.reported'",
            (first,))[0][0] < args.profile_events:
        load(pool, plan, "paced", 1, 2.0, 0, args.profile_events / 2)
    settings = Settings(**{k[len("SHIYU_"):].lower(): v for k, v in env.items()
                           if k.startswith("SHIYU_") and k[len("SHIYU_"):].lower() in Settings.model_fields})
    domains.install()  # the subscribers and their settings, as ``shiyu worker`` has them
    factory = build_queue(settings, configure=domains.configure).context().session_factory
    statements = [0]

    def count(*_args: Any) -> None:
        statements[0] += 1

    sa_event.listen(factory.kw["bind"], "before_cursor_execute", count)
    deliveries = unfinished(conninfo)
    # The profiler's clock is this process's CPU: on a shared machine, wall time mostly measures the others.
    profiler, cpu0 = cProfile.Profile(time.process_time), time.process_time()
    profiler.enable()
    while outbox.deliver_batch(factory, batch=settings.outbox_batch).work:
        pass
    profiler.disable()
    cpu = time.process_time() - cpu0
    if args.profile_out:
        profiler.dump_stats(args.profile_out)
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(30)
        print(out.getvalue(), file=sys.stderr)
    reported = q(conninfo, "SELECT count(*) FROM outbox_event WHERE id > %s AND topic = 'case.reported'",
                 (first,))[0][0]
    dispatched = q(conninfo, "SELECT count(*) FROM triage_case_suggestion s JOIN outbox_event e "
                             "ON e.aggregate_id = s.case_id AND e.topic = 'case.reported' "
                             "WHERE e.id > %s AND s.auto_action = 'dispatched'",
                   (first,))[0][0]
    size = f"{reported} case.reported events ({deliveries} deliveries to make), batch {settings.outbox_batch}"
    return [
        ("p. profile: CPU per event (under cProfile)", size, f"{1000 * cpu / reported:.1f} ms",
         f"{dispatched} auto-dispatched"),
        ("p. profile: SQL statements per event", size, f"{statements[0] / reported:.1f}", "the profile: stderr"),
    ]


if __name__ == "__main__":
    main()
