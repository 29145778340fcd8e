"""Duplicate and repeat finding after intake: ``python bench/duplicates.py --database-url sqlite:///COPY.db``.

Duplicate and repeat finding runs after a report is committed, as the ``case.reported`` outbox subscriber
(``shiyu.triage.duplicates.case_duplicates.on_reported``), not inside intake. This measures both on a city-sized
database (the demo city: ``SHIYU_DEMO_MODE=1 shiyu db upgrade && shiyu demo``; use a copy): it re-files
``--cases`` recent cases as new citizen reports at the same points with lightly edited texts (so candidates
and repeats are really found), times the intake of each and then the subscriber's work on it, in one
transaction that is rolled back, and prints a table: intake alone and the finding alone (median, p95), and
how many candidates, repeats and automatic merges resulted. ``--smoke`` runs it on a small demo city.
Asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from contextlib import nullcontext
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import shiyu.domains  # noqa: E402,F401
from bench.common import SMOKE_HELP, print_table, smoke_sqlite  # noqa: E402
from shiyu.cases.intake import service as intake  # noqa: E402
from shiyu.cases.models import Case  # noqa: E402
from shiyu.cases.schemas import IntakeIn  # noqa: E402
from shiyu.core import pii  # noqa: E402
from shiyu.core.config import Settings  # noqa: E402
from shiyu.core.db import make_engine, make_session_factory  # noqa: E402
from shiyu.core.scoping import Principal  # noqa: E402
from shiyu.triage.duplicates import case_duplicates  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(url: str, cases: int) -> None:
    settings = Settings(database_url=url, demo_mode=True)
    pii.configure(settings.pii_keys, settings.pii_hash_key, settings.secret_key)
    case_duplicates.configure(settings)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    intake_s: list[float] = []
    finding_s: list[float] = []
    found: list[case_duplicates.Findings] = []
    with factory() as s:
        s.info["principal"] = Principal.system("bench")
        samples = list(s.scalars(select(Case).order_by(Case.reported_at.desc()).limit(cases)))
        public = Principal(user_id=None, username="public")
        for i, case in enumerate(samples):
            text = ("又有" if i % 2 else "") + case.description + ("，请尽快处理" if i % 3 else "")
            body = IntakeIn(idempotency_key=uuid.uuid4().hex, channel="citizen", category_id=case.category_id,
                            description=text, attributes=case.attributes, location={"lon": case.lon, "lat": case.lat},
                            address=case.address, reporter={"name": "测试", "phone": f"139{i:08d}"})
            s.info["principal"] = public
            start = time.perf_counter()
            filed = intake.intake(s, public, body, TZ)
            s.flush()
            intake_s.append(time.perf_counter() - start)
            s.info["principal"] = Principal.system("bench")
            start = time.perf_counter()
            result = case_duplicates.on_reported(s, filed.case_id)
            s.flush()
            finding_s.append(time.perf_counter() - start)
            if result is not None:
                found.append(result)
        s.rollback()
    engine.dispose()
    ms = 1000.0
    size = f"{len(intake_s)} reports, {engine.dialect.name}"
    print_table([
        ("intake alone (in the request)", size, f"median {statistics.median(intake_s) * ms:.2f} ms",
         f"p95 {percentile(intake_s, 0.95) * ms:.2f} ms"),
        ("finding: on_reported (outbox subscriber)", size, f"median {statistics.median(finding_s) * ms:.2f} ms",
         f"p95 {percentile(finding_s, 0.95) * ms:.2f} ms"),
        ("what it found", size, f"{sum(1 for f in found if f.candidates)} with candidates, "
         f"{sum(len(f.candidates) for f in found)} candidates",
         f"{sum(1 for f in found if f.repeat)} repeats, {sum(1 for f in found if f.merged_into)} auto-merged"),
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a copy of the demo city's database (required without --smoke)")
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP)
    args = parser.parse_args()
    if not args.database_url and not args.smoke:
        parser.error("--database-url is required (or --smoke)")
    if args.smoke:
        args.cases = min(args.cases, 20)
    with nullcontext(args.database_url) if args.database_url else smoke_sqlite() as url:
        measure(url, args.cases)


if __name__ == "__main__":
    main()
