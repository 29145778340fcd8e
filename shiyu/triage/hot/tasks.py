"""The daily hot-issue job (``shiyu.triage.hot.hot_cases.refresh``), a worker module of the triage
declaration. It is idempotent, so a tick run twice by two workers changes nothing the second time."""

from __future__ import annotations

import logging

from shiyu.core.jobs import JobContext, periodic
from shiyu.triage.hot import hot_cases

log = logging.getLogger("shiyu.triage.hot.tasks")


@periodic(hour="3", minute="15")
def refresh_hot_issues(ctx: JobContext) -> int:
    report = hot_cases.refresh(ctx.session_factory, ctx.settings.tz)
    log.info("hot issues: %d groups, %d new, %d updated, %d dissolved", report.groups, report.created,
             report.updated, report.deleted)
    return report.groups
