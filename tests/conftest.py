"""Test harness: every database test runs on SQLite and, when ``SHIYU_TEST_POSTGRES_URL`` is set (CI sets
it), on PostgreSQL too. Each xdist worker gets its own databases, migrated with Alembic once per session;
each test starts from empty tables."""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from xdist.scheduler import LoadScopeScheduling

from shiyu.core import migrate, pii
from shiyu.core.config import Settings
from shiyu.core.db import Base, make_engine, make_session_factory
from shiyu.core.scoping import Principal
from shiyu.org.identity import passwords

# The suite decides every setting itself: a developer's or make's SHIYU_* (e.g. SHIYU_DEMO_MODE=1 for `make run`)
# must not turn production-mode tests into demo-mode ones. Only the SHIYU_TEST_* knobs come from outside.
for _name in [n for n in os.environ if n.startswith("SHIYU_") and not n.startswith("SHIYU_TEST_")]:
    del os.environ[_name]

PG_URL = os.environ.get("SHIYU_TEST_POSTGRES_URL")
if os.environ.get("SHIYU_TEST_REQUIRE_POSTGRES") == "1" and not PG_URL:
    raise RuntimeError("SHIYU_TEST_REQUIRE_POSTGRES=1 but SHIYU_TEST_POSTGRES_URL is not set")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


# How the two xdist workers share the suite. A file's tests stay together on one worker, in file order
# (journeys carry a module's world from test to test), except the cases of the long parametrised tests
# below, each a unit of its own. xdist's scheduler sees node ids only, not marks, so they are named here;
# the `spread` mark says the same where the test is read, and collection fails when the two disagree.
# (xdist's own ``--dist loadgroup`` cannot do this under pytest 9: it renames the items through
# ``item._nodeid``, which pytest 9 no longer reads, so every test silently became a unit of its own and
# the journeys' tests ran on both workers.)
SPREAD = (
    "tests/bench/test_bench_smoke.py::test_bench_runs_at_smoke_size[",
    "tests/security/test_bad_input_corpus.py::",
    "tests/security/test_schemathesis.py::",
    "tests/security/test_xss_browser.py::test_every_page_as_every_role_runs_no_stored_script[",
)


def work_unit(nodeid: str) -> str:
    """The unit a test is scheduled with: its own id for a spread test, else its file."""
    return nodeid if nodeid.startswith(SPREAD) else nodeid.split("::", 1)[0]


class FileOrCaseScheduling(LoadScopeScheduling):
    """xdist's scope scheduling with ``work_unit`` as the scope (``--dist loadscope --no-loadscope-reorder``:
    units go out in collection order)."""

    def _split_scope(self, nodeid: str) -> str:
        return work_unit(nodeid)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> LoadScopeScheduling | None:
    return FileOrCaseScheduling(config, log) if config.getvalue("dist") == "loadscope" else None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files with a slow test go first: their long units start while the short ones are left to fill both
    workers at the end, instead of one worker finishing a four-minute test alone (the suite's last ten
    minutes were that). And the ``spread`` marks agree with ``SPREAD``."""
    disagree = [i.nodeid for i in items
                if (i.get_closest_marker("spread") is not None) != i.nodeid.startswith(SPREAD)]
    if disagree:
        raise pytest.UsageError(f"marked spread but not in tests/conftest.py SPREAD, or the other way: {disagree[:5]}")
    slow_files = {i.nodeid.split("::", 1)[0] for i in items if i.get_closest_marker("slow")}
    items.sort(key=lambda i: i.nodeid.split("::", 1)[0] not in slow_files)


def _worker() -> str:
    """Unique per test process, so concurrent runs (xdist workers, several developers) never collide."""
    return f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"


def _pg_admin(sql: str) -> None:
    assert PG_URL
    base = make_url(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(sql))
    admin.dispose()


def pg_database_url(suffix: str) -> str:
    """Create (or re-create) a PostgreSQL database for this test process and return its URL."""
    assert PG_URL
    base = make_url(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"{base.database}_{suffix}_{_worker()}"
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _pg_admin(f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    if url.startswith("postgresql"):
        _pg_admin(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def fresh_database_url(backend: str, tmp_dir: str, suffix: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_dir}/{suffix}_{_worker()}.db"
    return pg_database_url(suffix)


@pytest.fixture(scope="session")
def test_keys() -> dict[str, str]:
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    return {"pii_keys": f"k1:{key}", "secret_key": secrets.token_urlsafe(40)}


@pytest.fixture(scope="session", autouse=True)
def _reference_data_seen_at_once() -> None:
    """Tests change areas, categories, centres and the calendar between requests far faster than
    production does: the shared reference caches re-read their generation on every use here."""
    from shiyu.core import refcache

    refcache.recheck_every(0)


@pytest.fixture(scope="session", autouse=True)
def _domains_installed() -> None:
    """What ``create_app`` and the worker do first: tests that call a domain's services without an app (the
    intake without triage's hook, a case list without the repeat flag) see the platform as it runs."""
    from shiyu import domains

    domains.install()


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One migrated database per backend for the whole session."""
    tmp = str(tmp_path_factory.mktemp("db"))
    urls = {}
    for backend in BACKENDS:
        url = fresh_database_url(backend, tmp, "shared")
        migrate.upgrade(url)
        _create_unmigrated_tables(url)
        urls[backend] = url
    yield urls
    for url in urls.values():
        drop_database(url)


def _create_unmigrated_tables(url: str) -> None:
    """Tables of models that have no migration yet (work in progress); tests/test_migrations.py fails
    until the migration catches up, so this never hides drift on main."""
    import shiyu.domains  # noqa: F401

    engine = make_engine(url)
    Base.metadata.create_all(engine, checkfirst=True)
    engine.dispose()


# Every this many tests a PostgreSQL database is vacuumed: DELETE leaves the rows' space behind, and without
# autovacuum (CI's server has it off) the tables and their indexes would grow through the session.
VACUUM_EVERY = 25
_emptied: dict[str, int] = {}


def _empty_tables(url: str) -> None:
    """Delete every row and restart the ids. On PostgreSQL not TRUNCATE: it makes new files for each of the
    ~80 tables and their indexes and syncs them at commit, 0.3-0.6 s for every test (minutes of the suite);
    deleting a test's few rows takes 10 ms. Foreign keys are off meanwhile (session_replication_role, which
    needs a superuser, as the test server's postgres is): areas and cases refer to their own table."""
    import shiyu.domains  # noqa: F401

    engine = make_engine(url)
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica; "
                                 + " ".join(f'DELETE FROM "{t}";' for t in tables))
            conn.exec_driver_sql("SELECT setval(c.oid::regclass, 1, false) FROM pg_class c JOIN pg_namespace n "
                                 "ON n.oid = c.relnamespace WHERE c.relkind = 'S' AND n.nspname = current_schema()")
        _emptied[url] = _emptied.get(url, 0) + 1
        if _emptied[url] % VACUUM_EVERY == 0:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM")
    else:
        with engine.begin() as conn:
            conn.execute(text("PRAGMA foreign_keys=OFF"))
            for t in tables:
                conn.execute(text(f'DELETE FROM "{t}"'))
            # The planner's statistics go too: a test that ran ANALYZE (the demo build) would otherwise leave
            # its figures to steer the next test's plans.
            if conn.scalar(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")):
                conn.execute(text("DELETE FROM sqlite_stat1"))
            conn.execute(text("PRAGMA foreign_keys=ON"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, migrated: dict[str, str]) -> str:
    url = migrated[request.param]
    _empty_tables(url)
    return url


@pytest.fixture
def settings(db_url: str, test_keys: dict[str, str], tmp_path) -> Settings:
    # cookie_secure off: the test client speaks plain http (tests/security checks the production default).
    s = Settings(database_url=db_url, storage_dir=str(tmp_path / "files"), password_time_cost=1,
                 password_memory_kib=1024, cookie_secure=False, **test_keys)
    pii.configure(s.pii_keys, s.pii_hash_key, s.secret_key)
    passwords.configure(s.password_time_cost, s.password_memory_kib)
    return s


@pytest.fixture
def factory(settings: Settings):
    engine = make_engine(settings.database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def system_session(factory):
    """A session acting as the system (no scope), for arranging test data."""
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        yield s


@pytest.fixture
def app(settings: Settings):
    from shiyu.app import create_app

    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium per test process for every browser test (tests/e2e, tests/security): Playwright's
    sync API runs one instance per thread, so two fixtures each starting their own would collide when xdist
    puts their tests in the same process. Skipped, with the reason, without Chromium or playwright."""
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, SKIP_REASON

    if SKIP_REASON:
        pytest.skip(SKIP_REASON)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()
