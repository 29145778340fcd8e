"""特急 on the desk: the open 特急 cases of the caller's queues pinned above every queue in a banner, and an
alarm over the live channel (``shiyu.core.live``) the moment a 特急 case is committed anywhere in the
caller's scope.

The stream carries only ids of 特急 cases the caller may hear (the command view's scope check); the page
then re-reads the banner (``/desk/critical``) through its scoped session and names the cases it had not
shown yet, so nothing about a case travels on the stream and a case outside scope is never named.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from shiyu.cases.categories.models import Urgency
from shiyu.core.http import language
from shiyu.core.live import Change
from shiyu.web.command.routes import event_stream
from shiyu.web.desk.routes import DESK_PERMISSIONS, critical_cases, desk_queues
from shiyu.web.desk.table import category_names
from shiyu.web.page_deps import PageDb, PagePrincipal, PageRoute, render, require_any

# Included in the desk router (``shiyu.web.desk``), which adds the /desk prefix.
router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/critical")
def critical_banner(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    """The banner alone, re-read by the page when the live channel announces a 特急 case."""
    require_any(principal, *DESK_PERMISSIONS)
    lang = language(request)
    return render(request, "desk/critical.html", category_names=category_names(db, lang),
                  critical=critical_cases(db, principal, desk_queues(db, principal), lang))


def alarm_text(change: Change) -> str | None:
    if change.facts.get("urgency") != Urgency.CRITICAL.value:
        return None
    return f"event: critical\ndata: {json.dumps({'id': change.id})}\n\n"


def desk_text(change: Change) -> str:
    """The desk's stream: the 特急 alarm when it applies, then for every change a bare ``case`` event, on which
    the page re-reads its live queue counts (``shiyu.web.desk.work``)."""
    return (alarm_text(change) or "") + f"event: case\ndata: {json.dumps({'id': change.id})}\n\n"


@router.get("/events")
async def events(request: Request, principal: PagePrincipal) -> Response:
    """Server-sent events: ``critical`` with a case id whenever a 特急 case the caller may see is committed,
    and ``case`` with the id of any case the caller may see that changed."""
    require_any(principal, *DESK_PERMISSIONS)
    return event_stream(request, principal, desk_text)
