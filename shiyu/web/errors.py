"""Every error leaves the API as ``{"code", "message", "detail"}`` in the caller's language."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from shiyu.core.errors import ShiyuError
from shiyu.web.deps import language

log = logging.getLogger("shiyu")


def _json(status: int, code: str, message: str, detail: object = None) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "detail": detail}, status_code=status)


def install(app: FastAPI) -> None:
    @app.exception_handler(ShiyuError)
    async def _shiyu(request: Request, exc: ShiyuError) -> JSONResponse:
        return JSONResponse(exc.body(language(request)), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        en = language(request) == "en"
        fields = [
            {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "type": e["type"], "message": e["msg"]}
            for e in exc.errors()
        ]
        return _json(422, "validation_failed", "The input is not valid" if en else "输入有误", fields)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        en = language(request) == "en"
        if exc.status_code == 404:
            return _json(404, "not_found", "Not found" if en else "未找到该对象")
        if exc.status_code == 405:
            return _json(405, "method_not_allowed", "Method not allowed" if en else "不支持该请求方法")
        return _json(exc.status_code, "http_error", str(exc.detail))

    @app.exception_handler(PoolTimeout)
    async def _busy(request: Request, exc: PoolTimeout) -> JSONResponse:
        """Every database connection of this process stayed busy for ``db_pool_timeout``: overload, which
        a client should retry later (with the same idempotency key), not a fault of ours to log as one."""
        log.warning("database pool exhausted on %s %s", request.method, request.url.path)
        en = language(request) == "en"
        response = _json(503, "busy", "The system is busy; try again shortly" if en else "系统繁忙，请稍后重试")
        response.headers["Retry-After"] = "1"
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        en = language(request) == "en"
        return _json(500, "internal_error", "Internal error; it has been logged" if en else "系统内部错误，已记录")
