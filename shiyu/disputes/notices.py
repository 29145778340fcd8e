"""A high-risk dispute's warning (``dispute.warning``, raised by a risk review with an escalation signal or a
high level; ``shiyu.disputes.effects``) reaches the centre staff nearest the dispute who accept and assign
disputes, as an urgent notice (站内消息) linking to its page — 民转刑 cues named."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shiyu.core import outbox
from shiyu.disputes.models import REGISTER, Dispute
from shiyu.org.notices import service as notices


@outbox.subscribe("dispute.warning", name="disputes.notify_warning")
def warning(session: Session, event: outbox.OutboxEvent) -> None:
    dispute = session.get(Dispute, int(event.payload["dispute_id"]))
    if dispute is None:
        return
    notices.send(session, notices.holders(session, REGISTER, dispute.area_path, nearest=True), notices.Message(
        key=f"{event.topic}:{event.id}", kind=event.topic,
        data={"code": dispute.code, "criminal": bool(event.payload.get("criminal"))},
        link=f"/disputes/{dispute.id}", urgent=True))
