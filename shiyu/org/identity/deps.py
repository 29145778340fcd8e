"""How identity recognises a caller over HTTP: bearer tokens and session cookies, and the CSRF binding of
page sessions. ``authenticate`` is what the app installs as ``app.state.authenticate`` for
``shiyu.core.http``'s principal dependencies; the cookie and CSRF helpers serve log-in and the pages.
"""

from __future__ import annotations

import base64
import hmac
from contextlib import nullcontext
from typing import Annotated, Literal, cast

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from shiyu.core.config import Settings
from shiyu.core.errors import Forbidden, Unauthenticated
from shiyu.core.http import SAFE_METHODS, current_principal, get_settings
from shiyu.core.scoping import Principal
from shiyu.org.identity import tokens
from shiyu.org.identity.sessions import load_principal
from shiyu.org.identity.tokens import Claims

SESSION_COOKIE = "shiyu_session"
CSRF_COOKIE = "shiyu_csrf"
CSRF_HEADER = "x-csrf-token"
# A random value for a browser that has no session yet: the CSRF token of anonymous pages (log-in, portal)
# is bound to it, as a logged-in page's token is bound to its session.
PRESESSION_COOKIE = "shiyu_presession"


def _credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip(), "access"
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return cookie, "session"
    return None


def principal_from_token(request: Request, token: str, kind: str, session: Session | None = None) -> Principal:
    """The principal behind ``token`` (signature, expiry, revocation, token version all checked); its claims
    are kept on the request (``request.state.claims``) for log-out and the CSRF binding."""
    settings = get_settings(request)
    claims = tokens.read(settings.secret_key, token, kind)
    with nullcontext(session) if session is not None else request.app.state.session_factory() as s:
        principal = load_principal(s, claims)
    request.state.claims = claims
    return principal


def authenticate(request: Request, session: Session | None = None) -> Principal | None:
    """The caller behind a bearer token or a session cookie, None without either. A session cookie on an
    unsafe method must come with the page's CSRF token."""
    creds = _credentials(request)
    if creds is None:
        return None
    token, kind = creds
    principal = principal_from_token(request, token, kind, session)
    if kind == "session" and request.method not in SAFE_METHODS and not csrf_ok(
            request, request.headers.get(CSRF_HEADER)):
        raise csrf_failed()
    return principal


# -- CSRF and cookies ------------------------------------------------------------------------------------


def csrf_failed() -> Forbidden:
    return Forbidden("csrf_failed", "页面已过期，请刷新后重试", "The page has expired; reload and try again")


def session_claims(request: Request) -> Claims | None:
    """The claims of the browser's session cookie when it is well signed and unexpired — not checked
    against the database: for the CSRF binding it only has to be the same on the page and on the post."""
    claims = getattr(request.state, "claims", None)
    if claims is not None and claims.kind == "session":
        return cast(Claims, claims)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        return tokens.read(get_settings(request).secret_key, cookie, "session")
    except Unauthenticated:
        return None


def csrf_for(secret: str, binding: str) -> str:
    mac = hmac.digest(secret.encode(), f"csrf\0{binding}".encode(), "sha256")
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def csrf_token(request: Request) -> str | None:
    """The CSRF token of this browser: an HMAC (with the secret key) of its session's id, or, before log-in,
    of its pre-session value. Binding it so means a cookie and token planted by someone else (from a sibling
    subdomain, or over plain http) do not pass: the token must be the one for the session that is sent."""
    claims = session_claims(request)
    if claims is not None:
        binding = f"session:{claims.jti}"
    else:
        pre = request.cookies.get(PRESESSION_COOKIE) or getattr(request.state, "new_presession", None)
        if not pre:
            return None
        binding = f"pre:{pre}"
    return csrf_for(get_settings(request).secret_key, binding)


def csrf_ok(request: Request, sent: str | None) -> bool:
    expected = csrf_token(request)
    return bool(expected) and bool(sent) and hmac.compare_digest(expected or "", sent or "")


def set_cookie(request: Request, response: Response, name: str, value: str, *, httponly: bool = True,
               samesite: Literal["lax", "strict"] = "lax", max_age: int | None = None) -> None:
    """Every cookie of Shiyu: ``Secure`` by the setting (``SHIYU_COOKIE_SECURE``), not by the scheme the app
    happens to see (behind a proxy that is http)."""
    response.set_cookie(name, value, max_age=max_age, httponly=httponly, samesite=samesite,
                        secure=get_settings(request).secure_cookies)


def start_session(request: Request, response: Response, user_id: int, token_version: int) -> None:
    """A new page session for this browser (log-in, password change): the session cookie, and the readable
    CSRF cookie bound to it (scripts send it back in ``X-CSRF-Token``)."""
    settings: Settings = get_settings(request)
    token = tokens.issue(settings.secret_key, user_id, token_version, "session", settings.session_minutes)
    set_cookie(request, response, SESSION_COOKIE, token, max_age=settings.session_minutes * 60)
    jti = tokens.read(settings.secret_key, token, "session").jti
    set_cookie(request, response, CSRF_COOKIE, csrf_for(settings.secret_key, f"session:{jti}"), httponly=False,
               samesite="strict")


def current_claims(request: Request, _principal: Principal = Depends(current_principal)) -> Claims:
    """The claims of the token the caller authenticated with (to log that one out)."""
    return cast(Claims, request.state.claims)


CurrentClaims = Annotated[Claims, Depends(current_claims)]
