"""Browser tests: Playwright driving Debian's Chromium against one app server per test session.

The server is uvicorn in a thread on a free localhost port, on a temporary SQLite database migrated with
Alembic and filled with the small test world (``tests/factories.py``). Tests are marked ``browser`` and are
skipped, with the reason, when ``/usr/bin/chromium`` or the ``playwright`` package is missing.
"""

from __future__ import annotations

import base64
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("SHIYU_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]

# How long a browser test waits for a condition (a page to load, a text to appear) before it fails: long enough
# for a CI machine under full load, where a page that takes 200 ms alone can take seconds.
WAIT_MS = 30_000

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None

SKIP_REASON = (None if sync_playwright is not None and Path(CHROMIUM).exists()
               else f"browser tests need the playwright package and Chromium at {CHROMIUM}")


class Settling:
    """Playwright's ``networkidle`` with a shorter quiet period, for the walks that visit hundreds of pages
    (tests/journeys/test_accessibility.py). ``networkidle`` waits until nothing has been in flight for
    500 ms after every visit — over three minutes of those walks. These pages start their requests at load
    or in answer to another request, so 150 ms with none in flight says as surely that a page has settled.
    Attach before the first ``goto`` (a request started earlier is not seen); event streams, which never end
    (the desk's and the command view's), are not waited for."""

    QUIET_S = 0.15

    def __init__(self, page: Page) -> None:
        self.page = page
        self.pending: set[Any] = set()
        self.changed = time.monotonic()
        page.on("request", self._started)
        page.on("requestfinished", self._ended)
        page.on("requestfailed", self._ended)

    def _started(self, request: Any) -> None:
        if request.resource_type != "eventsource":
            self.pending.add(request)
            self.changed = time.monotonic()

    def _ended(self, request: Any) -> None:
        self.pending.discard(request)
        self.changed = time.monotonic()

    def wait(self) -> None:
        """Until the page has loaded and no request has been in flight for ``QUIET_S`` (at most ``WAIT_MS``)."""
        self.page.wait_for_load_state("load")
        deadline = time.monotonic() + WAIT_MS / 1000
        while self.pending or time.monotonic() - self.changed < self.QUIET_S:
            if time.monotonic() > deadline:
                raise AssertionError(f"still loading after {WAIT_MS} ms: {sorted(r.url for r in self.pending)}")
            self.page.wait_for_timeout(25)  # lets Playwright deliver the request events meanwhile


def mark_browser_tests(items: list[pytest.Item], folder: str) -> None:
    """Mark the tests of ``folder`` (e.g. ``tests/e2e/``) as browser tests, skipped without a browser."""
    for item in items:
        if folder in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)
            if SKIP_REASON:
                item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_browser_tests(items, "tests/e2e/")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, app, port: int) -> None:
        import uvicorn

        self.config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(self.config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{port}"

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@contextmanager
def running_world(tmp: Path, fill: Callable[[Any, Any], dict], *, backend: str | None = None) -> Iterator[dict]:
    """Serve a fresh app on a migrated database filled with the small test world: a SQLite file in ``tmp``,
    or PostgreSQL with ``SHIYU_TEST_JOURNEYS_ON_POSTGRES=1`` (and ``SHIYU_TEST_POSTGRES_URL``), which proves
    the users' tasks on the production database; ``.ci/run`` sets it, so CI runs the journeys on PostgreSQL.
    ``backend="sqlite"`` keeps a test on SQLite whatever the setting (the e2e and security browser tests).

    ``fill(session, world)`` adds what a test module needs and returns the ids it wants to know; yields
    {"url", "ids", "factory", "settings", "app", "backend"}.
    """
    from shiyu.app import create_app
    from shiyu.core import migrate
    from shiyu.core.config import Settings
    from shiyu.core.scoping import Principal
    from tests.conftest import PG_URL, _create_unmigrated_tables, drop_database, pg_database_url
    from tests.factories import populated

    backend = backend or ("postgresql" if PG_URL and os.environ.get("SHIYU_TEST_JOURNEYS_ON_POSTGRES") == "1"
                          else "sqlite")
    url = pg_database_url(f"e2e_{tmp.name}") if backend == "postgresql" else f"sqlite:///{tmp}/e2e.db"
    migrate.upgrade(url)
    _create_unmigrated_tables(url)
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    settings = Settings(database_url=url, storage_dir=str(tmp / "files"), password_time_cost=1,
                        password_memory_kib=1024, pii_keys=f"k1:{key}", secret_key=secrets.token_urlsafe(40),
                        cookie_secure=False)
    app = create_app(settings)
    with app.state.session_factory() as s:
        s.info["principal"] = Principal.system("e2e")
        ids = fill(s, populated(s))
        s.commit()
    try:
        with Server(app, free_port()) as server:
            yield {"url": server.url, "ids": ids, "factory": app.state.session_factory, "settings": settings,
                   "app": app, "backend": backend}
    finally:
        app.state.engine.dispose()
        drop_database(url)


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A running app on a small world; yields {"url", "ids", "factory"}."""
    if SKIP_REASON:
        pytest.skip(SKIP_REASON)

    def fill(_session, w) -> dict:
        return {"street": w.street.id, "community_a": w.community_a.id, "a1": w.grids["a1"].id,
                "leader_a": w.users["leader_a"].id, "worker_a1": w.users["worker_a1"].id}

    with running_world(tmp_path_factory.mktemp("e2e"), fill, backend="sqlite") as world:
        yield world



def console_problem(text: str) -> bool:
    """A console message in which Chromium reports something the Content-Security-Policy refused, or Alpine
    an expression it could not evaluate (its CSP build parses a subset of JavaScript)."""
    return any(sign in text for sign in ("Content Security Policy", "Content-Security-Policy",
                                         "Alpine Expression Error", "CSP Parser Error"))


@pytest.fixture(autouse=True)
def _no_csp_violations(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every browser test also fails on a Content-Security-Policy violation or an Alpine expression error on
    any of its pages' consoles: our own templates, scripts and styles must live within the policy
    (``shiyu.web.security_headers``)."""
    if "browser" not in request.fixturenames or SKIP_REASON:
        yield
        return
    browser = request.getfixturevalue("browser")
    seen: list[str] = []
    new_context = browser.new_context

    def watched_context(*args: Any, **kwargs: Any) -> Any:
        context = new_context(*args, **kwargs)
        context.on("console", lambda m: seen.append(m.text) if console_problem(m.text) else None)
        return context

    browser.new_context = watched_context
    try:
        yield
    finally:
        del browser.new_context
    assert not seen, f"console problems: {seen}"


@pytest.fixture
def page(browser: Browser, live: dict) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 850}, base_url=live["url"], locale="zh-CN")
    context.set_default_timeout(WAIT_MS)
    pg = context.new_page()
    yield pg
    context.close()


def sized_page(browser: Browser, url: str, width: int, height: int, **options: Any) -> Page:
    """A page in a fresh context of its own (its own cookies) at a viewport size: a phone, a desktop; ``options``
    go to the context (a phone's touch, scale, geolocation)."""
    context = browser.new_context(viewport={"width": width, "height": height}, base_url=url, locale="zh-CN",
                                  **options)
    context.set_default_timeout(WAIT_MS)
    return context.new_page()


def log_in(page: Page, username: str, password: str | None = None) -> None:
    from tests.factories import PASSWORD

    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password or PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")
