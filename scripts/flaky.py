"""``make flaky [RUNS=20] [FLAKY_ARGS=...]``: run tests again and again and name every test that ever failed.

A test that fails one run in ten still fails CI one submission in ten, and a submission whose CI fails does
not land. This runs pytest ``--runs`` times (default: the browser tests, ``-m browser``, on two workers),
reads each run's JUnit report and prints, for every test that failed or errored at least once, how often
and the first line of its first failure. Exit status 1 when any test ever failed.

    python scripts/flaky.py --runs 20                       # the browser tests
    python scripts/flaky.py --runs 5 -- tests/cases -n 2    # any pytest arguments after --
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ARGS = ["-m", "browser", "-n", "2", "tests"]


def failures(report: Path) -> tuple[int, dict[str, str]]:
    """(tests run, {test id: first line of its failure}) from one JUnit XML report."""
    tree = ET.parse(report)
    run, failed = 0, {}
    for case in tree.iter("testcase"):
        run += 1
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            text = (problem.get("message") or problem.text or "").strip()
            failed[f"{case.get('classname', '')}::{case.get('name', '')}"] = text.splitlines()[0][:160] if text else ""
    return run, failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("pytest_args", nargs="*", help="arguments for pytest (default: -m browser -n 2 tests)")
    args = parser.parse_args()
    pytest_args = args.pytest_args or DEFAULT_ARGS
    counts: Counter[str] = Counter()
    first: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="shiyu-flaky-") as tmp:
        for n in range(1, args.runs + 1):
            report = Path(tmp) / f"run-{n}.xml"
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                   f"--junitxml={report}", *pytest_args], cwd=ROOT, capture_output=True, text=True)
            if not report.exists():
                print(done.stdout[-2000:], done.stderr[-2000:], sep="\n")
                print(f"run {n}: pytest did not report (exit {done.returncode})")
                return 2
            ran, failed = failures(report)
            for name, message in failed.items():
                counts[name] += 1
                first.setdefault(name, message)
            print(f"run {n}/{args.runs}: {ran} tests, {len(failed)} failed, {time.perf_counter() - started:.0f} s",
                  flush=True)
    if not counts:
        print(f"\nno test failed in {args.runs} runs")
        return 0
    print(f"\n{len(counts)} test(s) failed at least once in {args.runs} runs:")
    for name, times in counts.most_common():
        print(f"  {times:>3}/{args.runs}  {name}\n         {first[name]}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
