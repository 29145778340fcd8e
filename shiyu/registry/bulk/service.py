"""Writing a checked import: all rows or none. The ORM's unit of work would take minutes for a district's
population, and so did multi-row ``INSERT … RETURNING``: psycopg rewrites every statement of thousands of
placeholders in Python, which was 80 % of the time (cProfile, docs/adr/0013). So the ids are taken from
the table's sequence in one query per chunk and the rows go in with ``COPY`` on PostgreSQL (a plain
``executemany`` on SQLite). Personal data is encrypted by the column types' own bind processors, exactly
as with the ORM; the blind indexes are filled here (``pii.with_blind_index``) as the flush listener would.
The import is one act of one operator, so it is one audit entry naming the kind, the file, the count and
the rows' id range.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from shiyu.core import audit
from shiyu.core.db import among
from shiyu.core.errors import ShiyuError, ValidationFailed
from shiyu.core.pii import with_blind_index
from shiyu.core.scoping import Principal
from shiyu.core.tabular import parse_table
from shiyu.core.timeutil import utcnow
from shiyu.registry.bulk.rows import (
    CHUNK,
    UNSCOPED,
    Row,
    check,
    chunks,
    column_label,
    rows_from_records,
    rows_from_table,
)
from shiyu.registry.models import EDIT, Address, Building, House, Household, Person, Residence, Unit

IMPORT = "registry.import"


class ImportHasErrors(ShiyuError):
    status = 422
    code = "import_has_errors"
    zh = "有 {count} 行存在问题，未导入任何数据"
    en = "{count} rows have problems; nothing was imported"


# (phase, rows done, rows in all): "check" once the file is checked, "write" after each chunk written
Progress = Callable[[str, int, int], None]


@dataclass
class Report:
    kind: str
    rows: list[Row]
    written: int = 0

    @property
    def invalid(self) -> list[Row]:
        return [r for r in self.rows if r.problems]

    def problems(self) -> list[dict[str, Any]]:
        """Each problem of each bad row, in row order: what the dry-run report shows."""
        return [{"row": r.number, **p} for r in self.invalid for p in r.problems]


def run(session: Session, principal: Principal, kind: str, rows: list[Row], *, dry_run: bool,
        file_name: str = "", today: date | None = None, good_only: bool = False,
        progress: Progress | None = None) -> Report:
    """Check every row; unless it is a dry run, write them. All or nothing by default (any bad row: raise,
    nothing written); with ``good_only`` the good rows are written and the bad ones only reported — the
    operator saw the dry-run report and chose to import the rest. Either way one transaction: an error
    while writing leaves nothing behind."""
    principal.require(IMPORT)
    report = Report(kind, check(session, kind, rows, today))
    for row in report.rows:
        if row.grid is not None and not principal.can(EDIT, row.grid.area_path):
            row.refuse("unknown_grid", "grid_code", "网格编码不存在", "No such grid")
    total = len(report.rows)
    if progress is not None:
        progress("check", total, total)
    if report.invalid and not (dry_run or good_only):
        raise ImportHasErrors(detail=[{"row": r.number, "problems": r.problems} for r in report.invalid],
                              count=len(report.invalid))
    if dry_run:
        return report
    writer = {"persons": _persons, "houses": _houses, "units": _units}[kind]
    good = [r for r in report.rows if not r.problems]
    ids: list[int] = []
    for part in chunks(good):
        ids.extend(writer(session, list(part)))
        if progress is not None:
            progress("write", len(ids), len(good))
    report.written = len(ids)
    if session.info.get("audit_off"):  # the demo build: one entry for the whole build says what it made
        return report
    audit.record(session, "import", f"registry_{kind}", None,
                 after={"file": file_name[:200], "count": len(ids), "skipped": total - len(good),
                        "first_id": min(ids, default=None), "last_id": max(ids, default=None)})
    return report


MODES = ("check", "import", "all")
MAX_BYTES = 50 * 1024 * 1024
MAX_PROBLEMS = 1000
MAX_ROWS = 100_000  # rows of one JSON body


@dataclass(frozen=True)
class Upload:
    """What an operator sends: a file's name and bytes, or (over the API) the rows themselves."""

    name: str
    raw: bytes | None = None
    records: list[dict[str, Any]] | None = None


def json_records(body: bytes) -> list[dict[str, Any]]:
    """The ``rows`` of a JSON body: a list of objects of plain values (at most ``MAX_ROWS``)."""
    try:
        data = json.loads(body or b"null")
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        data = None
    rows = data.get("rows") if isinstance(data, dict) else None
    if not isinstance(rows, list) or len(rows) > MAX_ROWS or not all(
            isinstance(r, dict) and all(isinstance(v, str | int | float | None) for v in r.values()) for r in rows):
        raise ValidationFailed("invalid_body", f"请求体应含 rows：每行一个对象，至多 {MAX_ROWS} 行",
                               f"The body needs rows: one object per row, at most {MAX_ROWS}",
                               detail={"field": "rows"})
    return rows


def import_upload(session: Session, principal: Principal, kind: str, upload: Upload, mode: str,
                  today: date | None = None) -> Report:
    """An upload (the page and ``POST /api/v1/registry/imports``): ``check`` reports every row and writes
    nothing; ``import`` writes the good rows and reports the bad; ``all`` writes every row or none."""
    principal.require(IMPORT)
    if mode not in MODES:
        raise ValidationFailed("invalid_mode", "导入方式应为 check、import 或 all", "The mode is check, import or all",
                               detail={"field": "mode"})
    if upload.records is not None:
        rows = rows_from_records(kind, upload.records)
    else:
        raw = upload.raw or b""
        if not raw:
            raise ValidationFailed("empty_file", "请选择要导入的文件", "Choose a file to import",
                                   detail={"field": "file"})
        if len(raw) > MAX_BYTES:
            raise ValidationFailed("file_too_large", f"文件超过 {MAX_BYTES // 2**20} MB",
                                   f"The file is larger than {MAX_BYTES // 2**20} MB", detail={"field": "file"})
        rows = rows_from_table(kind, parse_table(raw, upload.name or "upload.csv"))
    return run(session, principal, kind, rows, dry_run=mode == "check", file_name=upload.name, today=today,
               good_only=mode == "import")


def summary(report: Report, mode: str) -> dict[str, Any]:
    """The report as the page and the API show it: counts, and each problem with its row, the column as the
    file names it, and the reason in Chinese and English (the first ``MAX_PROBLEMS``)."""
    problems = report.problems()
    return {"kind": report.kind, "mode": mode, "total": len(report.rows), "valid": len(report.rows) -
            len(report.invalid), "invalid": len(report.invalid), "written": report.written,
            "problems": [{"row": p["row"], "field": p["field"], "column": column_label(report.kind, p["field"]),
                          "code": p["code"], "message": p["zh"], "message_en": p["en"]}
                         for p in problems[:MAX_PROBLEMS]],
            "more_problems": max(0, len(problems) - MAX_PROBLEMS)}


def _insert_ids(session: Session, table: Any, values: list[dict[str, Any]]) -> list[int]:
    """Insert ``values`` and answer their ids in the same order."""
    ids = _allocate(session, table, len(values))
    for row, new_id in zip(values, ids, strict=True):
        row["id"] = new_id
    _insert(session, table, values)
    return ids


def _allocate(session: Session, table: Any, count: int) -> list[int]:
    """``count`` new ids of ``table``: from its sequence on PostgreSQL (concurrent writers never collide);
    after the highest id on SQLite, whose one writer at a time holds the database until commit."""
    if not count:
        return []
    if session.get_bind().dialect.name != "postgresql":
        top = session.scalar(select(func.coalesce(func.max(table.c.id), 0)), execution_options=UNSCOPED) or 0
        return list(range(top + 1, top + count + 1))
    out: list[int] = []
    stmt = text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)")
    for start in range(0, count, CHUNK * 10):
        out.extend(session.execute(stmt, {"t": table.name, "n": min(CHUNK * 10, count - start)}).scalars())
    return out


def _insert(session: Session, table: Any, values: list[dict[str, Any]]) -> None:
    """Write rows (``COPY`` on PostgreSQL). A column a row leaves out takes its Python-side default, as an
    ``INSERT`` would give it; values pass through the column types' bind processors (encryption, JSON)."""
    if not values:
        return
    conn = session.connection()
    dialect = conn.dialect
    given = set().union(*(v.keys() for v in values))
    defaults = {c.key: c.default.arg if c.default.is_scalar else c.default.arg(None) for c in table.c
                if c.key not in given and c.default is not None and (c.default.is_scalar or c.default.is_callable)}
    names = sorted(given | defaults.keys())
    if dialect.name != "postgresql":
        for part in chunks(values):
            conn.execute(insert(table), [{**defaults, **v} for v in part])
        return
    procs = [table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names]
    raw = conn.connection.driver_connection
    assert raw is not None  # an open connection of this session's transaction
    columns = ", ".join(dialect.identifier_preparer.quote(n) for n in names)
    with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy:
        for v in values:
            row = [v.get(n, defaults.get(n)) for n in names]
            copy.write_row([p(x) if p is not None and x is not None else x for p, x in zip(procs, row, strict=True)])


def _placed(row: Row, now: Any) -> dict[str, Any]:
    assert row.grid is not None  # checked: a row without a grid is refused
    return {"grid_id": row.grid.id, "area_path": row.grid.area_path, "created_at": now, "updated_at": now}


_PERSON_COLUMNS = ("name", "id_number", "phone", "sex", "birth_date", "ethnicity", "residence_type",
                   "hukou_address", "arrival_date", "permit_no", "permit_expires_on", "occupation", "relation",
                   "police_note")


def _persons(session: Session, rows: list[Row]) -> list[int]:
    now = utcnow()
    values = [with_blind_index(Person, {**{k: r.values.get(k) for k in _PERSON_COLUMNS}, **_placed(r, now),
                                        "status": "active"}) for r in rows]
    households = _households(session, rows, now)
    for v, r in zip(values, rows, strict=True):
        v["household_id"] = households.get(r.values.get("house_id") or 0)
    ids = _insert_ids(session, Person.__table__, values)
    _insert(session, Residence.__table__, [
        {"person_id": pid, "house_id": r.values["house_id"], "moved_in_on": r.values.get("arrival_date"),
         **_placed(r, now)} for pid, r in zip(ids, rows, strict=True) if r.values.get("house_id")])
    return ids


def _households(session: Session, rows: list[Row], now: Any) -> dict[int, int]:
    """The household of each house the rows live in: the house's existing one, else a new one — the rows of
    one house are one household, each naming their relation to its head (与户主关系)."""
    wanted: dict[int, Row] = {}
    for r in rows:
        if r.values.get("house_id"):
            wanted.setdefault(r.values["house_id"], r)
    found: dict[int, int] = {}
    for part in chunks(list(wanted)):
        stmt = select(Household.house_id, func.min(Household.id)).where(among(session, Household.house_id, part)) \
            .group_by(Household.house_id)
        found.update((h, i) for h, i in session.execute(stmt, execution_options=UNSCOPED))
    missing = [h for h in wanted if h not in found]
    ids = _insert_ids(session, Household.__table__, [{"house_id": h, **_placed(wanted[h], now)} for h in missing])
    found.update(zip(missing, ids, strict=True))
    return found


def _houses(session: Session, rows: list[Row]) -> list[int]:
    now = utcnow()
    buildings = _buildings(session, rows, now)
    addresses = _insert_ids(session, Address.__table__, [{
        "code": r.values["address_code"], "community_id": r.grid.parent_id if r.grid else None,
        "road": r.values["road"], "building_no": r.values["building_no"], "unit_no": r.values["unit_no"],
        "room_no": r.values["room_no"], "lon": r.values["lon"], "lat": r.values["lat"], **_placed(r, now),
    } for r in rows])
    house_columns = ("use", "area_m2", "landlord_name", "landlord_phone", "tenant_count", "rental_filed_on",
                     "last_inspected_on")
    return _insert_ids(session, House.__table__, [{
        **{k: r.values.get(k) for k in house_columns}, "address_id": aid,
        "building_id": buildings.get((r.grid.parent_id if r.grid else 0, r.values["road"], r.values["building_no"])),
        **_placed(r, now),
    } for aid, r in zip(addresses, rows, strict=True)])


def _buildings(session: Session, rows: list[Row], now: Any) -> dict[tuple[Any, str, str], int]:
    """The buildings the rows name, existing ones found and missing ones created (in the first row's grid)."""
    wanted: dict[tuple[Any, str, str], Row] = {}
    for r in rows:
        if r.values.get("building_no") and r.grid is not None:
            wanted.setdefault((r.grid.parent_id, r.values["road"], r.values["building_no"]), r)
    found: dict[tuple[Any, str, str], int] = {}
    for community in {k[0] for k in wanted}:
        stmt = select(Building.id, Building.road, Building.building_no).where(Building.community_id == community)
        for b in session.execute(stmt, execution_options=UNSCOPED):
            found[(community, b.road, b.building_no)] = b.id
    missing = [k for k in wanted if k not in found]
    ids = _insert_ids(session, Building.__table__, [{
        "community_id": k[0], "road": k[1], "building_no": k[2], "lon": wanted[k].values.get("lon"),
        "lat": wanted[k].values.get("lat"), "use": "", **_placed(wanted[k], now)} for k in missing])
    found.update(zip(missing, ids, strict=True))
    return found


def _units(session: Session, rows: list[Row]) -> list[int]:
    now = utcnow()
    return _insert_ids(session, Unit.__table__, [{**r.values, **_placed(r, now), "status": "active"} for r in rows])
