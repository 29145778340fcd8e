"""Request-scoped dependencies: settings, the caller, and a database session carrying the caller's scope.

Every API handler that touches data takes ``db: Db``; the session it gets has the principal set, so the
scope listener filters every query, and it commits when the handler returns (rolls back on any error).
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Annotated, Literal

from fastapi import Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from shiyu.core.config import Settings
from shiyu.core.errors import Forbidden, Unauthenticated
from shiyu.core.paging import MAX_LIMIT, PageParams
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
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def language(request: Request) -> str:
    """``?lang=`` wins, then the language cookie, then Accept-Language; Chinese by default."""
    lang = request.query_params.get("lang") or request.cookies.get("shiyu_lang")
    if not lang:
        accept = request.headers.get("accept-language", "")
        lang = "en" if accept.lower().startswith("en") else request.app.state.settings.default_language
    return "en" if lang.startswith("en") else "zh"


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
    settings: Settings = request.app.state.settings
    claims = tokens.read(settings.secret_key, token, kind)
    with nullcontext(session) if session is not None else request.app.state.session_factory() as s:
        principal = load_principal(s, claims)
    request.state.claims = claims
    return principal


def optional_principal(request: Request, session: Session | None = None) -> Principal | None:
    """The caller, or None when no credentials were sent (cached on the request). Read in ``session`` when
    given (the request's own, so authenticating costs no second connection), else in a session of its own."""
    if hasattr(request.state, "principal"):
        return request.state.principal
    creds = _credentials(request)
    principal = None
    if creds is not None:
        token, kind = creds
        principal = principal_from_token(request, token, kind, session)
        if kind == "session" and request.method not in SAFE_METHODS and not csrf_ok(
                request, request.headers.get(CSRF_HEADER)):
            raise csrf_failed()
    request.state.principal = principal
    return principal


# -- CSRF and cookies ------------------------------------------------------------------------------------


def csrf_failed() -> Forbidden:
    return Forbidden("csrf_failed", "页面已过期，请刷新后重试", "The page has expired; reload and try again")


def session_claims(request: Request) -> Claims | None:
    """The claims of the browser's session cookie when it is well signed and unexpired — not checked
    against the database: for the CSRF binding it only has to be the same on the page and on the post."""
    claims = getattr(request.state, "claims", None)
    if claims is not None and claims.kind == "session":
        return claims
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        return tokens.read(request.app.state.settings.secret_key, cookie, "session")
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
    return csrf_for(request.app.state.settings.secret_key, binding)


def csrf_ok(request: Request, sent: str | None) -> bool:
    expected = csrf_token(request)
    return bool(expected) and bool(sent) and hmac.compare_digest(expected or "", sent or "")


def set_cookie(request: Request, response: Response, name: str, value: str, *, httponly: bool = True,
               samesite: Literal["lax", "strict"] = "lax", max_age: int | None = None) -> None:
    """Every cookie of Shiyu: ``Secure`` by the setting (``SHIYU_COOKIE_SECURE``), not by the scheme the app
    happens to see (behind a proxy that is http)."""
    response.set_cookie(name, value, max_age=max_age, httponly=httponly, samesite=samesite,
                        secure=request.app.state.settings.secure_cookies)


def start_session(request: Request, response: Response, user_id: int, token_version: int) -> None:
    """A new page session for this browser (log-in, password change): the session cookie, and the readable
    CSRF cookie bound to it (scripts send it back in ``X-CSRF-Token``)."""
    settings: Settings = request.app.state.settings
    token = tokens.issue(settings.secret_key, user_id, token_version, "session", settings.session_minutes)
    set_cookie(request, response, SESSION_COOKIE, token, max_age=settings.session_minutes * 60)
    jti = tokens.read(settings.secret_key, token, "session").jti
    set_cookie(request, response, CSRF_COOKIE, csrf_for(settings.secret_key, f"session:{jti}"), httponly=False,
               samesite="strict")


def current_principal(request: Request) -> Principal:
    principal = optional_principal(request)
    if principal is None:
        raise Unauthenticated()
    return principal


def current_claims(request: Request, _principal: Principal = Depends(current_principal)) -> Claims:
    """The claims of the token the caller authenticated with (to log that one out)."""
    return request.state.claims


@contextmanager
def request_transaction(request: Request, caller: Callable[[Session], Principal]) -> Iterator[Session]:
    """A session carrying the principal ``caller`` finds (in this same session), committed when the block
    ends and rolled back on any error.

    Handlers and dependencies end it before the response leaves, never after: a client must not be told
    "created" about a write that then fails, and a browser following a redirect must not read the page
    before the change it just made is committed. That is why every database dependency is declared with
    ``scope="function"``.
    """
    session: Session = request.app.state.session_factory()
    try:
        session.info.update(principal=caller(session), client_ip=client_ip(request))
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def request_session(request: Request, principal: Principal) -> Iterator[Session]:
    with request_transaction(request, lambda _session: principal) as session:
        yield session


def db_session(request: Request, principal: Principal = Depends(current_principal)) -> Iterator[Session]:
    yield from request_session(request, principal)


def page_params(
    limit: int = Query(50, ge=1, le=MAX_LIMIT, description="rows per page"),
    offset: int = Query(0, ge=0, description="rows to skip"),
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


Db = Annotated[Session, Depends(db_session, scope="function")]
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
CurrentClaims = Annotated[Claims, Depends(current_claims)]
Paging = Annotated[PageParams, Depends(page_params)]
