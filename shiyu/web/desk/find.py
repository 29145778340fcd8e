"""``GET /desk?q=…``: the desk's search box (``shiyu.cases.search``) as a page.

A whole tracking code opens its case at once (303 to the case page); anything else lists the matches in the
desk's table, newest first. What cannot be searched (an empty or too long query) is said on the page itself,
above the box, never as an error page: the operator corrects it where they typed it.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response

from shiyu.cases import search
from shiyu.core.errors import ValidationFailed
from shiyu.core.http import language
from shiyu.core.paging import PageParams
from shiyu.core.timeutil import utcnow
from shiyu.web.desk import table
from shiyu.web.page_deps import PageDb, render

PAGE_SIZE = 30


def search_page(request: Request, db: PageDb, q: str, offset: int) -> Response:
    lang = language(request)
    try:
        found = search.search(db, q, PageParams(limit=PAGE_SIZE, offset=offset))
    except ValidationFailed as exc:
        return render(request, "desk/search.html", 422, q=q, problem=exc.message(lang), rows=[], total=0,
                      pager_total=0, capped=False, many=False, kind=None, limit=PAGE_SIZE, offset=0, base="")
    if found.exact is not None:
        return Response(status_code=303, headers={"Location": f"/desk/cases/{found.exact.id}"})
    # A common phrase is not counted: the pager offers a next page while pages come back full.
    pager_total = found.total + 1 if found.many else found.total
    return render(request, "desk/search.html", q=q, problem=None, kind=found.query.kind,
                  rows=table.rows(db, found.cases, utcnow(), lang, phones=True), total=found.total,
                  pager_total=pager_total, capped=found.capped, many=found.many, limit=PAGE_SIZE, offset=offset,
                  base=f"/desk?q={quote(q)}&")
