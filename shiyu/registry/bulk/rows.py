"""Reading and checking the rows of an import file. Columns are named in Chinese (as the extracts come) or
by field name; every row is checked with the same rules as a change record (``shiyu.registry.fields``),
plus what only a whole file shows: the grid code exists, an ID number or credit code appears once in the
file and is not registered yet, a person's house is registered.

Lookups are batched (one query per few thousand rows, by blind index or code, nothing decrypted), because
the files are a city's population: millions of rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.core.db import among
from shiyu.core.errors import ShiyuError, ValidationFailed
from shiyu.core.pii import blind_hash
from shiyu.core.tabular import Table
from shiyu.org.areas.models import Area, AreaLevel
from shiyu.registry import fields
from shiyu.registry.models import Address, House, Person, Unit
from shiyu.registry.places import address_code

UNSCOPED = {"unscoped": True}
CHUNK = 5000
KINDS = ("persons", "houses", "units")
_ADDRESS = {"网格编码": "grid_code", "小区/道路": "road", "小区": "road", "道路": "road", "楼栋": "building_no",
            "单元": "unit_no", "户室": "room_no", "经度": "lon", "纬度": "lat"}
COLUMNS: dict[str, dict[str, str]] = {
    "persons": {"姓名": "name", "身份证号": "id_number", "手机": "phone", "电话": "phone", "民族": "ethnicity",
                "人员类型": "residence_type", "户籍地址": "hukou_address", "来本地日期": "arrival_date",
                "居住证号": "permit_no", "居住证有效期": "permit_expires_on", "职业": "occupation",
                "与户主关系": "relation", **_ADDRESS},
    "houses": {"用途": "use", "面积": "area_m2", "出租人": "landlord_name", "出租人电话": "landlord_phone",
               "租住人数": "tenant_count", "备案日期": "rental_filed_on", "最近检查日期": "last_inspected_on",
               **_ADDRESS},
    "units": {"统一社会信用代码": "credit_code", "名称": "name", "单位名称": "name", "类型": "kind",
              "地址": "address_text", "法定代表人": "legal_rep_name", "法定代表人电话": "legal_rep_phone",
              "从业人数": "staff_count", "场所类型": "place_type", "风险标签": "risk_tags", "网格编码": "grid_code"},
}


def column_label(kind: str, field_name: str) -> str:
    """The column a field is read from, as the extracts name it (身份证号 for ``id_number``)."""
    return next((k for k, v in COLUMNS.get(kind, {}).items() if v == field_name), field_name)


@dataclass
class Row:
    number: int
    data: dict[str, str]
    values: dict[str, Any] = field(default_factory=dict)
    grid: Area | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)

    def refuse(self, code: str, fld: str, zh: str, en: str) -> None:
        self.problems.append({"code": code, "field": fld, "zh": zh, "en": en})


def rows_from_table(kind: str, table: Table, first: int = 2) -> list[Row]:
    """Rows of a file (numbered as the spreadsheet shows them: the header is row 1)."""
    return rows_from_records(kind, (dict(zip(table.columns, cells, strict=True)) for cells in table.rows), first)


def rows_from_records(kind: str, records: Iterable[dict[str, Any]], first: int = 1) -> list[Row]:
    if kind not in KINDS:
        raise ValidationFailed("unknown_kind", "只能导入 persons、houses 或 units", "Import persons, houses or units")
    names = COLUMNS[kind]
    rows = [Row(n, {names.get(k.strip(), k.strip()): str(v if v is not None else "").strip() for k, v in r.items()})
            for n, r in enumerate(records, start=first)]
    if not rows:
        raise ValidationFailed("no_rows", "文件中没有数据行", "The file has no rows")
    return rows


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _grids(session: Session) -> dict[str, Area]:
    return {a.code: a for a in session.scalars(select(Area).where(Area.level == int(AreaLevel.GRID)),
                                               execution_options=UNSCOPED)}


def _communities(session: Session, grids: dict[str, Area]) -> dict[int, str]:
    ids = {g.parent_id for g in grids.values()}
    rows = session.execute(select(Area.id, Area.code).where(among(session, Area.id, ids)), execution_options=UNSCOPED)
    return {r.id: r.code for r in rows}


def check(session: Session, kind: str, rows: list[Row], today: date | None = None) -> list[Row]:
    """Every row's values and problems (``row.problems`` empty: it can be written)."""
    grids = _grids(session)
    communities = _communities(session, grids)
    values_of = {"persons": lambda d: fields.person_values(d, today), "houses": _house_row, "units": fields.unit_values}
    for row in rows:
        try:
            row.values = values_of[kind](row.data)
        except ShiyuError as exc:
            detail = exc.detail if isinstance(exc.detail, dict) else {}
            row.refuse(exc.code, str(detail.get("field", "")), exc.zh, exc.en)
        code = row.data.get("grid_code", "")
        row.grid = grids.get(code)
        if row.grid is None:
            row.refuse("unknown_grid", "grid_code", f"网格编码“{code}”不存在", f"No grid has the code '{code}'")
        elif kind != "units" and row.data.get("road"):
            row.values["address_code"] = address_code(communities[row.grid.parent_id or 0], row.data)
    {"persons": _check_persons, "houses": _check_houses, "units": _check_units}[kind](session, rows)
    return rows


def _house_row(data: dict[str, Any]) -> dict[str, Any]:
    return {**fields.house_values(data), **fields.address_parts(data)}


def _once(rows: list[Row], key: str, fld: str, zh: str, en: str) -> None:
    seen: dict[Any, int] = {}
    for row in rows:
        value = row.values.get(key)
        if value in (None, ""):
            continue
        if value in seen:
            row.refuse("repeated_in_file", fld, f"{zh}与第 {seen[value]} 行重复", f"{en} repeats row {seen[value]}")
        else:
            seen[value] = row.number


def _taken(session: Session, column: Any, values: list[Any]) -> set[Any]:
    """Which of ``values`` the table already holds. The lists go as arrays on PostgreSQL (``among``): an
    ``IN`` list of 5,000 hashes was a statement psycopg parsed anew each time, a fifth of the import."""
    out: set[Any] = set()
    for part in chunks(values):
        out.update(session.scalars(select(column).where(among(session, column, part)), execution_options=UNSCOPED))
    return out


def _check_persons(session: Session, rows: list[Row]) -> None:
    for row in rows:
        if row.values.get("id_number"):
            row.values["id_number_hash"] = blind_hash("id_number", row.values["id_number"])
    _once(rows, "id_number_hash", "id_number", "身份证号", "The ID number")
    taken = _taken(session, Person.id_number_hash, [r.values["id_number_hash"] for r in rows
                                                    if r.values.get("id_number_hash")])
    for row in rows:
        if row.values.get("id_number_hash") in taken:
            row.refuse("already_registered", "id_number", "该身份证号已登记（请用变更记录修改，或合并重复）",
                       "This ID number is already registered (change it through a change record)")
    codes = [r.values["address_code"] for r in rows if r.values.get("address_code")]
    houses: dict[str, int] = {}
    for part in chunks(codes):
        found = session.execute(select(Address.code, House.id).join(House, House.address_id == Address.id)
                                .where(among(session, Address.code, part)), execution_options=UNSCOPED)
        houses.update((r.code, r.id) for r in found)
    for row in rows:
        code = row.values.get("address_code")
        if code and code not in houses:
            row.refuse("unknown_house", "room_no", "该地址的房屋尚未登记（请先导入房屋）",
                       "No house is registered at this address (import the houses first)")
        elif code:
            row.values["house_id"] = houses[code]


def _check_houses(session: Session, rows: list[Row]) -> None:
    _once(rows, "address_code", "room_no", "地址", "The address")
    taken = _taken(session, Address.code, [r.values["address_code"] for r in rows if r.values.get("address_code")])
    for row in rows:
        if row.values.get("address_code") in taken:
            row.refuse("already_registered", "room_no", "该地址已登记", "This address is already registered")


def _check_units(session: Session, rows: list[Row]) -> None:
    _once(rows, "credit_code", "credit_code", "统一社会信用代码", "The credit code")
    taken = _taken(session, Unit.credit_code, [r.values["credit_code"] for r in rows if r.values.get("credit_code")])
    for row in rows:
        if row.values.get("credit_code") in taken:
            row.refuse("already_registered", "credit_code", "该统一社会信用代码已登记",
                       "This credit code is already registered")
