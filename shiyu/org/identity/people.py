"""People as colleagues name them on timelines and queues: "王*明 · 甲社区物业办", never ``handler_a``.

The name is masked like every other personal field (``shiyu.core.pii.mask``): a timeline is read by many; the
unit — the department a handler works in, or the grid, community or centre area a role is held over — says
who acted well enough to phone them. Read unscoped: a colleague's name and unit on a case one can see is part
of that case, whoever granted the colleague's rights.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.core.pii import mask
from shiyu.org.areas.models import Area
from shiyu.org.identity.models import Grant, User
from shiyu.org.identity.roles import ROLE_LABELS
from shiyu.org.units.models import Department

UNSCOPED = {"unscoped": True}


def labels(session: Session, user_ids: Iterable[int | None], lang: str = "zh") -> dict[int, str]:
    """``{user id: "masked name · unit"}`` for the given users (unknown ids are left out); a user without a
    full name is named by role and unit, and only a user with neither by login name."""
    ids = sorted({i for i in user_ids if i is not None})
    if not ids:
        return {}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)), execution_options=UNSCOPED)}
    grants: dict[int, Grant] = {}
    for row in session.scalars(select(Grant).where(Grant.user_id.in_(ids)).order_by(Grant.id),
                               execution_options=UNSCOPED):
        grants.setdefault(row.user_id, row)
    departments = _names(session, Department, [g.department_id for g in grants.values()])
    areas = _names(session, Area, [g.area_id for g in grants.values()])
    out: dict[int, str] = {}
    for user_id, user in users.items():
        grant = grants.get(user_id)
        unit = ""
        role = ""
        if grant is not None:
            unit = departments.get(grant.department_id or 0) or areas.get(grant.area_id or 0) or ""
            pair = next((v for k, v in ROLE_LABELS.items() if k.value == grant.role), None)
            role = (pair[1] if lang == "en" else pair[0]) if pair else ""
        who = mask("name", user.full_name) or role or user.username
        out[user_id] = f"{who} · {unit}" if unit else who
    return out


def _names(session: Session, model: type[Department] | type[Area], ids: list[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    rows = session.execute(select(model.id, model.name).where(model.id.in_(wanted)), execution_options=UNSCOPED)
    return {row.id: row.name for row in rows}
