"""The request gate: what is refused before a handler runs or a body is read whole (security review S7, S8).

- A NUL character in the path or the query string: 422 ``invalid_input`` (PostgreSQL cannot store one in
  text, SQLite would store it silently; no legitimate input carries one). In a JSON or form body it is
  found while the body streams in, without buffering it.
- A body larger than its route allows: 413 ``body_too_large``. A declared ``Content-Length`` over the limit
  is refused before anything is read; a chunked body is counted as it arrives and refused as soon as it
  passes the limit, so no body is ever held whole beyond it. The limits are settings sized for each use:
  JSON and forms (``SHIYU_MAX_BODY_BYTES``), one upload (``SHIYU_MAX_UPLOAD_BYTES``), a portal report with
  its photos (``SHIYU_MAX_REPORT_BYTES``), a GeoJSON area import (``SHIYU_MAX_IMPORT_BYTES``).
- An upload or an area import without any credentials: 401 before its multipart body is parsed.
- Log-in attempts and anonymous reports beyond their rate from one client address: 429 ``rate_limited``
  with ``Retry-After`` (``shiyu.core.ratelimit``). The address is the one uvicorn reports, i.e. the
  forwarded one when the request came through a trusted proxy (``SHIYU_FORWARDED_ALLOW_IPS``).

A pure ASGI middleware placed under the security headers, so its answers carry them too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shiyu.core.config import Settings
from shiyu.core.errors import Unauthenticated
from shiyu.core.ratelimit import RateLimiter, Rule

SESSION_COOKIE = b"shiyu_session="
# A JSON string escape for NUL (``\u0000``) preceded by an even number of backslashes (an odd one would
# itself be escaped text): matched over the end of the previous chunk and the new one.
JSON_NUL = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")
FORM_NUL = re.compile(rb"%00|\x00")
QUERY_NUL = re.compile(rb"%00|\x00")
TAIL_BYTES = 64


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, "body_too_large")
        self.limit = limit


class InvalidInput(HTTPException):
    def __init__(self) -> None:
        super().__init__(422, "invalid_input")


@dataclass(frozen=True)
class RouteLimit:
    method: str
    path: re.Pattern[str]
    body_setting: str | None = None  # the Settings field with this route's body limit (None: the default)
    rate: str | None = None  # the kind of rate limit ("login", "anonymous_report")
    anonymous_only: bool = False  # counted only for callers without credentials
    # Refused with 401 before the body is read when no credentials at all come with it: FastAPI parses a
    # multipart body (``File(...)``) before it resolves the dependencies that authenticate.
    credentials_required: bool = False


ROUTE_LIMITS = (
    RouteLimit("POST", re.compile(r"/api/v1/attachments"), body_setting="max_upload_bytes",
               credentials_required=True),
    RouteLimit("POST", re.compile(r"/api/v1/areas/import"), body_setting="max_import_bytes"),
    RouteLimit("POST", re.compile(r"/admin/areas/(import|\d+/propose)"), body_setting="max_import_bytes",
               credentials_required=True),
    RouteLimit("POST", re.compile(r"/portal/report"), body_setting="max_report_bytes", rate="anonymous_report",
               anonymous_only=True),
    RouteLimit("POST", re.compile(r"/api/v1/cases"), rate="anonymous_report", anonymous_only=True),
    RouteLimit("POST", re.compile(r"/api/v1/auth/token"), rate="login"),
    RouteLimit("POST", re.compile(r"/login"), rate="login"),
    RouteLimit("POST", re.compile(r"/portal/track/[\w\- ]+/evaluate"), rate="evaluation"),
    RouteLimit("POST", re.compile(r"/api/v1/track/[\w\- ]+/evaluate"), rate="evaluation"),
    # People in bulk: a city's file of grid workers; the first log-in with a code counts as a log-in.
    RouteLimit("POST", re.compile(r"/api/v1/users/imports"), body_setting="max_import_bytes"),
    RouteLimit("POST", re.compile(r"/admin/users/import"), body_setting="max_import_bytes", credentials_required=True),
    # A register extract (公安, 民政, 市场监管): up to a district's population in one file.
    RouteLimit("POST", re.compile(r"/api/v1/registry/imports"), body_setting="max_import_bytes"),
    RouteLimit("POST", re.compile(r"/registry/import"), body_setting="max_import_bytes", credentials_required=True),
    RouteLimit("POST", re.compile(r"/api/v1/auth/activate"), rate="login"),
    RouteLimit("POST", re.compile(r"/activate"), rate="login"),
)


def rules(settings: Settings) -> dict[str, Rule]:
    return {
        "login": Rule("login", settings.logins_per_address, settings.login_rate_window_seconds),
        "anonymous_report": Rule("anonymous_report", settings.anonymous_reports_per_address,
                                 settings.anonymous_report_window_seconds),
        "evaluation": Rule("evaluation", settings.evaluations_per_address, settings.evaluation_window_seconds),
    }


def route_limit(method: str, path: str) -> RouteLimit | None:
    for limit in ROUTE_LIMITS:
        if limit.method == method and limit.path.fullmatch(path):
            return limit
    return None


def _anonymous(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name in (b"authorization", b"x-api-key") or (name == b"cookie" and SESSION_COOKIE in value):
            return False
    return True


def _header(scope: Scope, wanted: bytes) -> bytes | None:
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    for name, value in headers:
        if name == wanted:
            return value
    return None


class BodyWatch:
    """Counts a body's bytes against its limit and looks for NUL characters, chunk by chunk."""

    def __init__(self, limit: int, nul: re.Pattern[bytes] | None) -> None:
        self.limit = limit
        self.nul = nul
        self.seen = 0
        self.tail = b""

    def check(self, chunk: bytes) -> None:
        self.seen += len(chunk)
        if self.seen > self.limit:
            raise BodyTooLarge(self.limit)
        if self.nul is not None and chunk:
            window = self.tail + chunk
            if any(m.end() > len(self.tail) for m in self.nul.finditer(window)):
                raise InvalidInput()
            self.tail = window[-TAIL_BYTES:]


def _answer(scope: Scope, receive: Receive, exc: HTTPException, retry_after: int | None = None) -> Any:
    from shiyu.web.errors import answer, body_too_large, invalid_input, rate_limited

    request = Request(scope, receive)
    if isinstance(exc, BodyTooLarge):
        return body_too_large(request, exc.limit)
    if isinstance(exc, InvalidInput):
        return invalid_input(request)
    if exc.status_code == 401:
        return answer(request, 401, Unauthenticated.code, Unauthenticated.zh, Unauthenticated.en)
    return rate_limited(request, retry_after or 1)


class RequestGate:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.rules = rules(settings)
        self.limiter = RateLimiter(settings.redis_url, settings.job_queue)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> Any:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if "\x00" in scope["path"] or QUERY_NUL.search(scope.get("query_string", b"")):
            return await _answer(scope, receive, InvalidInput())(scope, receive, send)
        limit = route_limit(scope["method"], scope["path"])
        if limit is not None and limit.rate and (not limit.anonymous_only or _anonymous(scope)):
            address = scope["client"][0] if scope.get("client") else "unknown"
            wait = await self.limiter.wait_seconds(self.rules[limit.rate], address)
            if wait:
                return await _answer(scope, receive, HTTPException(429), wait)(scope, receive, send)
        if limit is not None and limit.credentials_required and _anonymous(scope):
            return await _answer(scope, receive, HTTPException(401))(scope, receive, send)
        max_bytes = getattr(self.settings, limit.body_setting if limit and limit.body_setting else "max_body_bytes")
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            return await _answer(scope, receive, BodyTooLarge(max_bytes))(scope, receive, send)
        content_type = (_header(scope, b"content-type") or b"").lower()
        nul = JSON_NUL if b"json" in content_type else FORM_NUL if b"x-www-form-urlencoded" in content_type else None
        watch = BodyWatch(max_bytes, nul)
        started = False

        async def watched_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                watch.check(message.get("body", b""))
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, watched_receive, watched_send)
        except (BodyTooLarge, InvalidInput) as exc:
            if started:
                raise
            await _answer(scope, receive, exc)(scope, receive, send)
