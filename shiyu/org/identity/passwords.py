"""Password hashing with argon2id.

Production uses argon2-cffi's recommended cost (64 MiB, 3 passes: about 0.2 s per hash on a small
server). ``configure`` lowers it for the test suite only, where hundreds of logins would otherwise cost
minutes; hashes made with other parameters still verify and are upgraded at the next login.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shiyu.core.errors import ValidationFailed

_hasher = PasswordHasher()


def configure(time_cost: int, memory_kib: int) -> None:
    global _hasher
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
MIN_LENGTH = 8


def hash_password(password: str) -> str:
    check_strength(password)
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def check_strength(password: str) -> None:
    if len(password) < MIN_LENGTH or password.isdigit() or password.isalpha():
        raise ValidationFailed(
            "weak_password",
            "密码至少8位，且须同时包含字母和数字",
            "A password needs at least 8 characters with both letters and digits",
            detail={"field": "password"},
        )
