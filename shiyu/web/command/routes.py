"""The command view (一张图): one map of the caller's area with its cases, KPI cards and trends, kept current
by server-sent events.

The page renders the KPIs and the filter bar on the server; the map's data comes from small JSON endpoints
of this router (boundaries per level, jurisdictions, case points), each read through the caller's scoped
session. ``/command/events`` streams announcements of committed case changes (``shiyu.core.live``) that the
caller may see — only ids; the page re-reads each changed case through ``cases.geojson``.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import time
from collections.abc import AsyncIterator, Callable

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from shiyu.cases.models import CaseState, Channel
from shiyu.core.errors import ShiyuError
from shiyu.core.http import language
from shiyu.core.live import Change, LocalBroker
from shiyu.core.scoping import Principal
from shiyu.disputes.models import VIEW as DISPUTE_VIEW
from shiyu.org.identity.sessions import load_principal
from shiyu.web.command import service
from shiyu.web.command.situation import panel
from shiyu.web.page_deps import PageDb, PagePrincipal, PageRoute, render, require_any

router = APIRouter(prefix="/command", route_class=PageRoute, include_in_schema=False)
VIEW = "case.view"
KEEPALIVE_SECONDS = 15.0
# A stream ends after this long and the browser reconnects: grants are re-read then, so a withdrawn grant
# stops the announcements within minutes (a revoked session, within KEEPALIVE_SECONDS: see ``_stream``).
STREAM_SECONDS = 600.0
GZIP_MIN = 2048



def _filters(days: int, category: int | None, channel: str | None) -> service.Filters:
    return service.filters(days, category, channel)


@router.get("")
def command_page(request: Request, db: PageDb, principal: PagePrincipal, area: int | None = Query(None),
                 days: int = Query(service.DEFAULT_DAYS), category: int | None = Query(None),
                 channel: str | None = Query(None)) -> Response:
    require_any(principal, VIEW)
    lang, tz = language(request), request.app.state.settings.tz
    focus = service.focus_area(db, principal, area)
    f = _filters(days, category, channel)
    kpis = service.kpis(db, principal, f, tz, focus, lang)
    legend = service.category_legend(db, lang)
    config = {"area": focus.id, "level": focus.level, "filters": f.query(), "legend": legend,
              "states": [s.value for s in CaseState], "kpis": kpis, "tiles": request.app.state.settings.tile_url}
    return render(request, "command/command.html", focus=focus, tops=service.top_areas(db, principal), f=f,
                  periods=service.PERIODS, channels=list(Channel), legend=legend, kpis=kpis,
                  config=config, s=panel(request, db, principal, focus.id, f), screen=False,
                  disputes_layer=principal.has_permission(DISPUTE_VIEW))


@router.get("/areas.json")
def areas(request: Request, db: PageDb, principal: PagePrincipal, area: int | None = Query(None),
          level: int = Query(4, ge=0, le=4)) -> Response:
    require_any(principal, VIEW)
    body = service.boundaries(db, service.focus_area(db, principal, area), level)
    return _compressed(request, _json(body), "application/geo+json", "private, max-age=300")


@router.get("/jurisdictions.json")
def jurisdictions(request: Request, db: PageDb, principal: PagePrincipal, area: int | None = Query(None)) -> Response:
    require_any(principal, VIEW)
    body = service.jurisdictions(db, service.focus_area(db, principal, area))
    return _compressed(request, _json(body), "application/geo+json", "private, max-age=300")


@router.get("/cases.geojson")
def cases(request: Request, db: PageDb, principal: PagePrincipal, area: int | None = Query(None),
          days: int = Query(service.DEFAULT_DAYS), category: int | None = Query(None),
          channel: str | None = Query(None), ids: str | None = Query(None, max_length=2000)) -> Response:
    """The matching cases as points (``ids``: only these, comma-separated — a live update)."""
    require_any(principal, VIEW)
    wanted = [int(i) for i in ids.split(",") if i.strip().isdigit()] if ids is not None else None
    text = service.case_points(db, _filters(days, category, channel), request.app.state.settings.tz,
                               service.focus_area(db, principal, area), wanted)
    return _compressed(request, text.encode(), "application/geo+json")


@router.get("/kpis.json")
def kpis(request: Request, db: PageDb, principal: PagePrincipal, area: int | None = Query(None),
         days: int = Query(service.DEFAULT_DAYS), category: int | None = Query(None),
         channel: str | None = Query(None)) -> Response:
    require_any(principal, VIEW)
    body = service.kpis(db, principal, _filters(days, category, channel), request.app.state.settings.tz,
                        service.focus_area(db, principal, area), language(request))
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.get("/events")
async def events(request: Request, principal: PagePrincipal) -> Response:
    """Server-sent events: ``case`` with a case id whenever a case the caller may see was changed and
    committed, by any app process. No database session is held while the stream is open."""
    require_any(principal, VIEW)
    return event_stream(request, principal, service.event_text)


def event_stream(request: Request, principal: Principal, text: Callable[[Change], str | None]) -> Response:
    """The live stream of the case changes ``principal`` may hear, each written as ``text`` makes it (None:
    not for this page). The desk's 特急 alarm listens through this too (``shiyu.web.desk.urgent``)."""
    claims, factory = request.state.claims, request.app.state.session_factory

    def signed_in() -> bool:
        with factory() as session:
            try:
                load_principal(session, claims)
            except ShiyuError:
                return False
        return True

    return StreamingResponse(_stream(request.app.state.live, principal, signed_in, text),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _stream(broker: LocalBroker, principal: Principal, signed_in: Callable[[], bool],
                  text: Callable[[Change], str | None]) -> AsyncIterator[str]:
    """Subscribed before the first line goes out, so a client that has read it misses nothing committed
    after. That first line is a ``ready`` event: the page says it is live on it, not on the connection's
    ``open`` (the response's headers leave before this generator runs, so before the subscription).
    Keep-alive comments between events; when the client goes away the next write fails (or the server
    cancels the stream) and ``finally`` drops the subscription. Every ``KEEPALIVE_SECONDS`` the session is
    checked again: a log-out, a password change or a deactivation ends the stream within seconds."""
    ends = time.monotonic() + STREAM_SECONDS
    checked = time.monotonic()
    subscription = broker.subscribe()
    try:
        yield "retry: 3000\nevent: ready\ndata: {}\n\n"
        while time.monotonic() < ends:
            if time.monotonic() - checked >= KEEPALIVE_SECONDS:
                if not await asyncio.to_thread(signed_in):
                    return
                checked = time.monotonic()
            change = await subscription.get(KEEPALIVE_SECONDS)
            if change is None:
                yield ": keep-alive\n\n"
            elif service.may_hear(principal, change) and (line := text(change)) is not None:
                yield line
    finally:
        subscription.close()


def _json(body: object) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _compressed(request: Request, body: bytes, media_type: str, cache: str = "no-store") -> Response:
    """gzip for clients that take it: the city's points and grids shrink about sixfold."""
    headers = {"Cache-Control": cache, "Vary": "Accept-Encoding"}
    if len(body) >= GZIP_MIN and "gzip" in request.headers.get("accept-encoding", ""):
        body = gzip.compress(body, compresslevel=5)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=media_type, headers=headers)
