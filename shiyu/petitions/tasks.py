"""The deadline scan: every five minutes, each open petition whose clock passed its yellow instant or its
deadline since the last scan is announced once — an outbox event (``petition.deadline_warning``,
``petition.overdue``) for whoever notifies the officer and the 包案 leader, and, for red, a line on the
timeline. ``alert`` remembers what was announced; a new clock (or an extension) starts it again."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from shiyu.core import outbox
from shiyu.core.db import transaction
from shiyu.core.jobs import JobContext, periodic
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.petitions.models import CLOSED_STATES, RED, YELLOW, Petition, PetitionEvent

log = logging.getLogger(__name__)
TOPICS = {YELLOW: "petition.deadline_warning", RED: "petition.overdue"}


def scan(factory: sessionmaker[Session], now: datetime | None = None) -> dict[str, int]:
    """Announce what turned yellow or red; answers how many of each."""
    now = now or utcnow()
    counts = {"yellow": 0, "red": 0}
    system = Principal.system("deadlines")
    with transaction(factory, principal=system) as session:
        due = session.scalars(select(Petition).where(
            Petition.state.notin_([s.value for s in CLOSED_STATES]),
            or_(and_(Petition.alert < YELLOW, Petition.warn_at <= now),
                and_(Petition.alert < RED, Petition.due_at < now))).order_by(Petition.id).with_for_update())
        for p in due:
            level = RED if p.due_at is not None and p.due_at < now else YELLOW
            p.alert = level
            outbox.emit(session, TOPICS[level], "petition", p.id, p.area_path, {
                "petition_id": p.id, "number": p.number, "state": p.state, "leader_id": p.leader_id,
                "due_at": p.due_at.isoformat() if p.due_at else None})
            if level == RED:
                session.add(PetitionEvent(petition_id=p.id, area_path=p.area_path, at=now, actor_name=system.username,
                                          action="overdue", from_state=p.state, to_state=p.state, late=True))
            counts["red" if level == RED else "yellow"] += 1
    return counts


@periodic(minute="*/5")
def scan_deadlines(ctx: JobContext) -> dict[str, int]:
    result = scan(ctx.session_factory)
    if any(result.values()):
        log.info("petition deadline scan: %s", result)
    return result
