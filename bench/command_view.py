"""Command view benchmark: ``python bench/command_view.py var/bench-command.db [--runs 15] [--no-browser]``.

Uses the demo city (about 2,000 grids and 20,000 cases over six months) in the SQLite file given, building it
first when the file does not exist (``shiyu db upgrade`` + ``shiyu demo``, as ``make run`` does). Then:

* server time of each request the command view makes — the page (with its KPIs), the case points, the
  boundaries per level, the KPIs and a live update's re-read — as the city-wide admin and a street's
  operator, median and 90th percentile over ``--runs`` runs after one warm-up, through the ASGI app in
  process (no network);
* first render in Chromium (Playwright, ``/usr/bin/chromium``): from navigation start until the map, the
  markers and the KPI cards are drawn (the page sets ``data-ready`` then), as measured by the page's own
  ``performance.now()``, and the wall time around it.

Prints a table; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import math
import os
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient  # noqa: E402

from bench.common import SMOKE_HELP, ensure_demo, print_table, smoke_sqlite  # noqa: E402
from shiyu.app import create_app  # noqa: E402
from shiyu.core.config import Settings  # noqa: E402
from shiyu.demo.build import DEMO_PASSWORD  # noqa: E402

CHROMIUM = os.environ.get("SHIYU_CHROMIUM", "/usr/bin/chromium")
USERS = ("demo_admin", "demo_operator")


def log_in(client: TestClient, username: str) -> None:
    client.cookies.clear()
    client.get("/login")
    r = client.post("/login", data={"username": username, "password": DEMO_PASSWORD,
                                    "csrf_token": client.cookies.get("shiyu_csrf")}, follow_redirects=False)
    assert r.status_code == 303, r.text[:300]


def timed(client: TestClient, url: str, runs: int) -> tuple[float, float, int]:
    """(median ms, p90 ms, response bytes as sent) over ``runs`` after a warm-up."""
    headers = {"Accept-Encoding": "gzip"}
    r = client.get(url, headers=headers)
    assert r.status_code == 200, (url, r.status_code, r.text[:300])
    size = int(r.headers.get("content-length") or len(r.content))
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = client.get(url, headers=headers)
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200
    times.sort()
    return statistics.median(times), times[math.ceil(len(times) * 0.9) - 1], size


def server_times(app, runs: int) -> list[tuple[str, str, float, float, int, str]]:
    rows = []
    with TestClient(app) as client:
        for user in USERS:
            log_in(client, user)
            geo = client.get("/command/cases.geojson?days=30").json()
            some = ",".join(str(f["id"]) for f in geo["features"][:3])
            for label, url in (
                ("page /command (30 days)", "/command"),
                ("cases.geojson 30 days", "/command/cases.geojson?days=30"),
                ("cases.geojson 180 days", "/command/cases.geojson?days=180"),
                ("cases.geojson live re-read", f"/command/cases.geojson?days=30&ids={some}"),
                ("kpis.json 30 days", "/command/kpis.json?days=30"),
                ("areas.json next level", "/command/areas.json?level=1" if user == "demo_admin"
                 else "/command/areas.json?level=3"),
                ("areas.json grids", "/command/areas.json?level=4"),
            ):
                median, p90, size = timed(client, url, runs)
                count = ""
                if "cases.geojson" in url:
                    count = str(len(client.get(url).json()["features"]))
                rows.append((user, label, median, p90, size, count))
    return rows


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_render(app, runs: int) -> list[tuple[str, str, float, float]]:
    import uvicorn
    from playwright.sync_api import sync_playwright

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    rows = []
    try:
        with sync_playwright() as p:
            # A loaded machine (CI running the suite beside this) can take long to start Chromium: wait.
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, timeout=120_000,
                                        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            for user in USERS:
                for days in (30, 180):
                    context = browser.new_context(base_url=f"http://127.0.0.1:{port}",
                                                  viewport={"width": 1366, "height": 850}, locale="zh-CN")
                    page = context.new_page()
                    page.goto("/login")
                    page.fill("#username", user)
                    page.fill("#password", DEMO_PASSWORD)
                    page.click("button[type=submit]")
                    page.wait_for_url("**/")
                    in_page, wall = [], []
                    for _ in range(runs):
                        t0 = time.perf_counter()
                        page.goto(f"/command?days={days}")
                        page.wait_for_selector("#command-map[data-ready='1']", timeout=30_000)
                        wall.append((time.perf_counter() - t0) * 1000)
                        in_page.append(float(page.get_attribute("#command-map", "data-ready-at") or 0))
                    count = page.get_attribute("#command-map", "data-count")
                    rows.append((user, f"{days} days, {count} markers", statistics.median(in_page),
                                 statistics.median(wall)))
                    context.close()
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=5)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", type=Path, nargs="?", help="demo SQLite file (built when absent)")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--browser-runs", type=int, default=5)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP)
    args = parser.parse_args()
    if args.smoke:
        args.runs, args.browser_runs = 2, 1
        with smoke_sqlite() as url:
            measure(url, args)
        return
    if args.database is None:
        parser.error("give the demo SQLite file (or --smoke)")
    measure(ensure_demo(f"sqlite:///{args.database.resolve()}"), args)


def measure(url: str, args: argparse.Namespace) -> None:
    storage = Path(url.split("///", 1)[-1]).parent / "files"
    app = create_app(Settings(database_url=url, demo_mode=True, storage_dir=str(storage)))
    print(f"\nServer time per request ({args.runs} runs, SQLite, in process)")
    print_table([(user, label, f"{median:.1f}", f"{p90:.1f}", f"{size:,}", count)
                 for user, label, median, p90, size, count in server_times(app, args.runs)],
                ("user", "request", "median ms", "p90 ms", "bytes sent", "cases"))
    if not args.no_browser:
        if not Path(CHROMIUM).exists():
            print(f"\n(no Chromium at {CHROMIUM}: first render not measured)")
            return
        print(f"\nFirst render in Chromium (median of {args.browser_runs}: map + markers + KPI cards drawn)")
        print_table([(user, label, f"{in_page:.0f}", f"{wall:.0f}")
                     for user, label, in_page, wall in first_render(app, args.browser_runs)],
                    ("user", "view", "in page ms", "wall ms"))
    app.state.engine.dispose()


if __name__ == "__main__":
    main()
