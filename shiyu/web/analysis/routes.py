"""The hot-issue page for analysts and centre leaders: the hottest issues of the caller's area with their
member cases, place and period, and the three decisions (confirm, split, dismiss) as plain forms.

Reads and writes go through the page's scoped session and the same service as the API
(``shiyu.triage.hot.hot_cases``), so an issue outside the caller's area is a 404 page here too.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from shiyu.cases.categories import service as categories
from shiyu.core.http import language
from shiyu.triage.hot import hot_cases
from shiyu.web.page_deps import PageDb, PagePrincipal, PageRoute, page_form, render, require_any

router = APIRouter(prefix="/analysis", route_class=PageRoute, include_in_schema=False)
TOP = 30



def _category_names(db: PageDb, lang: str) -> dict[int, str]:
    names: dict[int, str] = {}
    for major in categories.tree(db, include_inactive=True):
        for c in (major, *major.children):
            names[c.id] = c.name_en if lang == "en" and c.name_en else c.name_zh
    return names


@router.get("/hot")
def hot_page(request: Request, db: PageDb, principal: PagePrincipal,
             dismissed: bool = Query(False)) -> Response:
    require_any(principal, hot_cases.MANAGE)
    issues = hot_cases.top(db, TOP, include_dismissed=dismissed)
    members = {i.id: [hot_cases.member_out(c) for c in hot_cases.member_cases(db, i)] for i in issues}
    return render(request, "analysis/hot.html", issues=issues, members=members, dismissed=dismissed,
                  places=hot_cases.place_names(db, issues), category_names=_category_names(db, language(request)))


def _back(request: Request, issue_id: int) -> Response:
    target = f"/analysis/hot#issue-{issue_id}"
    if request.headers.get("hx-request") == "true":
        return Response(status_code=200, headers={"HX-Redirect": target})
    return Response(status_code=303, headers={"Location": target})


@router.post("/hot/{issue_id}/confirm")
def confirm(request: Request, issue_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    hot_cases.confirm(db, principal, issue_id)
    return _back(request, issue_id)


@router.post("/hot/{issue_id}/dismiss")
def dismiss(request: Request, issue_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    hot_cases.dismiss(db, principal, issue_id)
    return _back(request, issue_id)


@router.post("/hot/{issue_id}/split")
async def split(request: Request, issue_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    form = await page_form(request)
    chosen = [int(str(v)) for v in form.getlist("case_ids") if str(v).isdigit()]
    new = hot_cases.split(db, principal, issue_id, chosen)
    return _back(request, new.id)
