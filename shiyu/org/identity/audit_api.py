"""Audit log search, for auditors and administrators (``audit.view``), within their area subtrees."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from shiyu.core import audit
from shiyu.core.http import CurrentPrincipal, Db, Paging
from shiyu.core.paging import Page

router = APIRouter(tags=["audit"])


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor_id: int | None
    actor_name: str
    action: str
    object_type: str
    object_id: str | None
    ip: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None
    area_path: str


@router.get("/audit", response_model=Page[AuditOut], summary="Search the audit log (newest first)")
def search_audit(
    db: Db, principal: CurrentPrincipal, paging: Paging,
    actor: str | None = Query(None, description="username"),
    action: str | None = Query(None, description="create, update, delete, login, login_failed, reveal, …"),
    object_type: str | None = None,
    object_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    principal.require("audit.view")
    filters = audit.AuditFilter(actor=actor, action=action, object_type=object_type, object_id=object_id,
                                since=since, until=until)
    rows, total = audit.search(db, filters, paging)
    return {"items": [AuditOut.model_validate(r, from_attributes=True) for r in rows], "total": total,
            "limit": paging.limit, "offset": paging.offset}
