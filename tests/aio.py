"""Running a coroutine from a synchronous test.

On a thread of its own: a browser test earlier in the same xdist worker leaves Playwright's event loop running
in the main thread, where ``asyncio.run()`` refuses to start. The failure showed in whole-suite runs only,
never when the test ran alone, so every synchronous test that needs a loop goes through here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to completion on a fresh loop in a fresh thread and return its result."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
