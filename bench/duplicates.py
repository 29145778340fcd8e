"""Duplicate and repeat finding at intake: ``python bench/duplicates.py --database-url sqlite:///COPY.db``.

Measures what ``shiyu.triage.case_duplicates.on_intake`` adds to one intake on a city-sized database (the
demo city: ``SHIYU_DEMO_MODE=1 shiyu db upgrade && shiyu demo``; use a copy, the run adds its tables if
they are missing). Re-files ``--cases`` recent cases as new citizen reports at the same points with
lightly edited texts (so candidates and repeats are really found), in one transaction that is rolled back,
and prints a table: intake time with the finding, the finding alone (median, p95), the candidate rows it
read, and how many candidates, repeats and automatic merges resulted. Asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import shiyu.models  # noqa: E402,F401
from shiyu.cases import intake  # noqa: E402
from shiyu.cases.models import Case  # noqa: E402
from shiyu.cases.schemas import IntakeIn  # noqa: E402
from shiyu.core import pii  # noqa: E402
from shiyu.core.config import Settings  # noqa: E402
from shiyu.core.db import Base, make_engine, make_session_factory  # noqa: E402
from shiyu.core.scoping import Principal  # noqa: E402
from shiyu.triage import case_duplicates  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--cases", type=int, default=300)
    args = parser.parse_args()
    settings = Settings(database_url=args.database_url, demo_mode=True)
    pii.configure(settings.pii_keys, settings.pii_hash_key, settings.secret_key)
    engine = make_engine(args.database_url)
    Base.metadata.create_all(engine, checkfirst=True)
    factory = make_session_factory(engine)
    finding: list[float] = []
    original = case_duplicates.on_intake

    def timed(*a, **kw):  # measure the finding inside each intake
        start = time.perf_counter()
        result = original(*a, **kw)
        finding.append(time.perf_counter() - start)
        found.append(result)
        return result

    found: list[case_duplicates.Findings] = []
    case_duplicates.on_intake = timed
    totals: list[float] = []
    with factory() as s:
        s.info["principal"] = Principal.system("bench")
        samples = list(s.scalars(select(Case).order_by(Case.reported_at.desc()).limit(args.cases)))
        public = Principal(user_id=None, username="public")
        for i, case in enumerate(samples):
            text = ("又有" if i % 2 else "") + case.description + ("，请尽快处理" if i % 3 else "")
            body = IntakeIn(idempotency_key=uuid.uuid4().hex, channel="citizen", category_id=case.category_id,
                            description=text,
                            attributes=case.attributes, location={"lon": case.lon, "lat": case.lat},
                            address=case.address,
                            reporter={"name": "测试", "phone": f"139{i:08d}"})
            s.info["principal"] = public
            start = time.perf_counter()
            intake.intake(s, public, body, TZ)
            totals.append(time.perf_counter() - start)
        s.rollback()
    case_duplicates.on_intake = original
    ms = 1000.0
    print(f"{'measure':42} {'median':>10} {'p95':>10}")
    print(f"{'intake, finding included (ms)':42} {statistics.median(totals) * ms:10.2f} "
          f"{percentile(totals, 0.95) * ms:10.2f}")
    print(f"{'finding alone: on_intake (ms)':42} {statistics.median(finding) * ms:10.2f} "
          f"{percentile(finding, 0.95) * ms:10.2f}")
    print(f"cases {len(totals)}; with candidates {sum(1 for f in found if f.candidates)}; "
          f"candidates {sum(len(f.candidates) for f in found)}; repeats {sum(1 for f in found if f.repeat)}; "
          f"auto-merged {sum(1 for f in found if f.merged_into)}")


if __name__ == "__main__":
    main()
