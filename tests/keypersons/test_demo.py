"""The demo city's key persons: a family in demo_grid_worker's grid at every stage, visits due and overdue
for demo_grid_worker, a prison's hand-over waiting; the city's other grid workers see none of it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from shiyu.core.scoping import Principal
from shiyu.demo.build import build
from shiyu.demo.geography import SMALL_SIZE
from shiyu.keypersons import plan_admin
from shiyu.keypersons.models import Handover, KeyPersonRecord
from shiyu.org.identity.models import User
from shiyu.org.identity.service import principal_for


def _principal(s: Any, username: str) -> Principal:
    s.info["principal"] = Principal.system("test")
    user = s.scalar(select(User).where(User.username == username))
    assert user is not None
    return principal_for(user)


def test_the_demo_grid_worker_has_visits_due(factory: Any) -> None:
    build(factory, seed=2026, size=SMALL_SIZE)
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        assert s.scalar(select(func.count()).select_from(KeyPersonRecord)) == 6
        assert s.scalar(select(Handover.state)) == "sent"
        worker = _principal(s, "demo_grid_worker")
        s.info["principal"] = worker
        rows = plan_admin.my_visits(s, worker, today)
        assert len(rows) == 5 and any(r["overdue_days"] for r in rows)
        assert {r["warning"] for r in rows} >= {"red", "yellow"}
        s.info["principal"] = Principal.system("test")
        other = s.scalar(select(func.min(User.username)).where(User.username.startswith("gw_")))
        assert other is not None
        stranger = _principal(s, other)
        s.info["principal"] = stranger
        assert s.scalar(select(func.count()).select_from(KeyPersonRecord)) == 0
        assert plan_admin.my_visits(s, stranger, today) == []
