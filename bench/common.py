"""What the benchmarks share: the demo city they run on, scratch PostgreSQL databases, and the `--smoke` size.

Every benchmark takes ``--smoke``: the same code path at a size that finishes in seconds, on a small demo
city (40 grids) copied into a scratch database when none is given. CI runs each one that way
(``tests/bench/test_bench_smoke.py``), so a benchmark that stops working fails the suite instead of rotting
until someone next wants its figures.

The small city is built once per version of the code and kept (``smoke_city``, ``smoke_sqlite``): building it
(migrations, the demo, a triage model) took 9–16 s of each smoke run's 13–62 s, the same work every time.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shiyu.core.db import make_engine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PG_SERVER = os.environ.get("SHIYU_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
SMOKE_HELP = "run at a size that finishes in seconds (what CI does), on a small demo city unless one is given"


# Runs each argv of the JSON list given as the first argument through the CLI, stopping at the first failure.
_COMMANDS = """
import json, sys
from shiyu.cli import main
for argv in json.loads(sys.argv[1]):
    try:
        main(argv)
    except SystemExit as end:
        if end.code:
            raise
"""


def run_shiyu(env: dict[str, str], *commands: Sequence[str]) -> None:
    """Run ``shiyu`` commands one after the other in one interpreter: starting one costs seconds (the
    platform's imports), which is most of what a smoke-size bench spends on its set-up. Output goes to
    stderr, so the bench's table stays alone on stdout; a failing command raises ``CalledProcessError``."""
    subprocess.run([sys.executable, "-c", _COMMANDS, json.dumps([list(c) for c in commands])], env=env, cwd=ROOT,
                   check=True, stdout=sys.stderr)


def ensure_demo(url: str, *, small: bool = False) -> str:
    """Migrate ``url`` and build the demo city into it unless it already holds one (as ``make run`` does);
    ``small``: the 40-grid city. Returns ``url``."""
    env = {**os.environ, "SHIYU_DATABASE_URL": url, "SHIYU_DEMO_MODE": "1"}
    engine = make_engine(url)
    try:
        built = inspect(engine).has_table("area") and _count(engine, "area") > 0
    finally:
        engine.dispose()
    if not built:
        print(f"building the {'small ' if small else ''}demo city into {make_url(url).render_as_string()} …",
              file=sys.stderr, flush=True)
        run_shiyu(env, ["db", "upgrade"], ["demo", "--if-absent", "--size", "small" if small else "full"])
    return url


def _count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()


def triage_storage(url: str) -> Path:
    """Where a bench's server keeps the files of ``url``'s database: beside it, so a database given again
    finds the triage model trained for it (a server that misses the file classifies nothing and is cheaper
    than a real one)."""
    return Path(tempfile.gettempdir()) / f"shiyu-bench-{make_url(url).database}" / "files"


def ensure_triage_model(url: str, env: dict[str, str]) -> str:
    """Train and activate a model from the demo's closed cases unless the database has an active one whose
    file ``env["SHIYU_STORAGE_DIR"]`` holds. Returns what the bench reports ("triage model v2, 82 classes")."""
    storage = Path(env["SHIYU_STORAGE_DIR"])
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            active = conn.execute(text("SELECT version, storage_key, labels FROM triage_model_version "
                                       "WHERE status = 'active'")).first()
        if active is None or not (storage / active.storage_key).is_file():
            run_shiyu(env, ["triage", "import-history"], ["triage", "retrain"])
            if active is not None:  # its file is elsewhere: the version just trained takes its place
                with engine.connect() as conn:
                    newest = conn.execute(text("SELECT max(version) FROM triage_model_version")).scalar_one()
                run_shiyu(env, ["triage", "activate", str(newest)])
            with engine.connect() as conn:
                active = conn.execute(text("SELECT version, storage_key, labels FROM triage_model_version "
                                           "WHERE status = 'active'")).one()
    finally:
        engine.dispose()
    return f"triage model v{active.version} active, {len(active.labels)} classes"


def code_version() -> str:
    """A digest of the platform's code, migrations and data files: a city built by other code is built anew
    (30 ms for the ~600 files; a stale cache would measure code that is gone)."""
    digest = hashlib.sha1()
    for path in sorted((ROOT / "shiyu").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@contextmanager
def smoke_sqlite() -> Iterator[str]:
    """A copy of the small demo city in a SQLite file that is removed afterwards."""
    cached = Path(tempfile.gettempdir()) / f"shiyu-bench-city-{code_version()}.db"
    with open(f"{cached}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # benches run side by side in CI: one builds, the others wait
        if not cached.exists():
            for stale in cached.parent.glob("shiyu-bench-city-*.db*"):
                if not stale.name.startswith(cached.name):
                    stale.unlink(missing_ok=True)
            building = cached.with_suffix(".building")
            building.unlink(missing_ok=True)
            ensure_demo(f"sqlite:///{building}", small=True)
            with closing(sqlite3.connect(building)) as db:  # the write-ahead log into the file, which is copied alone
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            building.rename(cached)
    with tempfile.TemporaryDirectory(prefix="shiyu-bench-") as tmp:
        shutil.copyfile(cached, f"{tmp}/smoke.db")
        yield f"sqlite:///{tmp}/smoke.db"


@contextmanager
def smoke_city(label: str, *, model: bool = False, server: str = PG_SERVER) -> Iterator[str]:
    """A scratch PostgreSQL database holding the small demo city (and, with ``model``, an active triage model
    with its file), copied from a template database kept for this version of the code; dropped afterwards."""
    template = _city_template(server, model)
    with scratch_postgres(label, server, template=template) as url:
        files = triage_storage(f"{server}/{template}")
        if model and files.is_dir():  # else (the temporary directory was cleaned) the bench trains one anew
            shutil.copytree(files, triage_storage(url), dirs_exist_ok=True)
        yield url


def _city_template(server: str, model: bool) -> str:
    """The template's name, building it first if this code has none (under an advisory lock, so that benches
    run side by side build it once; built under another name and renamed, so a half-built one is never
    copied). Templates of other code are dropped, unless one is being copied at that moment."""
    prefix = "shiyu_bench_city_model_" if model else "shiyu_bench_city_"
    name = prefix + code_version()
    admin = create_engine(f"{server.replace('postgresql://', 'postgresql+psycopg://', 1)}/postgres",
                          isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(hashtext(:n))"), {"n": name})
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None:
                _drop_stale(conn, server, prefix, model)
                building = f"{name}_building"
                conn.execute(text(f'DROP DATABASE IF EXISTS "{building}"'))
                source = f' TEMPLATE "{_city_template(server, False)}"' if model else ""
                conn.execute(text(f'CREATE DATABASE "{building}"{source}'))
                url = ensure_demo(f"{server}/{building}", small=True)
                if model:
                    storage = triage_storage(f"{server}/{name}")
                    ensure_triage_model(url, {**os.environ, "SHIYU_DATABASE_URL": url, "SHIYU_DEMO_MODE": "1",
                                              "SHIYU_STORAGE_DIR": str(storage)})
                conn.execute(text(f'ALTER DATABASE "{building}" RENAME TO "{name}"'))
            conn.execute(text("SELECT pg_advisory_unlock(hashtext(:n))"), {"n": name})
    finally:
        admin.dispose()
    return name


def _drop_stale(conn: Connection, server: str, prefix: str, model: bool) -> None:
    """Drop the templates of other code (the plain city's keeps the trained ones: those have their own)."""
    names = conn.execute(text("SELECT datname FROM pg_database WHERE starts_with(datname, :p)"), {"p": prefix})
    for (stale,) in names.all():
        if model or not stale.startswith("shiyu_bench_city_model_"):
            with suppress(DBAPIError):  # being copied by a bench of other code: dropped next time
                conn.execute(text(f'DROP DATABASE IF EXISTS "{stale}"'))
            shutil.rmtree(triage_storage(f"{server}/{stale}").parent, ignore_errors=True)


@contextmanager
def scratch_postgres(label: str, server: str = PG_SERVER, *, template: str | None = None) -> Iterator[str]:
    """An empty PostgreSQL database on ``server`` for this run (or a copy of ``template``), dropped afterwards
    with the files kept beside it (``triage_storage``: the model a bench trained for it)."""
    url = f"{server}/shiyu_bench_{label}_{os.getpid()}_{int(time.time())}"
    name = make_url(url).database
    _pg_admin(server, f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        yield url
    finally:
        _pg_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(triage_storage(url).parent, ignore_errors=True)


def _pg_admin(server: str, sql: str) -> None:
    engine = create_engine(f"{server.replace('postgresql://', 'postgresql+psycopg://', 1)}/postgres",
                           isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def print_table(rows: Sequence[Sequence[str]], header: Sequence[str] = ("workload", "size", "figure",
                                                                         "comparison")) -> None:
    """The benchmarks' table: a header line, a rule and one line per row, columns padded."""
    all_rows = [tuple(header), *[tuple(r) for r in rows]]
    widths = [max(len(str(r[i])) for r in all_rows) for i in range(len(header))]
    print("| " + " | ".join(str(c).ljust(w) for c, w in zip(all_rows[0], widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in all_rows[1:]:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
