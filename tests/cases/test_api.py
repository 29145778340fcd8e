"""The categories, calendar and routing endpoints: happy paths, permissions, and 4xx for bad input."""

from __future__ import annotations

from sqlalchemy import delete

from shiyu.org.units.models import Centre
from tests.cases.conftest import LIMITS
from tests.factories import login, populated


def test_categories(client, system_session, cats):
    populated(system_session)
    worker, admin = login(client, "worker_a1"), login(client, "admin")
    tree = client.get("/api/v1/categories", headers=worker).json()
    assert [m["code"] for m in tree] == ["C01", "I01"]
    assert tree[0]["children"][0]["time_limits"]["register"] == {"amount": 1.0, "unit": "working_hours"}
    body = {"kind": "component", "parent_id": cats.utilities.id, "code": "C0150", "name_zh": "新小类",
            "time_limits": LIMITS, "fields": [{"name": "owner", "label_zh": "权属", "type": "choice",
                                               "choices": ["市政"]}]}
    assert client.post("/api/v1/categories", json=body, headers=worker).status_code == 403
    r = client.post("/api/v1/categories", json=body, headers=admin)
    assert r.status_code == 201, r.text
    new_id = r.json()["id"]
    r = client.patch(f"/api/v1/categories/{new_id}", json={"name_en": "New"}, headers=admin)
    assert r.status_code == 200 and r.json()["name_en"] == "New"
    assert client.get(f"/api/v1/categories/{cats.utilities.id}", headers=worker).json()["children"][-1]["id"]
    again = client.post("/api/v1/categories", json=body, headers={**admin, "Accept-Language": "en"})
    assert again.status_code == 422
    assert again.json() == {"code": "category_code_taken", "message": "The category code C0150 is already in use",
                            "detail": {"field": "code"}}
    bad = client.post("/api/v1/categories", json={**body, "code": "C0151", "time_limits": {"register": 1}},
                      headers=admin)
    assert bad.status_code == 422 and bad.json()["code"] == "validation_failed"
    wrong_kind = client.post("/api/v1/categories", json={**body, "code": "C0152", "kind": "incident"}, headers=admin)
    assert wrong_kind.status_code == 422 and wrong_kind.json()["code"] == "category_kind_mismatch"
    assert client.get("/api/v1/categories/99999", headers=worker).status_code == 404
    assert client.get("/api/v1/categories?kind=thing", headers=worker).status_code == 422
    assert client.get("/api/v1/categories").status_code == 401


def test_calendar(client, system_session):
    populated(system_session)
    worker, admin = login(client, "worker_a1"), login(client, "admin")
    year = {"ranges": [
        {"start": "2026-10-01", "end": "2026-10-07", "kind": "holiday", "name_zh": "国庆节"},
        {"start": "2026-10-10", "kind": "workday", "name_zh": "调休上班"},
    ]}
    assert client.put("/api/v1/calendar/years/2026", json=year, headers=worker).status_code == 403
    r = client.put("/api/v1/calendar/years/2026", json=year, headers=admin)
    assert r.status_code == 200, r.text
    got = client.get("/api/v1/calendar/years/2026", headers=worker).json()
    assert got["ranges"][0] == {"start": "2026-10-01", "end": "2026-10-07", "kind": "holiday", "name_zh": "国庆节",
                                "name_en": ""}
    r = client.get("/api/v1/calendar/deadline", params={"start": "2026-09-30T17:00:00+08:00", "amount": 1,
                                                        "unit": "working_hours"}, headers=worker)
    assert r.status_code == 200, r.text
    assert r.json()["deadline"] == "2026-10-08T09:00:00+08:00" and r.json()["working_seconds"] == 3600
    naive = client.get("/api/v1/calendar/deadline", params={"start": "2026-10-09T17:00:00", "amount": 1},
                       headers=worker)
    assert naive.json()["deadline"] == "2026-10-10T17:00:00+08:00"  # city time; the make-up Saturday counts
    assert client.get("/api/v1/calendar/deadline", params={"amount": 2}, headers=worker).status_code == 200
    for params in ({"amount": 0}, {"amount": 1, "unit": "moons"}, {"amount": 1, "start": "yesterday"}):
        r = client.get("/api/v1/calendar/deadline", params=params, headers=worker)
        assert r.status_code == 422 and r.json()["code"] == "validation_failed", params
    hours = client.get("/api/v1/calendar/office-hours", headers=worker).json()
    assert hours == {"periods": [{"start": "08:30:00", "end": "12:00:00"}, {"start": "14:00:00", "end": "17:30:00"}],
                     "weekend": [5, 6]}
    new_hours = {"periods": [{"start": "09:00", "end": "17:00"}], "weekend": [5, 6]}
    assert client.put("/api/v1/calendar/office-hours", json=new_hours, headers=worker).status_code == 403
    assert client.put("/api/v1/calendar/office-hours", json=new_hours, headers=admin).status_code == 200
    bad_hours = {"periods": [{"start": "17:00", "end": "09:00"}], "weekend": []}
    r = client.put("/api/v1/calendar/office-hours", json=bad_hours, headers=admin)
    assert r.status_code == 422 and r.json()["code"] == "office_periods_invalid"
    r = client.put("/api/v1/calendar/years/2026", json={"ranges": [{"start": "2026-10-09", "kind": "workday"}]},
                   headers=admin)
    assert r.status_code == 422 and r.json()["code"] == "calendar_workday_not_weekend"
    assert client.put("/api/v1/calendar/years/1900", json=year, headers=admin).status_code == 422
    assert client.put("/api/v1/calendar/years/2026", json={"ranges": [{"start": "2026-10-09", "kind": "x"}]},
                      headers=admin).status_code == 422


def test_routing(client, system_session, cats):
    w = populated(system_session)
    worker, admin, leader = login(client, "worker_a1"), login(client, "admin"), login(client, "leader_a")
    dept_a = w.departments["a"].id
    body = {"category_id": cats.rubbish.id, "area_id": w.community_a.id, "department_id": dept_a, "priority": 5}
    assert client.post("/api/v1/routing/rules", json=body, headers=leader).status_code == 403
    r = client.post("/api/v1/routing/rules", json=body, headers=admin)
    assert r.status_code == 201, r.text
    rule = r.json()
    assert (rule["kind"], rule["area_prefix"], rule["basis"]) == ("incident", w.community_a.area_path, "territory")
    listed = client.get("/api/v1/routing/rules", params={"category_id": cats.rubbish.id}, headers=worker).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == rule["id"]
    preview = {"category_id": cats.rubbish.id, "area_id": w.grids["a1"].id, "attributes": {}}
    d = client.post("/api/v1/routing/preview", json=preview, headers=worker).json()
    assert d["rule_id"] == rule["id"] and d["department_id"] == dept_a
    assert d["explanation_zh"] == f"甲社区的“暴露垃圾”问题由甲社区物业办负责（按属地管理，派遣规则第{rule['id']}号）"
    fallback = client.post("/api/v1/routing/preview", json={**preview, "category_id": cats.lamp.id},
                           headers=worker).json()
    assert fallback["rule_id"] is None and fallback["target_name"] == "甲社区综治中心"
    r = client.patch(f"/api/v1/routing/rules/{rule['id']}", json={"priority": 7}, headers=admin)
    assert r.status_code == 200 and r.json()["priority"] == 7
    assert client.get(f"/api/v1/routing/rules/{rule['id']}", headers=worker).json()["priority"] == 7
    # 4xx
    assert client.post("/api/v1/routing/preview", json={**preview, "area_id": w.grids["b1"].id},
                       headers=leader).status_code == 404  # B is outside leader_a's grants
    assert client.post("/api/v1/routing/preview", json={**preview, "category_id": 99999},
                       headers=worker).status_code == 404
    both = client.post("/api/v1/routing/rules", json={**body, "territory_level": 2}, headers=admin)
    assert both.status_code == 422 and both.json()["code"] == "validation_failed"
    wrong = client.post("/api/v1/routing/rules", json={**body, "category_id": cats.lamp.id}, headers=admin)
    assert wrong.status_code == 422 and wrong.json()["code"] == "routing_department_kind"
    two = client.patch(f"/api/v1/routing/rules/{rule['id']}", json={"territory_level": 2}, headers=admin)
    assert two.status_code == 422 and two.json()["code"] == "validation_failed"
    assert client.delete(f"/api/v1/routing/rules/{rule['id']}", headers=leader).status_code == 403
    assert client.delete(f"/api/v1/routing/rules/{rule['id']}", headers=admin).status_code == 204
    assert client.get(f"/api/v1/routing/rules/{rule['id']}", headers=worker).status_code == 404


def test_no_route_at_all_is_a_clear_error(client, system_session, cats):
    w = populated(system_session)
    system_session.execute(delete(Centre))
    system_session.commit()
    r = client.post("/api/v1/routing/preview", json={"category_id": cats.rubbish.id, "area_id": w.grids["a1"].id},
                    headers=login(client, "admin"))
    assert r.status_code == 422 and r.json()["code"] == "routing_no_target"


def test_rules_of_a_sibling_subtree_stay_hidden(client, system_session, cats):
    w = populated(system_session)
    admin = login(client, "admin")
    ids = {}
    for key, area in (("city", None), ("a", w.community_a), ("b", w.community_b)):
        body = {"category_id": cats.rubbish.id, "department_id": w.departments[key].id if area else
                w.departments["a"].id, "area_id": area.id if area else None}
        ids[key] = client.post("/api/v1/routing/rules", json=body, headers=admin).json()["id"]
    for user, seen, hidden in (("worker_a1", {"city", "a"}, "b"), ("worker_b1", {"city", "b"}, "a"),
                               ("admin", {"city", "a", "b"}, None)):
        h = login(client, user)
        listed = {r["id"] for r in client.get("/api/v1/routing/rules", headers=h).json()["items"]}
        assert listed == {ids[k] for k in seen}, user
        if hidden:
            r = client.get(f"/api/v1/routing/rules/{ids[hidden]}", headers=h)
            assert r.status_code == 404 and "359901001002" not in r.text
