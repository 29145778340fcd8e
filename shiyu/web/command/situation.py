"""当前态势 on the command view and the big screen (大屏, ``/command/screen``): the figures of the moment, the
rankings of streets and departments, the hottest issues (``shiyu.reports.situation``), each number linking
to the cases behind it (``/analysis/cases``).

``/command/situation`` answers the panel alone: the command view and the big screen poll it (htmx, every
``REFRESH_SECONDS``), so the figures and "截至 HH:MM" stay current without reloading the map.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from shiyu.cases.indicators import service as indicators
from shiyu.cases.models import CaseState, Channel
from shiyu.core.http import language
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.reports import situation
from shiyu.triage.hot import hot_cases
from shiyu.web.command import service
from shiyu.web.page_deps import PageDb, PagePrincipal, PageRoute, render, require_any

router = APIRouter(route_class=PageRoute, include_in_schema=False)
REFRESH_SECONDS = 60
RANK_ROWS = 10
SCREEN_ROWS = 6  # the big screen holds everything on one 1080-pixel screen


def panel(request: Request, db: PageDb, principal: Principal, area: int | None, f: service.Filters,
          rows: int = RANK_ROWS) -> dict[str, Any]:
    """Everything the panel shows, for the caller's focus area and the filter bar's category and channel
    (``rows`` of each ranking). The rates come from the indicator facts, which know categories but not
    channels: with a channel chosen the rankings show the live figures only."""
    tz = request.app.state.settings.tz
    focus = service.focus_area(db, principal, area)
    part = situation.Slice(service.category_ids(db, f.category_id), f.channel)
    moment = situation.Moment(utcnow(), tz)
    period = f.period(tz)
    q = None
    if not f.channel and (principal.is_system or principal.paths_with("indicator.view")):
        q = indicators.resolve(db, principal, tz, area_id=focus.id, category_id=f.category_id, start=period.start,
                               end=period.end)
    level, areas = situation.area_ranking(db, principal, focus, moment, q, part)
    hot = situation.hot_issues(db, focus)
    return {
        "focus": focus, "moment": moment, "counts": situation.counts(db, focus, moment, None, part), "f": f,
        "part": part.query(), "figures": situation.FIGURES,
        "labels": {k: v[1 if language(request) == "en" else 0] for k, v in situation.LABELS.items()},
        "level": level, "areas": areas[:rows], "more_areas": max(0, len(areas) - rows),
        "departments": situation.department_ranking(db, principal, focus, moment, q, part)[:rows],
        "rates": q is not None, "period": period, "hot": hot, "places": hot_cases.place_names(db, hot),
        "refresh": REFRESH_SECONDS, "may_manage_hot": principal.has_permission(hot_cases.MANAGE),
    }


@router.get("/situation")
def situation_panel(request: Request, db: PageDb, principal: PagePrincipal, area: int | None = Query(None),
                    days: int = Query(service.DEFAULT_DAYS), category: int | None = Query(None),
                    channel: str | None = Query(None), screen: bool = Query(False)) -> Response:
    require_any(principal, situation.VIEW)
    s = panel(request, db, principal, area, service.filters(days, category, channel),
              SCREEN_ROWS if screen else RANK_ROWS)
    return render(request, "command/_situation.html", s=s, screen=screen)


@router.get("/screen")
def big_screen(request: Request, db: PageDb, principal: PagePrincipal, area: int | None = Query(None),
               days: int = Query(service.DEFAULT_DAYS), category: int | None = Query(None),
               channel: str | None = Query(None)) -> Response:
    """The big screen: dark, 16:9, no navigation; the map, the situation panel and live updates."""
    require_any(principal, situation.VIEW)
    s = panel(request, db, principal, area, service.filters(days, category, channel), SCREEN_ROWS)
    legend = service.category_legend(db, language(request))
    config = {"area": s["focus"].id, "level": s["focus"].level, "filters": s["f"].query(), "legend": legend,
              "states": [c.value for c in CaseState], "kpis": None, "tiles": request.app.state.settings.tile_url}
    return render(request, "command/screen.html", s=s, screen=True, config=config, focus=s["focus"],
                  channels=list(Channel))

