"""The job that files each centre's weekly report (see ``filing`` for why hourly ticks are enough and safe).

The facts it reads are kept current by the indicator jobs (every minute), so a report filed at 07:05 on
Monday counts every change up to a minute or two before."""

from __future__ import annotations

from shiyu.core.jobs import JobContext, periodic
from shiyu.core.storage import LocalStorage
from shiyu.reports import filing


@periodic(minute="5")
def file_weekly_reports(ctx: JobContext) -> int:
    """Every hour at :05; files last week's reports from Monday 07:00 (city time) on, each only once."""
    return filing.file_due(ctx.session_factory, LocalStorage(ctx.settings.storage_dir), ctx.settings.tz)
