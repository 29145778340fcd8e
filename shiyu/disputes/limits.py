"""调解期限: 《人民调解工作若干规定》（司法部，2002）第三十三条 — "人民调解委员会调解纠纷，一般在一个月内调结。"

A month of calendar days (natural time: the parties wait on Sundays too), counted from the assignment, when the
centre accepts the dispute and names its mediator; re-assigning the mediator keeps the clock, and a dispute
escalated to the next level's centre starts a new month there. Local rules let the mediation go on past the
month when both parties agree: the ``extend`` action (with its reason) gives another month from the due date.
The limit runs while the dispute is assigned or being mediated; a warning shows in the last five days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil

from shiyu.disputes.models import Dispute, DisputeState

MEDIATION_LIMIT = timedelta(days=30)
WARN_BEFORE = timedelta(days=5)
RUNNING = (DisputeState.ASSIGNED.value, DisputeState.MEDIATING.value)
YELLOW, RED = 1, 2  # what the scan (``shiyu.disputes.tasks``) has announced of the running month


def on_assign(dispute: Dispute, before: str, now: datetime) -> None:
    """Start the month on the first assignment and again at the next level; a new mediator keeps it."""
    if dispute.mediation_due_at is None or before == DisputeState.ESCALATED.value:
        dispute.mediation_due_at = now + MEDIATION_LIMIT
        dispute.mediation_alert = 0


def extend(dispute: Dispute, now: datetime) -> datetime:
    """Another month from the due date (from now, if already past it)."""
    start = max(dispute.mediation_due_at or now, now)
    dispute.mediation_due_at = start + MEDIATION_LIMIT
    dispute.mediation_alert = 0
    return dispute.mediation_due_at


@dataclass(frozen=True)
class Standing:
    due_at: datetime
    days: int  # days left (rounded up), or whole days past the due instant (at least 1) when ``overdue``
    overdue: bool
    warn: bool


def standing(dispute: Dispute, now: datetime) -> Standing | None:
    """Where a running dispute stands against its limit; None when no limit runs."""
    if dispute.state not in RUNNING or dispute.mediation_due_at is None:
        return None
    left = dispute.mediation_due_at - now
    if left.total_seconds() < 0:
        return Standing(dispute.mediation_due_at, max(1, int(-left.total_seconds() // 86400)), True, False)
    return Standing(dispute.mediation_due_at, ceil(left.total_seconds() / 86400), False, left <= WARN_BEFORE)
