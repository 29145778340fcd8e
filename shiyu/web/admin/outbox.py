"""Parked outbox deliveries (``outbox.manage`` over a whole city): what failed, why, how often; redeliver
or discard (both audited, ``shiyu.core.outbox_admin``)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from shiyu.core import outbox_admin
from shiyu.core.errors import ShiyuError
from shiyu.core.http import language
from shiyu.web.admin.common import base_query, paging, redirect
from shiyu.web.page_deps import PageDb, PagePrincipal, PageRoute, render

router = APIRouter(prefix="/admin/outbox", route_class=PageRoute, include_in_schema=False)


def _page(request: Request, db: PageDb, principal: PagePrincipal, offset: int, done: str = "",
          error: str | None = None, status: int = 200) -> Response:
    page = paging(offset)
    rows, total = outbox_admin.parked(db, principal, page)
    return render(request, "admin/outbox.html", status, rows=rows, total=total, limit=page.limit, offset=offset,
                  base=base_query(request, ("offset", "done")), done=done, error=error)


@router.get("")
def outbox_page(request: Request, db: PageDb, principal: PagePrincipal, offset: int = Query(0, ge=0),
                done: str = Query("", pattern="^(|redeliver|discard)$")) -> Response:
    return _page(request, db, principal, offset, done)


@router.post("/{delivery_id}/{decision}")
def decide(request: Request, delivery_id: int, decision: str, db: PageDb, principal: PagePrincipal) -> Response:
    if decision not in ("redeliver", "discard"):
        return Response(status_code=404)
    try:
        getattr(outbox_admin, decision)(db, principal, delivery_id)
        db.flush()
    except ShiyuError as exc:
        db.rollback()
        if exc.status == 403:
            raise
        return _page(request, db, principal, 0, error=exc.message(language(request)), status=exc.status)
    return redirect(request, f"/admin/outbox?done={decision}")
