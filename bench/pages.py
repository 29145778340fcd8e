"""Page server time on the demo city: ``python bench/pages.py [--database-url URL] [--repeat N]``.

Issue 4 asks that no page take over 300 ms of server time on the demo city. Every main page of
``scripts/screenshots.py`` (same list, same demo logins) is requested in-process through the ASGI app
(TestClient: no network, no browser), first once to warm caches, then ``--repeat`` times; the table shows
the median and the slowest run per page beside the 300 ms budget. Default database: the demo city of
``make run`` (``var/shiyu.db``). Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SHIYU_DEMO_MODE", "1")

from fastapi.testclient import TestClient  # noqa: E402

from bench.common import SMOKE_HELP, smoke_sqlite  # noqa: E402
from scripts.screenshots import PASSWORD, demo_ids, pages  # noqa: E402
from shiyu.app import create_app  # noqa: E402
from shiyu.core.config import Settings  # noqa: E402

BUDGET_MS = 300.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("SHIYU_DATABASE_URL", "sqlite:///var/shiyu.db"))
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP)
    args = parser.parse_args()
    if not args.smoke:
        measure(args.database_url, args.repeat)
        return
    with smoke_sqlite() as url:
        measure(url, 1)


def measure(database_url: str, repeat: int) -> None:
    app = create_app(Settings(database_url=database_url))
    ids = demo_ids(app)
    rows: list[tuple[str, str, float, float]] = []
    with TestClient(app) as client:
        current: str | None = None
        for stem, url, user in pages(ids):
            if user != current:
                client.cookies.clear()
                if user:
                    client.get("/login")
                    r = client.post("/login", data={"username": user, "password": PASSWORD,
                                                     "csrf_token": client.cookies.get("shiyu_csrf"), "next": "/"},
                                    follow_redirects=False)
                    if r.status_code != 303:
                        raise SystemExit(f"{user} cannot log in: {r.status_code}")
                current = user
            status = client.get(url).status_code
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                client.get(url)
                times.append((time.perf_counter() - t0) * 1000)
            rows.append((f"{stem} ({user or 'public'})", f"{url} → {status}", statistics.median(times), max(times)))
    app.state.engine.dispose()
    print(f"{'page':28} | {'url':52} | {'median':>9} | {'slowest':>9} | budget {BUDGET_MS:.0f} ms")
    print("-" * 28 + " | " + "-" * 52 + " | " + "-" * 9 + " | " + "-" * 9 + " | " + "-" * 14)
    for name, url, median, slowest in rows:
        verdict = "ok" if slowest <= BUDGET_MS else "OVER"
        print(f"{name:28} | {url[:52]:52} | {median:7.1f}ms | {slowest:7.1f}ms | {verdict}")
    over = [r[0] for r in rows if r[3] > BUDGET_MS]
    print(f"\n{len(rows)} pages, {len(over)} over budget{': ' + ', '.join(over) if over else ''}; "
          f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
