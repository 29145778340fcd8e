"""Saved filters of the 辖区案件 list: a user's named query strings ("超期未签收", "南华社区本周").

A saved filter belongs to one user and holds only filter values (``listing.FILTER_KEYS``), never cases, so it
is not area data: it is not under the area scope, and every read and write here is by the caller's user id.
Running one still goes through the caller's scope; a filter saved before a grant was withdrawn shows less.
Saving under a name the user already used replaces that filter.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from shiyu.cases.listing import FILTER_KEYS
from shiyu.core.db import Base
from shiyu.core.errors import NotFound, ValidationFailed
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow

MAX_PER_USER = 30
MAX_NAME = 30


class SavedCaseFilter(Base):
    __tablename__ = "saved_case_filter"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    query: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def clean_query(query: str) -> str:
    """Only the filter values of a query string, empty ones dropped (the page's sort and paging are not part
    of a filter)."""
    pairs = [(k, v.strip()) for k, v in parse_qsl(query, keep_blank_values=False) if k in FILTER_KEYS and v.strip()]
    return urlencode(pairs)[:1000]


def _user(principal: Principal) -> int:
    if principal.user_id is None:
        raise NotFound(detail={"object": "saved_filter"})
    return principal.user_id


def mine(session: Session, principal: Principal) -> list[SavedCaseFilter]:
    if principal.user_id is None:
        return []
    stmt = select(SavedCaseFilter).where(SavedCaseFilter.user_id == principal.user_id).order_by(
        SavedCaseFilter.name)
    return list(session.scalars(stmt))


def save(session: Session, principal: Principal, name: str, query: str) -> SavedCaseFilter:
    user_id, name = _user(principal), name.strip()
    if not name or len(name) > MAX_NAME:
        raise ValidationFailed("filter_name", f"请给筛选条件起个名字（不超过{MAX_NAME}个字）",
                               f"Name the filter (at most {MAX_NAME} characters)", detail={"field": "name"})
    existing = session.scalar(select(SavedCaseFilter).where(SavedCaseFilter.user_id == user_id,
                                                            SavedCaseFilter.name == name))
    if existing is None:
        if len(mine(session, principal)) >= MAX_PER_USER:
            raise ValidationFailed("filter_limit", f"最多保存{MAX_PER_USER}个筛选条件，请先删除不用的",
                                   f"At most {MAX_PER_USER} saved filters: delete one first",
                                   detail={"field": "name"})
        existing = SavedCaseFilter(user_id=user_id, name=name, query="")
        session.add(existing)
    existing.query = clean_query(query)
    session.flush()
    return existing


def delete(session: Session, principal: Principal, filter_id: int) -> None:
    found = session.scalar(select(SavedCaseFilter).where(SavedCaseFilter.id == filter_id,
                                                         SavedCaseFilter.user_id == _user(principal)))
    if found is None:
        raise NotFound(detail={"object": "saved_filter", "id": filter_id})
    session.delete(found)
