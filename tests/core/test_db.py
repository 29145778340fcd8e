"""``among``: a batch's ids as one array on PostgreSQL, an IN list on SQLite, the same rows either way. Times
come back aware and in UTC from both databases, on PostgreSQL whatever the server's own time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select, text

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


def test_times_come_back_in_utc_whatever_the_server_zone(system_session, db_url):
    """Written in Shanghai time, read back as the same instant in ``datetime.UTC`` itself (on PostgreSQL the
    session zone is UTC even where the database's default is Asia/Shanghai, as a Chinese city's server may
    be set up: the times then need no conversion, and a time cast to a date means the same everywhere)."""
    s = system_session
    written = datetime(2026, 12, 7, 6, 30, tzinfo=timezone(timedelta(hours=8)))  # 22:30 UTC the day before
    event = OutboxEvent(topic="test.zone", aggregate="case", aggregate_id=1, area_path="/1/", payload={},
                        created_at=written)
    s.add(event)
    s.commit()
    if db_url.startswith("postgresql"):
        name = s.scalar(text("SELECT current_database()"))
        s.execute(text(f'ALTER DATABASE "{name}" SET timezone = \'Asia/Shanghai\''))
        s.commit()
    try:
        from shiyu.core.db import make_engine, make_session_factory

        engine = make_engine(db_url)
        try:
            with make_session_factory(engine)() as fresh:  # a new connection: the database's default applies
                read = fresh.scalar(select(OutboxEvent.created_at).where(OutboxEvent.id == event.id))
                if db_url.startswith("postgresql"):
                    assert fresh.scalar(text("SHOW TimeZone")) == "UTC"
                    assert fresh.scalar(text("SELECT created_at::date FROM outbox_event WHERE id = :i"),
                                        {"i": event.id}).isoformat() == "2026-12-06"
        finally:
            engine.dispose()
    finally:
        if db_url.startswith("postgresql"):
            s.execute(text(f'ALTER DATABASE "{name}" RESET timezone'))
            s.commit()
    assert read == written and read.tzinfo is UTC
