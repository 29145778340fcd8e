"""Users and grants; revoked tokens and log-in throttling counters. A user's personal data (name, phone, ID
number) uses the personal-data columns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shiyu.core.db import Base, TimestampMixin
from shiyu.core.pii import blind_index, personal
from shiyu.core.scoping import Principal, ScopedMixin, register_scoped


def _self(principal: Principal) -> list[Any]:
    return [User.id == principal.user_id] if principal.user_id is not None else []


@register_scoped
class User(ScopedMixin, TimestampMixin, Base):
    """An account. ``area_path`` is the user's home area: who manages the account, not what they see."""

    __tablename__ = "user_account"
    __view_permission__ = "user.view"
    __write_permission__ = "user.manage"
    __extra_scope__ = staticmethod(_self)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str | None] = personal("name")
    full_name_hash: Mapped[str | None] = blind_index()
    phone: Mapped[str | None] = personal("phone")
    phone_hash: Mapped[str | None] = blind_index()
    id_number: Mapped[str | None] = personal("id_number")
    id_number_hash: Mapped[str | None] = blind_index()
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    language: Mapped[str] = mapped_column(String(8), default="zh")
    last_login_at: Mapped[datetime | None]
    # Bumped on password change and deactivation: tokens carry it, so every older token stops working.
    token_version: Mapped[int] = mapped_column(default=0)

    grants: Mapped[list[Grant]] = relationship(back_populates="user", cascade="all, delete-orphan")


@register_scoped
class Grant(ScopedMixin, Base):
    """A role over an area subtree (``area_id``) or over a department (``department_id``).
    ``area_path`` is the subtree's path, or the department's, so grants are managed within scope too."""

    __tablename__ = "grant"
    __view_permission__ = "user.view"
    __write_permission__ = "user.manage"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("area.id", ondelete="RESTRICT"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id", ondelete="RESTRICT"))

    user: Mapped[User] = relationship(back_populates="grants")


class RevokedToken(Base):
    """A token ended before its expiry (log-out). Every request with a token looks its ``jti`` up here, in
    the same statement that loads the user; a row is useless once the token has expired and the hourly
    clean-up (``shiyu.org.identity.tasks``) deletes it, so the table holds only the last hours' log-outs."""

    __tablename__ = "revoked_token"

    jti: Mapped[str] = mapped_column(String(32), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class LoginThrottle(Base):
    """Wrong-password counter of one account at one client address, or of one address (``key``, a keyed
    hash of what it counts, so typed usernames — often a mistyped password — are not stored). Kept in the
    database so that every app process throttles alike (``shiyu.org.identity.throttle``)."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime] = mapped_column(index=True)
    blocked_until: Mapped[datetime | None]
