"""Validation of Chinese identifiers: resident ID numbers (GB 11643) and phone numbers."""

from __future__ import annotations

import re
from datetime import date

from shiyu.core.errors import ValidationFailed

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# First two digits: the province-level divisions of GB/T 2260.
_PROVINCES = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42",
     "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82"}
)
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
_SERVICE = re.compile(r"^(95\d{3,6}|400\d{7}|12\d{3})$")


def id_check_digit(first17: str) -> str:
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def validate_id_number(value: str, today: date | None = None) -> str:
    """Return the normalised 18-character ID number, or raise with the reason in both languages."""
    v = value.strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", v):
        raise ValidationFailed(
            "invalid_id_number",
            "身份证号码应为18位（最后一位可为X）",
            "A resident ID number has 18 characters (the last may be X)",
            detail={"field": "id_number"},
        )
    if v[:2] not in _PROVINCES:
        raise ValidationFailed(
            "invalid_id_number", "身份证号码的地区码无效", "The region code of the ID number is not valid",
            detail={"field": "id_number"},
        )
    try:
        born = date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        born = None
    if born is None or born > (today or date.today()) or born.year < 1880:
        raise ValidationFailed(
            "invalid_id_number", "身份证号码中的出生日期无效", "The birth date in the ID number is not valid",
            detail={"field": "id_number"},
        )
    if id_check_digit(v[:17]) != v[17]:
        raise ValidationFailed(
            "invalid_id_number", "身份证号码校验位不正确", "The check digit of the ID number is wrong",
            detail={"field": "id_number"},
        )
    return v


def validate_phone(value: str) -> str:
    """Mainland mobile (11 digits), landline with area code, or a short service number."""
    v = value.strip().replace(" ", "").removeprefix("+86")
    if _MOBILE.match(v) or _LANDLINE.match(v) or _SERVICE.match(v):
        return v
    raise ValidationFailed(
        "invalid_phone",
        "电话号码格式不正确（手机号为11位，固话需带区号）",
        "The phone number is not valid (11-digit mobile, or landline with area code)",
        detail={"field": "phone"},
    )
