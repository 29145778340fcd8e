"""Server-rendered pages. For now: log in / log out with an HTTP-only session cookie, and the home page.

CSRF: double submit. A random token lives in a (readable) cookie and must come back in the form field
``csrf_token`` (forms) or the ``X-CSRF-Token`` header (htmx/fetch); a cross-site page can make the browser
send the cookie but cannot read it to fill the field. The session cookie itself is HTTP-only and SameSite=Lax.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from shiyu.core.errors import ShiyuError
from shiyu.org.identity import service, tokens
from shiyu.org.identity.roles import ROLE_LABELS, Role
from shiyu.web.deps import CSRF_COOKIE, SESSION_COOKIE, client_ip, language, optional_principal
from shiyu.web.i18n import translate

templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: never an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _render(request: Request, name: str, status: int = 200, **context: object) -> HTMLResponse:
    lang = language(request)
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = templates.TemplateResponse(
        request, name, {"lang": lang, "t": lambda k, **p: translate(lang, k, **p), "csrf_token": csrf, **context},
        status_code=status,
    )
    _set_csrf(request, response, csrf)
    if request.query_params.get("lang") in ("zh", "en"):
        response.set_cookie("shiyu_lang", request.query_params["lang"], max_age=365 * 86400, samesite="lax")
    return response


def _set_csrf(request: Request, response: Response, token: str) -> None:
    response.set_cookie(CSRF_COOKIE, token, httponly=False, samesite="strict", secure=request.url.scheme == "https")


def _csrf_ok(request: Request, sent: str) -> bool:
    expected = request.cookies.get(CSRF_COOKIE)
    return bool(expected) and secrets.compare_digest(expected, sent)


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    return _render(request, "login.html", next=_safe_next(next), username="", error=None)


@router.post("/login")
def login(request: Request, username: str = Form(""), password: str = Form(""), csrf_token: str = Form(""),
          next: str = Form("/")) -> Response:
    lang = language(request)
    if not _csrf_ok(request, csrf_token):
        return _render(request, "login.html", 403, next=_safe_next(next), username=username,
                       error=translate(lang, "error.csrf"))
    settings = request.app.state.settings
    try:
        result = service.authenticate(request.app.state.session_factory, settings, username, password,
                                      client_ip(request))
    except ShiyuError as exc:
        return _render(request, "login.html", exc.status, next=_safe_next(next), username=username,
                       error=exc.message(lang))
    response = RedirectResponse(_safe_next(next), status_code=303)
    token = tokens.issue(settings.secret_key, result.user_id, result.token_version, "session",
                         settings.session_minutes)
    response.set_cookie(SESSION_COOKIE, token, max_age=settings.session_minutes * 60, httponly=True,
                        samesite="lax", secure=request.url.scheme == "https")
    _set_csrf(request, response, secrets.token_urlsafe(32))
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: str = Form("")) -> Response:
    if not _csrf_ok(request, csrf_token):
        return _render(request, "login.html", 403, next="/", username="",
                       error=translate(language(request), "error.csrf"))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/")
def home(request: Request) -> Response:
    try:
        principal = optional_principal(request)
    except ShiyuError:
        principal = None
    if principal is None:
        return RedirectResponse("/login?next=/", status_code=303)
    lang = language(request)
    index = 0 if lang == "zh" else 1
    grants = [f"{ROLE_LABELS[Role(g.role)][index]} · {g.area_path or g.department_id}" for g in principal.grants]
    return _render(request, "home.html", principal=principal, grants=grants)
