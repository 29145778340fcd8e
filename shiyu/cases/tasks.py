"""Background jobs of the case domain: delivering the outbox after commit.

The deadline scan lives with the deadline rules (``shiyu.cases.deadlines.scan_deadlines``); both modules
are listed in ``shiyu.core.jobs.JOB_MODULES``. Delivery runs every minute and is safe in several workers
at once (rows are claimed with SKIP LOCKED on PostgreSQL).
"""

from __future__ import annotations

import logging

from shiyu.core import outbox
from shiyu.core.jobs import JobContext, periodic

log = logging.getLogger("shiyu.cases.tasks")


@periodic(minute="*")
def deliver_outbox(ctx: JobContext) -> int:
    delivered = outbox.deliver_pending(ctx.session_factory)
    if delivered:
        log.info("outbox: %d events delivered", delivered)
    return delivered
