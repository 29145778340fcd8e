"""The audit log: who did what, when, from where, with before/after for every change.

Every ORM insert, update and delete is recorded by one flush listener, in the same transaction as the
change, so no write path can forget it and a rolled-back change leaves no entry. Personal-data columns are
recorded as ``"***"`` (changed or not), never in the clear. Logins, failed logins and reveals of personal
data are recorded explicitly with ``record``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any

from sqlalchemy import Column, ForeignKey, String, Table, event, insert, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from shiyu.core.db import Base
from shiyu.core.paging import PageParams, paginate
from shiyu.core.pii import PersonalData
from shiyu.core.scoping import Principal, ScopedMixin, register_scoped
from shiyu.core.timeutil import utcnow

ROOT_PATH = "/"


def _city_wide_entries(principal: Principal) -> list[Any]:
    """Entries about city-wide data (categories, calendar, routing rules) carry the root path ``/``; an
    auditor whose grant covers a whole city sees them."""
    if any(p.count("/") == 2 for p in principal.paths_with("audit.view")):
        return [AuditEntry.area_path == ROOT_PATH]
    return []


@register_scoped
class AuditEntry(ScopedMixin, Base):
    __tablename__ = "audit_entry"
    __view_permission__ = "audit.view"
    __extra_scope__ = staticmethod(_city_wide_entries)
    __write_permission__ = "audit.write"  # nobody holds it: entries are written below the ORM

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    actor_name: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32), index=True)
    object_type: Mapped[str] = mapped_column(String(48), index=True)
    object_id: Mapped[str | None] = mapped_column(String(48))
    ip: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    reason: Mapped[str | None] = mapped_column(String(500))


NOT_AUDITED_TABLE = "audit_entry"
NOT_AUDITED = {NOT_AUDITED_TABLE}
_INSERT = insert(AuditEntry.__table__)
SKIP_COLUMNS = {"created_at", "updated_at"}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return "<bytes>"
    return value


@cache
def _audited_attrs(mapper: Any) -> tuple[tuple[str, Column[Any]], ...]:
    return tuple((a.key, a.columns[0]) for a in mapper.column_attrs if a.key not in SKIP_COLUMNS)


def _full(obj: Any) -> dict[str, Any]:
    """Every column's current value of ``obj`` (personal data and secrets blanked). Read from the instance's
    dict, not through each attribute's history: a value not loaded is None either way, and this runs for
    every row a flush writes."""
    state = inspect(obj)
    values = state.dict
    return {key: _recorded(column, values.get(key)) for key, column in _audited_attrs(state.mapper)}


def _changes(obj: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The changed columns of ``obj``, before and after. Only attributes with a committed value kept aside
    can have changed (that is where SQLAlchemy keeps an attribute's history), so the others are not asked:
    a case has fifty columns and a transition changes a handful."""
    state = inspect(obj)
    changed = state.committed_state
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for key, column in _audited_attrs(state.mapper):
        if key not in changed:
            continue
        hist = state.attrs[key].history
        if not hist.has_changes():
            continue
        old[key] = _recorded(column, hist.deleted[0] if hist.deleted else None)
        new[key] = _recorded(column, (hist.added or hist.unchanged or hist.deleted or [None])[0])
    return old, new


def _recorded(column: Column[Any], value: Any) -> Any:
    """How a column's value appears in an entry: personal data and secrets as ``"***"``."""
    if isinstance(column.type, PersonalData) or column.key.endswith("_hash"):
        return "***" if value is not None else None
    return _jsonable(value)


def entry(session: Session, action: str, object_type: str, object_id: Any, area_path: str,
          before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    """One entry by the session's principal, for ``write``."""
    principal: Principal | None = session.info.get("principal")
    return {
        "at": utcnow(),
        "actor_id": principal.user_id if principal else None,
        "actor_name": principal.username if principal else "anonymous",
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "ip": session.info.get("client_ip"),
        "before": before,
        "after": after,
        "reason": session.info.get("reason"),
        "area_path": area_path,
    }


@cache
def _audited_columns(table: Table) -> tuple[Column[Any], ...]:
    return tuple(c for c in table.c if c.key not in SKIP_COLUMNS)


def created(session: Session, table: Table, object_id: int, values: dict[str, Any]) -> dict[str, Any]:
    """The entry for a row written with a Core INSERT (the flush listener sees only ORM writes): every
    column as inserted, blanked like the listener's."""
    after = {c.key: _recorded(c, values.get(c.key)) for c in _audited_columns(table)}
    after["id"] = object_id
    return entry(session, "create", table.name, object_id, values.get("area_path", ROOT_PATH), None, after)


def write(session: Session, entries: list[dict[str, Any]]) -> None:
    """Entries for writes made below the ORM, in the caller's transaction (one statement for all)."""
    if entries and not session.info.get("audit_off"):
        session.connection().execute(_INSERT, entries)


def _row(session: Session, action: str, obj: Any, before: Any, after: Any) -> dict[str, Any]:
    ident = inspect(obj).identity
    return entry(session, action, obj.__tablename__, ",".join(str(i) for i in ident) if ident else None,
                 obj.area_path if isinstance(obj, ScopedMixin) else ROOT_PATH, before, after)


@event.listens_for(Session, "before_flush")
def _capture_before(session: Session, _ctx: Any, _inst: Any) -> None:
    """Updates and deletes lose their history after the flush, so their 'before' is taken now."""
    pending = session.info.setdefault("_audit_before", {})
    for obj in session.deleted:
        if getattr(obj, "__tablename__", NOT_AUDITED_TABLE) not in NOT_AUDITED:
            pending[id(obj)] = (_full(obj), None)
    for obj in session.dirty:
        if getattr(obj, "__tablename__", NOT_AUDITED_TABLE) in NOT_AUDITED or id(obj) in pending:
            continue
        old, new = _changes(obj)
        # No column changed: an entry only if something else did (a many-to-one set before its key column).
        if old or session.is_modified(obj, include_collections=False):
            pending[id(obj)] = (old, new)


@event.listens_for(Session, "after_flush")
def _write_entries(session: Session, _ctx: Any) -> None:
    if session.info.get("audit_off"):
        return
    rows = []
    pending = session.info.pop("_audit_before", {})
    for obj in session.new:
        if getattr(obj, "__tablename__", None) not in NOT_AUDITED:
            rows.append(_row(session, "create", obj, None, _full(obj)))
    for obj in session.dirty:
        if id(obj) in pending:
            before, after = pending[id(obj)]
            rows.append(_row(session, "update", obj, before, after))
    for obj in session.deleted:
        if id(obj) in pending:
            rows.append(_row(session, "delete", obj, pending[id(obj)][0], None))
    write(session, rows)


def record(
    session: Session,
    action: str,
    object_type: str,
    object_id: Any = None,
    *,
    area_path: str = ROOT_PATH,
    actor: Principal | None = None,
    reason: str | None = None,
    after: dict[str, Any] | None = None,
) -> int:
    """An explicit entry (login, failed login, reveal of personal data, export …); its id, for a page that
    shows the recorded outcome again (the desk's batch result)."""
    principal = actor or session.info.get("principal")
    return int(session.connection().execute(
        insert(AuditEntry).returning(AuditEntry.id),
        [
            {
                "at": utcnow(),
                "actor_id": principal.user_id if principal else None,
                "actor_name": principal.username if principal else "anonymous",
                "action": action,
                "object_type": object_type,
                "object_id": None if object_id is None else str(object_id),
                "ip": session.info.get("client_ip"),
                "before": None,
                "after": after,
                "reason": reason,
                "area_path": area_path,
            }
        ],
    ).scalar_one())


def common_path(paths: list[str]) -> str:
    """The deepest area path every one of ``paths`` lies under: the path of an entry recording a read of
    several rows, so that it is seen by those who see them all."""
    common = paths[0]
    for p in paths[1:]:
        while not p.startswith(common):
            common = common[: common.rstrip("/").rfind("/") + 1]
    return common or "/"


@dataclass(frozen=True)
class AuditFilter:
    """What to search the audit log by; a field left empty does not filter. ``since`` is inclusive and
    ``until`` exclusive, so consecutive ranges neither overlap nor leave a gap."""

    actor: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def within_days(self, tz: tzinfo, first: date | None, last: date | None) -> AuditFilter:
        """This filter from the start of ``first`` to the end of ``last`` (both included, either may be
        open), as days in the city's zone ``tz``, not UTC: people ask for calendar days where they are."""
        return replace(self, since=datetime.combine(first, time(0), tz) if first else None,
                       until=datetime.combine(last + timedelta(days=1), time(0), tz) if last else None)


def search(session: Session, filters: AuditFilter, params: PageParams) -> tuple[list[AuditEntry], int]:
    """One page of the entries matching every filter, newest first, and their total. The API and the audit
    page both search here, so they always agree; the session's scope limits it to the caller's subtrees."""
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc())
    for column, value in ((AuditEntry.actor_name, filters.actor), (AuditEntry.action, filters.action),
                          (AuditEntry.object_type, filters.object_type), (AuditEntry.object_id, filters.object_id)):
        if value:
            stmt = stmt.where(column == value)
    if filters.since:
        stmt = stmt.where(AuditEntry.at >= filters.since)
    if filters.until:
        stmt = stmt.where(AuditEntry.at < filters.until)
    return paginate(session, stmt, params)
