"""Journeys: one person's task from start to end in a real browser, on the harness of the browser tests
(``tests/e2e/conftest.py``: Playwright driving Debian's Chromium, one app server per world). Each journey
module serves a world of its own, since journeys change accounts that other browser tests log in with."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The browser tests' harness: the same marks, and the same failure on a Content-Security-Policy violation (the
# shared Chromium is the ``browser`` fixture of tests/conftest.py).
from tests.e2e.conftest import _no_csp_violations, mark_browser_tests  # noqa: F401


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_browser_tests(items, "tests/journeys/")


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where a journey's screenshots go to be looked at: ``SHIYU_TEST_SHOTS_DIR``, else the test's temporary
    directory."""
    out = Path(os.environ.get("SHIYU_TEST_SHOTS_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out
