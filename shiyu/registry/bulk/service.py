"""Writing a checked import: all rows or none, with Core INSERTs in chunks (the ORM's unit of work would
take minutes for a district's population). Personal data is encrypted by the column types as with the ORM;
the blind indexes are filled here (``pii.with_blind_index``) as the flush listener would. The import is one
act of one operator, so it is one audit entry naming the kind, the file, the count and the rows' id range.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from shiyu.core import audit
from shiyu.core.errors import ShiyuError
from shiyu.core.pii import with_blind_index
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.registry.bulk.rows import UNSCOPED, Row, check, chunks
from shiyu.registry.models import EDIT, Address, Building, House, Person, Residence, Unit

IMPORT = "registry.import"


class ImportHasErrors(ShiyuError):
    status = 422
    code = "import_has_errors"
    zh = "有 {count} 行存在问题，未导入任何数据"
    en = "{count} rows have problems; nothing was imported"


@dataclass
class Report:
    kind: str
    rows: list[Row]
    written: int = 0

    @property
    def invalid(self) -> list[Row]:
        return [r for r in self.rows if r.problems]


def run(session: Session, principal: Principal, kind: str, rows: list[Row], *, dry_run: bool,
        file_name: str = "", today: date | None = None) -> Report:
    """Check every row; unless it is a dry run, write them all when none has a problem (else raise)."""
    principal.require(IMPORT)
    report = Report(kind, check(session, kind, rows, today))
    for row in report.rows:
        if row.grid is not None and not principal.can(EDIT, row.grid.area_path):
            row.refuse("unknown_grid", "grid_code", "网格编码不存在", "No such grid")
    if report.invalid:
        raise ImportHasErrors(detail=[{"row": r.number, "problems": r.problems} for r in report.invalid],
                              count=len(report.invalid))
    if dry_run:
        return report
    ids = {"persons": _persons, "houses": _houses, "units": _units}[kind](session, report.rows)
    report.written = len(ids)
    audit.record(session, "import", f"registry_{kind}", None,
                 after={"file": file_name[:200], "count": len(ids), "first_id": min(ids, default=None),
                        "last_id": max(ids, default=None)})
    return report


def _insert_ids(session: Session, table: Any, values: list[dict[str, Any]]) -> list[int]:
    out: list[int] = []
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    for part in chunks(values):
        out.extend(session.execute(stmt, list(part)).scalars())
    return out


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
    ids = _insert_ids(session, Person.__table__, values)
    residences = [{"person_id": pid, "house_id": r.values["house_id"], "moved_in_on": r.values.get("arrival_date"),
                   **_placed(r, now)} for pid, r in zip(ids, rows, strict=True) if r.values.get("house_id")]
    for part in chunks(residences):
        session.execute(insert(Residence.__table__), list(part))
    return ids


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
