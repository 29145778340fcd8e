"""Audit log search (``audit.view``), newest first, times shown in the city's zone."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from shiyu.core import audit
from shiyu.web.admin.common import base_query, paging
from shiyu.web.page_deps import PageDb, PagePrincipal, PageRoute, render

router = APIRouter(prefix="/admin/audit", route_class=PageRoute, include_in_schema=False)
ACTIONS = ("create", "update", "delete", "login", "login_failed", "logout", "password_change",
           "password_change_failed", "reveal", "demo_build")


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@router.get("")
def audit_page(request: Request, db: PageDb, principal: PagePrincipal,
               actor: str = Query("", max_length=64), action: str = Query("", max_length=32),
               object_type: str = Query("", max_length=48), object_id: str = Query("", max_length=48),
               since: str = Query("", max_length=10), until: str = Query("", max_length=10),
               offset: int = Query(0, ge=0)) -> Response:
    principal.require("audit.view")
    exact = audit.AuditFilter(actor=actor.strip(), action=action.strip(), object_type=object_type.strip(),
                              object_id=object_id.strip())
    filters = exact.within_days(request.app.state.settings.tz, _day(since), _day(until))
    page = paging(offset)
    rows, total = audit.search(db, filters, page)
    return render(request, "admin/audit.html", rows=rows, total=total, limit=page.limit, offset=offset,
                  f={"actor": actor, "action": action, "object_type": object_type, "object_id": object_id,
                     "since": since, "until": until}, actions=ACTIONS, base=base_query(request))
