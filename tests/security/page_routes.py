"""The app's pages, read from its router, so a page added later is covered by the header and XSS tests
without anyone remembering to list it."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

# Page-router answers that are data, not pages (JSON, GeoJSON, the service worker, icons, photos, the manifest,
# Excel), and the server-sent event stream, which never ends.
DATA_SUFFIXES = (".json", ".geojson", ".webmanifest", ".png", ".jpg", ".js", ".xlsx")
STREAMS = {"/command/events", "/desk/events"}
PARAM = re.compile(r"\{(\w+)\}")


def page_paths(app: FastAPI) -> list[str]:
    """Path templates (``/desk/cases/{case_id}``) of every GET page: routes left out of the OpenAPI document
    (the API's own routes are in it) that answer HTML."""
    paths = []
    for route in iter_route_contexts(app.routes):
        path = route.path
        if "GET" not in (route.methods or ()) or getattr(route, "include_in_schema", True) or path is None:
            continue
        if path.endswith(DATA_SUFFIXES) or path in STREAMS or path == app.openapi_url:
            continue
        paths.append(path)
    return paths


def page_urls(app: FastAPI, ids: dict[str, object]) -> list[str]:
    """Every page with its path parameters filled from ``ids`` (``{"case_id": 3, …}``)."""
    urls = []
    for path in page_paths(app):
        missing = [name for name in PARAM.findall(path) if name not in ids]
        assert not missing, f"page {path} has a path parameter this test does not know: add {missing} to its ids"
        urls.append(PARAM.sub(lambda m: str(ids[m.group(1)]), path))
    return urls
