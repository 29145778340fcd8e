"""People-import benchmark: ``python bench/user_import.py [--rows 10000] [--smoke]``.

Issue 14 asks for 10,000 users in under 60 s. On a scratch SQLite file and a scratch PostgreSQL database
(``SHIYU_BENCH_POSTGRES``, the server; skipped with ``--sqlite-only``) holding a city of 200 grids and one
city-wide administrator, the run times the steps an administrator goes through, each in its own
transaction as the pages and the API run them:

1. **read**: parse the XLSX file (``shiyu.core.tabular``) into rows;
2. **dry run**: every check of every row, and the rows kept encrypted (``bulk.service.start``);
3. **confirm**: the same checks again, then every account (personal data encrypted and blind-indexed),
   grant, activation code and audit entry (``bulk.service.confirm``);
4. **codes**: the one download of the codes as XLSX.

Prints a table (database | rows | step | seconds | rows/s) and asserts nothing.
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import SMOKE_HELP, scratch_postgres  # noqa: E402
from shiyu import domains  # noqa: E402
from shiyu.core import migrate, pii  # noqa: E402
from shiyu.core.db import make_engine, make_session_factory, transaction  # noqa: E402
from shiyu.core.scoping import Principal  # noqa: E402
from shiyu.core.tabular import parse_table, xlsx_bytes  # noqa: E402
from shiyu.org.areas.models import Area, AreaLevel  # noqa: E402
from shiyu.org.identity.bulk import rows as bulk_rows  # noqa: E402
from shiyu.org.identity.bulk import service  # noqa: E402
from shiyu.org.identity.models import Grant, User  # noqa: E402
from shiyu.org.identity.service import principal_for  # noqa: E402
from tests.org.people_files import people, write_people  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")


def build_city(factory) -> tuple[list[str], int]:
    """A city, 2 districts, 4 streets, 20 communities, 200 grids, and its administrator: (grid codes, admin id)."""
    with transaction(factory, principal=Principal.system("bench")) as s:
        def add(code: str, name: str, level: AreaLevel, parent: Area | None) -> Area:
            area = Area(code=code, name=name, level=int(level), parent=parent,
                        area_path=(parent.area_path if parent else "/") + code + "/")
            s.add(area)
            return area

        city = add("359900000000", "测试市", AreaLevel.CITY, None)
        grids = []
        for d in range(1, 3):
            district = add(f"3599{d:02d}000000", f"第{d}区", AreaLevel.DISTRICT, city)
            for t in range(1, 3):
                street = add(f"3599{d:02d}{t:03d}000", f"第{d}区第{t}街道", AreaLevel.STREET, district)
                for c in range(1, 6):
                    community = add(f"3599{d:02d}{t:03d}{c:03d}", f"{street.name}第{c}社区", AreaLevel.COMMUNITY,
                                    street)
                    grids += [add(f"{community.code}{g:03d}", f"{community.name}第{g}网格", AreaLevel.GRID, community)
                              for g in range(1, 11)]
        admin = User(username="bench_admin", password_hash="!", area_path=city.area_path)
        s.add(admin)
        s.flush()
        s.add(Grant(user_id=admin.id, role="admin", area_id=city.id, area_path=city.area_path))
        return [g.code for g in grids], admin.id


def run(url: str, label: str, rows: int, tmp: Path) -> list[tuple[str, int, str, float]]:
    migrate.upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    try:
        grids, admin_id = build_city(factory)
        path = write_people(tmp / f"people-{label}.xlsx", people(rows, grids))
        with factory() as s:
            s.info["principal"] = Principal.system("bench")
            principal = principal_for(s.get(User, admin_id))
        out = []

        def step(name: str, action):
            start = time.perf_counter()
            result = action()
            out.append((label, rows, name, time.perf_counter() - start))
            return result

        parsed = step("read", lambda: bulk_rows.rows_from_table(parse_table(path.read_bytes(), path.name)))

        def dry_run():
            with transaction(factory, principal=principal) as s:
                return service.start(s, principal, path.name, parsed)

        report = step("dry run", dry_run)
        assert not report.invalid, report.invalid[0].problems

        def confirm():
            with transaction(factory, principal=principal) as s:
                service.confirm(s, principal, report.import_id, set(), TZ)

        step("confirm", confirm)

        def codes():
            with transaction(factory, principal=principal) as s:
                return xlsx_bytes(service.take_codes(s, principal, report.import_id))

        step("codes", codes)
        with factory() as s:
            s.info["principal"] = Principal.system("bench")
            made = s.scalar(select(func.count()).select_from(User)) - 1
        assert made == rows, (made, rows)
        out.append((label, rows, "total", sum(r[3] for r in out)))
        return out
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP)
    args = parser.parse_args()
    rows = 200 if args.smoke else args.rows
    domains.install()
    pii.configure("bench:" + base64.b64encode(os.urandom(32)).decode(), None, "bench-secret-" + "x" * 32)
    results = []
    with tempfile.TemporaryDirectory(prefix="shiyu-bench-") as tmp:
        results += run(f"sqlite:///{tmp}/people.db", "SQLite", rows, Path(tmp))
        if not args.sqlite_only:
            with scratch_postgres("people") as url:
                results += run(url, "PostgreSQL", rows, Path(tmp))
    print(f"{'database':<11} | {'rows':>6} | {'step':<8} | {'seconds':>7} | {'rows/s':>7}")
    print(f"{'-' * 11}-+-{'-' * 6}-+-{'-' * 8}-+-{'-' * 7}-+-{'-' * 7}")
    for label, n, name, seconds in results:
        print(f"{label:<11} | {n:>6} | {name:<8} | {seconds:>7.2f} | {n / seconds:>7.0f}")


if __name__ == "__main__":
    main()
