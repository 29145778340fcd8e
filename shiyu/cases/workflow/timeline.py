"""Timeline entries: one per transition (and per deadline alert), with the version the case reached."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shiyu.cases.models import Case, CaseEvent
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow


def event_values(
    session: Session, case: Case, action: str, from_state: str | None, note: str, data: dict[str, Any], *,
    attachment_ids: list[int] | None = None, public: bool = True,
) -> dict[str, Any]:
    """The columns of an entry for what just happened to ``case``, by the session's principal."""
    principal: Principal | None = session.info.get("principal")
    return {
        "area_path": case.area_path, "at": utcnow(), "action": action,
        "actor_id": principal.user_id if principal else None,
        "actor_name": principal.username if principal else "public",
        "from_state": from_state, "to_state": case.state, "version": case.version, "note": note, "data": data,
        "attachment_ids": list(attachment_ids or []), "public": public,
    }


def record_event(
    session: Session, case: Case, action: str, from_state: str | None, note: str, data: dict[str, Any], *,
    attachment_ids: list[int] | None = None, public: bool = True,
) -> CaseEvent:
    """Append an entry for what just happened to ``case`` (call after the case's version was flushed)."""
    event = CaseEvent(case=case, **event_values(session, case, action, from_state, note, data,
                                                attachment_ids=attachment_ids, public=public))
    session.add(event)
    return event
