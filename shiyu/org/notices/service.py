"""Sending, listing and reading notices.

``holders`` answers who should hear about something in an area: the active users with a grant over it whose
role carries a permission — the same rule the pages apply, so a notice never points at a page its reader
cannot open. ``send`` writes one notice per user, skipping those who already have one with the key (a
redelivered event, a scan that runs again)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from shiyu.core.errors import NotFound
from shiyu.core.paging import PageParams
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.identity.models import Grant, User
from shiyu.org.identity.roles import PERMISSIONS
from shiyu.org.notices.models import Notice

UNSCOPED = {"unscoped": True}


@dataclass(frozen=True)
class Message:
    key: str
    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    body: str = ""
    link: str = ""
    urgent: bool = False


def holders(session: Session, permission: str, area_path: str, nearest: bool = False) -> set[int]:
    """Active users holding ``permission`` through a grant whose area contains ``area_path``. ``nearest``
    keeps only those granted at the deepest such area — the community's officers, not every officer of the
    street and the city above it, who see the matter on their own pages."""
    roles = [role.value for role, granted in PERMISSIONS.items() if permission in granted]
    rows = session.execute(select(Grant.user_id, Grant.area_path).join(User, User.id == Grant.user_id)
                           .where(User.is_active.is_(True), Grant.role.in_(roles)), execution_options=UNSCOPED)
    found = [(uid, path) for uid, path in rows if path and area_path.startswith(path)]
    if nearest and found:
        deepest = max(len(path) for _, path in found)
        found = [(uid, path) for uid, path in found if len(path) == deepest]
    return {uid for uid, _ in found}


def send(session: Session, user_ids: Iterable[int | None], message: Message) -> int:
    """One notice per user not already holding one with the message's key; answers how many were written."""
    wanted = {u for u in user_ids if u is not None}
    if not wanted:
        return 0
    had = set(session.scalars(select(Notice.user_id).where(Notice.key == message.key, Notice.user_id.in_(wanted))))
    now = utcnow()
    fresh = sorted(wanted - had)
    session.add_all(Notice(user_id=uid, key=message.key[:120], kind=message.kind[:40], data=message.data,
                           body=message.body, link=message.link[:300], urgent=message.urgent, created_at=now)
                    for uid in fresh)
    session.flush()
    return len(fresh)


def unread_summary(session: Session, principal: Principal) -> tuple[int, bool]:
    """How many of the reader's notices are unread, and whether an urgent one is among them."""
    if principal.user_id is None:
        return 0, False
    count, urgent = session.execute(select(func.count(Notice.id), func.max(case((Notice.urgent, 1), else_=0)))
                                    .where(Notice.user_id == principal.user_id, Notice.read_at.is_(None))).one()
    return int(count or 0), bool(urgent)


def unread_count(session: Session, principal: Principal) -> int:
    return unread_summary(session, principal)[0]


def list_for(session: Session, principal: Principal, params: PageParams) -> tuple[list[Notice], int]:
    """The reader's notices, unread first, newest first within each."""
    mine = Notice.user_id == (principal.user_id if principal.user_id is not None else -1)
    total = int(session.scalar(select(func.count(Notice.id)).where(mine)) or 0)
    rows = session.scalars(select(Notice).where(mine).order_by(Notice.read_at.is_not(None), Notice.id.desc())
                           .offset(params.offset).limit(params.limit))
    return list(rows), total


def open_notice(session: Session, principal: Principal, notice_id: int, now: datetime | None = None) -> Notice:
    """Mark one of the reader's notices read (someone else's is not found) and answer it, for its link."""
    notice = session.scalar(select(Notice).where(Notice.id == notice_id, Notice.user_id == principal.user_id))
    if notice is None:
        raise NotFound(detail={"object": "notice", "id": notice_id})
    if notice.read_at is None:
        notice.read_at = now or utcnow()
    return notice


def read_all(session: Session, principal: Principal) -> int:
    done = session.execute(update(Notice).where(Notice.user_id == principal.user_id, Notice.read_at.is_(None))
                           .values(read_at=utcnow()))
    return int(done.rowcount or 0)  # type: ignore[attr-defined]
