"""Request-scoped dependencies: settings, the caller, and a database session carrying the caller's scope.

Every API handler that touches data takes ``db: Db``; the session it gets has the principal set, so the
scope listener filters every query, and it commits when the handler returns (rolls back on any error).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from shiyu.core.config import Settings
from shiyu.core.errors import Forbidden, Unauthenticated
from shiyu.core.paging import MAX_LIMIT, PageParams
from shiyu.core.scoping import Principal
from shiyu.org.identity import tokens
from shiyu.org.identity.service import load_principal

SESSION_COOKIE = "shiyu_session"
CSRF_COOKIE = "shiyu_csrf"
CSRF_HEADER = "x-csrf-token"


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


def optional_principal(request: Request, session: Session | None = None) -> Principal | None:
    """The caller, or None when no credentials were sent (cached on the request). Read in ``session`` when
    given (the request's own, so authenticating costs no second connection), else in a session of its own."""
    if hasattr(request.state, "principal"):
        return request.state.principal
    creds = _credentials(request)
    principal = None
    if creds is not None:
        token, kind = creds
        settings: Settings = request.app.state.settings
        claims = tokens.read(settings.secret_key, token, kind)
        with nullcontext(session) if session is not None else request.app.state.session_factory() as s:
            principal = load_principal(s, int(claims["sub"]), int(claims["ver"]))
        if kind == "session":
            _check_csrf(request)
    request.state.principal = principal
    return principal


def _check_csrf(request: Request) -> None:
    """Cookie-authenticated writes must echo the CSRF cookie in a header or form field (double submit)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    expected = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get(CSRF_HEADER)
    if not expected or sent != expected:
        raise Forbidden("csrf_failed", "页面已过期，请刷新后重试", "The page has expired; reload and try again")


def current_principal(request: Request) -> Principal:
    principal = optional_principal(request)
    if principal is None:
        raise Unauthenticated()
    return principal


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
Paging = Annotated[PageParams, Depends(page_params)]
