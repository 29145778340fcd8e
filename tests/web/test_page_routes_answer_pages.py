"""Every page route (everything outside /api/) answers a page, whatever its query says: empty values mean
"all" (``/command?days=7&category=&channel=`` is the whole map, not an error), and a bad value, a bad path
parameter, an unknown path or a wrong method is an HTML page with a Chinese message — never a 500, never the
API's JSON error body. The routes are walked from the application itself, so a new page is covered the day
it is added."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute

from shiyu.web.errors import JSON_PATHS
from tests.cases.case_fixtures import case_world, report
from tests.factories import World
from tests.web.test_pages import log_in

# Live streams never end by themselves; their gate is tested with the desk and the command view.
STREAMS = ("/command/events", "/desk/events")
BAD = "zz-不是有效值"


def _walk(routes: list[Any]) -> Iterator[tuple[str, APIRoute]]:
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _walk(included.routes)
        elif isinstance(route, APIRoute):
            yield route.path, route


def _params(dependant: Any, kind: str) -> list[str]:
    names = [p.name for p in getattr(dependant, kind)]
    for sub in dependant.dependencies:
        names += _params(sub, kind)
    return list(dict.fromkeys(names))


def page_routes(app: Any) -> list[tuple[str, list[str], list[str]]]:
    """(path, query parameter names, path parameter names) of every GET page route."""
    return [(path, _params(route.dependant, "query_params"), _params(route.dependant, "path_params"))
            for path, route in _walk(app.routes)
            if "GET" in route.methods and not path.startswith(JSON_PATHS) and path not in STREAMS]


def _fill(path: str, names: list[str], value: str) -> str:
    for name in names:
        path = path.replace("{" + name + "}", value)
    return path


def assert_page(response: Any, what: str) -> None:
    assert response.status_code < 500, (what, response.status_code, response.text[:300])
    kind = response.headers.get("content-type", "")
    if "json" in kind:
        body = json.loads(response.text)
        assert response.status_code < 400 and not (isinstance(body, dict) and "code" in body), (what, body)
    if response.status_code >= 400:
        assert kind.startswith("text/html"), (what, response.status_code, kind)
        assert 'lang="zh-CN"' in response.text and re.search(r"<h1>[^<]*[\u4e00-\u9fff]", response.text), (
            what, response.text[:300])


@pytest.fixture
def world(system_session) -> World:
    w = case_world(system_session)
    w.extra["case"] = report(system_session, w).case.id
    system_session.commit()
    return w


@pytest.mark.parametrize("user", [None, "admin", "leader_a"])
def test_every_page_route_answers_a_page_for_empty_and_bad_query_values(client, app, world, user):
    if user:
        log_in(client, user)
    routes = page_routes(app)
    assert {"/command", "/desk", "/admin/categories", "/portal/track"} <= {path for path, _, _ in routes}
    for path, query, params in routes:
        url = _fill(path, params, str(world.extra["case"]))
        empty = "&".join(f"{name}=" for name in query)
        assert_page(client.get(f"{url}?{empty}", follow_redirects=False), f"{url}?{empty}")
        for name in query:
            assert_page(client.get(url, params={name: BAD}, follow_redirects=False), f"{url}?{name}={BAD}")
        if params:
            bad = _fill(path, params, "x")
            assert_page(client.get(bad, follow_redirects=False), bad)


def test_the_leaders_empty_filters_mean_all(client, world):
    log_in(client, "leader_a")
    r = client.get("/command?days=7&category=&channel=&area=")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert 'selected' in r.text
    assert client.get("/command/kpis.json?days=7&category=&channel=").status_code == 200
    bad = client.get("/command?days=seven&category=")
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("text/html")
    assert "查询条件有误" in bad.text and "地址中的查询条件有误：days" in bad.text


def test_unknown_paths_and_methods_are_pages_but_the_api_stays_json(client, world):
    log_in(client, "leader_a")
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "未找到" in missing.text
    wrong = client.delete("/command")
    assert wrong.status_code in (403, 405) and wrong.headers["content-type"].startswith("text/html")
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.json()["code"] == "not_found"
    invalid = client.get("/api/v1/categories?kind=thing")
    assert invalid.status_code in (401, 422) and invalid.headers["content-type"].startswith("application/json")
