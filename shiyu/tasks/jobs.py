"""The task engine's background job: the warning sweep (yellow when due soon, red when overdue).

Idempotent like every periodic job: a level is raised once per item, so a second run in the same minute
finds nothing to do."""

from __future__ import annotations

import logging
from datetime import timedelta

from shiyu.core.db import transaction
from shiyu.core.jobs import JobContext, periodic
from shiyu.core.scoping import Principal
from shiyu.tasks.service import raise_warnings

log = logging.getLogger("shiyu.tasks.jobs")


@periodic(minute="*/5")
def warn_due_items(ctx: JobContext) -> int:
    """Every five minutes: items due within ``SHIYU_TASK_WARN_HOURS`` turn yellow, overdue ones red."""
    total = 0
    while True:
        with transaction(ctx.session_factory, principal=Principal.system("tasks")) as session:
            raised = raise_warnings(session, near=timedelta(hours=ctx.settings.task_warn_hours))
        total += raised
        if raised == 0:
            break
    if total:
        log.info("task warnings: %d raised", total)
    return total
