"""Every benchmark runs in CI at its ``--smoke`` size (seconds each), so none can silently stop working: the
list is every ``bench/*.py`` script, so a new benchmark is covered, and one without ``--smoke`` fails here.
Asserts only that the script ends well and prints its table, never a time."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PG_URL

ROOT = Path(__file__).resolve().parents[2]
BENCHES = sorted(p.name for p in (ROOT / "bench").glob("*.py") if p.name != "common.py")
TABLE_RULE = re.compile(r"^[|+ ]*-{3,}[-|+ ]*$", re.MULTILINE)  # the rule under a table's header
# Their scratch databases are PostgreSQL ones (user_import.py: SQLite and PostgreSQL, 200 people at smoke size).
NEEDS_POSTGRES = {"desk.py", "indicators.py", "intake.py", "key_persons.py", "pipeline.py", "registers.py",
                  "user_import.py"}


def test_every_bench_is_listed() -> None:
    assert {"grid_lookup.py", "indicators.py", "intake.py", "duplicates.py", "pages.py", "command_view.py",
            "triage.py", "report.py", "area_import.py", "user_import.py", "registers.py",
            "key_persons.py"} <= set(BENCHES)


@pytest.mark.slow
@pytest.mark.spread
@pytest.mark.parametrize("script", BENCHES)
def test_bench_runs_at_smoke_size(script: str) -> None:
    # TMPDIR stays the system one: Chromium's singleton socket path must fit in 108 bytes, which a pytest
    # tmp_path under a deep checkout does not; the benches clean up their own temporary directories.
    env = dict(os.environ)
    if script in NEEDS_POSTGRES:
        if not PG_URL:
            pytest.skip("needs PostgreSQL (SHIYU_TEST_POSTGRES_URL)")
        env["SHIYU_BENCH_POSTGRES"] = PG_URL.rsplit("/", 1)[0]  # the server; each bench makes its own database
    done = subprocess.run([sys.executable, f"bench/{script}", "--smoke"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, f"{script} --smoke failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert TABLE_RULE.search(done.stdout), f"{script} printed no table:\n{done.stdout[-2000:]}"
