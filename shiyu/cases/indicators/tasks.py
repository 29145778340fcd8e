"""The jobs that keep the indicator facts equal to the case table (see ``facts`` for why this suffices):
every minute, recompute the keys of the cases changed since; every night, recompute the last
``REBUILD_DAYS`` days from scratch. Both are idempotent and safe in several workers at once."""

from __future__ import annotations

import logging
from datetime import timedelta

from shiyu.cases.indicators import facts
from shiyu.core.jobs import JobContext, periodic
from shiyu.core.timeutil import utcnow

log = logging.getLogger("shiyu.indicators")


@periodic(minute="*")
def refresh_indicator_facts(ctx: JobContext) -> int:
    refreshed = facts.refresh_all(ctx.session_factory, ctx.settings.tz)
    if refreshed:
        log.info("indicator facts: %d changed cases refreshed", refreshed)
    return refreshed


@periodic(hour="2", minute="40")
def rebuild_recent_indicator_facts(ctx: JobContext) -> int:
    today = utcnow().astimezone(ctx.settings.tz).date()
    return facts.rebuild(ctx.session_factory, ctx.settings.tz, today - timedelta(days=facts.REBUILD_DAYS), today)
