"""Signed tokens: short-lived bearer tokens for the API and field app, longer session tokens for pages.

Both are HS256 JWTs carrying the user id and the user's ``token_version``; bumping the version (password
change, lock-out, deactivation) ends every token issued before.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt

from shiyu.core.errors import Unauthenticated
from shiyu.core.timeutil import utcnow

ALGORITHM = "HS256"


def issue(secret: str, user_id: int, version: int, kind: str, minutes: int) -> str:
    now = utcnow()
    claims = {"sub": str(user_id), "ver": version, "kind": kind, "iat": now,
              "exp": now + timedelta(minutes=minutes)}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read(secret: str, token: str, kind: str) -> dict[str, Any]:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM])
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("token_expired", "登录已过期，请重新登录",
                              "Your login has expired; log in again") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated("token_invalid", "登录凭证无效", "The login token is not valid") from exc
    if claims.get("kind") != kind:
        raise Unauthenticated("token_invalid", "登录凭证无效", "The login token is not valid")
    return claims
