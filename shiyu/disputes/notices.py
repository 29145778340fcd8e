"""Who hears about a dispute when nobody is looking at it (docs/notices.md):

- a high-risk warning (``dispute.warning``, raised by a risk review with an escalation signal or a high level;
  ``shiyu.disputes.effects``) reaches the centre staff nearest the dispute who accept and assign disputes,
  urgent, 民转刑 cues named;
- the mediation month's last five days (``dispute.limit_warning``) reach the mediator's account; the month
  passed (``dispute.overdue``, ``shiyu.disputes.tasks``) reaches the mediator and, urgent, the nearest centre
  staff, who may extend it with the parties' consent or reassign.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from shiyu.core import outbox
from shiyu.disputes.models import REGISTER, Dispute, Mediator
from shiyu.org.notices import service as notices


def _dispute(session: Session, event: outbox.OutboxEvent) -> Dispute | None:
    return session.get(Dispute, int(event.payload["dispute_id"]))


@outbox.subscribe("dispute.warning", name="disputes.notify_warning")
def warning(session: Session, event: outbox.OutboxEvent) -> None:
    dispute = _dispute(session, event)
    if dispute is None:
        return
    notices.send(session, notices.holders(session, REGISTER, dispute.area_path, nearest=True), notices.Message(
        key=f"{event.topic}:{event.id}", kind=event.topic,
        data={"code": dispute.code, "criminal": bool(event.payload.get("criminal"))},
        link=f"/disputes/{dispute.id}", urgent=True))


@outbox.subscribe("dispute.overdue", name="disputes.notify_overdue")
@outbox.subscribe("dispute.limit_warning", name="disputes.notify_limit")
def mediation_limit(session: Session, event: outbox.OutboxEvent) -> None:
    dispute = _dispute(session, event)
    if dispute is None:
        return
    red = event.topic == "dispute.overdue"
    mediator = session.get(Mediator, dispute.mediator_id) if dispute.mediator_id else None
    people = {mediator.user_id} if mediator is not None and mediator.user_id is not None else set()
    if red:
        people |= notices.holders(session, REGISTER, dispute.area_path, nearest=True)
    notices.send(session, people, notices.Message(
        key=f"{event.topic}:{dispute.id}:{event.payload.get('due_at')}", kind=event.topic,
        data={"code": dispute.code}, link=f"/disputes/{dispute.id}", urgent=red))
