"""Background jobs of the case domain: delivering the outbox after commit, sweeping unused uploads.

The deadline scan lives with the deadline rules (``shiyu.cases.deadlines.scan_deadlines``); both modules
are listed in ``shiyu.core.jobs.JOB_MODULES``. Delivery runs every minute and is safe in several workers
at once (rows are claimed with SKIP LOCKED on PostgreSQL).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from shiyu.cases import attachments
from shiyu.core import outbox
from shiyu.core.jobs import JobContext, periodic
from shiyu.core.storage import LocalStorage

log = logging.getLogger("shiyu.cases.tasks")


@periodic(minute="*")
def deliver_outbox(ctx: JobContext) -> int:
    delivered = outbox.deliver_pending(ctx.session_factory)
    if delivered:
        log.info("outbox: %d events delivered", delivered)
    return delivered


@periodic(minute="17")
def sweep_unused_uploads(ctx: JobContext) -> int:
    """Hourly: uploads no case or check-in took within ``unused_upload_days`` go, rows and files."""
    removed = attachments.sweep_unused(ctx.session_factory, LocalStorage(ctx.settings.storage_dir),
                                       timedelta(days=ctx.settings.unused_upload_days))
    if removed:
        log.info("uploads: %d unused ones removed", removed)
    return removed
