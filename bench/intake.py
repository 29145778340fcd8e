"""Intake benchmark: ``python bench/intake.py --database-url postgresql+psycopg://… [--server-workers 2]``.

Issue 3 asks for at least 500 cases/s sustained on the 2-core machine and p99 under 100 ms at 200 cases/s.
The database must hold a city (``SHIYU_DEMO_MODE=1 shiyu db upgrade && shiyu demo``); when it has no
categories the default tree is seeded. The run:

1. starts ``shiyu serve --workers N`` on a free loopback port (demo mode, access log as in production);
2. **sustained**: client processes (multiprocessing, a minimal keep-alive HTTP/1.1 client — httpx cost
   more CPU per request than the intake itself — 32 requests in flight each, enough to keep the server
   saturated) log in once as the hotline operator (the whole city) and post cases with fresh idempotency
   keys at points inside the grids, as fast as answers come back;
3. **paced**: the same clients offer a fixed rate, open loop — each request has its planned send time and
   its latency is counted from that instant, so a stalled server cannot hide its queue (coordinated
   omission);
4. **ceiling**: the same processes insert the rows one intake writes (copied from a case the API just made:
   the case, its timeline entry, its outbox event, the audit rows) through the same driver (psycopg), one
   transaction per case, as fast as PostgreSQL takes them. The API commits the reports that arrive
   together in one transaction (``shiyu.cases.intake.writer``), so under load it can pass this figure.

Prints a table (workload | size | figure | comparison), the rows written per case by table, the CPU one
case costs in the server, in PostgreSQL and in the load generator, and the load average; asserts nothing.
Latency is counted by the client from each request's planned send; the app's own share of it comes from
the ``Server-Timing`` header of each answer, so a stall outside the app (the client, the machine) shows as
the difference.
On a shared machine the rates depend on what else runs (the load average says how much); the CPU per
case does not, and bounds the rate an idle machine could reach.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing as mp
import os
import random
import resource
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psycopg
import shapely
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import SMOKE_HELP, ensure_triage_model, smoke_city, triage_storage  # noqa: E402
from shiyu.cases.categories.models import Category  # noqa: E402
from shiyu.cases.categories.seed import seed_categories  # noqa: E402
from shiyu.core.db import make_engine, make_session_factory  # noqa: E402
from shiyu.core.scoping import Principal  # noqa: E402
from shiyu.org.areas.lookup import load_index  # noqa: E402

USERNAME, PASSWORD = "demo_hotline", "Demo@2026"
DESCRIPTIONS = ["人行道上有流动摊贩占道经营", "小区门口垃圾堆放多日无人清理", "路灯不亮已经三天", "楼下餐馆油烟扰民",
                "井盖破损有安全隐患", "邻居装修噪音影响休息"]
# Callers give an address, as on the hotline: repeat finding then looks earlier cases up by it too.
ROADS = ["幸福路", "湖滨南路", "莲前西路", "嘉禾路", "厦禾路", "思明南路", "湖光路", "仙岳路", "吕岭路", "环岛路"]


@dataclass
class Plan:
    """What every client needs: where to post, which categories and points to use."""

    base_url: str
    categories: list[int]
    points: list[tuple[float, float]]


def prepare(url: str, count: int = 1000) -> tuple[list[int], list[tuple[float, float]]]:
    """Selectable categories without required fields (seeding the default tree if there is none) and
    points inside the grids (a point on each grid's surface, so every one is inside by construction)."""
    engine = make_engine(url)
    try:
        if not inspect(engine).has_table("area"):
            raise SystemExit(f"{url} has no schema: run `shiyu db upgrade` and `shiyu demo` first")
        with make_session_factory(engine)() as s:
            s.info["principal"] = Principal.system("bench")
            if not s.scalar(select(func.count()).select_from(Category)):
                seed_categories(s)
                s.commit()
            categories = [c.id for c in s.scalars(select(Category).order_by(Category.id))
                          if c.selectable and not any(f.get("required") for f in c.fields or [])]
            index = load_index(s)
        if not len(index) or not categories:
            raise SystemExit(f"{url} has no grids or no usable categories: run `shiyu demo` first")
        grids = [r.geometry for r in index.records]
        chosen = random.Random(1).sample(grids, min(count, len(grids)))
        points = [(round(p.x, 6), round(p.y, 6)) for p in shapely.point_on_surface(chosen)]
        return categories, points
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, workers: int, port: int, log: Path) -> subprocess.Popen:
    env = {"SHIYU_STORAGE_DIR": str(triage_storage(url)), **os.environ, "SHIYU_DATABASE_URL": url,
           "SHIYU_DEMO_MODE": "1"}
    command = [sys.executable, "-c", "import sys; from shiyu.cli import main; main(sys.argv[1:])",
               "serve", "--workers", str(workers), "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 180  # a warm-up (model, tokenizer, reference data) on a busy machine
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited: see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop(server)  # not left running (and holding a core) after the bench gave up on it
    raise SystemExit(f"the server did not answer within 180 s: see {log}")


def stop(server: subprocess.Popen) -> None:
    """SIGTERM lets uvicorn finish requests in flight; a server stuck on them is killed after 15 s."""
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def body(plan: Plan, rng: random.Random) -> dict[str, Any]:
    lon, lat = rng.choice(plan.points)
    return {"idempotency_key": uuid.uuid4().hex, "channel": "hotline", "category_id": rng.choice(plan.categories),
            "description": rng.choice(DESCRIPTIONS), "location": {"lon": lon, "lat": lat},
            "address": f"{rng.choice(ROADS)}{rng.randrange(1, 1000)}号",
            "reporter": {"name": "来电群众", "phone": f"139{rng.randrange(10**8):08d}"}}


class Connection:
    """One keep-alive HTTP/1.1 connection speaking just enough of the protocol to post JSON and read the
    answer (status, ``Content-Length`` body). A load generator must cost far less than the server it
    measures, and both share the same two cores here: httpx spent 2.8 ms of CPU per request, more than
    the intake itself should; this spends about a tenth of that."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, token: str) -> None:
        self.reader, self.writer = reader, writer
        self.last_used = time.monotonic()
        self.head = (f"POST /api/v1/cases HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                     f"Authorization: Bearer {token}\r\nContent-Length: ")

    @classmethod
    async def open(cls, base_url: str, token: str) -> Connection:
        url = httpx.URL(base_url)
        reader, writer = await asyncio.open_connection(url.host, url.port)
        return cls(reader, writer, f"{url.host}:{url.port}", token)

    async def post(self, body: bytes) -> tuple[int, float]:
        """The answer's status and the app's own time for it in ms (its ``Server-Timing`` header)."""
        self.writer.write(f"{self.head}{len(body)}\r\n\r\n".encode() + body)
        status = int((await self.reader.readline()).split(b" ", 2)[1])
        length, app_ms = None, float("nan")
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"server-timing":
                app_ms = float(value.split(b"dur=")[1])
        if length is None:
            raise ConnectionError("answer without Content-Length")
        await self.reader.readexactly(length)
        self.last_used = time.monotonic()
        return status, app_ms

    def close(self) -> None:
        self.writer.close()


class Pool:
    """At most ``size`` connections in use; idle ones are reused, one that timed out or failed is dropped
    (its slot opens a fresh connection next time), and so is one idle for longer than the server keeps it
    (uvicorn closes a keep-alive connection after 5 idle seconds)."""

    MAX_IDLE = 4.0

    def __init__(self, base_url: str, token: str, size: int) -> None:
        self.base_url, self.token = base_url, token
        self.slots = asyncio.Semaphore(size)
        self.idle: list[Connection] = []

    async def acquire(self) -> Connection:
        await self.slots.acquire()
        try:
            while self.idle:
                conn = self.idle.pop()
                if time.monotonic() - conn.last_used < self.MAX_IDLE:
                    return conn
                conn.close()
            return await Connection.open(self.base_url, self.token)
        except BaseException:
            self.slots.release()
            raise

    def release(self, conn: Connection, healthy: bool) -> None:
        if healthy:
            self.idle.append(conn)
        else:
            conn.close()
        self.slots.release()

    def close(self) -> None:
        for conn in self.idle:
            conn.close()


async def _client_run(plan: Plan, mode: str, seconds: float, in_flight: int, rate: float, slot: int,
                      clients: int, start_at: float) -> dict[str, Any]:
    # A pool's worker process serves every run of a bench: seeded by its pid alone, each run would send the
    # reports of the one before (same caller, same text), and the duplicate finder would merge them all.
    rng = random.Random(f"{os.getpid()} {start_at}")
    # The client imported SQLAlchemy, shapely and numpy with this module: a full garbage collection walking
    # all of that paused it for 100-300 ms, and every request in flight was counted that much slower.
    gc.collect()
    gc.freeze()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = usage.ru_utime + usage.ru_stime
    r = httpx.post(f"{plan.base_url}/api/v1/auth/token", json={"username": USERNAME, "password": PASSWORD})
    r.raise_for_status()
    # Paced: enough connections that a slow answer never delays a planned send behind the client's pool.
    pool = Pool(plan.base_url, r.json()["access_token"], in_flight if mode == "sustained" else 64)
    # Paced: an answer later than 10 s after its planned send counts as a failure (an overloaded server
    # would otherwise stretch the run by its whole backlog); it shows up in the error counts.
    timeout = 30 if mode == "sustained" else 10
    latencies: list[float] = []
    app_times: list[float] = []
    errors: dict[int | str, int] = {}
    await asyncio.sleep(max(0.0, start_at - time.time()))
    t0 = time.perf_counter()

    async def post(planned: float) -> None:
        try:
            conn = await pool.acquire()
        except OSError as exc:
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            return
        healthy = False
        try:
            data = json.dumps(body(plan, rng), ensure_ascii=False).encode()
            outcome, app_ms = await asyncio.wait_for(conn.post(data), planned + timeout - time.perf_counter())
            healthy = True
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError, IndexError) as exc:
            outcome = type(exc).__name__
        finally:
            pool.release(conn, healthy)
        if outcome == 201:
            latencies.append(time.perf_counter() - planned)
            app_times.append(app_ms)
        else:
            errors[outcome] = errors.get(outcome, 0) + 1

    if mode == "sustained":
        async def loop() -> None:
            while time.perf_counter() - t0 < seconds:
                await post(time.perf_counter())

        await asyncio.gather(*(loop() for _ in range(in_flight)))
    else:
        interval = clients / rate
        pending = []
        k = 0
        while (planned := t0 + (k + slot / clients) * interval) < t0 + seconds:
            await asyncio.sleep(max(0.0, planned - time.perf_counter()))
            pending.append(asyncio.create_task(post(planned)))
            k += 1
        await asyncio.gather(*pending)
    elapsed = time.perf_counter() - t0
    pool.close()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"latencies": latencies, "app_times": app_times, "errors": errors, "elapsed": elapsed,
            "cpu": usage.ru_utime + usage.ru_stime - cpu_before}


def client_run(args: tuple) -> dict[str, Any]:
    return asyncio.run(_client_run(*args))


def load(pool: Any, plan: Plan, mode: str, clients: int, seconds: float, in_flight: int,
         rate: float) -> dict[str, Any]:
    start_at = time.time() + 3.0  # every client has logged in (argon2) before the clock starts
    runs = pool.map(client_run, [(plan, mode, seconds, in_flight, rate, i, clients, start_at)
                                 for i in range(clients)])
    latencies = np.array([x for r in runs for x in r["latencies"]]) * 1000
    errors: dict[int | str, int] = {}
    for r in runs:
        for code, n in r["errors"].items():
            errors[code] = errors.get(code, 0) + n
    elapsed = max(r["elapsed"] for r in runs)
    app_times = np.array([x for r in runs for x in r["app_times"]])

    def pct(values: np.ndarray, q: float) -> float:
        return float(np.percentile(values, q)) if len(values) else float("nan")

    return {"ok": len(latencies), "rate": len(latencies) / elapsed, "elapsed": elapsed, "errors": errors,
            "p50": pct(latencies, 50), "p99": pct(latencies, 99), "app_p99": pct(app_times, 99),
            "cpu": sum(r["cpu"] for r in runs)}


def progress(name: str, result: dict[str, Any]) -> None:
    """One line as each run ends, so a run that goes wrong later still leaves its figures."""
    print(f"{name}: {result['rate']:.0f} cases/s, p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms "
          f"(in the app {result['app_p99']:.1f} ms), errors {result['errors']}, client CPU {result['cpu']:.1f} s",
          flush=True)


def tree_cpu(root: int) -> float:
    """CPU seconds used so far by a process and its live descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry.name)] = fields
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            total += (int(stats[pid][11]) + int(stats[pid][12])) / os.sysconf("SC_CLK_TCK")
        todo += children.get(pid, [])
    return total


def database_cpu(conninfo: str) -> float:
    """CPU seconds used so far by the PostgreSQL backends connected to the bench database (same host)."""
    with psycopg.connect(conninfo) as conn:
        pids = [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]
    return sum(tree_cpu(pid) for pid in pids)


def table_counts(conninfo: str) -> dict[str, int]:
    with psycopg.connect(conninfo) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")]
        return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


@dataclass
class Template:
    """The rows one intake wrote, as (table, columns, values), with where the case's id goes."""

    case_columns: list[str]
    case_values: list[Any]
    children: list[tuple[str, list[str], list[Any], str | None]]


def _row(conn: psycopg.Connection, table: str, where: str, params: tuple) -> list[tuple[list[str], list[Any]]]:
    cur = conn.execute(f'SELECT * FROM "{table}" WHERE {where} ORDER BY id', params)
    columns = [d.name for d in cur.description]
    return [(columns, list(values)) for values in cur.fetchall()]


def template(conninfo: str) -> Template:
    """The newest case the API made and the rows written with it: timeline, outbox, audit entries."""
    with psycopg.connect(conninfo) as conn:
        case_id = conn.execute('SELECT max(id) FROM "case"').fetchone()[0]
        (case_columns, case_values), = _row(conn, "case", "id = %s", (case_id,))
        children = []
        for table, where, link in [("case_event", "case_id = %s", "case_id"),
                                   ("outbox_event", "aggregate = 'case' AND aggregate_id = %s", "aggregate_id"),
                                   ("audit_entry", "object_type = 'case' AND object_id = %s::text", "object_id"),
                                   ("audit_entry", "object_type = 'case_event' AND object_id IN "
                                    "(SELECT id::text FROM case_event WHERE case_id = %s)", None)]:
            if not conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0]:
                continue
            children += [(table, cols, vals, link) for cols, vals in _row(conn, table, where, (case_id,))]
        return Template(case_columns, case_values, children)


def _insert_sql(table: str, columns: list[str]) -> str:
    kept = [c for c in columns if c != "id"]
    return (f'INSERT INTO "{table}" ({", ".join(f"{chr(34)}{c}{chr(34)}" for c in kept)}) '
            f'VALUES ({", ".join(["%s"] * len(kept))})')


ARRAY_COLUMNS = {"search_grams"}  # text[] on PostgreSQL; every other list or dict value is JSON


def _adapt(column: str, value: Any) -> Any:
    if column in ARRAY_COLUMNS:
        return value
    return psycopg.types.json.Jsonb(value) if isinstance(value, (dict, list)) else value


def raw_run(args: tuple) -> dict[str, Any]:
    conninfo, t, seconds, start_at = args
    case_sql = _insert_sql("case", t.case_columns) + " RETURNING id"
    case_index = {c: i for i, c in enumerate(c for c in t.case_columns if c != "id")}
    case_values = [_adapt(c, v) for c, v in zip(t.case_columns, t.case_values, strict=True) if c != "id"]
    children = [(_insert_sql(table, cols), [_adapt(c, v) for c, v in zip(cols, vals, strict=True) if c != "id"],
                 [c for c in cols if c != "id"].index(link) if link else None, link == "object_id")
                for table, cols, vals, link in t.children]
    latencies = []
    with psycopg.connect(conninfo) as conn:
        time.sleep(max(0.0, start_at - time.time()))
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            started = time.perf_counter()
            values = list(case_values)
            values[case_index["idempotency_key"]] = uuid.uuid4().hex
            values[case_index["tracking_code"]] = secrets.token_hex(7).upper()
            with conn.transaction():
                case_id = conn.execute(case_sql, values).fetchone()[0]
                for sql, vals, link, as_text in children:
                    row = list(vals)
                    if link is not None:
                        row[link] = str(case_id) if as_text else case_id
                    conn.execute(sql, row)
            latencies.append(time.perf_counter() - started)
        elapsed = time.perf_counter() - t0
    return {"latencies": latencies, "elapsed": elapsed}


def raw_load(pool: Any, conninfo: str, t: Template, clients: int, seconds: float) -> dict[str, Any]:
    start_at = time.time() + 1.0
    runs = pool.map(raw_run, [(conninfo, t, seconds, start_at) for _ in range(clients)])
    latencies = np.array([x for r in runs for x in r["latencies"]]) * 1000
    elapsed = max(r["elapsed"] for r in runs)
    return {"ok": len(latencies), "rate": len(latencies) / elapsed, "p50": float(np.percentile(latencies, 50)),
            "p99": float(np.percentile(latencies, 99))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("SHIYU_DATABASE_URL"), required=False)
    parser.add_argument("--server-workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    # Little's law: a closed loop carries at most (requests in flight) / (latency). With 16 in flight in all
    # and 30 ms per answer it cannot pass ~530 cases/s whatever the server could take, so it measures
    # latency, not capacity; 64 in flight (two clients) keep the server saturated.
    parser.add_argument("--in-flight", type=int, default=32, help="requests in flight per client (sustained)")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=200.0, help="offered cases/s of the paced run")
    parser.add_argument("--skip-raw", action="store_true")
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP + " (in a scratch PostgreSQL database)")
    args = parser.parse_args()
    if args.smoke:
        args.server_workers, args.clients, args.in_flight, args.seconds, args.rate = 1, 1, 4, 1.0, 20.0
        if not args.database_url:
            with smoke_city("intake", model=True) as url:
                measure(url, args)
            return
    if not args.database_url or not args.database_url.startswith("postgresql"):
        raise SystemExit("give a PostgreSQL --database-url (or SHIYU_DATABASE_URL) holding the demo city")
    measure(args.database_url, args)


def measure(url: str, args: argparse.Namespace) -> None:
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    storage = os.environ.get("SHIYU_STORAGE_DIR", str(triage_storage(url)))
    model = ensure_triage_model(url, {**os.environ, "SHIYU_DATABASE_URL": url, "SHIYU_DEMO_MODE": "1",
                                      "SHIYU_STORAGE_DIR": storage})
    load_before = os.getloadavg()
    categories, points = prepare(url)
    port = free_port()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-intake-server-{port}.log"
    server = start_server(url, args.server_workers, port, log)
    rows: list[tuple[str, str, str, str]] = []
    try:
        plan = Plan(f"http://127.0.0.1:{port}", categories, points)
        with mp.get_context("spawn").Pool(args.clients) as pool:
            warm_up = 0.5 if args.smoke else 3.0
            load(pool, plan, "sustained", args.clients, warm_up, args.in_flight, 0)  # warm-up: caches, pools
            before = table_counts(conninfo)
            cpu_before = tree_cpu(server.pid), database_cpu(conninfo)
            sustained = load(pool, plan, "sustained", args.clients, args.seconds, args.in_flight, 0)
            # Backends opened during the run are missed before and counted whole after: a slight over-count.
            server_cpu, db_cpu = tree_cpu(server.pid) - cpu_before[0], database_cpu(conninfo) - cpu_before[1]
            after = table_counts(conninfo)
            progress("sustained", sustained)
            paced = load(pool, plan, "paced", args.clients, args.seconds, 0, args.rate)
            progress("paced", paced)
            raw = None if args.skip_raw else raw_load(pool, conninfo, template(conninfo), args.clients, args.seconds)
    finally:
        stop(server)
    load_after = os.getloadavg()
    size = f"{args.server_workers} server workers, {args.clients} clients"
    rows.append(("sustained (closed loop)", f"{size} x {args.in_flight} in flight, {sustained['elapsed']:.0f} s",
                 f"{sustained['rate']:.0f} cases/s, p50 {sustained['p50']:.1f} ms, p99 {sustained['p99']:.1f} ms",
                 f"target >= 500 cases/s: {'met' if sustained['rate'] >= 500 else 'MISSED'}"))
    rows.append((f"paced {args.rate:.0f}/s (open loop)", f"{size}, {paced['elapsed']:.0f} s",
                 f"{paced['rate']:.0f} cases/s, p50 {paced['p50']:.1f} ms, p99 {paced['p99']:.1f} ms",
                 f"target p99 < 100 ms: {'met' if paced['p99'] < 100 else 'MISSED'}"))
    rows.append((f"paced {args.rate:.0f}/s, time in the app", "Server-Timing of the same answers",
                 f"p99 {paced['app_p99']:.1f} ms", "the rest is queueing, network and the machine"))
    if raw is not None:
        rows.append(("raw INSERT, psycopg (ceiling)", f"{args.clients} connections, one transaction per case",
                     f"{raw['rate']:.0f} cases/s, p50 {raw['p50']:.2f} ms, p99 {raw['p99']:.2f} ms",
                     f"API reaches {100 * sustained['rate'] / raw['rate']:.0f} % of it"))
    widths = [max(len(r[i]) for r in rows + [("workload", "size", "figure", "comparison")]) for i in range(4)]
    for r in [("workload", "size", "figure", "comparison"), tuple("-" * w for w in widths), *rows]:
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    made = sustained["ok"] or 1
    grown = {t: after[t] - before.get(t, 0) for t in after if after[t] != before.get(t, 0)}
    print("\nrows per case: " + ", ".join(f"{t} {n / made:.2f}" for t, n in sorted(grown.items())))
    errors = {**sustained["errors"], **paced["errors"]}
    if errors:
        print(f"non-201 answers: {errors}")
    made_ms = 1000 / made
    per_case = (server_cpu + db_cpu + sustained["cpu"]) * made_ms
    print(f"CPU per case in the sustained run: server {server_cpu * made_ms:.1f} ms, PostgreSQL {db_cpu * made_ms:.1f} "
          f"ms, load generator {sustained['cpu'] * made_ms:.1f} ms; {os.cpu_count()} CPUs, so at most "
          f"{os.cpu_count() * 1000 / per_case:.0f} cases/s on an otherwise idle machine")
    print(f"{model}: every report is classified in its request (suggestions stored with the case)")
    print(f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}; server log {log}")


if __name__ == "__main__":
    main()
