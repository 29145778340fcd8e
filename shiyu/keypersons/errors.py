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


def not_in_register(field: str, ref: int) -> KeyPersonError:
    """A dispute party or petitioner named for enrolment who is not in the population register: a key-person
    record is kept on a registered person, so the request is refused where it is made, not lost later."""
    return KeyPersonError("keyperson_not_registered",
                          "该人员尚未登记为实有人口，不能列为重点人员；请先在基础信息中登记",
                          "This person is not in the population register and cannot be enrolled as a key person; "
                          "register them first", status=422, detail={"field": field, "id": ref})
