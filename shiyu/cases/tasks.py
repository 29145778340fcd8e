"""Background jobs of the case domain: pruning delivered outbox events, sweeping unused uploads.

The deadline scan lives with the deadline rules (``shiyu.cases.workflow.deadlines.scan_deadlines``); both modules
are worker modules of the cases declaration (``declaration.py``). The outbox itself is delivered
continuously by the worker's delivery loops (``shiyu.core.outbox_worker``), not by a periodic job.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from shiyu.cases import attachments
from shiyu.core import outbox
from shiyu.core.db import transaction
from shiyu.core.jobs import JobContext, periodic
from shiyu.core.scoping import Principal
from shiyu.core.storage import LocalStorage
from shiyu.core.timeutil import utcnow

log = logging.getLogger("shiyu.cases.tasks")
OUTBOX_KEEP_DAYS = 7


@periodic(hour="4", minute="40")
def prune_outbox(ctx: JobContext) -> int:
    """Nightly: events delivered to every subscriber more than ``OUTBOX_KEEP_DAYS`` ago go, with their
    delivery rows (parked ones stay until an administrator decides)."""
    with transaction(ctx.session_factory, principal=Principal.system("outbox")) as session:
        dropped = outbox.drop_old(session, utcnow() - timedelta(days=OUTBOX_KEEP_DAYS))
    if dropped:
        log.info("outbox: %d old events dropped", dropped)
    return dropped


@periodic(minute="17")
def sweep_unused_uploads(ctx: JobContext) -> int:
    """Hourly: uploads no case or check-in took within ``unused_upload_days`` go, rows and files."""
    removed = attachments.sweep_unused(ctx.session_factory, LocalStorage(ctx.settings.storage_dir),
                                       timedelta(days=ctx.settings.unused_upload_days))
    if removed:
        log.info("uploads: %d unused ones removed", removed)
    return removed
