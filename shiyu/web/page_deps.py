"""What every server-rendered page shares: the caller from the session cookie, a scoped database session,
rendering with the language, CSRF token and navigation, and HTML answers for errors.

Pages obey the same grants as the API because they call the same service functions with a session that
carries the caller's principal (see ``shiyu.core.http.db_session``). The differences are only in how
failures look: no session → redirect to ``/login?next=…`` (htmx requests get ``HX-Redirect``); an object
outside scope (``NotFound``) → a 404 page; ``Forbidden`` → a 403 page. ``PageRoute`` does that translation
for every route of a page router, so handlers stay as thin as API handlers.

CSRF: page writes are cookie-authenticated, so every non-GET request must send the page's CSRF token in
the ``X-CSRF-Token`` header (htmx sends it from ``hx-headers`` on ``<body>``) or the ``csrf_token`` field.
The token is bound to the session (``shiyu.org.identity.deps.csrf_token``); the readable ``shiyu_csrf`` cookie only
carries it to scripts.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine, Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from shiyu.core.errors import Forbidden, NotFound, ShiyuError, UnstorableInput
from shiyu.core.http import SAFE_METHODS, language, request_session
from shiyu.core.scoping import Principal
from shiyu.org.identity.deps import (
    CSRF_COOKIE,
    CSRF_HEADER,
    PRESESSION_COOKIE,
    SESSION_COOKIE,
    csrf_failed,
    csrf_ok,
    csrf_token,
    principal_from_token,
    set_cookie,
)
from shiyu.web import nav
from shiyu.web.i18n import catalogue, translate

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
LANG_COOKIE = "shiyu_lang"


class LoginRequired(Exception):
    """No (valid) session: the page answers with a redirect to the log-in form."""


# -- formatting helpers available in every template ----------------------------------------------------


def _localtime(request: Request) -> Callable[[datetime | None, str], str]:
    tz = request.app.state.settings.tz

    def fmt(value: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
        if value is None:
            return ""
        return value.astimezone(tz).strftime(pattern)

    return fmt


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A template with ``lang``, ``t`` (translate), ``csrf_token``, ``principal``, ``nav`` and ``localtime``."""
    lang = language(request)
    csrf = csrf_token(request)
    if csrf is None:  # a first visit: a pre-session value to bind the token to
        request.state.new_presession = secrets.token_urlsafe(32)
        csrf = csrf_token(request)
    principal = getattr(request.state, "principal", None)
    base = {
        "lang": lang,
        "t": lambda k, **p: translate(lang, k, **p),
        "has_text": lambda k: k in catalogue(lang) or k in catalogue("zh"),
        "csrf_token": csrf,
        "principal": principal,
        "nav": nav.entries_for(principal) if principal else {},
        "current_path": request.url.path,
        "localtime": _localtime(request),
        "htmx": _is_htmx(request),
        "tile_url": request.app.state.settings.tile_url,
        "lang_query": "".join(f"{quote(k)}={quote(v)}&" for k, v in request.query_params.multi_items() if k != "lang"),
    }
    response = templates.TemplateResponse(request, name, base | context, status_code=status)
    presession = getattr(request.state, "new_presession", None)
    if presession and not request.cookies.get(PRESESSION_COOKIE):
        set_cookie(request, response, PRESESSION_COOKIE, presession)
    if csrf and request.cookies.get(CSRF_COOKIE) != csrf:
        set_cookie(request, response, CSRF_COOKIE, csrf, httponly=False, samesite="strict")
    if request.query_params.get("lang") in ("zh", "en"):
        response.set_cookie(LANG_COOKIE, request.query_params["lang"], max_age=365 * 86400, samesite="lax")
    return response


# -- the caller and the scoped session -------------------------------------------------------------------


async def page_form(request: Request) -> FormData:
    """The page's form, parsed once (Starlette keeps it), with a NUL in any text field refused before a handler
    stores it: PostgreSQL cannot hold one and SQLite would. Uploaded files are bytes and may hold NULs. The
    request gate already refuses NULs in url-encoded bodies as they stream; multipart ones are checked here.
    Handlers call this after their permission check, so nobody's body is parsed before it."""
    form = await request.form()
    if any(isinstance(value, str) and "\x00" in value for value in form.values()):
        raise UnstorableInput()
    return form


async def page_principal(request: Request) -> Principal:
    """The logged-in user from the session cookie (bearer tokens are for the API, not for pages)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired()
    try:
        principal = principal_from_token(request, token, "session")
    except ShiyuError as exc:
        raise LoginRequired() from exc
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER)
        if not sent and request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")):
            sent = str((await page_form(request)).get("csrf_token") or "")
        if not csrf_ok(request, sent):
            raise csrf_failed()
    request.state.principal = principal
    return principal


def page_db(request: Request, principal: Principal = Depends(page_principal)) -> Iterator[Session]:
    yield from request_session(request, principal)


PagePrincipal = Annotated[Principal, Depends(page_principal)]
PageDb = Annotated[Session, Depends(page_db, scope="function")]


def require_any(principal: Principal, *permissions: str) -> None:
    """Page-level gate for pages that only make sense with one of these permissions (a 403 page)."""
    if not any(principal.has_permission(p) for p in permissions):
        raise Forbidden(detail={"permission": " | ".join(permissions)})


# -- errors as pages -------------------------------------------------------------------------------------


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET" or _is_htmx(request):
        target = request.headers.get("hx-current-url", "/") if _is_htmx(request) else "/"
        if "://" in target:
            target = "/" + target.split("://", 1)[1].split("/", 1)[-1]
    location = "/login?next=" + quote(target, safe="/")
    if _is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


# The request's own shape was wrong (a query value of the wrong type): said as such, with its own hint.
INPUT_ERROR_CODES = frozenset({"validation_failed"})


def error_page(request: Request, exc: ShiyuError) -> HTMLResponse:
    lang = language(request)
    hint = None
    if isinstance(exc, NotFound):
        status, title = 404, "error.not_found.title"
    elif isinstance(exc, Forbidden):
        status, title = 403, "error.forbidden.title"
    elif exc.code in INPUT_ERROR_CODES:
        status, title, hint = exc.status, "error.input.title", "error.input.hint"
    else:
        status, title = exc.status, "error.generic.title"
    template = "partials/error.html" if _is_htmx(request) else "error.html"
    return render(request, template, status, title_key=title, hint_key=hint, message=exc.message(lang),
                  status_code=status)


def drop_empty_query_values(request: Request) -> None:
    """An empty query value means "all", exactly as if the parameter were absent: a filter form sends every
    field, chosen or not (``/command?days=7&category=&channel=``), and a page must not refuse that."""
    items = request.query_params.multi_items()
    if all(value != "" for _, value in items):
        return
    request.scope["query_string"] = urlencode([(k, v) for k, v in items if v != ""]).encode("latin-1")
    for cached in ("_query_params", "_url"):  # Starlette keeps what it parsed on the request
        request.__dict__.pop(cached, None)


class PageRoute(APIRoute):
    """Route class for page routers: empty query values are dropped (they mean "all"), session problems
    become a redirect, domain errors an error page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            drop_empty_query_values(request)
            try:
                return await handler(request)
            except LoginRequired:
                return login_redirect(request)
            except ShiyuError as exc:
                return error_page(request, exc)

        return page_handler


# -- form errors -----------------------------------------------------------------------------------------


def field_errors(exc: Exception, lang: str) -> tuple[str, dict[str, str]]:
    """(general message, {field: message}) from a ShiyuError or a pydantic ValidationError."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        fields: dict[str, str] = {}
        for e in exc.errors():
            loc = ".".join(str(p) for p in e["loc"]) or "form"
            fields.setdefault(loc, _field_message(lang, loc, e))
        return translate(lang, "form.invalid"), fields
    assert isinstance(exc, ShiyuError)
    message = exc.message(lang)
    fields = {}
    detail = exc.detail
    if isinstance(detail, dict) and isinstance(detail.get("field"), str):
        fields[detail["field"]] = message
    elif isinstance(detail, list):
        for item in detail:
            if isinstance(item, dict) and item.get("field"):
                fields.setdefault(str(item["field"]), str(item.get("message") or message))
    return message, fields


def _field_message(lang: str, field: str, error: Any) -> str:
    """A form field's problem in the reader's language: pydantic's own text is English only. An area is
    chosen from the search list, so a missing or non-numeric area id means nothing was picked."""
    kind = str(error["type"])
    if field.split(".")[-1].endswith("area_id") and kind in ("missing", "int_parsing", "int_type"):
        return translate(lang, "form.error.area")
    key = f"form.error.{kind}"
    if key in catalogue(lang) or key in catalogue("zh"):
        return translate(lang, key, **{k: v for k, v in (error.get("ctx") or {}).items() if k != "error"})
    return str(error["msg"]).removeprefix("Value error, ")


def reveal_answer(request: Request, db: Session, field: str, reveal: Callable[[], str | None]) -> HTMLResponse:
    """The answer to a reveal form (``ui.reveal``): the clear value, or why not next to the reason. The
    service that reveals checks the permission and the reason and records the reveal; a 404 stays one."""
    try:
        value = reveal()
    except ShiyuError as exc:
        db.rollback()
        if exc.status == 404:
            raise
        general, errors = field_errors(exc, language(request))
        return render(request, "admin/partials/reveal.html", 422 if exc.status == 422 else exc.status, field=field,
                      value=None, error=errors.get("reason") or general)
    return render(request, "admin/partials/reveal.html", field=field, value=value, error=None)
