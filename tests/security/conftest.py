"""Helpers of the security regressions: clients at chosen addresses, and letting time pass for throttling."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from shiyu.org.identity.models import LoginThrottle


@pytest.fixture
def client_at(app) -> Callable[[str], Iterator[TestClient]]:
    """``with client_at("10.0.0.1") as c``: a client whose requests come from that address."""

    @contextmanager
    def make(address: str) -> Iterator[TestClient]:
        with TestClient(app, client=(address, 50000)) as c:
            yield c

    return make


def pass_time(factory, seconds: float) -> None:
    """Move every log-in counter ``seconds`` into the past, as if that much time had gone by."""
    delta = timedelta(seconds=seconds)
    with factory() as s, s.begin():
        s.info["audit_off"] = True
        for row in s.scalars(select(LoginThrottle)):
            row.last_failure_at -= delta
            row.blocked_until = row.blocked_until - delta if row.blocked_until else None
