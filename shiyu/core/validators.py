"""Validation of Chinese identifiers: resident ID numbers (GB 11643) and phone numbers."""

from __future__ import annotations

import re
from datetime import date
from operator import mul

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
    """GB 11643's check character of the first 17 digits (ISO 7064 MOD 11-2)."""
    if len(first17) != len(_WEIGHTS):
        raise ValueError("an ID number's check character is computed from 17 digits")
    return _CHECK[sum(map(mul, map(int, first17), _WEIGHTS)) % 11]


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


# 统一社会信用代码 (GB 32100-2015): 18 characters of this alphabet (no I, O, S, V, Z); the last is a check
# character over the first 17 with these weights (3^i mod 31).
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_char(first17: str) -> str:
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> str:
    """Return the normalised unified social credit code, or raise with the reason in both languages."""
    v = value.strip().upper()
    if len(v) != 18 or any(c not in _USCC_ALPHABET for c in v) or not v[2:8].isdigit():
        raise ValidationFailed(
            "invalid_credit_code", "统一社会信用代码应为18位数字或大写字母（不含I、O、S、V、Z），第3至8位为行政区划码",
            "A unified social credit code has 18 digits or capital letters (no I, O, S, V, Z), with a division "
            "code in places 3 to 8", detail={"field": "credit_code"},
        )
    if credit_code_check_char(v[:17]) != v[17]:
        raise ValidationFailed(
            "invalid_credit_code", "统一社会信用代码校验位不正确", "The check character of the credit code is wrong",
            detail={"field": "credit_code"},
        )
    return v
