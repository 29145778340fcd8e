"""Personal data (个人信息): encrypted at rest, searchable by keyed hash, masked by default.

A model declares ``phone: Mapped[str | None] = personal("phone")`` and, when exact search is needed,
``phone_hash: Mapped[str | None] = blind_index()``. The column stores ``kid:nonce:ciphertext`` (AES-256-GCM,
the key id first so that keys can rotate: new writes use the active key, reads accept every configured
key, ``shiyu pii rotate`` re-encrypts old rows). The ``*_hash`` sibling is filled at flush with an HMAC of
the normalised value, so ``where(User.phone_hash == blind_hash("phone", "13812345678"))`` finds a row
without decrypting anything. Plain values never leave the service layer unmasked except through an
audited reveal (see ``shiyu.org.identity.service.reveal``).

The keyring is process-wide because a column type has no request context; ``configure`` is called by
``create_app`` and the CLI from the one settings object.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any, overload

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import String, Text, event
from sqlalchemy.orm import DeclarativeBase, Mapper, mapped_column
from sqlalchemy.types import TypeDecorator

from shiyu.core.errors import ValidationFailed

KINDS = ("name", "id_number", "phone", "address", "text")


@dataclass
class Keyring:
    active_kid: str
    keys: dict[str, bytes]
    hash_key: bytes
    _ciphers: dict[str, AESGCM] = field(default_factory=dict, repr=False, compare=False)

    def encrypt(self, plain: str) -> str:
        nonce = os.urandom(12)
        ct = self._cipher(self.active_kid).encrypt(nonce, plain.encode(), self.active_kid.encode())
        return f"{self.active_kid}:{_b64(nonce)}:{_b64(ct)}"

    def decrypt(self, stored: str) -> str:
        kid, nonce, ct = stored.split(":", 2)
        if kid not in self.keys:
            raise KeyError(f"personal-data key {kid!r} is not configured (SHIYU_PII_KEYS)")
        return self._cipher(kid).decrypt(_unb64(nonce), _unb64(ct), kid.encode()).decode()

    def _cipher(self, kid: str) -> AESGCM:
        """The key's cipher, made once: building it (the key schedule) cost as much as encrypting a phone
        number, and a register import encrypts three values a row."""
        cipher = self._ciphers.get(kid)
        if cipher is None:
            cipher = self._ciphers[kid] = AESGCM(self.keys[kid])
        return cipher

    def hash(self, kind: str, value: str) -> str:
        msg = f"{kind}:{normalise(kind, value)}".encode()
        return hmac.new(self.hash_key, msg, hashlib.sha256).hexdigest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse_keys(spec: str) -> tuple[str, dict[str, bytes]]:
    """Parse ``kid:base64key[,kid:base64key…]``; the first entry is the active key."""
    keys: dict[str, bytes] = {}
    order: list[str] = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        kid, _, b64 = part.partition(":")
        raw = base64.b64decode(b64)
        if not kid or len(raw) != 32:
            raise ValueError("each SHIYU_PII_KEYS entry must be kid:base64 of 32 bytes")
        keys[kid] = raw
        order.append(kid)
    if not order:
        raise ValueError("SHIYU_PII_KEYS is empty")
    return order[0], keys


_keyring: Keyring | None = None


def configure(pii_keys: str, hash_key: str | None, secret_key: str) -> Keyring:
    global _keyring
    active, keys = parse_keys(pii_keys)
    hkey = (hash_key or secret_key).encode()
    _keyring = Keyring(active, keys, hashlib.sha256(b"shiyu-blind-index:" + hkey).digest())
    return _keyring


def keyring() -> Keyring:
    if _keyring is None:
        raise RuntimeError("personal-data keyring not configured; call shiyu.core.pii.configure()")
    return _keyring


def normalise(kind: str, value: str) -> str:
    value = value.strip().replace("\u3000", "")
    if kind == "id_number":
        return value.upper()
    if kind == "phone":
        return value.replace(" ", "").replace("-", "").removeprefix("+86")
    return value


def blind_hash(kind: str, value: str) -> str:
    return keyring().hash(kind, value)


class PersonalData(TypeDecorator[str]):
    """Encrypts on the way in, decrypts on the way out. ``kind`` drives masking and hashing."""

    impl = Text
    cache_ok = True

    def __init__(self, kind: str) -> None:
        if kind not in KINDS:
            raise ValueError(kind)
        self.kind = kind
        super().__init__()

    def __repr__(self) -> str:
        return f"PersonalData({self.kind!r})"

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else keyring().encrypt(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else keyring().decrypt(value)


def personal(kind: str, **kw: Any) -> Any:
    return mapped_column(PersonalData(kind), nullable=True, **kw)


def blind_index(**kw: Any) -> Any:
    return mapped_column(String(64), nullable=True, index=True, **kw)


@cache
def personal_columns(cls: type[DeclarativeBase]) -> dict[str, str]:
    """Attribute name → kind for every personal-data column of a mapped class."""
    mapper = cls.__mapper__
    return {
        attr.key: attr.columns[0].type.kind
        for attr in mapper.column_attrs
        if isinstance(attr.columns[0].type, PersonalData)
    }


def _index_of(kind: str, value: str | None) -> str | None:
    return None if value in (None, "") else blind_hash(kind, value)


@event.listens_for(Mapper, "before_insert")
@event.listens_for(Mapper, "before_update")
def _fill_blind_index(mapper: Mapper[Any], _conn: Any, target: Any) -> None:
    for attr in mapper.column_attrs:
        col_type = attr.columns[0].type
        if isinstance(col_type, PersonalData) and hasattr(target, f"{attr.key}_hash"):
            setattr(target, f"{attr.key}_hash", _index_of(col_type.kind, getattr(target, attr.key)))


def with_blind_index(cls: type[DeclarativeBase], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` of a row written with a Core INSERT, with the blind index of each personal column filled
    in as the ORM would (``_fill_blind_index``)."""
    hashes = {f"{key}_hash": _index_of(kind, values.get(key)) for key, kind in personal_columns(cls).items()
              if f"{key}_hash" in cls.__table__.c}
    return {**values, **hashes}


def mask(kind: str, value: str | None) -> str | None:
    """The default, shown everywhere: 张*三, 3502**********1234, 138****5678."""
    if value is None or value == "":
        return value
    if kind == "name":
        if len(value) <= 1:
            return "*"
        if len(value) == 2:
            return value[0] + "*"
        return value[0] + "*" * (len(value) - 2) + value[-1]
    if kind == "id_number":
        return value[:4] + "*" * (len(value) - 8) + value[-4:] if len(value) > 8 else "*" * len(value)
    if kind == "phone":
        digits = normalise("phone", value)
        if len(digits) == 11:
            return digits[:3] + "****" + digits[-4:]
        return digits[:2] + "*" * max(len(digits) - 4, 1) + digits[-2:]
    if kind == "address":
        keep = min(6, max(len(value) // 2, 1))
        return value[:keep] + "****"
    return value[:1] + "***"


# Numbers typed into free text (a description, a note, an address): 18-character resident ID numbers (GB
# 11643: region, birth date, serial, check character), mainland mobile numbers (optionally +86, optionally
# grouped 3-4-4) and landline numbers with their area code (0xx-xxxxxxxx). Never inside a longer run of
# digits, so amounts, dates and longer numbers stay as typed.
_IN_TEXT = re.compile(
    r"(?<![0-9])(?:"
    r"(?P<id_number>[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx])"
    r"|(?P<mobile>(?:\+?86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]{4}){2})"
    r"|(?P<landline>0[1-9][0-9]{1,2}[ -]?[1-9][0-9]{6,7})"
    r")(?![0-9])"
)


@overload
def mask_text(text: str) -> str: ...
@overload
def mask_text(text: None) -> None: ...
def mask_text(text: str | None) -> str | None:
    """Free text as shown by default: every ID or phone number typed into it masked as that field would be
    (``mask``); the rest as written. The clear text is personal data's: revealed only with ``pii.reveal``
    and a recorded reason."""
    if not text:
        return text
    return _IN_TEXT.sub(lambda m: mask("id_number" if m.group("id_number") else "phone", m.group(0)) or "", text)


def reveal_reason(reason: str) -> str:
    """The reason a reveal of personal data is recorded with: required, at least four characters."""
    if len(reason.strip()) < 4:
        raise ValidationFailed(
            "reason_required", "查看个人信息须填写事由（至少4个字）",
            "Give a reason (at least 4 characters) to see personal data", detail={"field": "reason"},
        )
    return reason.strip()
