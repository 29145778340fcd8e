"""The key persons' periodic work: every night the due dates are recomputed for the whole city and the
warnings raised (set-based), every hour the missed visits past the limit become cases, and closed records
past the retention period lose their personal data."""

from __future__ import annotations

import logging
from datetime import datetime

from shiyu.core.db import transaction
from shiyu.core.jobs import JobContext, periodic
from shiyu.core.scoping import Principal
from shiyu.keypersons import escalation, plans, retention

log = logging.getLogger(__name__)


def limits_of(ctx: JobContext) -> plans.Limits:
    return plans.Limits(ctx.settings.keyperson_red_after_days, ctx.settings.keyperson_case_after_days)


@periodic(hour="1", minute="10")
def recompute(ctx: JobContext) -> dict[str, int]:
    """Nightly: due dates from the plan table (a plan edited during the day applies to every record)."""
    today = datetime.now(ctx.settings.tz).date()
    with transaction(ctx.session_factory, principal=Principal.system("keypersons")) as session:
        changed = plans.recompute_due(session)
        raised = plans.raise_warnings(session, today, limits_of(ctx))
    return {"scheduled": changed, **raised}


@periodic(minute="25")
def warn_and_escalate(ctx: JobContext) -> int:
    """Hourly: warnings for visits missed since the last run, then cases for those missed past the limit."""
    today = datetime.now(ctx.settings.tz).date()
    with transaction(ctx.session_factory, principal=Principal.system("keypersons")) as session:
        plans.raise_warnings(session, today, limits_of(ctx))
    filed = escalation.file_cases(ctx.session_factory, ctx.settings.tz, today, limits_of(ctx))
    if filed:
        log.info("keypersons: %d missed visits filed as cases", len(filed))
    return len(filed)


@periodic(hour="3", minute="50")
def erase_closed(ctx: JobContext) -> int:
    """Nightly: the retention rule for closed records (setting ``keyperson_retention_days``)."""
    today = datetime.now(ctx.settings.tz).date()
    with transaction(ctx.session_factory, principal=Principal.system("keypersons")) as session:
        return retention.erase(session, today, ctx.settings.keyperson_retention_days)
