"""Who hears about a petition when nobody is looking at it (issue 17): the deadline scan's events
(``petition.deadline_warning`` yellow, ``petition.overdue`` red; ``shiyu.petitions.tasks``) reach the petition
officers nearest the petition and its 包案 leader; a warning raised from a petition (``petition.raise_warning``)
reaches the centre leaders over its area, with the officer's reason. Each is a notice (站内消息) linking to
the petition's page; a redelivered event sends nothing twice (the notice's key)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shiyu.core import outbox
from shiyu.org.notices import service as notices
from shiyu.petitions.models import HANDLE
from shiyu.petitions.service import leaders, of_event


@outbox.subscribe("petition.overdue", name="petitions.notify_overdue")
@outbox.subscribe("petition.deadline_warning", name="petitions.notify_deadline")
def deadline(session: Session, event: outbox.OutboxEvent) -> None:
    p, petition = event.payload, of_event(session, event)
    if petition is None:
        return
    red = event.topic == "petition.overdue"
    people = notices.holders(session, HANDLE, petition.area_path, nearest=True) | {petition.leader_id or 0}
    notices.send(session, people - {0}, notices.Message(
        key=f"{event.topic}:{petition.id}:{p.get('due_at')}", kind=event.topic,
        data={"number": petition.number, "state": p.get("state") or petition.state},
        link=f"/petitions/{petition.id}", urgent=red))


@outbox.subscribe("petition.raise_warning", name="petitions.notify_warning")
def warning(session: Session, event: outbox.OutboxEvent) -> None:
    p, petition = event.payload, of_event(session, event)
    if petition is None:
        return
    notices.send(session, {uid for uid, _ in leaders(session, petition.area_path)}, notices.Message(
        key=f"{event.topic}:{event.id}", kind=event.topic, data={"number": petition.number},
        body=str(p.get("reason") or ""), link=f"/petitions/{petition.id}", urgent=True))
