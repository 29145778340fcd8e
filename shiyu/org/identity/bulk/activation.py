"""First log-in of a bulk-imported account: username + one-time code + a new password.

Throttled like a password log-in (same counters, ``shiyu.org.identity.throttle``), since a code is a
password for a while. A wrong code, an expired one, one already used and an unknown username all answer the
same, so the form tells nobody which accounts exist or are still waiting. The new password follows the
strength rule; the code is spent in the same transaction that sets it, and the person is logged in.
"""

from __future__ import annotations

import hmac

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from shiyu.core import audit
from shiyu.core.config import Settings
from shiyu.core.db import transaction
from shiyu.core.errors import ShiyuError, Unauthenticated
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.identity import throttle
from shiyu.org.identity.bulk.models import ActivationCode
from shiyu.org.identity.bulk.service import UNUSABLE_PASSWORD, code_hash
from shiyu.org.identity.models import User
from shiyu.org.identity.passwords import check_strength, hash_password
from shiyu.org.identity.service import principal_for
from shiyu.org.identity.sessions import LoginResult

BAD_CODE = ("activation_failed", "用户名或激活码不正确，或激活码已使用、已过期；请向管理员确认",
            "Wrong username or code, or the code was used or has expired; ask your administrator")


def activate(factory: sessionmaker[Session], settings: Settings, username: str, code: str, new_password: str,
             client_ip: str | None) -> LoginResult:
    """Spend ``code`` on ``username``'s account, set ``new_password`` and log in. A weak password is refused
    before the code is spent (and is not a failed attempt: the code was right)."""
    outcome: LoginResult | None = None
    error: ShiyuError | None = None
    keys = throttle.keys(settings.secret_key, username, client_ip)
    with transaction(factory, principal=Principal.system("activation"), client_ip=client_ip) as s:
        now = utcnow()
        wait = throttle.wait_seconds(s, keys, now)
        row = None if wait else s.execute(
            select(User, ActivationCode).join(ActivationCode, ActivationCode.user_id == User.id)
            .options(selectinload(User.grants)).where(User.username == username)).first()
        user, pending = (row[0], row[1]) if row else (None, None)
        if wait:
            error = throttle.refusal(wait)
        elif (pending is None or user is None or not user.is_active or pending.used_at is not None
              or user.password_hash != UNUSABLE_PASSWORD  # a password was set another way: the code is void
              or pending.expires_at <= now or not hmac.compare_digest(pending.code_hash, code_hash(code))):
            audit.record(s, "activation_failed", "user_account", user.id if user else None,
                         area_path=user.area_path if user else "/",
                         reason=None if user else f"username={username[:64]}")
            throttle.record_failure(s, settings, keys, now)
            error = Unauthenticated(*BAD_CODE)
        else:
            check_strength(new_password, user.username, field="new_password")
            throttle.clear(s, keys)
            pending.used_at = now
            user.password_hash = hash_password(new_password)
            user.token_version += 1
            user.last_login_at = now
            principal = principal_for(user)
            audit.record(s, "activate", "user_account", user.id, area_path=user.area_path, actor=principal)
            outcome = LoginResult(user.id, user.token_version, principal)
    if error is not None:
        raise error
    assert outcome is not None
    return outcome
