"""消息 (notices): the reader's own notices, unread first; opening one marks it read and goes to the page it is
about; "全部标为已读" clears the list. Every logged-in person has the page (a notice is only ever theirs);
the home page's to-do list counts the unread ones."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from shiyu.core.domains import TodoItem
from shiyu.core.scoping import Principal
from shiyu.org.notices import service
from shiyu.web.admin.common import paging, redirect
from shiyu.web.page_deps import PageDb, PagePrincipal, PageRoute, render

router = APIRouter(prefix="/notices", route_class=PageRoute, include_in_schema=False)


def _safe(link: str) -> str:
    """Only a page of ours: a stored link is followed after a click, so never to another site."""
    return link if link.startswith("/") and not link.startswith("//") and "\\" not in link else "/notices"


@router.get("")
def notices(request: Request, db: PageDb, principal: PagePrincipal, offset: int = Query(0, ge=0, le=10**7)
            ) -> Response:
    page = paging(offset)
    rows, total = service.list_for(db, principal, page)
    return render(request, "notices.html", rows=rows, total=total, limit=page.limit, offset=offset,
                  unread=service.unread_count(db, principal), base="/notices?")


@router.post("/{notice_id}/open")
def open_notice(request: Request, notice_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    notice = service.open_notice(db, principal, notice_id)
    return redirect(request, _safe(notice.link))


@router.post("/read")
def read_all(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    service.read_all(db, principal)
    return redirect(request, "/notices")


def unread(session: Session, principal: Principal) -> list[TodoItem]:
    """The to-do line 未读消息, urgent while an urgent notice (an overdue petition, a warning) is unread."""
    count, urgent = service.unread_summary(session, principal)
    return [TodoItem("未读消息", "unread notices", count, "/notices", urgent=urgent)]
