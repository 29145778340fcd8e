"""Patrol test helpers: principals of the factories' people, check-in bodies, and the rows of community B
that tests/test_scope_matrix.py looks for."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.identity.models import User
from shiyu.org.identity.service import principal_for
from shiyu.patrol import service
from shiyu.patrol.schemas import CheckinIn
from tests.factories import World

SH = ZoneInfo("Asia/Shanghai")
POINT_A1 = {"lon": 117.95, "lat": 24.6}
POINT_A2 = {"lon": 117.95, "lat": 24.45}
POINT_B1 = {"lon": 118.10, "lat": 24.6}
OUTSIDE = {"lon": 120.0, "lat": 30.0}
_keys = itertools.count(1)


def principal(s: Session, w: World, name: str) -> Principal:
    s.info["principal"] = Principal.system("test")
    user = s.get(User, w.users[name].id)
    assert user is not None
    s.refresh(user, ["grants"])
    return principal_for(user)


def body(point: dict | None = None, *, key: str | None = None, when: datetime | None = None,
         **extra: Any) -> dict[str, Any]:
    return {"idempotency_key": key or f"checkin-{next(_keys):06d}", "kind": "patrol",
            "location": point or POINT_A1, "client_time": (when or utcnow()).isoformat(), **extra}


def scope_matrix_extra(s: Session, w: World) -> dict[str, Any]:
    """A check-in and a day of presence of worker_b1 in grid b1 (committed by the caller)."""
    p_b = principal(s, w, "worker_b1")
    s.info["principal"] = p_b
    checkin, _ = service.check_in(s, p_b, CheckinIn.model_validate(body(POINT_B1, key="scope-matrix-b")), SH)
    service.heartbeat(s, p_b, SH)
    s.flush()
    s.info["principal"] = Principal.system("test")
    return {"checkin_b": checkin.id}
