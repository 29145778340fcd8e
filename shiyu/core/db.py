"""Database plumbing: declarative base, portable column types, engine and session factories.

SQLite is the zero-set-up default and PostgreSQL the production database; the column types here are the
ones that behave the same on both (UTC-aware timestamps, JSON).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from sqlalchemy import (
    ARRAY,
    JSON,
    ColumnElement,
    CursorResult,
    DateTime,
    Engine,
    MetaData,
    Result,
    Table,
    any_,
    bindparam,
    create_engine,
    event,
    insert,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from shiyu.core.errors import NotFound
from shiyu.core.timeutil import utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_T = TypeVar("_T")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns them aware (SQLite keeps no zone by itself)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: Shiyu stores timezone-aware times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None or value.tzinfo is UTC:  # PostgreSQL's, on the session zone ``make_engine`` sets
            return value
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}

    if TYPE_CHECKING:
        # Every model here is declared with ``__tablename__``, so its ``__table__`` is a real Table
        # (SQLAlchemy types it as any FromClause, which insert/update/delete and Table helpers refuse).
        __table__: ClassVar[Table]


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def make_engine(url: str, *, lock_timeout: float = 30.0, connect_timeout: int = 10, **kwargs: Any) -> Engine:
    """An engine with the per-dialect settings Shiyu relies on (SQLite: foreign keys, WAL, busy timeout).

    ``lock_timeout``: how long SQLite waits for another connection's write lock before it gives up
    (``database is locked``); ``connect_timeout``: how long PostgreSQL connecting may take. The app keeps
    both short (``SHIYU_DB_LOCK_TIMEOUT``, ``SHIYU_DB_CONNECT_TIMEOUT``), so that a request answers 503 soon
    instead of holding its client; commands and jobs may wait longer."""
    if url.startswith("sqlite"):
        db_path = url.split("///", 1)[-1]
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": lock_timeout}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    # The session's time zone is UTC whatever the server's default (often Asia/Shanghai in a Chinese city's
    # installation): times then come back in ``datetime.UTC`` itself, which ``UTCDateTime`` passes on as they
    # are — converting each from the server's zone was a tenth of the outbox delivery's CPU (duplicate
    # finding reads hundreds of times per report) — and SQL that casts a time to a date means the same
    # everywhere. Zone-dependent SQL names its zone (``AT TIME ZONE``).
    connect_args = {"connect_timeout": connect_timeout, "options": "-c TimeZone=UTC"}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    from shiyu.core.scoping import ScopedSession

    return sessionmaker(engine, class_=ScopedSession, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session], **info: Any) -> Iterator[Session]:
    """A session whose work commits on success and rolls back on any error (no partial writes)."""
    session = factory()
    session.info.update(info)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def analyze(factory: sessionmaker[Session]) -> None:
    """Refresh the query planner's statistics after a bulk load. Until autovacuum gets round to it (and on
    a server where it is off), PostgreSQL plans on none: on the demo city it read every case of the
    window for each duplicate look-up, 28-38 ms instead of 0.2-0.8 ms (docs/adr/0006-outbox-delivery.md)."""
    with factory() as session:
        session.connection().exec_driver_sql("ANALYZE")
        session.commit()


@contextmanager
def custom_plans(session: Session) -> Iterator[None]:
    """Within the block, PostgreSQL plans each statement for its own parameters (``plan_cache_mode``).

    psycopg prepares a statement from its fifth execution on a connection, and PostgreSQL may then keep a
    generic plan, made without the parameters' values. For a time window (``reported_at`` between two
    parameters) it assumes a few hundred rows, and an ORDER BY ... LIMIT then walks the time index backwards
    filtering on everything else: the duplicate look-ups read every case of their 8-week window, 20 ms each,
    instead of their grid's, address's and phone's index ranges, 0.2 ms. Planning costs ~0.3 ms a statement."""
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        yield
        return
    conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
    try:
        yield
    finally:
        conn.exec_driver_sql("SET LOCAL plan_cache_mode TO DEFAULT")


def among(session: Session, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column IN values`` for a batch's ids. On PostgreSQL the values go as one array (``= ANY(:values)``):
    an ``IN`` list is a statement of its own for every length — SQLAlchemy renders it on each execution and
    psycopg parses it anew once it has more than 50 parameters —, and the outbox's batches of 50 paid that
    on every statement (docs/adr/0006-outbox-delivery.md). SQLite has no arrays and keeps the list."""
    listed = list(values)
    if session.get_bind().dialect.name == "postgresql":
        return cast("ColumnElement[bool]", column == any_(bindparam(None, listed, type_=ARRAY(column.type))))
    return cast("ColumnElement[bool]", column.in_(listed))


def with_defaults(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` completed with the Python-side defaults of the columns they leave out (``utcnow``,
    ``0``, ``dict``…), so a row written with a Core INSERT can be audited and announced exactly as stored."""
    out = dict(values)
    for column in table.c:
        default = column.default
        if column.key in out or default is None or column.primary_key or not hasattr(default, "arg"):
            continue
        out[column.key] = default.arg(None) if default.is_callable else default.arg
    return out


def upsert(session: Session, table: Table) -> Any:
    """An INSERT of the session's dialect, with ``on_conflict_do_nothing`` / ``on_conflict_do_update``
    (SQLite and PostgreSQL spell them alike)."""
    return _insert_for(session.get_bind().dialect.name)(table)


def _insert_for(dialect: str) -> Any:
    return postgresql_insert if dialect == "postgresql" else sqlite_insert


@lru_cache(maxsize=64)
def _insert_new_statement(dialect: str, table: Table, unique: tuple[str, ...]) -> Any:
    return (_insert_for(dialect)(table).on_conflict_do_nothing(index_elements=list(unique))
            .returning(table.c.id, *(table.c[c] for c in unique)))


def insert_new_returning(session: Session, table: Table, unique: tuple[str, ...]) -> Any:
    """An INSERT that skips rows whose ``unique`` columns already exist and returns ``id`` with those columns
    of the rows it wrote; execute it with a list of rows.

    ``ON CONFLICT DO NOTHING`` instead of a read before the write: new rows (the common case) cost one
    statement for the whole list, and two retries racing each other cannot both insert. The statement is
    built once; SQLAlchemy sends the list as one multi-row INSERT and reuses its compiled form."""
    return _insert_new_statement(session.get_bind().dialect.name, table, unique)


@lru_cache(maxsize=64)
def insert_returning(table: Table, *columns: str) -> Any:
    """An INSERT returning ``id`` and ``columns``, built once per table; execute it with a list of rows."""
    return insert(table).returning(table.c.id, *(table.c[c] for c in columns))


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE matched. ``Session.execute`` returns a CursorResult for those statements, but
    its signature promises only a Result, which has no ``rowcount``."""
    return cast(CursorResult[Any], result).rowcount


def get_or_not_found(session: Session, model: type[_T], ident: int, name: str) -> _T:
    """The row with this primary key, read through the session (so within the caller's scope), or a 404 that
    names what was asked for — one row out of scope answers exactly like one that does not exist."""
    row = session.get(model, ident)
    if row is None:
        raise NotFound(detail={"object": name, "id": ident})
    return row
