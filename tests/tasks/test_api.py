"""The task API end to end: a department proposes, the centre leader admits, the operator assigns to two grids,
the grid worker sees and submits once (a resend answers the first result), the operator reviews and reads the
progress by grid; bad input answers 4xx with a code."""

from __future__ import annotations

import uuid
from datetime import timedelta

from shiyu.core.timeutil import utcnow
from tests.factories import login, populated
from tests.tasks.task_fixtures import RENTAL_FORM

ANSWERS = {"tenants": 2, "registered": False, "hazards": ["无灭火器"], "note": "已提醒房东"}


def test_a_campaign_from_proposal_to_review(client, system_session):
    w = populated(system_session)
    handler, leader = login(client, "handler_a"), login(client, "leader_a")
    operator, worker = login(client, "operator_a"), login(client, "worker_a1")
    r = client.post("/api/v1/tasks/types", headers=handler, json={
        "code": "rental.check", "name": "出租房屋检查", "department_id": w.departments["a"].id,
        "legal_basis": "《商品房屋租赁管理办法》", "form": RENTAL_FORM, "cycle_days": 90})
    assert r.status_code == 201, r.text
    type_id = r.json()["id"]
    assert r.json()["status"] == "proposed"
    early = client.post("/api/v1/tasks/assignments", headers=operator, json={
        "type_code": "rental.check", "title": "x", "due_at": (utcnow() + timedelta(days=3)).isoformat(),
        "grid_ids": [w.grids["a1"].id]})
    assert early.status_code == 409 and early.json()["code"] == "task_type_not_admitted"
    r = client.post(f"/api/v1/tasks/types/{type_id}/decision", headers=leader, json={"decision": "admit"})
    assert r.status_code == 200 and r.json()["status"] == "admitted", r.text
    r = client.post("/api/v1/tasks/assignments", headers=operator, json={
        "type_code": "rental.check", "title": "出租房屋专项检查", "due_at": (utcnow() + timedelta(days=3)).isoformat(),
        "grid_ids": [w.grids["a1"].id, w.grids["a2"].id]})
    assert r.status_code == 201 and r.json()["items"] == 2, r.text
    assignment_id = r.json()["id"]

    mine = client.get("/api/v1/tasks/items?mine=true", headers=worker).json()
    assert mine["total"] == 1
    item = mine["items"][0]
    assert item["grid_id"] == w.grids["a1"].id and item["form"][0]["name"] == "tenants"
    assert item["actions"] == ["start", "submit", "unable"]
    url = f"/api/v1/tasks/items/{item['id']}/actions"
    bad = client.post(url, headers=worker, json={"action": "submit", "data": {"tenants": "多"}})
    assert bad.status_code == 422 and bad.json()["code"] == "task_data_invalid"
    key = str(uuid.uuid4())
    first = client.post(url, headers=worker, json={"action": "submit", "data": ANSWERS, "client_uuid": key})
    assert first.status_code == 200 and first.json()["state"] == "done", first.text
    again = client.post(url, headers=worker, json={"action": "submit", "data": ANSWERS, "client_uuid": key})
    assert again.status_code == 200 and again.json()["version"] == first.json()["version"]
    twice = client.post(url, headers=worker, json={"action": "submit", "data": ANSWERS})
    assert twice.status_code == 409 and twice.json()["code"] == "task_action_not_allowed"
    forbidden = client.post(url, headers=worker, json={"action": "review"})
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "task_action_forbidden"

    progress = client.get(f"/api/v1/tasks/assignments/{assignment_id}/progress", headers=operator).json()
    assert [(p["name"], p["items"], p["done"], p["percent"]) for p in progress] == [
        ("甲社区第一网格", 1, 1, 100), ("甲社区第二网格", 1, 0, 0)]
    reviewed = client.post(url, headers=operator, json={"action": "review"})
    assert reviewed.status_code == 200 and reviewed.json()["state"] == "reviewed"
    listed = client.get(f"/api/v1/tasks/items?assignment_id={assignment_id}&state=reviewed", headers=operator).json()
    assert listed["total"] == 1


def test_bad_input_answers_4xx_with_a_code(client, system_session):
    w = populated(system_session)
    operator = login(client, "operator_a")
    for body in ({"type_code": "nope", "title": "x", "due_at": "2099-01-01T00:00:00+08:00", "grid_ids": [1]},
                 {"type_code": "x", "title": "x", "due_at": "2099-01-01T00:00:00", "grid_ids": [1]},
                 {"type_code": "x", "title": "x" * 201, "due_at": "2099-01-01T00:00:00+08:00"}):
        r = client.post("/api/v1/tasks/assignments", headers=operator, json=body)
        assert 400 <= r.status_code < 500 and r.json()["code"], r.text
    r = client.post("/api/v1/tasks/types", headers=login(client, "handler_a"), json={
        "code": "Bad Code", "name": "x", "department_id": w.departments["a"].id, "legal_basis": "y", "form": []})
    assert r.status_code == 422 and r.json()["code"] == "task_code_invalid"
    r = client.post("/api/v1/tasks/items/999/actions", headers=operator, json={"action": "review"})
    assert r.status_code == 404
