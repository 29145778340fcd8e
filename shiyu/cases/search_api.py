"""``GET /api/v1/search/cases``: the desk's search box for other clients (the same ``shiyu.cases.search``).

A path of its own rather than ``/cases/search``, which ``/cases/{case_id}`` would shadow.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from shiyu.cases import search, service
from shiyu.cases.schemas import CaseOut
from shiyu.core.http import Db, Paging, language
from shiyu.core.timeutil import utcnow

router = APIRouter(tags=["cases"])


class CaseSearchOut(BaseModel):
    kind: str  # code | phone | phone_tail | text: how the query was read
    items: list[CaseOut]
    total: int  # counted up to search.COUNT_CAP
    total_capped: bool  # more match than total (over search.COUNT_CAP, or a common phrase left uncounted)
    limit: int
    offset: int


@router.get("/search/cases", response_model=CaseSearchOut,
            summary="Find cases by tracking code (any case, spaces or dashes), the reporter's phone (whole or "
                    "last 4 digits; audited), or words of the description, address or code — within your scope")
def search_cases(db: Db, paging: Paging, request: Request,
                 q: str = Query(..., max_length=search.MAX_QUERY, description="what was typed")) -> dict[str, Any]:
    found = search.search(db, q, paging)
    now, lang = utcnow(), language(request)
    return {"kind": found.query.kind, "items": [service.case_out(c, now, lang) for c in found.cases],
            "total": found.total, "total_capped": found.capped or found.many, "limit": paging.limit,
            "offset": paging.offset}
