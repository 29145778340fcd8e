import json

import pytest

from tests.factories import add_user, box, login, populated
from tests.org.data import COMMUNITY, small_city

API = "/api/v1"


@pytest.fixture
def world(system_session):
    w = populated(system_session)
    add_user(system_session, "importer_a", w.community_a, [("admin", w.community_a)])
    system_session.commit()
    return w


def test_lists_and_details_are_scoped(client, world):
    h = login(client, "leader_a")
    codes = {a["code"] for a in client.get(f"{API}/areas", headers=h).json()["items"]}
    assert codes == {world.community_a.code, world.grids["a1"].code, world.grids["a2"].code}
    assert client.get(f"{API}/areas", params={"q": "乙"}, headers=h).json()["total"] == 0
    grids = client.get(f"{API}/areas", params={"level": 4, "limit": 1}, headers=h).json()
    assert grids["total"] == 2 and len(grids["items"]) == 1
    for area in (world.community_b, world.grids["b1"], world.street):
        r = client.get(f"{API}/areas/{area.id}", headers=h)
        assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert client.get(f"{API}/areas/{world.community_b.id}/children", headers=h).status_code == 404
    assert client.get(f"{API}/areas/{world.grids['b1'].id}/boundaries", headers=h).status_code == 404
    detail = client.get(f"{API}/areas/{world.grids['a1'].id}", headers=h).json()
    assert [c["code"] for c in detail["chain"]] == [a.code for a in (world.grids["a1"], world.community_a,
                                                                       world.street, world.district, world.city)]
    assert detail["geometry"]["type"] == "Polygon"
    kids = client.get(f"{API}/areas/{world.community_a.id}/children", headers=h).json()
    assert [k["code"] for k in kids] == [world.grids["a1"].code, world.grids["a2"].code]
    admin = login(client, "admin")
    assert client.get(f"{API}/areas", params={"q": "乙"}, headers=admin).json()["total"] == 3


def test_lookup_is_scoped(client, world):
    h = login(client, "leader_a")
    r = client.get(f"{API}/areas/lookup", params={"lon": 118.0, "lat": 24.6}, headers=h)
    assert r.status_code == 200 and r.json()["grid"]["code"] == world.grids["a1"].code
    assert [c["level"] for c in r.json()["chain"]] == [4, 3, 2, 1, 0]
    hidden = client.get(f"{API}/areas/lookup", params={"lon": 118.1, "lat": 24.6}, headers=h)
    missing = client.get(f"{API}/areas/999999", headers=h)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["code"] == missing.json()["code"] == "not_found"
    outside = client.get(f"{API}/areas/lookup", params={"lon": 110.0, "lat": 30.0}, headers=h)
    assert outside.status_code == 404 and outside.json()["code"] == "outside_city"
    assert client.get(f"{API}/areas/lookup", params={"lon": 200, "lat": 0}, headers=h).status_code == 422
    admin = client.get(f"{API}/areas/lookup", params={"lon": 118.1, "lat": 24.6}, headers=login(client, "admin"))
    assert admin.json()["grid"]["code"] == world.grids["b1"].code


def test_export_is_scoped(client, world):
    h = login(client, "leader_a")
    r = client.get(f"{API}/areas/export", headers=h)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    assert {f["properties"]["code"] for f in r.json()["features"]} == {
        world.community_a.code, world.grids["a1"].code, world.grids["a2"].code}
    assert client.get(f"{API}/areas/export", params={"root_id": world.community_b.id}, headers=h).status_code == 404
    everything = client.get(f"{API}/areas/export", params={"root_id": world.city.id}, headers=login(client, "admin"))
    assert len(everything.json()["features"]) == 9


def test_proposals_are_scoped_and_need_another_approver(client, world):
    leader_a, leader_b = login(client, "leader_a"), login(client, "leader_b")
    a1 = world.grids["a1"]
    body = {"geometry": box(117.9, 24.6, 118.05, 24.7), "note": "调整"}
    assert client.post(f"{API}/areas/{world.grids['b1'].id}/boundary-proposals", json=body,
                       headers=leader_a).status_code == 404
    r = client.post(f"{API}/areas/{a1.id}/boundary-proposals", json=body, headers=leader_a)
    assert r.status_code == 201, r.text
    proposal = r.json()
    assert proposal["version"] == 2 and proposal["status"] == "proposed"
    hidden = client.post(f"{API}/areas/boundary-proposals/{proposal['id']}/approve", json={}, headers=leader_b)
    assert hidden.status_code == 404
    own = client.post(f"{API}/areas/boundary-proposals/{proposal['id']}/approve", json={}, headers=leader_a)
    assert own.status_code == 403 and own.json()["code"] == "self_approval"
    ok = client.post(f"{API}/areas/boundary-proposals/{proposal['id']}/approve", json={"note": "同意"},
                     headers=login(client, "admin"))
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    versions = client.get(f"{API}/areas/{a1.id}/boundaries", headers=leader_a).json()
    assert [(v["version"], v["status"]) for v in versions] == [(1, "superseded"), (2, "approved")]
    assert client.get(f"{API}/areas/{a1.id}/boundaries", headers=leader_b).status_code == 404
    r = client.get(f"{API}/areas/lookup", params={"lon": 117.95, "lat": 24.57}, headers=leader_a)
    assert r.json()["code"] == "outside_city"  # the index followed the approval
    bad = client.post(f"{API}/areas/{a1.id}/boundary-proposals", json={"geometry": box(117.9, 24.4, 118.05, 24.7)},
                      headers=leader_a)
    assert bad.status_code == 422 and bad.json()["code"] == "sibling_overlap"
    assert bad.json()["detail"]["issues"][0]["detail"]["other"] == world.grids["a2"].code


def test_reject_through_api(client, world):
    r = client.post(f"{API}/areas/{world.grids['a1'].id}/boundary-proposals",
                    json={"geometry": box(117.9, 24.6, 118.05, 24.7)}, headers=login(client, "leader_a"))
    admin = login(client, "admin")
    url = f"{API}/areas/boundary-proposals/{r.json()['id']}/reject"
    assert client.post(url, json={}, headers=admin).json()["code"] == "note_required"
    done = client.post(url, json={"note": "不同意"}, headers=admin)
    assert done.status_code == 200 and done.json()["status"] == "rejected"


def test_import_json_and_multipart(client, world):
    admin = login(client, "admin")
    # admin's grant is over the test city 3599…, not over a new city 3598…: refused
    dry = client.post(f"{API}/areas/import", json=small_city(), headers=admin)
    assert dry.status_code == 200 and not dry.json()["valid"] and not dry.json()["written"]
    assert [e["code"] for e in dry.json()["features"][0]["errors"]] == ["import_not_allowed"]
    a1 = world.grids["a1"]
    update = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": a1.geometry, "properties": {
        "code": a1.code, "name": a1.name, "level": 4, "parent_code": world.community_a.code, "households": 480}}]}
    files = {"file": ("grids.geojson", json.dumps(update).encode(), "application/geo+json")}
    done = client.post(f"{API}/areas/import", params={"dry_run": "false"}, files=files, headers=admin)
    assert done.status_code == 200 and done.json()["written"] and done.json()["summary"]["update"] == 1
    assert client.get(f"{API}/areas/{a1.id}", headers=admin).json()["households"] == 480
    refused = client.post(f"{API}/areas/import", params={"dry_run": "false"}, json=small_city(), headers=admin)
    assert refused.status_code == 422 and refused.json()["code"] == "import_invalid"
    assert refused.json()["detail"]["summary"]["errors"] == 1
    assert client.get(f"{API}/areas", params={"code": COMMUNITY}, headers=admin).json()["total"] == 0
    bad = client.post(f"{API}/areas/import", content=b"{oops", headers=admin | {"content-type": "application/json"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_geojson"


def test_import_never_reveals_areas_outside_grants(client, world):
    h = login(client, "importer_a")
    a, b = world.community_a, world.community_b
    feature = {"type": "Feature", "geometry": None, "properties": {"households": 420}}
    collection = {"type": "FeatureCollection", "features": [
        feature | {"properties": {"code": world.grids["a1"].code, "name": world.grids["a1"].name, "level": "grid",
                                  "parent_code": a.code, "households": 420}},
        feature | {"properties": {"code": world.grids["b1"].code, "name": "x", "level": "grid",
                                  "parent_code": b.code, "households": 420}},
        feature | {"geometry": box(118.1, 24.4, 118.11, 24.41),
                   "properties": {"code": b.code + "009", "name": "y", "level": "grid", "parent_code": b.code}},
    ]}
    report = client.post(f"{API}/areas/import", json=collection, headers=h).json()
    by_code = {f["code"]: f for f in report["features"]}
    assert by_code[world.grids["a1"].code]["errors"] == [] and by_code[world.grids["a1"].code]["action"] == "update"
    for code in (world.grids["b1"].code, b.code + "009"):
        found = {e["code"] for e in by_code[code]["errors"]}
        assert "unknown_parent" in found and "code_in_use" not in found  # b1 exists: not revealed
    assert b.name not in json.dumps(report)
    leader = client.post(f"{API}/areas/import", json=collection, headers=login(client, "leader_a"))
    assert leader.status_code == 403


def test_openapi_documents_the_routes(client):
    spec = client.get(f"{API}/openapi.json").json()
    assert {"/api/v1/areas/lookup", "/api/v1/areas/import", "/api/v1/areas/{area_id}/boundary-proposals"} <= set(
        spec["paths"])
    assert "description" in spec["components"]["schemas"]["AreaOut"]["properties"]["code"]
    assert "multipart/form-data" in spec["paths"]["/api/v1/areas/import"]["post"]["requestBody"]["content"]
