"""Errors with stable codes and Chinese + English messages.

Each domain raises ``ShiyuError`` subclasses; the web layer renders any of them as
``{"code", "message", "detail"}`` in the caller's language, with the HTTP status the class declares.
Messages are format strings filled from ``params`` so that both languages get the same values.
"""

from __future__ import annotations

from typing import Any


class ShiyuError(Exception):
    status = 400
    code = "error"
    zh = "请求无法处理"
    en = "The request cannot be processed"

    def __init__(
        self,
        code: str | None = None,
        zh: str | None = None,
        en: str | None = None,
        *,
        detail: Any = None,
        status: int | None = None,
        **params: Any,
    ) -> None:
        self.code = code or self.code
        self.zh = (zh or self.zh).format(**params)
        self.en = (en or self.en).format(**params)
        self.detail = detail
        if status is not None:
            self.status = status
        super().__init__(f"{self.code}: {self.en}")

    def message(self, language: str) -> str:
        return self.en if language.startswith("en") else self.zh

    def body(self, language: str) -> dict[str, Any]:
        return {"code": self.code, "message": self.message(language), "detail": self.detail}


class ValidationFailed(ShiyuError):
    status = 422
    code = "validation_failed"
    zh = "输入有误"
    en = "The input is not valid"


class NotFound(ShiyuError):
    """Also used for objects outside the caller's scope, so that their existence is not revealed."""

    status = 404
    code = "not_found"
    zh = "未找到该对象"
    en = "Not found"


class Unauthenticated(ShiyuError):
    status = 401
    code = "unauthenticated"
    zh = "请先登录"
    en = "Please log in"


class Forbidden(ShiyuError):
    status = 403
    code = "forbidden"
    zh = "您没有执行此操作的权限"
    en = "You are not allowed to do this"


class Conflict(ShiyuError):
    status = 409
    code = "conflict"
    zh = "数据已被他人修改，请刷新后重试"
    en = "Someone else changed this first; reload and try again"


class UnstorableInput(ValidationFailed):
    """A NUL character or a number past what the database holds: refused, never stored or half-stored."""

    code = "invalid_input"
    zh = "输入包含无法保存的内容（如空字符或超出范围的数字）"
    en = "The input holds something that cannot be stored (a NUL character or a number out of range)"
