"""Answers from the domains a petition was linked to (docs/adr/0012): the disputes domain, having opened the
dispute a petition officer asked for, emits ``dispute.from_petition`` with the dispute's id and code; the
petition's timeline records it (action ``dispute_opened``, the code as the note) so the officer sees the
request was carried out and can open the dispute from the petition's page."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shiyu.core import outbox
from shiyu.core.timeutil import utcnow
from shiyu.petitions.models import PetitionEvent
from shiyu.petitions.service import of_event

OPENED = "dispute_opened"


@outbox.subscribe("dispute.from_petition", name="petitions.dispute_opened")
def dispute_opened(session: Session, event: outbox.OutboxEvent) -> None:
    p, petition = event.payload, of_event(session, event)
    if petition is None:
        return
    session.add(PetitionEvent(petition_id=petition.id, area_path=petition.area_path, at=utcnow(),
                              actor_name="disputes", action=OPENED, from_state=petition.state,
                              to_state=petition.state, note=str(p["code"])))
