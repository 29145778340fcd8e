"""Log-in throttling: growing delays after wrong passwords, instead of a lock anyone could set off.

Two counters are kept for every failed log-in: one for the account *at the client's address*, one for the
address over all accounts. Each is free up to a number of failures (``login_free_failures``,
``login_address_free_failures``); every further failure makes that counter wait twice as long as the
last — 1 s, 2 s, 4 s … up to ``login_max_delay_seconds``. While either counter of an attempt waits, the
attempt is answered 429 ``login_throttled`` without looking at the password (and is not counted).
A counter is forgotten after ``login_failure_memory_minutes`` without failures; a successful log-in clears
the account-at-address counter (not the address counter: an attacker must not clear it by logging in to an
account of their own between guesses).

Why no counter for the account over all addresses: it is exactly the lock anyone can set off, which kept
owners out of their accounts and ended their sessions (security review S4). The owner logging in from
another address never waits for someone else's failures. Guessing one account from many addresses is left
to the password rule (``shiyu.org.identity.passwords``): one address gets about 16 tries in the first
hour and 4 an hour after that.

The counters count what was typed, whether or not such an account exists, so a refusal tells nothing about
which accounts exist. They live in the database (``LoginThrottle``) so that every app process throttles
alike; keys are keyed hashes of the username and address, never the typed text.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select, update
from sqlalchemy.orm import Session

from shiyu.core.config import Settings
from shiyu.core.db import rowcount, upsert
from shiyu.core.errors import ShiyuError
from shiyu.org.identity.models import LoginThrottle

TABLE = LoginThrottle.__table__
MAX_DOUBLINGS = 30


@dataclass(frozen=True)
class Keys:
    account: str  # this username from this address
    address: str  # this address, any username


def keys(secret: str, username: str, address: str | None) -> Keys:
    def mac(text: str) -> str:
        return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()

    where = address or "unknown"
    return Keys(mac(f"login-account\0{where}\0{username}"), mac(f"login-address\0{where}"))


def delay_seconds(failures: int, free: int, longest: int) -> int:
    """How long a counter waits after its ``failures``-th failure."""
    if failures <= free:
        return 0
    return min(longest, 1 << min(failures - free - 1, MAX_DOUBLINGS))


def wait_seconds(session: Session, k: Keys, now: datetime) -> int:
    """Seconds before an attempt with these keys may try a password (0: now)."""
    until = [u for u in session.scalars(select(LoginThrottle.blocked_until)
                                        .where(LoginThrottle.key.in_((k.account, k.address)))) if u]
    latest = max(until, default=None)
    if latest is None or latest <= now:
        return 0
    return max(1, int((latest - now).total_seconds() + 0.999))


def refusal(seconds: int) -> ShiyuError:
    return ShiyuError("login_throttled", "登录尝试过于频繁，请{seconds}秒后再试",
                      "Too many log-in attempts; try again in {seconds} seconds", status=429,
                      detail={"retry_after": seconds}, seconds=seconds)


def record_failure(session: Session, settings: Settings, k: Keys, now: datetime) -> None:
    """Count a wrong password on both counters (one statement each, safe across processes) and set their
    waits."""
    forget_before = now - timedelta(minutes=settings.login_failure_memory_minutes)
    for key, free in ((k.account, settings.login_free_failures), (k.address, settings.login_address_free_failures)):
        counted = upsert(session, TABLE).values(key=key, failures=1, last_failure_at=now)
        counted = counted.on_conflict_do_update(index_elements=[TABLE.c.key], set_={
            "failures": case((TABLE.c.last_failure_at < forget_before, 1), else_=TABLE.c.failures + 1),
            "last_failure_at": now,
        }).returning(TABLE.c.failures)
        failures = session.execute(counted).scalar_one()
        delay = delay_seconds(failures, free, settings.login_max_delay_seconds)
        if delay:
            session.execute(update(TABLE).where(TABLE.c.key == key)
                            .values(blocked_until=now + timedelta(seconds=delay)))


def clear(session: Session, k: Keys) -> None:
    """A right password: this account at this address starts afresh."""
    session.execute(delete(TABLE).where(TABLE.c.key == k.account))


def forget_old(session: Session, settings: Settings, now: datetime) -> int:
    """Delete the counters nobody has failed on for the memory period (their waits are long over)."""
    forget_before = now - timedelta(minutes=settings.login_failure_memory_minutes)
    return rowcount(session.execute(delete(TABLE).where(TABLE.c.last_failure_at < forget_before))) or 0
