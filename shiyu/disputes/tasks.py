"""The mediation-limit scan (调解期限, ``shiyu.disputes.limits``): every five minutes, each dispute being
mediated whose month entered its last five days, or passed, since the last scan is announced once — an
outbox event ``dispute.limit_warning`` (yellow) or ``dispute.overdue`` (red) for the notices
(``shiyu.disputes.notices``). ``mediation_alert`` remembers what was announced; a new month (assignment at
the next level, an extension) starts it again."""

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
from shiyu.disputes.limits import RED, RUNNING, WARN_BEFORE, YELLOW
from shiyu.disputes.models import Dispute

log = logging.getLogger(__name__)
TOPICS = {YELLOW: "dispute.limit_warning", RED: "dispute.overdue"}


def scan(factory: sessionmaker[Session], now: datetime | None = None) -> dict[str, int]:
    """Announce what turned yellow or red; answers how many of each."""
    now = now or utcnow()
    counts = {"yellow": 0, "red": 0}
    with transaction(factory, principal=Principal.system("deadlines")) as session:
        due = session.scalars(select(Dispute).where(
            Dispute.state.in_(RUNNING), Dispute.mediation_due_at.is_not(None),
            or_(and_(Dispute.mediation_alert < YELLOW, Dispute.mediation_due_at <= now + WARN_BEFORE),
                and_(Dispute.mediation_alert < RED, Dispute.mediation_due_at < now))).order_by(Dispute.id)
            .with_for_update())
        for d in due:
            level = RED if d.mediation_due_at is not None and d.mediation_due_at < now else YELLOW
            d.mediation_alert = level
            outbox.emit(session, TOPICS[level], "dispute", d.id, d.area_path, {
                "dispute_id": d.id, "code": d.code, "mediator_id": d.mediator_id,
                "due_at": d.mediation_due_at.isoformat() if d.mediation_due_at else None})
            counts["red" if level == RED else "yellow"] += 1
    return counts


@periodic(minute="*/5")
def scan_mediation_limits(ctx: JobContext) -> dict[str, int]:
    result = scan(ctx.session_factory)
    if any(result.values()):
        log.info("dispute mediation-limit scan: %s", result)
    return result
