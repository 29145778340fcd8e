"""The strictest access, walked over every key-person route: a grid worker of another grid (same community
and another community), a citizen, an operator and an administrator of the record's own community see
nothing of a record — no row, no name, no count — and leave no read in the audit log; the team and the
centre's leaders do see it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from shiyu.core.audit import AuditEntry
from shiyu.core.scoping import Principal
from shiyu.keypersons import handover, service
from tests.factories import add_user, login
from tests.keypersons.kp_fixtures import opened, today, world
from tests.registry.registry_fixtures import principal

OUTSIDERS = ("worker_a2", "worker_b1", "citizen", "operator_a", "admin_a")
MARKERS = ("陈", "盗窃", "13911112222")
PARAM = re.compile(r"\{(\w+)\}")
# Reference data (the groups, their forms, the plans): no record in it; grid staff need it for the forms.
REFERENCE = {"/api/v1/keypersons/groups", "/api/v1/keypersons/plans"}


def _setup(s) -> dict[str, Any]:
    w = world(s)
    add_user(s, "admin_a", w.community_a, [("admin", w.community_a)])
    record_id = opened(s, w, w.extra["a"]["persons"][0])
    p = principal(s, w, "leader_a")
    s.info["principal"] = p
    change = service.request_grade(s, p, record_id, "red", "陈某多次滋事")
    sent = handover.send(s, p, handover.Sending(group_code="released", to_grid_id=w.grids["a1"].id,
                                                person_id=w.extra["a"]["persons"][2], from_org="陈州监狱",
                                                document_no="陈-1", items=("释放证明书",)))
    s.info["principal"] = Principal.system("test")
    s.commit()
    return {"record_id": record_id, "change_id": change.id, "handover_id": sent.id, "plan_id": 1,
            "w": w, "person": w.extra["a"]["persons"][1]}


def _body(path: str, ids: dict[str, Any]) -> dict[str, Any]:
    w = ids["w"]
    bodies = {
        "/records": {"person_id": ids["person"], "group_code": "released", "grade": "red", "source": "police",
                     "attributes": {"offence": "盗窃罪", "released_on": "2026-01-01"}},
        "/reveal": {"field": "name", "reason": "想看看他的资料"},
        "/act": {"action": "lose_contact"},
        "/team": {"grid_worker_id": w.users["worker_a2"].id},
        "/grade": {"to_grade": "green", "reason": "想改"},
        "/decide": {"approve": True},
        "/visits": {"visited_on": str(today())},
        "/handovers": {"group_code": "released", "to_grid_id": w.grids["a1"].id, "person_id": ids["person"],
                       "from_org": "某监狱", "document_no": "X-1"},
        "/receive": {"received_items": ["释放证明书"], "grid_worker_id": w.users["worker_a2"].id, "grade": "red",
                     "attributes": {"offence": "盗窃罪", "released_on": "2026-01-01"}},
        "/cancel": {"note": "撤回"},
        "/plans/{plan_id}": {"interval_days": 1},
        "/census": {"area_id": w.community_a.id, "due_at": "2030-01-01T00:00:00+08:00"},
    }
    return next((b for suffix, b in bodies.items() if path.endswith(suffix)), {})


def test_every_route_shows_outsiders_nothing(app, client, system_session, factory):
    ids = _setup(system_session)
    routes = [(m.upper(), p) for p, ops in app.openapi()["paths"].items() if p.startswith("/api/v1/keypersons")
              for m in ops]
    assert len(routes) >= 20
    for who in OUTSIDERS:
        h = login(client, who)
        for method, path in routes:
            url = PARAM.sub(lambda m: str(ids[m.group(1)]), path)
            r = client.request(method, url, json=_body(path, ids) if method != "GET" else None, headers=h)
            assert not any(m in r.text for m in MARKERS), (who, method, path, r.text[:300])
            if r.status_code == 200 and path in REFERENCE:
                continue
            if r.status_code == 200:
                data = r.json()
                items = data.get("items", data) if isinstance(data, dict) else data
                assert items == [], (who, method, path, r.text[:300])
            else:
                assert r.status_code in (403, 404), (who, method, path, r.status_code, r.text[:300])
    with factory() as s:
        s.info["principal"] = Principal.system()
        reads = list(s.scalars(select(AuditEntry.actor_name).where(AuditEntry.object_type == "kp_record")))
    assert not set(reads) & set(OUTSIDERS)
    with factory() as s:
        s.info["principal"] = Principal.system()
        record = service.get_record(s, ids["record_id"])
        assert (record.state, record.grade, record.grid_worker_id) == ("enrolled", "yellow",
                                                                       ids["w"].users["worker_a1"].id)


@pytest.mark.parametrize("who", ["worker_a1", "police_a", "leader_a", "leader_a2"])
def test_the_team_and_the_leaders_see_it(client, system_session, who):
    ids = _setup(system_session)
    h = login(client, who)
    listed = client.get("/api/v1/keypersons/records", headers=h).json()
    assert [r["id"] for r in listed["items"]] == [ids["record_id"]]
    assert client.get(f"/api/v1/keypersons/records/{ids['record_id']}", headers=h).status_code == 200
