"""The natural-time migration on both databases: the 突发事件 classes move to natural units, other classes keep
theirs, and going down turns every natural unit back into the working one of the same size."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from shiyu.core import migrate
from shiyu.core.db import make_engine
from tests.conftest import BACKENDS, drop_database, fresh_database_url

BEFORE = "b7d41c9e2a05"  # the revision before natural time
WORKING = {"register": {"amount": 0.5, "unit": "working_hours"}, "dispatch": {"amount": 0.5, "unit": "working_hours"},
           "accept": {"amount": 0.5, "unit": "working_hours"}, "verify": {"amount": 4, "unit": "working_hours"},
           "handle": {"normal": {"amount": 1, "unit": "working_days"}, "urgent": {"amount": 4, "unit": "working_hours"},
                      "critical": {"amount": 2, "unit": "working_hours"}}}


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path):
    url = fresh_database_url(request.param, str(tmp_path), "natural")
    yield url
    drop_database(url)


def _units(limits: dict) -> set[str]:
    return {v["unit"] for k, v in limits.items() if k not in ("handle", "critical_natural")} | {
        v["unit"] for v in limits["handle"].values()}


def _limits(conn, code: str) -> dict:
    value = conn.execute(text("SELECT time_limits FROM category WHERE code = :c"), {"c": code}).scalar_one()
    return json.loads(value) if isinstance(value, str) else value


def test_emergencies_move_to_natural_time_and_back(url):
    migrate.upgrade(url, BEFORE)
    engine = make_engine(url)
    now = "2026-12-01 00:00:00"
    insert = text("INSERT INTO category (id, kind, parent_id, code, name_zh, name_en, active, sort_order, "
                  "time_limits, fields, default_urgency, self_resolve_closes, created_at, updated_at) VALUES "
                  "(:id, 'incident', :parent, :code, :zh, '', true, 0, :limits, '[]', 'normal', false, :now, :now)")
    with engine.begin() as conn:
        conn.execute(insert, {"id": 1, "parent": None, "code": "I04", "zh": "突发事件", "limits": "null", "now": now})
        conn.execute(insert, {"id": 2, "parent": 1, "code": "I0401", "zh": "路面塌陷", "limits": json.dumps(WORKING),
                              "now": now})
        conn.execute(insert, {"id": 3, "parent": None, "code": "I05", "zh": "街面秩序", "limits": "null", "now": now})
        conn.execute(insert, {"id": 4, "parent": 3, "code": "I0501", "zh": "占道经营", "limits": json.dumps(WORKING),
                              "now": now})
    engine.dispose()
    migrate.upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        assert _units(_limits(conn, "I0401")) == {"natural_hours", "natural_days"}
        assert _limits(conn, "I0401")["handle"]["normal"] == {"amount": 1, "unit": "natural_days"}
        assert _limits(conn, "I0501") == WORKING
    with engine.begin() as conn:
        conn.execute(text("UPDATE category SET time_limits = :l WHERE code = 'I0501'"),
                     {"l": json.dumps({**WORKING, "critical_natural": False})})
    engine.dispose()
    migrate.downgrade(url, BEFORE)
    engine = make_engine(url)
    with engine.connect() as conn:
        assert _limits(conn, "I0401") == WORKING and _limits(conn, "I0501") == WORKING
    engine.dispose()
