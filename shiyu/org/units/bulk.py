"""Centres and departments in bulk, from the same XLSX/CSV files as people (``shiyu.core.tabular``).

Centres: 区域编码, 名称, 电话 (optional). Departments: 部门编码, 部门名称, 区域编码, 类别 (部件/事件 or
component/incident, several separated by 、 or commas; 事件 when empty), 电话, 管辖区域 (area codes, the
department's own area when empty).

Each row goes through the very service call a single creation uses (``create_centre``,
``create_department``: permissions, one centre per area, unique codes, jurisdictions inside the
department's area…), each in a savepoint of its own, so a refused row is reported and the next one still
checked — and a later row sees the earlier ones (two centres for one area in a file: the second is refused).
Then everything is rolled back on a dry run or when any row was refused: all or nothing. A city has tens to
hundreds of these, so per-row service calls are fast enough.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.core.errors import ShiyuError, ValidationFailed
from shiyu.core.scoping import Principal
from shiyu.org.areas.models import Area
from shiyu.org.units import service
from shiyu.org.units.schemas import DepartmentIn

KINDS = {"centres", "departments"}
COLUMNS = {
    "centres": {"区域编码": "area_code", "名称": "name", "电话": "phone"},
    "departments": {"部门编码": "code", "部门名称": "name", "区域编码": "area_code", "类别": "category_kinds",
                    "电话": "phone", "管辖区域": "jurisdictions"},
}
REQUIRED = {"centres": ("area_code", "name"), "departments": ("code", "name", "area_code")}
_KIND_WORDS = {"部件": "component", "事件": "incident", "component": "component", "incident": "incident"}
_SEPARATORS = ("、", "，", ";", "；", " ")


@dataclass
class UnitRow:
    number: int
    values: dict[str, str]
    problems: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class UnitReport:
    kind: str
    dry_run: bool
    rows: list[UnitRow]

    @property
    def invalid(self) -> int:
        return sum(1 for r in self.rows if r.problems)

    def as_dict(self, lang: str) -> dict[str, Any]:
        return {"kind": self.kind, "dry_run": self.dry_run, "total": len(self.rows), "invalid": self.invalid,
                "created": 0 if self.dry_run or self.invalid else len(self.rows),
                "rows": [{"row": r.number, "ok": not r.problems, "code": r.values.get("code") or None,
                          "name": r.values.get("name") or None,
                          "problems": [{"code": p["code"], "field": p["field"], "message": p[lang[:2]]}
                                       for p in r.problems]} for r in self.rows]}


def rows_from_records(kind: str, records: Iterable[dict[str, Any]], first: int = 1) -> list[UnitRow]:
    """Rows keyed by the Chinese column names or the field names (the API's JSON)."""
    if kind not in KINDS:
        raise ValidationFailed("unknown_kind", "只能导入 centres 或 departments", "Import centres or departments")
    names = COLUMNS[kind]
    rows = [UnitRow(n, {names.get(k, k): str(v if v is not None else "").strip() for k, v in r.items()})
            for n, r in enumerate(records, start=first)]
    if not rows:
        raise ValidationFailed("no_rows", "文件中没有数据行", "The file has no rows")
    return rows


def import_units(session: Session, principal: Principal, kind: str, rows: list[UnitRow], *,
                 dry_run: bool) -> UnitReport:
    """Check every row by creating it in a savepoint; keep the creations only when no row was refused and
    this is not a dry run."""
    create = _create_centre if kind == "centres" else _create_department
    outer = session.begin_nested()
    for row in rows:
        missing = [f for f in REQUIRED[kind] if not row.values.get(f)]
        if missing:
            labels = {v: k for k, v in COLUMNS[kind].items()}
            row.problems.append({"code": "required", "field": missing[0],
                                 "zh": f"“{labels[missing[0]]}”不能为空", "en": f"{missing[0]} is required"})
            continue
        try:
            with session.begin_nested():
                create(session, principal, row.values)
        except ShiyuError as exc:
            detail = exc.detail if isinstance(exc.detail, dict) else {}
            row.problems.append({"code": exc.code, "field": detail.get("field"), "zh": _said(exc, "zh", row),
                                 "en": _said(exc, "en", row)})
    report = UnitReport(kind, dry_run, rows)
    if dry_run or report.invalid:
        outer.rollback()
    else:
        outer.commit()
    return report


def _said(exc: ShiyuError, lang: str, row: UnitRow) -> str:
    """A not-found from the service names no row value; say which area code was not known."""
    if exc.status in (403, 404):
        return (f"未知或无权管理的区域编码“{row.values.get('area_code')}”" if lang == "zh"
                else f"Unknown area code, or not yours to manage: {row.values.get('area_code')}")
    return exc.message(lang)


def _area_id(session: Session, code: str, field: str = "area_code") -> int:
    area_id = session.scalar(select(Area.id).where(Area.code == code))
    if area_id is None:
        raise ValidationFailed("unknown_area", "未知区域编码“{area}”", "Unknown area code '{area}'", area=code,
                               detail={"field": field})
    return area_id


def _create_centre(session: Session, principal: Principal, v: dict[str, str]) -> None:
    name = v["name"]
    if len(name) > 100:
        raise ValidationFailed("name_too_long", "名称最多100字", "A name has at most 100 characters",
                               detail={"field": "name"})
    service.create_centre(session, principal, _area_id(session, v["area_code"]), name, v.get("phone", "")[:30])


def _create_department(session: Session, principal: Principal, v: dict[str, str]) -> None:
    kinds = [_KIND_WORDS.get(k, k) for k in _split(v.get("category_kinds", ""))] or ["incident"]
    jurisdictions = [_area_id(session, c, "jurisdictions") for c in _split(v.get("jurisdictions", ""))]
    data = _validated(DepartmentIn, {"code": v["code"], "name": v["name"], "area_id": 0,
                                     "category_kinds": kinds, "phone": v.get("phone", "")})
    data["area_id"] = _area_id(session, v["area_code"])
    data["jurisdiction_area_ids"] = jurisdictions
    service.create_department(session, principal, **data)


def _validated(model: Any, values: dict[str, Any]) -> dict[str, Any]:
    """The field rules of a single creation's schema (code pattern, lengths), as a row problem."""
    try:
        return dict(model.model_validate(values).model_dump())
    except ValidationError as exc:
        where = str(exc.errors()[0]["loc"][0])
        raise ValidationFailed("invalid_field", "“{field}”格式不正确", "'{field}' is not valid", field=where,
                               detail={"field": where}) from None


def _split(text: str) -> list[str]:
    for sep in _SEPARATORS:
        text = text.replace(sep, ",")
    return [p for p in (s.strip() for s in text.split(",")) if p]

