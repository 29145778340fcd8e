"""Password hashing with argon2id, and the rule for passwords people choose.

Production uses argon2-cffi's recommended cost (64 MiB, 3 passes: about 0.2 s per hash on a small
server). ``configure`` lowers it for the test suite only, where hundreds of logins would otherwise cost
minutes; hashes made with other parameters still verify and are upgraded at the next login.

The rule (``check_strength``) applies where a person sets a password: creating a user, changing or
resetting one, the first administrator. It is not a composition rule (those make passwords harder to
remember, not to guess) but length, some variety, not the username, and not one of the passwords people
choose most often (``data/common-passwords.txt``, see the README there). The demo accounts keep the
documented demo password ``DEMO_PASSWORD``, which is shorter: the demo builder hashes it directly, and a
log-in with it is refused outside demo mode (``shiyu.org.identity.service.authenticate``).
"""

from __future__ import annotations

import secrets
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shiyu.core.errors import ValidationFailed

MIN_LENGTH = 10
MIN_DISTINCT = 5
DEMO_PASSWORD = "Demo@2026"
COMMON_FILE = Path(__file__).parent / "data" / "common-passwords.txt"
# Trailing digits and symbols stripped before the second look-up: "password2026!" is "password".
_DECORATION = "0123456789!@#$%^&*()-_=+.,;:?~`'\"[]{}<>/\\| "

_hasher = PasswordHasher()
_dummy: list[str] = []


def configure(time_cost: int, memory_kib: int) -> None:
    global _hasher
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
    _dummy.clear()


def hash_password(password: str) -> str:
    """The hash of ``password`` as it is: callers that take a password from a person check it first."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def verify_nothing(password: str) -> bool:
    """Spend the time of a real check against an unknown account (a hash of a random password, made once
    per cost setting), so that a wrong username answers as slowly as a wrong password and timing cannot
    tell which accounts exist. Always False."""
    if not _dummy:
        _dummy.append(_hasher.hash(secrets.token_urlsafe(16)))
    verify_password(_dummy[0], password)
    return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@cache
def common_passwords() -> frozenset[str]:
    return frozenset(line for line in COMMON_FILE.read_text(encoding="utf-8").splitlines() if line)


RULES = {
    "length": (f"密码至少需要{MIN_LENGTH}个字符", f"A password needs at least {MIN_LENGTH} characters"),
    "variety": (f"密码至少需要{MIN_DISTINCT}个不同的字符",
                f"A password needs at least {MIN_DISTINCT} different characters"),
    "username": ("密码不能包含用户名", "A password must not contain the username"),
    "common": ("这是最常见的密码之一，很容易被猜中，请换一个",
               "This is one of the most common passwords and easily guessed; choose another"),
}


def broken_rule(password: str, username: str | None = None) -> str | None:
    """The first rule ``password`` breaks (a key of ``RULES``), or None."""
    if len(password) < MIN_LENGTH:
        return "length"
    if len(set(password)) < MIN_DISTINCT:
        return "variety"
    lowered = password.lower()
    if username and username.lower() in lowered:
        return "username"
    common = common_passwords()
    if lowered in common or lowered.rstrip(_DECORATION) in common:
        return "common"
    return None


def check_strength(password: str, username: str | None = None, field: str = "password") -> None:
    """Refuse a password a person chose that breaks the rule, saying which part (``detail.rule``)."""
    rule = broken_rule(password, username)
    if rule is not None:
        zh, en = RULES[rule]
        raise ValidationFailed("weak_password", zh, en, detail={"field": field, "rule": rule})
