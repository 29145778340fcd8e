"""What the benchmarks share: the demo city they run on, scratch PostgreSQL databases, and the `--smoke` size.

Every benchmark takes ``--smoke``: the same code path at a size that finishes in seconds, on a small demo
city (40 grids) built into a scratch database when none is given. CI runs each one that way
(``tests/bench/test_bench_smoke.py``), so a benchmark that stops working fails the suite instead of rotting
until someone next wants its figures.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

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


@contextmanager
def smoke_sqlite() -> Iterator[str]:
    """A small demo city in a SQLite file that is removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="shiyu-bench-") as tmp:
        yield ensure_demo(f"sqlite:///{tmp}/smoke.db", small=True)


@contextmanager
def scratch_postgres(label: str, server: str = PG_SERVER) -> Iterator[str]:
    """An empty PostgreSQL database on ``server`` for this run, dropped afterwards with the files kept beside
    it (``triage_storage``: the model a bench trained for it)."""
    url = f"{server}/shiyu_bench_{label}_{os.getpid()}_{int(time.time())}"
    name = make_url(url).database
    _pg_admin(server, f'CREATE DATABASE "{name}"')
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
