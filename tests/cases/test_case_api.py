"""The case API over HTTP: intake from each kind of caller, detail with masked reporter and allowed actions,
actions, uploads, queues, public tracking and evaluation, and community A staff against B's cases."""

from __future__ import annotations

import pytest

from shiyu.cases import service
from shiyu.core.scoping import Principal
from shiyu.org.identity import api_clients
from tests.cases.case_fixtures import (  # noqa: F401
    POINT_A1,
    POINT_B1,
    case_world,
    intake_body,
    jpeg_bytes,
    png_bytes,
    scope_matrix_extra,
)
from tests.factories import login


@pytest.fixture
def w(system_session):
    return case_world(system_session)


_body = intake_body


def test_intake_detail_actions_and_tracking(client, w):
    h = login(client, "worker_a1")
    r = client.post("/api/v1/cases", json=_body(w, "api-0001", reporter={"name": "王小明", "phone": "13700001111"}),
                    headers=h)
    assert r.status_code == 201, r.text
    created = r.json()
    again = client.post("/api/v1/cases", json=_body(w, "api-0001", reporter={"name": "王小明", "phone": "13700001111"}),
                        headers=h)
    assert again.status_code == 200 and again.json()["id"] == created["id"]

    leader = login(client, "leader_a")
    detail = client.get(f"/api/v1/cases/{created['id']}", headers=leader).json()
    assert detail["reporter"]["phone"] == "137****1111" and detail["reporter"]["name"] == "王*明"
    actions = {a["action"]: a for a in detail["allowed_actions"]}
    assert set(actions) == {"register", "reject", "merge", "supervise", "urge"}  # 催办: a leader may urge any open case
    assert actions["merge"]["fields"][0]["name"] == "into_case_id"
    assert detail["deadline"]["colour"] in ("green", "yellow", "red")

    r = client.post(f"/api/v1/cases/{created['id']}/actions/register", json={"expected_version": detail["version"]},
                    headers=leader)
    assert r.status_code == 200, r.text
    assert r.json()["routing"]["explanation_zh"]
    stale = client.post(f"/api/v1/cases/{created['id']}/actions/reject",
                        json={"expected_version": detail["version"], "note": "重复"}, headers=leader)
    assert stale.status_code == 409 and stale.json()["code"] == "conflict"

    public = client.get(f"/api/v1/track/{created['tracking_code']}")
    assert public.status_code == 200
    assert "13700001111" not in public.text and "王" not in public.text and "worker_a1" not in public.text
    assert [e["action"] for e in public.json()["timeline"]] == ["report", "register"]


def test_anonymous_citizen_and_evaluation_token(client, system_session, w):
    body = _body(w, "anon-0001", channel="citizen", anonymous=True, reporter={"phone": "13800000000"})
    r = client.post("/api/v1/cases", json=body)
    assert r.status_code == 201, r.text
    grid = client.post("/api/v1/cases", json=_body(w, "anon-0003"))
    assert grid.status_code == 403 and grid.json()["code"] == "channel_not_allowed"
    code, token = r.json()["tracking_code"], r.json()["evaluation_token"]
    from tests.cases.case_fixtures import act

    s = system_session
    s.info["principal"] = Principal.system("test")
    case = service.get_case(s, r.json()["id"])
    assert case.reporter_phone is None, "anonymous reports keep no contact data"
    for action, fields in (("register", {}), ("dispatch", {"department_id": w.departments["a"].id}),
                           ("accept", {})):
        case = act(s, w, "system", case, action, fields=fields)
    bad = client.post(f"/api/v1/track/{code}/evaluate", json={"rating": "satisfied", "token": "x" * 32})
    assert bad.status_code in (403, 409)
    too_early = client.post(f"/api/v1/track/{code}/evaluate", json={"rating": "satisfied", "token": token})
    assert too_early.status_code == 409
    from tests.cases.case_fixtures import evidence

    case = act(s, w, "handler_a", case, "report_result", attachment_ids=[evidence(s, "handler_a")])
    case = act(s, w, "worker_a1", case, "verify_pass")
    case = act(s, w, "operator_a", case, "close")
    ok = client.post(f"/api/v1/track/{code}/evaluate", json={"rating": "basically", "token": token})
    assert ok.status_code == 200, ok.text
    assert ok.json()["rating"] == "basically" and not ok.json()["can_evaluate"]


def test_api_key_intake(client, system_session, w):
    s = system_session
    s.info["principal"] = Principal.system("test")
    _client, key = api_clients.create_api_client(s, Principal.system("test"), "视频分析平台", w.community_a.id)
    s.commit()
    r = client.post("/api/v1/cases", json=_body(w, "video-0001", channel="api"), headers={"X-Api-Key": key})
    assert r.status_code == 201, r.text
    outside = client.post("/api/v1/cases", json=_body(w, "video-0002", channel="api", location=POINT_B1),
                          headers={"X-Api-Key": key})
    assert outside.status_code == 403
    assert client.post("/api/v1/cases", json=_body(w, "video-0003", channel="api"),
                       headers={"X-Api-Key": key[:-2] + "xx"}).status_code == 401


def test_upload_checks_content(client, w):
    h = login(client, "worker_a1")
    ok = client.post("/api/v1/attachments", files={"file": ("scene.jpg", jpeg_bytes((800, 600)), "image/jpeg")},
                     headers=h)
    assert ok.status_code == 201, ok.text
    assert ok.json()["width"] == 800 and ok.json()["has_thumbnail"]
    thumb = client.get(f"/api/v1/attachments/{ok.json()['id']}/thumbnail", headers=h)
    assert thumb.status_code == 200 and thumb.content[:3] == b"\xff\xd8\xff"
    lying = client.post("/api/v1/attachments", files={"file": ("scene.jpg", png_bytes(), "image/jpeg")}, headers=h)
    assert lying.status_code == 422 and lying.json()["code"] == "file_extension_mismatch"
    exe = client.post("/api/v1/attachments", files={"file": ("video.mp4", b"MZ" + b"\x00" * 100, "video/mp4")},
                      headers=h)
    assert exe.status_code == 422 and exe.json()["code"] == "file_type_refused"
    other = login(client, "worker_b1")
    assert client.get(f"/api/v1/attachments/{ok.json()['id']}", headers=other).status_code == 404
    r = client.post("/api/v1/cases", json=_body(w, "with-photo-1", attachment_ids=[ok.json()["id"]]), headers=h)
    assert r.status_code == 201, r.text
    leader = login(client, "leader_a")
    assert client.get(f"/api/v1/attachments/{ok.json()['id']}", headers=leader).status_code == 200


def test_queues_and_scope(client, system_session, w):
    extra = scope_matrix_extra(system_session, w)
    h = login(client, "worker_a1")
    mine = client.post("/api/v1/cases", json=_body(w, "queue-0001"), headers=h).json()
    leader_a = login(client, "leader_a")
    counts = {q["name"]: q["count"] for q in client.get("/api/v1/queues", headers=leader_a).json()}
    assert counts["to_register"] == 1, counts
    items = client.get("/api/v1/queues/to_register", headers=leader_a).json()["items"]
    assert [c["id"] for c in items] == [mine["id"]]
    assert client.get(f"/api/v1/cases/{extra['case_b']}", headers=leader_a).status_code == 404
    r = client.post(f"/api/v1/cases/{extra['case_b']}/actions/register",
                    json={"expected_version": extra["case_b_version"]}, headers=leader_a)
    assert r.status_code == 404
    listed = client.get("/api/v1/cases?limit=500", headers=leader_a).json()
    assert extra["case_b"] not in [c["id"] for c in listed["items"]]
    assert client.get(f"/api/v1/attachments/{extra['attachment_b']}", headers=leader_a).status_code == 404
    leader_b = login(client, "leader_b")
    assert client.get(f"/api/v1/cases/{extra['case_b']}", headers=leader_b).status_code == 200
