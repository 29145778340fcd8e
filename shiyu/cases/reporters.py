"""Reporters who follow another case: when a duplicate report is merged (合并), its reporter is not left
with a dead case. A ``CaseReporter`` row links the surviving case to the merged one — the merged case's
tracking code, its reporter's user id and blind-index hashes — so that:

- the merged case's public tracking page shows the surviving case's progress (``service.track``);
- the reporter is told, through an outbox event ``case.merged`` carrying the merged case's tracking code
  (delivery after commit, like every other notification);
- a later merge of the surviving case carries its followers along (links move to the new survivor), so a
  reporter always follows the case that is actually being worked on.

Rows are written by the ``merge`` effect inside the engine's transaction (``shiyu.cases.workflow.effects``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from shiyu.cases.models import Case
from shiyu.core import outbox
from shiyu.core.db import Base
from shiyu.core.scoping import Principal, ScopedMixin, register_scoped
from shiyu.core.timeutil import utcnow


def _own_links(principal: Principal) -> list[Any]:
    return [CaseReporter.reporter_user_id == principal.user_id] if principal.user_id is not None else []


@register_scoped
class CaseReporter(ScopedMixin, Base):
    """A reporter of ``merged_case_id`` who now follows ``case_id`` (the surviving case)."""

    __tablename__ = "case_reporter"
    __view_permission__ = "case.view"
    __write_permission__ = "case.register"
    __extra_scope__ = staticmethod(_own_links)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    merged_case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), unique=True)
    tracking_code: Mapped[str] = mapped_column(String(16))
    reporter_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"),
                                                         index=True)
    reporter_phone_hash: Mapped[str | None] = mapped_column(String(64))
    reporter_name_hash: Mapped[str | None] = mapped_column(String(64))
    anonymous: Mapped[bool] = mapped_column(default=False)
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)


def follow(session: Session, merged: Case, survivor: Case, now: datetime) -> list[CaseReporter]:
    """Make the reporters of ``merged`` (and everyone already following it) follow ``survivor``, and tell
    each of them through the outbox. Returns the links now pointing at ``survivor`` because of this merge."""
    moved = _following(session, merged.id)
    for link in moved:
        link.case_id, link.area_path = survivor.id, survivor.area_path
    own = CaseReporter(case_id=survivor.id, merged_case_id=merged.id, tracking_code=merged.tracking_code,
                       reporter_user_id=merged.reporter_user_id, reporter_phone_hash=merged.reporter_phone_hash,
                       reporter_name_hash=merged.reporter_name_hash, anonymous=merged.anonymous, linked_at=now,
                       area_path=survivor.area_path)
    session.add(own)
    links = [own, *moved]
    outbox.emit_rows(session, [outbox.event_row(session, "case.merged", "case", link.merged_case_id,
                                                survivor.area_path, {
                                                    "case_id": link.merged_case_id,
                                                    "tracking_code": link.tracking_code,
                                                    "reporter_user_id": link.reporter_user_id,
                                                    "into_case_id": survivor.id, "into_state": survivor.state})
                               for link in links])  # one INSERT for all the links, not one each
    return links


def _following(session: Session, case_id: int) -> list[CaseReporter]:
    """The links following ``case_id`` now, with the session's unwritten links and moves. Read without an
    autoflush, which in a batch of merges (the engine's ``apply_each``) would write the whole batch before
    every merge; the session's new and changed links are then taken as they stand in memory."""
    with session.no_autoflush:
        read = list(session.scalars(select(CaseReporter).where(CaseReporter.case_id == case_id)))
    held = [o for o in (*session.new, *session.dirty) if isinstance(o, CaseReporter)]
    return [link for link in dict.fromkeys([*read, *held]) if link.case_id == case_id]


def survivor_of(session: Session, case: Case, *, max_hops: int = 20) -> Case | None:
    """The case a merged case's reporters now follow: the end of its ``merged_into_id`` chain (None when
    the case was not merged). Read without scope: the public tracking view shows only its public parts."""
    current, hops = case, 0
    while current.merged_into_id is not None and hops < max_hops:
        nxt = session.scalar(select(Case).where(Case.id == current.merged_into_id),
                             execution_options={"unscoped": True})
        if nxt is None:
            break
        current, hops = nxt, hops + 1
    return current if current is not case else None
