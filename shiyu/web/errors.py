"""Every error leaves the API as ``{"code", "message", "detail"}`` in the caller's language, and a page as an
HTML error page.

A page is every path outside ``JSON_PATHS``: whatever fails there — a query value of the wrong type, an
unknown path, a method not allowed, a domain error raised outside a ``PageRoute``, a busy database — is
answered by ``answer`` as an HTML page with the message in the user's language, never with the API's JSON
body (a leader who bookmarked a filtered map must never see ``{"code": …}``). Empty query values on pages
mean "all" and never reach validation (``page_deps.drop_empty_query_values``).

Beyond the domain's own ``ShiyuError``s, three kinds of failure get a stable answer instead of a 500:
input the database cannot hold (a NUL byte, an integer past the column's range: 422 ``invalid_input``,
the last net under the request checks of ``shiyu.web.limits``), a database that is down, locked or out of
connections (503 with ``Retry-After``: the client should retry, the same idempotency key included), and
anything else (500, answered by ``shiyu.web.failsafe`` below the security headers).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from shiyu.core.errors import ShiyuError, UnstorableInput
from shiyu.core.http import language

log = logging.getLogger("shiyu")
# Paths answered as JSON whatever the client accepts; everything else is a page.
JSON_PATHS = ("/api/", "/healthz", "/readyz", "/static/")
RETRY_AFTER_SECONDS = 5


def _json(status: int, code: str, message: str, detail: object = None) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "detail": detail}, status_code=status)


def is_page(request: Request) -> bool:
    return not request.url.path.startswith(JSON_PATHS)


def answer(request: Request, status: int, code: str, zh: str, en: str, detail: object = None,
           headers: dict[str, str] | None = None) -> Response:
    """The error in the form the caller reads: an HTML page for pages, the JSON error body for the API."""
    exc = ShiyuError(code, zh.replace("{", "{{").replace("}", "}}"), en.replace("{", "{{").replace("}", "}}"),
                     status=status, detail=detail)
    response: Response | None = None
    if is_page(request):
        from shiyu.web.page_deps import error_page

        try:
            response = error_page(request, exc)
        except Exception:  # the page itself failed (templates, settings): the plain body still informs
            log.exception("error page failed on %s %s", request.method, request.url.path)
    if response is None:
        response = JSONResponse(exc.body(language_or_default(request)), status_code=status)
    response.headers.update(headers or {})
    return response


def answer_error(request: Request, exc: ShiyuError) -> Response:
    """A domain error that escaped a page's own handling, answered as that page's error page (a ``PageRoute``
    does this itself; this covers the page routes that are not, and failures before the route runs)."""
    from shiyu.web.page_deps import error_page

    try:
        return error_page(request, exc)
    except Exception:
        log.exception("error page failed on %s %s", request.method, request.url.path)
        return JSONResponse(exc.body(language_or_default(request)), status_code=exc.status)


def language_or_default(request: Request) -> str:
    try:
        return language(request)
    except Exception:  # no settings on a bare app: Chinese, the default language
        return "zh"


def unavailable(request: Request) -> Response:
    return answer(request, 503, "unavailable", "系统暂时无法访问数据库，请稍后重试",
                  "The service cannot reach its database right now; try again shortly",
                  headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def invalid_input(request: Request) -> Response:
    return answer(request, 422, UnstorableInput.code, UnstorableInput.zh, UnstorableInput.en)


def body_too_large(request: Request, limit: int) -> Response:
    """The rest of the body is not read: the connection closes after this answer."""
    mb = f"{limit / (1024 * 1024):.1f}".removesuffix(".0")
    return answer(request, 413, "body_too_large", f"请求内容过大（此处最多 {mb} MB）",
                  f"The request is too large (at most {mb} MB here)", detail={"limit_bytes": limit},
                  headers={"Connection": "close"})


def rate_limited(request: Request, seconds: int) -> Response:
    return answer(request, 429, "rate_limited", f"请求过于频繁，请{seconds}秒后再试",
                  f"Too many requests from your address; try again in {seconds} seconds",
                  detail={"retry_after": seconds}, headers={"Retry-After": str(seconds)})


def install(app: FastAPI) -> None:
    from shiyu.web.limits import BodyTooLarge, InvalidInput

    @app.exception_handler(ShiyuError)
    async def _shiyu(request: Request, exc: ShiyuError) -> Response:
        response = (answer_error(request, exc) if is_page(request)
                    else JSONResponse(exc.body(language(request)), status_code=exc.status))
        if isinstance(exc.detail, dict) and isinstance(exc.detail.get("retry_after"), int):
            response.headers["Retry-After"] = str(exc.detail["retry_after"])
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        en = language(request) == "en"
        fields = [
            {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "type": e["type"], "message": e["msg"]}
            for e in exc.errors()
        ]
        if is_page(request):
            names = "、".join(dict.fromkeys(str(e["loc"][-1]) for e in exc.errors()))
            return answer(request, 422, "validation_failed", f"地址中的查询条件有误：{names}",
                          f"The query in the address is not valid: {names.replace('、', ', ')}", fields)
        return _json(422, "validation_failed", "The input is not valid" if en else "输入有误", fields)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if isinstance(exc, BodyTooLarge):  # found while a handler read the body (shiyu.web.limits)
            return body_too_large(request, exc.limit)
        if isinstance(exc, InvalidInput):
            return invalid_input(request)
        if exc.status_code == 404:
            return answer(request, 404, "not_found", "未找到该对象", "Not found")
        if exc.status_code == 405:
            return answer(request, 405, "method_not_allowed", "不支持该请求方法", "Method not allowed",
                          headers=dict(exc.headers or {}))
        return answer(request, exc.status_code, "http_error", str(exc.detail), str(exc.detail))

    @app.exception_handler(PoolTimeout)
    async def _busy(request: Request, exc: PoolTimeout) -> Response:
        """Every database connection of this process stayed busy for ``db_pool_timeout``: overload, which
        a client should retry later (with the same idempotency key), not a fault of ours to log as one."""
        log.warning("database pool exhausted on %s %s", request.method, request.url.path)
        return answer(request, 503, "busy", "系统繁忙，请稍后重试", "The system is busy; try again shortly",
                      headers={"Retry-After": "1"})

    @app.exception_handler(OperationalError)
    async def _database_unavailable(request: Request, exc: OperationalError) -> Response:
        """The database refused the connection, is locked beyond the busy timeout, or went away: the
        request did not happen (its transaction rolled back) and can be retried later."""
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc.orig)
        return unavailable(request)

    @app.exception_handler(DataError)
    async def _unstorable(request: Request, exc: DataError) -> Response:
        log.info("input refused by the database on %s %s: %s", request.method, request.url.path, exc.orig)
        return invalid_input(request)

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError) -> Response:
        """An integer beyond SQLite's 64 bits, a date beyond year 1..9999 after a time-zone shift."""
        log.info("input out of range on %s %s: %s", request.method, request.url.path, exc)
        return invalid_input(request)
