"""API clients: external systems (110, 数字城管, sensors, video analytics) that push reports with an API key
instead of a person logging in. Part of identity because a client is a kind of principal — who is acting —
whatever domain it then acts in."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from shiyu.core.db import Base, TimestampMixin
from shiyu.core.errors import NotFound, Unauthenticated
from shiyu.core.scoping import GrantScope, Principal, ScopedMixin, register_scoped
from shiyu.org.areas.models import Area

UNSCOPED = {"unscoped": True}
# What a client may do: file reports in its area and read what it filed (no workflow action).
API_CLIENT_PERMISSIONS = frozenset({"case.report", "case.view"})


@dataclass
class ApiPrincipal(Principal):
    """An external system acting through an API key; its one grant is its area subtree."""

    api_client_id: int = 0


@register_scoped
class ApiClient(ScopedMixin, TimestampMixin, Base):
    """An external system (110, 数字城管, sensors, video analytics) allowed to push cases for an area
    subtree (``area_path``) with an API key. Only a SHA-256 of the key is kept: keys are long random
    strings, so a fast hash is enough, and ``key_prefix`` finds the row without scanning."""

    __tablename__ = "api_client"
    __view_permission__ = "api_client.manage"
    __write_permission__ = "api_client.manage"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(12), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)
    last_used_at: Mapped[datetime | None]


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_client(session: Session, principal: Principal, name: str, area_id: int) -> tuple[ApiClient, str]:
    """A new client and its key; the key is shown once and only its hash is kept."""
    area = session.get(Area, area_id)
    if area is None:
        raise NotFound(detail={"object": "area", "id": area_id})
    principal.require("api_client.manage", area.area_path)
    key = "sy_" + secrets.token_urlsafe(32)
    client = ApiClient(name=name, key_prefix=key[:12], key_hash=_key_hash(key), area_path=area.area_path)
    session.add(client)
    session.flush()
    return client, key


def api_principal(session: Session, key: str) -> ApiPrincipal:
    """The principal behind an ``X-Api-Key``; unscoped on purpose (nobody is acting yet)."""
    client = session.scalar(select(ApiClient).where(ApiClient.key_prefix == key[:12]), execution_options=UNSCOPED)
    if client is None or not client.active or not hmac.compare_digest(client.key_hash, _key_hash(key)):
        raise Unauthenticated("api_key_invalid", "API 密钥无效", "The API key is not valid")
    return ApiPrincipal(user_id=None, username=f"api:{client.name}",
                        grants=(GrantScope("api_client", client.area_path),),
                        permissions_of=lambda _role: API_CLIENT_PERMISSIONS, api_client_id=client.id)
