"""``/api/docs``: Swagger UI from the vendored ``swagger-ui-dist``, started by a static script.

Why not FastAPI's own docs page: it loads Swagger UI from a CDN (nothing may be downloaded at run time, and
the site may have no internet) and starts it with an inline script, which the Content-Security-Policy
(``shiyu.web.security_headers``) refuses.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from shiyu.web.page_deps import templates

router = APIRouter(include_in_schema=False)


@router.get("/api/docs")
def api_docs(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "api_docs.html", {"spec_url": request.app.openapi_url,
                                                                 "title": request.app.title})
