"""What a register record may say, checked once for every way in (a change record from a phone or a page,
a row of an import): each ``*_values`` takes the submitted fields as plain data and answers the column
values to write, or raises ``ValidationFailed`` naming the field in Chinese and English.

Hand-written rather than Pydantic models because an import checks a city's millions of rows: a dictionary
walk per row costs a fraction of a model's validation, and the messages are the same either way.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from shiyu.core.errors import ValidationFailed
from shiyu.core.validators import validate_credit_code, validate_id_number, validate_phone
from shiyu.registry.models import ComponentStatus, HouseUse, PlaceType, ResidenceType, UnitKind

RELATIONS = ("户主", "配偶", "子女", "父母", "祖父母", "孙子女", "兄弟姐妹", "其他")
# GB/T 30428.2 major classes of components (大类); the minor class is the next two digits.
COMPONENT_MAJORS = {"01": "公用设施", "02": "道路交通", "03": "市容环境", "04": "园林绿化", "05": "房屋土地",
                    "06": "其他设施"}
LABELS: dict[str, dict[StrEnum, str]] = {
    "residence_type": {ResidenceType.REGISTERED: "户籍", ResidenceType.FLOATING: "流动",
                       ResidenceType.FOREIGN: "境外", ResidenceType.HK_MACAO_TAIWAN: "港澳台"},
    "use": {HouseUse.OWNER_OCCUPIED: "自住", HouseUse.RENTED: "出租", HouseUse.VACANT: "空置",
            HouseUse.BUSINESS: "经营", HouseUse.DORMITORY: "宿舍", HouseUse.GROUP_RENTAL: "群租"},
    "kind": {UnitKind.ENTERPRISE: "企业", UnitKind.SOLE_TRADER: "个体工商户", UnitKind.SOCIAL_ORG: "社会组织",
             UnitKind.PUBLIC: "机关事业", UnitKind.PROPERTY: "物业", UnitKind.SCHOOL: "学校",
             UnitKind.HOSPITAL: "医院"},
    "place_type": {PlaceType.NONE: "无", PlaceType.THREE_SMALL: "三小场所", PlaceType.NINE_SMALL: "九小场所",
                   PlaceType.CROWDED: "人员密集场所"},
    "status": {ComponentStatus.INTACT: "完好", ComponentStatus.DAMAGED: "破损", ComponentStatus.LOST: "丢失",
               ComponentStatus.OCCUPIED: "占用", ComponentStatus.REMOVED: "废弃"},
}
# Each choice by its code or its Chinese label (files from 公安 or 民政 carry the labels).
_CHOICES = {field: {**{str(k): str(k) for k in labels}, **{v: str(k) for k, v in labels.items()}}
            for field, labels in LABELS.items()}


def invalid(field: str, zh: str, en: str) -> ValidationFailed:
    return ValidationFailed(f"invalid_{field}", zh, en, detail={"field": field})


def _text(data: dict[str, Any], field: str, limit: int, *, required: bool = False) -> str:
    value = data.get(field)
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise ValidationFailed("required", "请填写“{field}”", "“{field}” is required", detail={"field": field},
                               field=field)
    if len(text) > limit or "\x00" in text:
        raise invalid(field, f"“{field}”过长（最多{limit}个字）", f"“{field}” is too long (at most {limit})")
    return text


def _choice(data: dict[str, Any], field: str, default: str) -> str:
    value = str(data.get(field) or "").strip()
    if not value:
        return default
    code = _CHOICES[field].get(value)
    if code is None:
        labels = "、".join(LABELS[field].values())
        raise invalid(field, f"“{field}”应为：{labels}", f"“{field}” must be one of: {labels}")
    return code


def _date(data: dict[str, Any], field: str) -> date | None:
    value = data.get(field)
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise invalid(field, f"“{field}”应为日期（如 2026-01-31）", f"“{field}” must be a date (2026-01-31)") from None


def _number(data: dict[str, Any], field: str, *, integer: bool = True, limit: float = 1e6) -> Any:
    value = data.get(field)
    if value in (None, ""):
        return None
    try:
        number = int(str(value).strip()) if integer else float(str(value).strip())
    except ValueError:
        raise invalid(field, f"“{field}”应为数字", f"“{field}” must be a number") from None
    if not 0 <= number <= limit:
        raise invalid(field, f"“{field}”超出范围", f"“{field}” is out of range")
    return number


def _point(data: dict[str, Any]) -> tuple[float | None, float | None]:
    lon, lat = _number(data, "lon", integer=False, limit=180), _number(data, "lat", integer=False, limit=90)
    if (lon is None) != (lat is None):
        raise invalid("lon", "经度和纬度须同时填写", "Give both longitude and latitude")
    return lon, lat


def id_facts(id_number: str) -> tuple[str, date]:
    """Sex and birth date as GB 11643 writes them into the number (17th digit odd: male)."""
    return ("M" if int(id_number[16]) % 2 else "F"), date(int(id_number[6:10]), int(id_number[10:12]),
                                                          int(id_number[12:14]))


def person_values(data: dict[str, Any], today: date | None = None) -> dict[str, Any]:
    """A person's columns. Residents of the mainland carry an 18-character ID number (check digit checked);
    people from abroad or from Hong Kong, Macao and Taiwan may carry a document number instead."""
    kind = _choice(data, "residence_type", ResidenceType.REGISTERED.value)
    out: dict[str, Any] = {"name": _text(data, "name", 50, required=True), "residence_type": kind,
                           "ethnicity": _text(data, "ethnicity", 20), "occupation": _text(data, "occupation", 60),
                           "hukou_address": _text(data, "hukou_address", 200) or None,
                           "arrival_date": _date(data, "arrival_date"), "permit_no": _text(data, "permit_no", 40),
                           "permit_expires_on": _date(data, "permit_expires_on"),
                           "relation": _text(data, "relation", 20), "police_note": _text(data, "police_note", 500)
                           or None}
    raw_id = _text(data, "id_number", 30)
    if raw_id or kind in (ResidenceType.REGISTERED, ResidenceType.FLOATING):
        out["id_number"] = validate_id_number(raw_id, today)
        out["sex"], out["birth_date"] = id_facts(out["id_number"])
    else:
        out["id_number"], out["sex"], out["birth_date"] = None, _text(data, "sex", 1), _date(data, "birth_date")
    phone = _text(data, "phone", 20)
    out["phone"] = validate_phone(phone) if phone else None
    if out["relation"] and out["relation"] not in RELATIONS:
        raise invalid("relation", "“与户主关系”应为：" + "、".join(RELATIONS),
                      "“relation” must be one of: " + ", ".join(RELATIONS))
    return out


def house_values(data: dict[str, Any]) -> dict[str, Any]:
    return {"use": _choice(data, "use", HouseUse.OWNER_OCCUPIED.value),
            "area_m2": _number(data, "area_m2", integer=False, limit=1e5),
            "landlord_name": _text(data, "landlord_name", 50) or None,
            "landlord_phone": (validate_phone(p) if (p := _text(data, "landlord_phone", 20)) else None),
            "tenant_count": _number(data, "tenant_count", limit=10_000) or 0,
            "rental_filed_on": _date(data, "rental_filed_on"), "last_inspected_on": _date(data, "last_inspected_on")}


def address_parts(data: dict[str, Any]) -> dict[str, Any]:
    lon, lat = _point(data)
    return {"road": _text(data, "road", 100, required=True), "building_no": _text(data, "building_no", 20),
            "unit_no": _text(data, "unit_no", 20), "room_no": _text(data, "room_no", 20), "lon": lon, "lat": lat}


def unit_values(data: dict[str, Any]) -> dict[str, Any]:
    code = _text(data, "credit_code", 30)
    tags = data.get("risk_tags") or []
    if isinstance(tags, str):
        tags = [t for t in (p.strip() for p in tags.replace("，", ",").replace("、", ",").split(",")) if t]
    if not isinstance(tags, list) or len(tags) > 20 or any(len(str(t)) > 20 for t in tags):
        raise invalid("risk_tags", "风险标签至多20个、每个至多20字", "At most 20 risk tags of at most 20 characters")
    phone = _text(data, "legal_rep_phone", 20)
    return {"credit_code": validate_credit_code(code) if code else None,
            "name": _text(data, "name", 200, required=True),
            "kind": _choice(data, "kind", UnitKind.ENTERPRISE.value), "address_text": _text(data, "address_text", 200),
            "legal_rep_name": _text(data, "legal_rep_name", 50) or None,
            "legal_rep_phone": validate_phone(phone) if phone else None,
            "staff_count": _number(data, "staff_count", limit=1_000_000) or 0,
            "place_type": _choice(data, "place_type", PlaceType.NONE.value),
            "risk_tags": [str(t) for t in tags], "red_property": bool(data.get("red_property"))}


def component_values(data: dict[str, Any]) -> dict[str, Any]:
    class_code = _text(data, "class_code", 4, required=True)
    if len(class_code) != 4 or not class_code.isdigit() or class_code[:2] not in COMPONENT_MAJORS:
        raise invalid("class_code", "部件类别代码应为4位：大类（01–06）加小类",
                      "A component class code has 4 digits: major class (01–06) and minor class")
    lon, lat = _point(data)
    if lon is None:
        raise invalid("lon", "部件须有位置（经纬度）", "A component needs a location")
    return {"class_code": class_code, "name": _text(data, "name", 100), "lon": lon, "lat": lat,
            "owner_name": _text(data, "owner_name", 200),
            "status": _choice(data, "status", ComponentStatus.INTACT.value)}
