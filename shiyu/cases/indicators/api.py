"""Routes for the indicators: figures, trend, ranking, the cases behind a figure, and the score's weights."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request

from shiyu.cases import service as case_service
from shiyu.cases.indicators import service, weights
from shiyu.cases.indicators.definitions import DEFAULT_WEIGHTS, SCORED
from shiyu.cases.indicators.schemas import IndicatorsOut, RankingOut, TrendOut, WeightsIn, WeightsOut
from shiyu.cases.schemas import CaseOut
from shiyu.core.http import CurrentPrincipal, Db, Paging, language
from shiyu.core.paging import Page, paginate
from shiyu.core.timeutil import utcnow

router = APIRouter(tags=["indicators"])


def _filters(
    area_id: int | None = Query(None, description="an area (any level): its subtree"),
    department_id: int | None = Query(None, description="main department (主办)"),
    category_id: int | None = Query(None, description="a minor class, or a major class with its minor classes"),
    start: date | None = Query(None, description="first local day (default: the 1st of the end's month)"),
    end: date | None = Query(None, description="last local day, included (default: today)"),
) -> dict[str, Any]:
    return {"area_id": area_id, "department_id": department_id, "category_id": category_id, "start": start,
            "end": end}


Filters = Annotated[dict[str, Any], Depends(_filters)]


def _query(db: Db, principal: CurrentPrincipal, request: Request, filters: Filters) -> service.Query:
    return service.resolve(db, principal, request.app.state.settings.tz, **filters)


Resolved = Annotated[service.Query, Depends(_query)]


def _cases_url(request: Request, q: service.Query, name: str, part: service.Part) -> str:
    path = request.app.url_path_for("indicator_cases", name=name)
    return f"{path}?{urlencode({**q.params, 'part': part.value})}"


@router.get("/indicators", response_model=IndicatorsOut,
            summary="Every indicator over the cases reported in the period, with drill-down links and the score")
def indicators(db: Db, q: Resolved, request: Request) -> dict[str, Any]:
    out = service.overview(db, q, language(request))
    for figure in out["figures"]:
        figure["cases_url"] = _cases_url(request, q, figure["name"], service.Part.NUMERATOR)
        figure["denominator_cases_url"] = (
            _cases_url(request, q, figure["name"], service.Part.DENOMINATOR) if figure["is_rate"] else None
        )
    return out


@router.get("/indicators/trend", response_model=TrendOut, summary="The indicators per day, week or month")
def trend(db: Db, q: Resolved, bucket: service.Bucket = service.Bucket.DAY) -> dict[str, Any]:
    return {"bucket": bucket.value, "start": q.period.start, "end": q.period.end, "filters": q.params,
            "points": service.trend(db, q, bucket)}


@router.get("/indicators/ranking", response_model=RankingOut,
            summary="Areas of one level, or departments, ranked by composite score")
def ranking(db: Db, principal: CurrentPrincipal, q: Resolved,
            level: service.RankLevel = service.RankLevel.COMMUNITY) -> dict[str, Any]:
    return {"level": level.value, "start": q.period.start, "end": q.period.end, "filters": q.params,
            "items": service.ranking(db, principal, q, level)}


@router.get("/indicators/weights", response_model=WeightsOut, summary="The composite score's weights")
def get_weights(db: Db) -> dict[str, Any]:
    return {"weights": weights.current(db), "defaults": {i.name: float(DEFAULT_WEIGHTS.get(i.name, 0)) for i in SCORED}}


@router.put("/indicators/weights", response_model=WeightsOut, summary="Change the composite score's weights")
def put_weights(body: WeightsIn, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    weights.replace(db, principal, body.weights)
    return get_weights(db)


@router.get("/indicators/{name}/cases", response_model=Page[CaseOut], name="indicator_cases",
            summary="The cases counted in an indicator's numerator or denominator")
def indicator_cases(name: str, db: Db, q: Resolved, paging: Paging, request: Request,
                    part: service.Part = service.Part.NUMERATOR) -> dict[str, Any]:
    rows, total = paginate(db, service.cases_statement(q, name, part), paging)
    now, lang = utcnow(), language(request)
    return {"items": [case_service.case_out(c, now, lang) for c in rows], "total": total, "limit": paging.limit,
            "offset": paging.offset}
