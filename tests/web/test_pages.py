"""Administration pages through TestClient: each renders for an admin, redirects to /login without a session,
answers 404 for objects outside the caller's scope, switches language, and writes through the same services
(and grants) as the API."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from shiyu.cases.categories.models import Category
from shiyu.core.audit import AuditEntry
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.areas.models import AreaBoundary
from tests.cases.conftest import LIMITS
from tests.factories import PASSWORD, World, add_user, box, populated

PAGES = ["/", "/admin/areas", "/admin/areas/import", "/admin/areas/proposals", "/admin/units",
         "/admin/units?tab=centres", "/admin/units/departments/new", "/admin/categories", "/admin/routing",
         "/admin/calendar", "/admin/users", "/admin/users/new", "/admin/audit", "/admin/outbox"]


@pytest.fixture
def world(system_session) -> World:
    return admin_world(system_session)


def admin_world(system_session) -> World:
    """The small world, a community administrator ``admin_a``, one category and a boundary proposal in B."""
    w = populated(system_session)
    add_user(system_session, "admin_a", w.community_a, [("admin", w.community_a), ("auditor", w.community_a)])
    major = Category(kind="incident", code="I01", name_zh="市容环境", name_en="City appearance")
    minor = Category(kind="incident", code="I0101", name_zh="暴露垃圾", name_en="Exposed rubbish", parent=major,
                     time_limits=LIMITS, fields=[])
    proposal_b = AreaBoundary(area_id=w.grids["b1"].id, version=2, geometry=box(118.05, 24.55, 118.2, 24.69),
                              status="proposed", proposed_at=utcnow(), area_path=w.grids["b1"].area_path)
    system_session.add_all([major, minor, proposal_b])
    system_session.flush()
    w.extra = {"major": major.id, "minor": minor.id, "proposal_b": proposal_b.id}
    system_session.commit()
    return w


def log_in(client, username: str) -> str:
    client.cookies.clear()
    client.get("/login")
    r = client.post("/login", data={"username": username, "password": PASSWORD,
                                    "csrf_token": client.cookies.get("shiyu_csrf")}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return client.cookies.get("shiyu_csrf")


def hx(csrf: str) -> dict[str, str]:
    return {"X-CSRF-Token": csrf, "HX-Request": "true"}


@pytest.mark.parametrize("url", PAGES)
def test_every_admin_page_renders_for_an_admin(client, world, url):
    log_in(client, "admin")
    r = client.get(url)
    assert r.status_code == 200, r.text[:500]
    assert "<title>" in r.text and "nav.admin" not in r.text and "{{" not in r.text


def test_detail_pages_render(client, world):
    log_in(client, "admin")
    for url in (f"/admin/areas?area={world.street.id}", f"/admin/units/departments/{world.departments['a'].id}",
                f"/admin/categories/{world.extra['minor']}", f"/admin/categories/{world.extra['major']}",
                f"/admin/users/{world.users['leader_a'].id}"):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("url", PAGES[1:] + ["/admin/areas/1/map.json"])
def test_without_a_session_pages_redirect_to_login(client, world, url):
    r = client.get(url, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/admin"), r.headers
    r = client.get(url, headers={"HX-Request": "true"}, follow_redirects=False)
    assert r.headers.get("HX-Redirect", "").startswith("/login")


def test_objects_outside_scope_are_404(client, world):
    log_in(client, "admin_a")
    for url in (f"/admin/areas?area={world.community_b.id}", f"/admin/areas/{world.community_b.id}/map.json",
                f"/admin/areas/tree/{world.community_b.id}", f"/admin/units/departments/{world.departments['b'].id}",
                f"/admin/users/{world.users['leader_b'].id}"):
        r = client.get(url)
        assert r.status_code == 404, (url, r.status_code)
        assert "乙社区" not in r.text and "leader_b" not in r.text
    csrf = client.cookies.get("shiyu_csrf")
    r = client.post(f"/admin/users/{world.users['leader_b'].id}/reveal",
                    data={"field": "phone", "reason": "越权查看测试"}, headers=hx(csrf))
    assert r.status_code == 404 and "13987654321" not in r.text
    r = client.post(f"/admin/areas/proposals/{world.extra['proposal_b']}/approve", data={"note": "x"}, headers=hx(csrf))
    assert r.status_code == 404
    # Lists leave B out.
    assert "乙社区" not in client.get("/admin/areas").text
    assert "leader_b" not in client.get("/admin/users").text
    search = client.get("/admin/areas/search.json?q=社区").json()
    assert all("乙" not in a["name"] for a in search) and search


def test_pages_need_their_permission(client, world):
    log_in(client, "worker_a1")
    assert client.get("/").status_code == 200
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/audit").status_code == 403
    home = client.get("/").text
    assert "/admin/users" not in home  # navigation follows the grants


def test_language_switch(client, world):
    log_in(client, "admin")
    assert "用户与授权" in client.get("/admin/users").text
    r = client.get("/admin/users?lang=en")
    assert "Users and grants" in r.text and "用户与授权" not in r.text
    assert "Users and grants" in client.get("/admin/users").text  # remembered in a cookie
    assert "用户与授权" in client.get("/admin/users?lang=zh").text


def test_writes_need_csrf(client, world):
    log_in(client, "admin")
    r = client.post(f"/admin/users/{world.users['leader_a'].id}/reveal",
                    data={"field": "phone", "reason": "核实身份信息"})
    assert r.status_code == 403


def test_reveal_is_audited_and_needs_a_reason(client, world, factory):
    csrf = log_in(client, "admin")
    uid = world.users["leader_a"].id
    page = client.get(f"/admin/users/{uid}").text
    assert "138****5678" in page and "13812345678" not in page
    r = client.post(f"/admin/users/{uid}/reveal", data={"field": "phone", "reason": "短"}, headers=hx(csrf))
    assert r.status_code == 422 and "13812345678" not in r.text and "field-error" in r.text
    r = client.post(f"/admin/users/{uid}/reveal", data={"field": "phone", "reason": "核实联系方式"}, headers=hx(csrf))
    assert r.status_code == 200 and "13812345678" in r.text
    with factory() as s:
        s.info["principal"] = Principal.system()
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "reveal"))
        assert entry.reason == "核实联系方式" and entry.actor_name == "admin"
    assert "核实联系方式" in client.get("/admin/audit?action=reveal").text


def test_create_user_and_grants_with_errors_next_to_fields(client, world):
    csrf = log_in(client, "admin")
    bad = client.post("/admin/users/new", data={"username": "leader_a", "password": "Longenough1",
                                                "home_area_id": str(world.community_a.id)}, headers=hx(csrf))
    assert bad.status_code == 422 and 'id="err-username"' in bad.text
    ok = client.post("/admin/users/new", data={"username": "new_worker", "password": "Longenough1",
                                               "home_area_id": str(world.grids["a2"].id), "role": "grid_worker",
                                               "phone": "13700002222"}, headers=hx(csrf))
    assert ok.status_code == 200 and ok.headers["HX-Redirect"].startswith("/admin/users/")
    uid = int(ok.headers["HX-Redirect"].split("/")[-1].split("?")[0])
    page = client.get(f"/admin/users/{uid}").text
    assert "137****2222" in page and "网格员" in page
    r = client.post(f"/admin/users/{uid}/grants", data={"role": "department_handler",
                                                        "department_id": str(world.departments["a"].id)},
                    headers=hx(csrf))
    assert r.status_code == 200 and "部门处置人员" in r.text


def test_department_create_and_edit(client, world):
    csrf = log_in(client, "admin")
    r = client.post("/admin/units/departments/new", data={"code": "D-x", "name": "城管", "category_kinds": "incident",
                                                          "jurisdiction_area_ids": [str(world.grids["a1"].id)]},
                    headers=hx(csrf))
    assert r.status_code == 422 and 'id="err-area_id"' in r.text
    r = client.post("/admin/units/departments/new", data={
        "code": "D-x", "name": "城管执法队", "category_kinds": ["incident", "component"],
        "area_id": str(world.community_a.id), "jurisdiction_area_ids": [str(world.grids["a1"].id)]}, headers=hx(csrf))
    assert r.status_code == 200, r.text[:400]
    url = r.headers["HX-Redirect"].split("?")[0]
    page = client.get(url).text
    assert "城管执法队" in page and json.dumps("甲社区第一网格")[1:-1] in page  # the chosen jurisdiction (JSON)
    r = client.post(url, data={"name": "城管执法中队", "category_kinds": "incident",
                               "jurisdiction_area_ids": [str(world.grids["b1"].id)]}, headers=hx(csrf))
    assert r.status_code == 422  # B's grid lies outside community A


def test_category_limits_edit(client, world):
    csrf = log_in(client, "admin")
    url = f"/admin/categories/{world.extra['minor']}"
    form = {"register.amount": "2", "register.unit": "working_hours", "dispatch.amount": "1",
            "dispatch.unit": "working_hours", "accept.amount": "1", "accept.unit": "working_hours",
            "handle.normal.amount": "3", "handle.normal.unit": "working_days", "handle.urgent.amount": "1",
            "handle.urgent.unit": "working_days", "handle.critical.amount": "4",
            "handle.critical.unit": "working_hours", "verify.amount": "1", "verify.unit": "working_days",
            "default_urgency": "normal"}
    assert client.post(url, data=form, headers=hx(csrf)).status_code == 200
    bad = client.post(url, data=form | {"verify.amount": "0"}, headers=hx(csrf))
    assert bad.status_code == 422 and 'id="err-verify-amount"' in bad.text


def test_routing_rule_and_preview(client, world):
    csrf = log_in(client, "admin")
    r = client.post("/admin/routing/rules", data={"category_id": str(world.extra["minor"]), "target": "department",
                                                  "department_id": str(world.departments["a"].id),
                                                  "area_id": str(world.community_a.id), "priority": "5",
                                                  "active": "on"}, headers=hx(csrf))
    assert r.status_code == 200 and "HX-Redirect" in r.headers, r.text[:300]
    assert "甲社区物业办" in client.get("/admin/routing").text
    r = client.post("/admin/routing/preview", data={"category_id": str(world.extra["minor"]),
                                                    "area_id": str(world.grids["a1"].id)}, headers=hx(csrf))
    assert r.status_code == 200 and "甲社区物业办" in r.text
    r = client.post("/admin/routing/preview", data={"category_id": str(world.extra["minor"])}, headers=hx(csrf))
    assert r.status_code == 422


def test_calendar_edit(client, world):
    csrf = log_in(client, "admin")
    r = client.post("/admin/calendar/years/2026", data={"r_start": "2026-10-01", "r_end": "2026-10-07",
                                                        "r_kind": "holiday", "r_name_zh": "国庆节", "r_name_en": ""},
                    headers=hx(csrf))
    assert r.status_code == 200 and "国庆节" in r.text and "day-holiday" in r.text
    r = client.post("/admin/calendar/office-hours?year=2026", data={"start": ["09:00", "08:00"],
                                                                     "end": ["12:00", "10:00"], "weekend": ["5", "6"]},
                    headers=hx(csrf))
    assert r.status_code == 422 and "field-error" in r.text


def test_import_dry_run_then_write(client, world):
    csrf = log_in(client, "admin")
    fc = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": box(117.9, 24.55, 118.05, 24.7),
        "properties": {"code": "359901001001001", "name": "甲社区第一网格", "level": "grid",
                       "parent_code": "359901001001", "population": 1500, "households": 500}}]}
    files = {"file": ("a.geojson", json.dumps(fc), "application/geo+json")}
    r = client.post("/admin/areas/import", data={"dry_run": "1"}, files=files, headers=hx(csrf))
    assert r.status_code == 200 and 'data-import-state="valid"' in r.text
    r = client.post("/admin/areas/import", data={"dry_run": "0"}, files=files, headers=hx(csrf))
    assert 'data-import-state="written"' in r.text
    r = client.post("/admin/areas/import", data={"dry_run": "1"},
                    files={"file": ("x.json", b"not json", "application/json")}, headers=hx(csrf))
    assert r.status_code == 422 and "alert error" in r.text


def test_import_page_takes_a_mapping_and_a_crs(client, world):
    csrf = log_in(client, "admin")
    a1 = world.grids["a1"]
    fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": a1.geometry, "properties": {
        "网格编码": a1.code, "网格名称": a1.name, "上级编码": world.community_a.code, "户数": 420}}]}
    files = {"file": ("a.geojson", json.dumps(fc), "application/geo+json")}
    form = {"dry_run": "1", "map": "网格编码=code，网格名称=name,上级编码=parent_code,户数=households",
            "crs": "cgcs2000", "clip_to_parent": "1"}
    r = client.post("/admin/areas/import", data=form, files=files, headers=hx(csrf))
    assert r.status_code == 200 and 'data-import-state="valid"' in r.text, r.text
    assert "按字段映射读取" in r.text and "CGCS2000 与 WGS-84 相差仅厘米级" in r.text
    for bad, words in (({"map": "户数=hh"}, "未知的目标字段“hh”"), ({"crs": "utm"}, "未知的坐标系“utm”")):
        r = client.post("/admin/areas/import", data=form | bad, files=files, headers=hx(csrf))
        assert r.status_code == 422 and "alert error" in r.text and words in r.text


def test_import_page_refuses_before_reading_the_file(client, world, monkeypatch):
    """Without area.import (area.propose) the answer is 403 and the multipart body (up to 50 MB) is never
    parsed."""
    from starlette.requests import Request

    parsed = []
    real_form = Request.form
    monkeypatch.setattr(Request, "form", lambda self, **kw: parsed.append(1) or real_form(self, **kw))
    csrf = log_in(client, "worker_a1")
    parsed.clear()
    r = client.post("/admin/areas/import", data={"dry_run": "1"}, headers=hx(csrf),
                    files={"file": ("a.geojson", b"{}" * 1000, "application/geo+json")})
    assert r.status_code == 403 and not parsed
    r = client.post(f"/admin/areas/{world.grids['a1'].id}/propose", data={"note": "x"}, headers=hx(csrf),
                    files={"file": ("a.geojson", b"{}" * 1000, "application/geo+json")})
    assert r.status_code == 403 and not parsed


def test_proposal_approval_by_another_user(client, world):
    csrf = log_in(client, "leader_a")
    grid = world.grids["a1"].id
    r = client.post(f"/admin/areas/{grid}/propose", data={"geometry": json.dumps(box(117.9, 24.55, 118.05, 24.69)),
                                                          "note": "按道路调整"}, headers=hx(csrf))
    assert r.status_code == 200 and "alert ok" in r.text
    pid = json.loads(json.dumps(client.get(f"/admin/areas/{grid}/map.json").json()))["features"][-1]["properties"]["id"]
    r = client.post(f"/admin/areas/proposals/{pid}/approve", data={"note": ""}, headers=hx(csrf))
    assert r.status_code == 403 and "alert error" in r.text  # not the proposer
    csrf = log_in(client, "admin")
    r = client.post(f"/admin/areas/proposals/{pid}/reject", data={"note": ""}, headers=hx(csrf))
    assert r.status_code == 422
    r = client.post(f"/admin/areas/proposals/{pid}/approve", data={"note": "同意"}, headers=hx(csrf))
    assert r.status_code == 200 and 'data-status="approved"' in r.text
