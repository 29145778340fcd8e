"""Background jobs of accounts: the hourly clean-up of revocations and log-in counters that no longer
matter, and of people-import rows and codes kept for nothing (``bulk.service.forget_stale``). All
idempotent."""

from __future__ import annotations

import logging

from shiyu.core.db import transaction
from shiyu.core.jobs import JobContext, periodic
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.identity import sessions, throttle
from shiyu.org.identity.bulk import service as bulk

log = logging.getLogger("shiyu.org.identity.tasks")


@periodic(minute="23")
def forget_old_logins(ctx: JobContext) -> int:
    with transaction(ctx.session_factory, principal=Principal.system("clean-up")) as s:
        removed = (sessions.forget_expired(s) + throttle.forget_old(s, ctx.settings, utcnow())
                   + bulk.forget_stale(s))
    if removed:
        log.info("log-ins: %d expired revocations and old counters removed", removed)
    return removed
