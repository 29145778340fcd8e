"""Fixed-window rate limits per address, in process and through Redis (shared by every app process)."""

from __future__ import annotations

import os
import secrets

import pytest

from shiyu.core.ratelimit import RateLimiter, Rule
from tests import aio

REDIS_URL = os.environ.get("SHIYU_TEST_REDIS_URL")
RULE = Rule("test", limit=2, window_seconds=60)


def _waits(limiter: RateLimiter, address: str, now: float, times: int) -> list[int]:
    async def run() -> list[int]:
        return [await limiter.wait_seconds(RULE, address, now) for _ in range(times)]

    return aio.run(run())


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_a_window_admits_its_limit_then_says_how_long_to_wait(backend) -> None:
    if backend == "redis" and not REDIS_URL:
        pytest.skip("SHIYU_TEST_REDIS_URL not set")
    prefix = f"test-{secrets.token_hex(4)}"
    limiter = RateLimiter(REDIS_URL if backend == "redis" else None, prefix)
    assert _waits(limiter, "10.0.0.1", 6000.0, 3) == [0, 0, 60]
    assert _waits(limiter, "10.0.0.1", 6045.5, 1) == [15]  # the window ends at 6060
    assert _waits(limiter, "10.0.0.2", 6045.5, 1) == [0]  # another address counts alone
    assert _waits(limiter, "10.0.0.1", 6060.0, 1) == [0]  # a new window
    if backend == "redis":  # a second process sees the same counts
        assert _waits(RateLimiter(REDIS_URL, prefix), "10.0.0.1", 6061.0, 2) == [0, 60 - 1]


def test_an_unreachable_redis_lets_requests_through() -> None:
    limiter = RateLimiter("redis://127.0.0.1:9/0", "test")
    assert _waits(limiter, "10.0.0.1", 100.0, 5) == [0] * 5
