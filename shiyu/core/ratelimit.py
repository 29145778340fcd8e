"""Requests per client address in a fixed window: the brake on anonymous intake and log-in attempts.

Why fixed windows: a counter per (kind, address, window) is one ``INCR`` in Redis and one dictionary entry in
process, and "N per M seconds" is what an operator can reason about. With Redis configured
(``SHIYU_REDIS_URL``) every app process shares the counts; without it each process counts alone (a single
process, the default deployment, is then exact). When Redis does not answer, requests are let through and
the failure is logged: a rate limit must not take intake down with it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass

log = logging.getLogger("shiyu.ratelimit")


@dataclass(frozen=True)
class Rule:
    kind: str  # "login", "anonymous_report", "evaluation"
    limit: int  # requests allowed per window and address
    window_seconds: int


class MemoryCounter:
    """Counts in this process; old windows are dropped as new ones start."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str, int], int] = {}
        self._lock = threading.Lock()
        self._current: dict[str, int] = {}

    async def hit(self, rule: Rule, address: str, window: int) -> int:
        with self._lock:
            if self._current.get(rule.kind) != window:
                self._current[rule.kind] = window
                self._counts = {k: v for k, v in self._counts.items() if k[0] != rule.kind or k[2] >= window}
            key = (rule.kind, address, window)
            self._counts[key] = self._counts.get(key, 0) + 1
            return self._counts[key]


class RedisCounter:
    """One ``INCR`` + ``EXPIRE`` per request, from a worker thread: the blocking client's connection pool is
    not tied to one event loop (an asyncio client would be), and only log-ins and anonymous reports pay."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self._prefix = prefix

    def _count(self, key: str, ttl: int) -> int:
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, ttl)
            count, _ = pipe.execute()
        return int(count)

    async def hit(self, rule: Rule, address: str, window: int) -> int:
        key = f"{self._prefix}:rate:{rule.kind}:{window}:{address}"
        return await asyncio.to_thread(self._count, key, rule.window_seconds * 2)


class RateLimiter:
    def __init__(self, redis_url: str | None, prefix: str) -> None:
        self._counter: MemoryCounter | RedisCounter = RedisCounter(redis_url, prefix) if redis_url else MemoryCounter()

    async def wait_seconds(self, rule: Rule, address: str, now: float | None = None) -> int:
        """Count this request; 0 when it may go ahead, else the seconds until the address's window ends."""
        now = time.time() if now is None else now
        window = int(now // rule.window_seconds)
        try:
            count = await self._counter.hit(rule, address, window)
        except Exception as exc:  # Redis down: let the request through rather than fail it
            log.warning("rate limit not counted (%s): %s", rule.kind, exc)
            return 0
        if count <= rule.limit:
            return 0
        return max(1, int((window + 1) * rule.window_seconds - now + 0.999))
