"""The disputes' indicators over what the caller sees, for a period of registration (002·A3's targets:
调解成功率 98 %, 排查率 above 95 %).

- 化解率: disputes resolved (an agreement reached, whatever came after) ÷ disputes accepted (all but
  不予受理);
- 调解成功率: resolved ÷ mediations that ended (resolved, failed, referred or escalated — an escalated
  dispute resolved above counts as resolved);
- share resolved at each level: of the resolved ones, the share whose agreement was reached at each level
  of centre (1 city … 4 community), the 衢州 "96.5 % at township" figure;
- 民转刑: disputes carrying the 民转刑 signal;
- mediator workload: open (assigned or mediating) disputes per mediator, with their success rate;
- 排查率: grids whose screening round was reported ÷ grids sent one (``shiyu.disputes.screening``; None before
  the first round).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shiyu.disputes import screening, service
from shiyu.disputes.models import Dispute, DisputeState, Mediator, Signal

S = DisputeState
RESOLVED = (S.AGREED, S.PERFORMING, S.FOLLOWED_UP, S.CLOSED)
ENDED_WITHOUT = (S.FAILED, S.REFERRED, S.ESCALATED)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def compute(session: Session, since: datetime | None = None, until: datetime | None = None,
            area_path: str | None = None) -> dict[str, Any]:
    """The figures over the caller's disputes registered in [since, until), within ``area_path`` if given."""
    where = []
    if area_path is not None:
        where.append(Dispute.area_path.startswith(area_path, autoescape=True))
    if since is not None:
        where.append(Dispute.registered_at >= since)
    if until is not None:
        where.append(Dispute.registered_at < until)
    by_state = {s.value: 0 for s in S}
    for state, n in session.execute(select(Dispute.state, func.count()).where(*where).group_by(Dispute.state)):
        by_state[state] = n
    total = sum(by_state.values())
    accepted = total - by_state[S.NOT_ACCEPTED]
    resolved = sum(by_state[s] for s in RESOLVED)
    ended = resolved + sum(by_state[s] for s in ENDED_WITHOUT)
    levels: dict[int, int] = {}
    for level, n in session.execute(select(Dispute.resolved_level, func.count())
                                    .where(*where, Dispute.state.in_(RESOLVED)).group_by(Dispute.resolved_level)):
        if level is not None:
            levels[level] = n
    criminal = sum(1 for signals in session.scalars(select(Dispute.signals).where(*where))
                   if Signal.CRIMINAL.value in (signals or []))
    mediator_rows = list(session.execute(select(Mediator.id, Mediator.name).order_by(Mediator.id)))
    stats = service.mediator_stats(session, [m.id for m in mediator_rows])
    screened = screening.rate(session, since, until)
    return {
        "total": total, "accepted": accepted, "resolved": resolved, "by_state": by_state,
        "resolution_rate": _rate(resolved, accepted),
        "success_rate": _rate(resolved, ended),
        "screening_rate": screened["rate"], "screening": screened,
        "resolved_by_level": {str(level): _rate(n, resolved) for level, n in sorted(levels.items())},
        "criminal_count": criminal,
        "mediators": [{"id": m.id, "name": m.name, **stats[m.id]} for m in mediator_rows],
    }
