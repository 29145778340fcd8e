"""Logging in and out: checking passwords (throttled), the principal behind a token, revoking tokens, and
changing one's own password.

A token ends in one of three ways besides its expiry: logging out revokes that one token (its ``jti`` in
``RevokedToken``); changing the password, or deactivation by an administrator, bumps the user's
``token_version`` and so ends all of them. Every request with a token checks all three in one statement
(``load_principal``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from shiyu.core import audit
from shiyu.core.config import Settings
from shiyu.core.db import rowcount, transaction, upsert
from shiyu.core.errors import ShiyuError, Unauthenticated, ValidationFailed
from shiyu.core.scoping import GrantScope, Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.identity import throttle
from shiyu.org.identity.models import Grant, RevokedToken, User
from shiyu.org.identity.passwords import (
    DEMO_PASSWORD,
    check_strength,
    hash_password,
    needs_rehash,
    verify_nothing,
    verify_password,
)
from shiyu.org.identity.roles import permissions_of
from shiyu.org.identity.service import principal_for
from shiyu.org.identity.tokens import Claims

BAD_LOGIN = ("login_failed", "用户名或密码错误", "Wrong username or password")
REVOKED = ("token_revoked", "登录已失效，请重新登录", "This login is no longer valid; log in again")
UNSCOPED = {"unscoped": True}


def load_principal(session: Session, claims: Claims) -> Principal:
    """The principal behind a token; unscoped on purpose (nobody is acting yet). One round trip of plain
    rows (the user joined to its grants, and whether the token was revoked), not ORM objects: this runs on
    every request."""
    revoked = select(RevokedToken.jti).where(RevokedToken.jti == claims.jti).exists()
    rows = session.execute(
        select(User.username, User.full_name, User.is_active, User.token_version, revoked.label("revoked"), Grant.role,
               Grant.area_path, Grant.department_id)
        .outerjoin(Grant, Grant.user_id == User.id).where(User.id == claims.user_id).order_by(Grant.id),
        execution_options=UNSCOPED,
    ).all()
    if not rows or not rows[0].is_active or rows[0].token_version != claims.version or rows[0].revoked:
        raise Unauthenticated(*REVOKED)
    grants = tuple(GrantScope(r.role, r.area_path, r.department_id) for r in rows if r.role is not None)
    return Principal(user_id=claims.user_id, username=rows[0].username, grants=grants,
                     permissions_of=permissions_of, full_name=rows[0].full_name)


@dataclass
class LoginResult:
    user_id: int
    token_version: int
    principal: Principal


def authenticate(
    factory: sessionmaker[Session], settings: Settings, username: str, password: str, client_ip: str | None
) -> LoginResult:
    """Check a password, throttled (``shiyu.org.identity.throttle``). An unknown username, a deactivated
    account and a wrong password answer alike, and as slowly: unknown names are checked against a dummy
    hash. The demo password opens nothing outside demo mode. The outcome and the counters are committed
    before any error is raised, so a failed log-in is recorded."""
    outcome: LoginResult | None = None
    error: ShiyuError | None = None
    keys = throttle.keys(settings.secret_key, username, client_ip)
    with transaction(factory, principal=Principal.system("login"), client_ip=client_ip) as s:
        now = utcnow()
        wait = throttle.wait_seconds(s, keys, now)
        user = None if wait else s.scalar(
            select(User).options(selectinload(User.grants)).where(User.username == username))
        if wait:
            error = throttle.refusal(wait)
        elif user is None or not verify_password(user.password_hash, password) or not user.is_active:
            if user is None:
                verify_nothing(password)
            audit.record(s, "login_failed", "user_account", user.id if user else None,
                         area_path=user.area_path if user else "/",
                         reason=None if user else f"username={username[:64]}")
            throttle.record_failure(s, settings, keys, now)
            error = Unauthenticated(*BAD_LOGIN)
        elif password == DEMO_PASSWORD and not settings.demo_mode:
            audit.record(s, "login_failed", "user_account", user.id, area_path=user.area_path,
                         reason="demo password outside demo mode")
            throttle.record_failure(s, settings, keys, now)
            error = Unauthenticated(*BAD_LOGIN)
        else:
            throttle.clear(s, keys)
            user.last_login_at = now
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            principal = principal_for(user)
            audit.record(s, "login", "user_account", user.id, area_path=user.area_path, actor=principal)
            outcome = LoginResult(user.id, user.token_version, principal)
    if error is not None:
        raise error
    assert outcome is not None
    return outcome


def revoke(session: Session, claims: Claims) -> None:
    """Log out: this token stops working at once (a second log-out with it changes nothing)."""
    table = RevokedToken.__table__
    session.execute(upsert(session, table).values(jti=claims.jti, expires_at=claims.expires_at)
                    .on_conflict_do_nothing(index_elements=[table.c.jti]))
    home = session.scalar(select(User.area_path).where(User.id == claims.user_id), execution_options=UNSCOPED)
    audit.record(session, "logout", "user_account", claims.user_id, area_path=home or "/",
                 after={"kind": claims.kind})


def log_out(factory: sessionmaker[Session], claims: Claims, client_ip: str | None) -> None:
    """``revoke`` in a transaction of its own, for the page log-out (which runs without a loaded principal:
    a session already ended elsewhere must still be able to log out)."""
    with transaction(factory, principal=Principal.system("logout"), client_ip=client_ip) as s:
        revoke(s, claims)


def change_password(
    factory: sessionmaker[Session], settings: Settings, principal: Principal, current: str, new: str,
    client_ip: str | None,
) -> int:
    """The caller changes their own password: the current one is required (and wrong guesses are throttled
    like log-ins, so a stolen session cannot be used to find it), the new one must follow the rule. Every
    other token and session of the account ends; returns the new token version for the caller's fresh one.

    Written below the ORM, as the user and not as an administrator: the scope layer would ask for
    ``user.manage`` over one's own account. The audit entry says who changed it."""
    error: ShiyuError | None = None
    version = 0
    with transaction(factory, principal=Principal.system("password"), client_ip=client_ip) as s:
        user = s.get(User, principal.user_id)
        if user is None:
            raise Unauthenticated(*REVOKED)
        keys = throttle.keys(settings.secret_key, user.username, client_ip)
        now = utcnow()
        wait = throttle.wait_seconds(s, keys, now)
        if wait:
            error = throttle.refusal(wait)
        elif not verify_password(user.password_hash, current):
            throttle.record_failure(s, settings, keys, now)
            audit.record(s, "password_change_failed", "user_account", user.id, area_path=user.area_path,
                         actor=principal)
            error = ValidationFailed("wrong_password", "当前密码不正确", "The current password is not correct",
                                     detail={"field": "current_password"})
        else:
            check_strength(new, user.username, field="new_password")
            if new == current:
                raise ValidationFailed("same_password", "新密码不能与当前密码相同",
                                       "The new password must differ from the current one",
                                       detail={"field": "new_password"})
            version = s.execute(
                update(User).where(User.id == user.id)
                .values(password_hash=hash_password(new), token_version=User.token_version + 1)
                .returning(User.token_version)).scalar_one()
            audit.record(s, "password_change", "user_account", user.id, area_path=user.area_path, actor=principal)
    if error is not None:
        raise error
    return version


def forget_expired(session: Session) -> int:
    """Revocations of tokens that have expired anyway (the hourly clean-up)."""
    return rowcount(session.execute(delete(RevokedToken).where(RevokedToken.expires_at < utcnow()))) or 0
