"""Routes for log-in and accounts. Thin: parse, authorise, call the service, return."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response

from shiyu.core.config import Settings
from shiyu.core.http import CurrentPrincipal, Db, Paging, client_ip
from shiyu.core.paging import Page
from shiyu.org.identity import service, sessions, tokens
from shiyu.org.identity.deps import SESSION_COOKIE, CurrentClaims, start_session
from shiyu.org.identity.schemas import (
    GrantIn,
    GrantOut,
    PasswordChangeIn,
    RevealIn,
    RevealOut,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
    UserPatch,
)

router = APIRouter(tags=["identity"])


def _access_token(settings: Settings, user_id: int, token_version: int) -> TokenOut:
    token = tokens.issue(settings.secret_key, user_id, token_version, "access", settings.access_token_minutes)
    return TokenOut(access_token=token, expires_in=settings.access_token_minutes * 60)


@router.post("/auth/token", response_model=TokenOut,
             summary="Log in and get a short-lived bearer token (wrong passwords are throttled: 429)")
def login(body: TokenIn, request: Request) -> TokenOut:
    settings = request.app.state.settings
    result = sessions.authenticate(
        request.app.state.session_factory, settings, body.username, body.password, client_ip(request)
    )
    return _access_token(settings, result.user_id, result.token_version)


@router.post("/auth/logout", status_code=204, summary="End the token (or page session) this request carries")
def logout(db: Db, claims: CurrentClaims) -> Response:
    sessions.revoke(db, claims)
    response = Response(status_code=204)
    if claims.kind == "session":
        response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/auth/password", response_model=TokenOut,
             summary="Change your own password; every other token and session ends, a fresh token is returned")
def change_password(body: PasswordChangeIn, request: Request, response: Response, principal: CurrentPrincipal,
                    claims: CurrentClaims) -> TokenOut:
    settings = request.app.state.settings
    version = sessions.change_password(request.app.state.session_factory, settings, principal,
                                       body.current_password, body.new_password, client_ip(request))
    if claims.kind == "session":
        start_session(request, response, claims.user_id, version)
    return _access_token(settings, claims.user_id, version)


@router.get("/auth/me", response_model=UserOut, summary="The logged-in user")
def me(db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return service.masked_user(service.get_user(db, principal.user_id))


@router.get("/users", response_model=Page[UserOut], summary="Users within your grants")
def list_users(
    db: Db, paging: Paging,
    q: str | None = Query(None, description="part of the username"),
    role: str | None = None,
    phone: str | None = Query(None, description="exact phone number (searched by keyed hash)"),
) -> dict[str, Any]:
    users, total = service.list_users(db, paging, q=q, role=role, phone=phone)
    return {"items": [service.masked_user(u) for u in users], "total": total, "limit": paging.limit,
            "offset": paging.offset}


@router.post("/users", response_model=UserOut, status_code=201, summary="Create a user in an area you manage")
def create_user(body: UserIn, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    user = service.create_user(
        db, principal, username=body.username, password=body.password, home_area_id=body.home_area_id,
        full_name=body.full_name, phone=body.phone, id_number=body.id_number, language=body.language,
    )
    for g in body.grants:
        service.add_grant(db, principal, user, g.role, area_id=g.area_id, department_id=g.department_id)
    db.refresh(user)
    return service.masked_user(user)


@router.get("/users/{user_id}", response_model=UserOut)
def get_user(user_id: int, db: Db) -> dict[str, Any]:
    return service.masked_user(service.get_user(db, user_id))


@router.patch("/users/{user_id}", response_model=UserOut,
              summary="Deactivate or activate an account, or set its language (the last city-wide admin stays: 409)")
def update_user(user_id: int, body: UserPatch, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return service.masked_user(service.update_user(db, principal, user_id, is_active=body.is_active,
                                                   language=body.language))


@router.post("/users/{user_id}/grants", response_model=GrantOut, status_code=201)
def add_grant(user_id: int, body: GrantIn, db: Db, principal: CurrentPrincipal) -> GrantOut:
    user = service.get_user(db, user_id)
    g = service.add_grant(db, principal, user, body.role, area_id=body.area_id, department_id=body.department_id)
    return GrantOut(id=g.id, role=g.role, area_id=g.area_id, department_id=g.department_id)


@router.delete("/users/{user_id}/grants/{grant_id}", status_code=204)
def remove_grant(user_id: int, grant_id: int, db: Db, principal: CurrentPrincipal) -> None:
    service.remove_grant(db, principal, user_id, grant_id)


@router.post("/users/{user_id}/reveal", response_model=RevealOut,
             summary="See one personal-data field in the clear (needs pii.reveal and a reason; audited)")
def reveal(user_id: int, body: RevealIn, db: Db, principal: CurrentPrincipal) -> RevealOut:
    return RevealOut(field=body.field, value=service.reveal(db, principal, user_id, body.field, body.reason))
