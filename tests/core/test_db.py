"""``among``: a batch's ids as one array on PostgreSQL, an IN list on SQLite, the same rows either way."""

from __future__ import annotations

from sqlalchemy import select

from shiyu.core.audit import AuditEntry
from shiyu.core.db import among
from shiyu.core.outbox import OutboxEvent


def _events(session, n: int) -> list[int]:
    rows = [OutboxEvent(topic="test.among", aggregate="case", aggregate_id=i, area_path="/1/", payload={})
            for i in range(n)]
    session.add_all(rows)
    session.flush()
    return [r.id for r in rows]


def test_among_selects_exactly_the_listed_rows(system_session):
    s = system_session
    ids = _events(s, 70)
    for wanted in ([], ids[:1], ids[::3], ids):  # none, one, some, more than 50 (psycopg's cache limit)
        found = s.scalars(select(OutboxEvent.id).where(among(s, OutboxEvent.id, wanted))).all()
        assert sorted(found) == sorted(wanted)
    assert s.scalars(select(AuditEntry.id).where(among(s, AuditEntry.id, {-1, -2}))).all() == []  # any iterable


def test_on_postgresql_every_length_is_one_statement(system_session):
    """The point of ``among``: the statement's text does not depend on how many ids (an IN list is a new
    statement for each length, rendered on every execution and, past 50 parameters, parsed anew by psycopg)."""
    s = system_session
    dialect = s.get_bind().dialect

    def text(n: int) -> str:
        return str(select(OutboxEvent.id).where(among(s, OutboxEvent.id, range(n))).compile(dialect=dialect))

    if dialect.name == "postgresql":
        assert text(3) == text(60) and "ANY" in text(3)
    else:
        assert "IN" in text(3)
