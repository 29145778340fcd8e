"""Signed tokens: short-lived bearer tokens for the API and field app, longer session tokens for pages.

Both are HS256 JWTs carrying the user id, the user's ``token_version`` and an id of their own (``jti``).
Bumping the version (password change, deactivation) ends every token issued before; logging out ends one
token by its ``jti`` (``shiyu.org.identity.models.RevokedToken``). A token lacking any of these claims, or
an expiry, is refused: a token that never expires could never be cleaned out of the revocation table.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from shiyu.core.errors import Unauthenticated
from shiyu.core.timeutil import utcnow

ALGORITHM = "HS256"
REQUIRED = ["exp", "iat", "jti", "sub", "ver", "kind"]
INVALID = ("token_invalid", "登录凭证无效", "The login token is not valid")


@dataclass(frozen=True)
class Claims:
    user_id: int
    version: int
    kind: str
    jti: str
    expires_at: datetime


def issue(secret: str, user_id: int, version: int, kind: str, minutes: int) -> str:
    now = utcnow()
    claims = {"sub": str(user_id), "ver": version, "kind": kind, "jti": secrets.token_hex(16), "iat": now,
              "exp": now + timedelta(minutes=minutes)}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read(secret: str, token: str, kind: str) -> Claims:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": REQUIRED})
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("token_expired", "登录已过期，请重新登录",
                              "Your login has expired; log in again") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated(*INVALID) from exc
    jti = claims["jti"]
    if claims["kind"] != kind or not isinstance(jti, str) or not 0 < len(jti) <= 32:
        raise Unauthenticated(*INVALID)
    try:
        expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC)
        return Claims(int(claims["sub"]), int(claims["ver"]), kind, jti, expires_at)
    except (TypeError, ValueError, OverflowError) as exc:
        raise Unauthenticated(*INVALID) from exc
