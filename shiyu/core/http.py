"""HTTP plumbing every API router uses: settings, the caller, and a database session carrying the caller's scope.

Every API handler that touches data takes ``db: Db``; the session it gets has the principal set, so the
scope listener filters every query, and it commits when the handler returns (rolls back on any error).

How a caller is recognised (tokens, session cookies, CSRF) belongs to identity, a layer above: the app
installs its authenticator on ``app.state.authenticate`` (``shiyu.org.identity.deps.authenticate``), so this
module depends on no domain and a test app can install another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Protocol, cast

from fastapi import Depends, Query, Request, Response
from sqlalchemy.orm import Session

from shiyu.core.config import Settings
from shiyu.core.db import transaction
from shiyu.core.errors import Unauthenticated
from shiyu.core.paging import MAX_LIMIT, PageParams
from shiyu.core.scoping import Principal

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class Authenticator(Protocol):
    """The caller behind a request's credentials, None when it sent none; raises ``Unauthenticated`` (or
    ``Forbidden``) for credentials that do not hold. Reads in ``session`` when given."""

    def __call__(self, request: Request, session: Session | None = None) -> Principal | None: ...


def get_settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def language(request: Request) -> str:
    """``?lang=`` wins, then the language cookie, then Accept-Language; Chinese by default."""
    lang = request.query_params.get("lang") or request.cookies.get("shiyu_lang")
    if not lang:
        accept = request.headers.get("accept-language", "")
        lang = "en" if accept.lower().startswith("en") else get_settings(request).default_language
    return "en" if lang.startswith("en") else "zh"


def optional_principal(request: Request, session: Session | None = None) -> Principal | None:
    """The caller, or None when no credentials were sent (cached on the request). Read in ``session`` when
    given (the request's own, so authenticating costs no second connection), else in a session of its own."""
    if hasattr(request.state, "principal"):
        return cast(Principal | None, request.state.principal)
    authenticate: Authenticator = request.app.state.authenticate
    principal = authenticate(request, session)
    request.state.principal = principal
    return principal


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
    with transaction(request.app.state.session_factory, client_ip=client_ip(request)) as session:
        session.info["principal"] = caller(session)
        yield session


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


def attachment(name: str, media_type: str, content: bytes) -> Response:
    """A file built for this caller (a paper with people's names in it): downloaded under ``name`` (ASCII), kept
    by no cache — a shared proxy or the browser's back button must not hand it to the next person."""
    return Response(content, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
