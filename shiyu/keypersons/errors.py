"""The key-person domain's error: stable codes, Chinese and English messages."""

from __future__ import annotations

from shiyu.core.errors import ShiyuError


class KeyPersonError(ShiyuError):
    status = 409
    code = "keyperson_error"
    zh = "重点人员操作无法完成"
    en = "The key-person action cannot be done"


def invalid(field: str, zh: str, en: str) -> KeyPersonError:
    return KeyPersonError("keyperson_invalid", zh, en, status=422, detail={"field": field})
