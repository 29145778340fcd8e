"""The command view through TestClient: the page for an operator, the login redirect, and the JSON the map
reads — in scope only (community A's operator never gets community B's case), filtered, compact, without
personal data."""

from __future__ import annotations

import gzip

import pytest

from shiyu.cases.indicators import facts
from shiyu.core import outbox
from tests.cases.case_fixtures import SH, case_world, report, scope_matrix_extra
from tests.factories import World
from tests.web.test_pages import log_in


@pytest.fixture
def world(system_session) -> World:
    w = case_world(system_session)
    w.extra["case"] = report(system_session, w).case.id
    w.extra["hotline_case"] = report(system_session, w, "hotline", channel="hotline",
                                     reporter={"name": "张三", "phone": "13800000000"}).case.id
    w.extra.update(scope_matrix_extra(system_session, w))
    system_session.commit()
    return w


def ids_of(body: dict) -> set[int]:
    return {f["id"] for f in body["features"]}


def test_page_renders_for_an_operator(client, world, factory):
    outbox.deliver_pending(factory)  # the intake's events mark the cases for the indicator facts
    facts.refresh(factory, SH)
    log_in(client, "operator_a")
    r = client.get("/command")
    assert r.status_code == 200, r.text[:500]
    text = r.text
    assert "一张图 · 甲社区" in text and 'id="command-map"' in text and '/static/command.js' in text
    assert 'data-kpi="reported"><b>2</b>' in text and 'data-kpi="score"' in text
    assert 'href="/command"' in text  # the navigation entry
    assert "http://" not in text.split("<body")[0] and "https://" not in text.split("<body")[0]
    assert client.get("/command?lang=en").text.count("One map") >= 2


def test_needs_a_session_and_case_view(client, world):
    r = client.get("/command?days=7", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/command")
    assert client.get("/command/cases.geojson", follow_redirects=False).status_code == 303
    log_in(client, "handler_a")  # department staff: no case.view over an area
    assert client.get("/command").status_code == 403
    assert client.get("/command/cases.geojson").status_code == 403


def test_cases_are_only_those_in_scope(client, world):
    log_in(client, "operator_a")
    r = client.get("/command/cases.geojson")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    body = r.json()
    assert ids_of(body) == {world.extra["case"], world.extra["hotline_case"]}
    assert world.extra["case_b"] not in ids_of(body)
    feature = next(f for f in body["features"] if f["id"] == world.extra["hotline_case"])
    assert feature["geometry"]["type"] == "Point" and set(feature["properties"]) == {"s", "w", "c", "v"}
    assert "张三" not in r.text and "13800000000" not in r.text and "description" not in r.text
    # asking for B's case by id, or for B's area, gives nothing away
    assert ids_of(client.get(f"/command/cases.geojson?ids={world.extra['case_b']}").json()) == set()
    assert client.get(f"/command/cases.geojson?area={world.community_b.id}").status_code == 404
    log_in(client, "leader_b")
    assert ids_of(client.get("/command/cases.geojson").json()) == {world.extra["case_b"]}


def test_filters(client, world):
    log_in(client, "operator_a")
    assert ids_of(client.get("/command/cases.geojson?channel=hotline").json()) == {world.extra["hotline_case"]}
    assert ids_of(client.get("/command/cases.geojson?channel=grid").json()) == {world.extra["case"]}
    category = world.extra["category"]
    assert len(ids_of(client.get(f"/command/cases.geojson?category={category.id}").json())) == 2
    assert ids_of(client.get(f"/command/cases.geojson?category={category.parent_id}").json()) == {
        world.extra["case"], world.extra["hotline_case"]}
    assert client.get("/command/cases.geojson?category=999999").status_code == 404
    assert ids_of(client.get("/command/cases.geojson?days=1").json()) == {world.extra["case"],
                                                                           world.extra["hotline_case"]}
    only = client.get(f"/command/cases.geojson?ids={world.extra['case']},x").json()
    assert ids_of(only) == {world.extra["case"]}
    kpis = client.get("/command/kpis.json?channel=hotline").json()
    assert next(c for c in kpis["cards"] if c["name"] == "reported")["value"] == 1 and kpis["trend"]["labels"] == []


def test_large_answers_are_gzipped(client, world):
    log_in(client, "admin")
    r = client.get("/command/areas.json?level=4", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and len(r.json()["features"]) == 4
    from shiyu.web.command import routes

    raw = routes._compressed(type("R", (), {"headers": {"accept-encoding": "gzip"}})(), b"x" * 5000, "text/plain")
    assert raw.headers["content-encoding"] == "gzip" and gzip.decompress(raw.body) == b"x" * 5000


def test_boundaries_and_jurisdictions_of_the_callers_area(client, world):
    log_in(client, "operator_a")
    own = client.get("/command/areas.json?level=3").json()
    assert [f["properties"]["name"] for f in own["features"]] == ["甲社区"]
    grids = client.get("/command/areas.json?level=4").json()
    assert {f["properties"]["code"] for f in grids["features"]} == {world.grids["a1"].code, world.grids["a2"].code}
    assert client.get("/command/areas.json?level=1").json()["features"][0]["properties"]["name"] == "甲社区"
    covered = {f["properties"]["area"]: f["properties"]["departments"]
               for f in client.get("/command/jurisdictions.json").json()["features"]}
    assert "甲社区市场办" in covered["甲社区"] and "乙社区" not in covered
    assert "街道城管科" not in str(covered)  # the street's departments cover more than this map
