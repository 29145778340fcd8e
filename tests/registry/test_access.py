"""Who sees what of the registers: a grid worker their grids only, masked; every read of a person and every
reveal in the audit log; the police's fields for the police only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shiyu.core.audit import AuditEntry
from shiyu.core.scoping import Principal
from shiyu.registry.models import Person
from tests.factories import add_user, login, populated
from tests.registry.registry_fixtures import POINT_B1, member, registered_family


def _world(system_session):
    w = populated(system_session)
    w.users["police_a"] = add_user(system_session, "police_a", w.community_a, [("police", w.community_a)])
    a = registered_family(system_session, w, "police_a", "operator_a",
                          members=[member("张伟", police_note="前科：无"), member("李娜", "配偶")])
    b = registered_family(system_session, w, "worker_b1", "leader_b", point=POINT_B1)
    system_session.commit()
    return w, a, b


def _entries(factory, action: str, object_id: str | None = None) -> list[AuditEntry]:
    with factory() as s:
        s.info["principal"] = Principal.system()
        stmt = select(AuditEntry).where(AuditEntry.action == action, AuditEntry.object_type == "registry_person")
        if object_id is not None:
            stmt = stmt.where(AuditEntry.object_id == object_id)
        return list(s.scalars(stmt.order_by(AuditEntry.id)))


def test_a_grid_worker_sees_only_their_grid_masked(client, system_session, factory):
    _w, a, b = _world(system_session)
    worker_a = login(client, "worker_a1")
    listed = client.get("/api/v1/registry/persons", headers=worker_a).json()
    assert {p["id"] for p in listed["items"]} == set(a["persons"])
    assert all("*" in p["name"] and "*" in p["id_number"] for p in listed["items"])
    for path in (f"/api/v1/registry/persons/{b['persons'][0]}", f"/api/v1/registry/houses/{b['house']}"):
        assert client.get(path, headers=worker_a).status_code == 404
    assert client.get("/api/v1/registry/houses", headers=worker_a).json()["total"] == 1
    # searching B's resident by the exact ID number finds nothing either
    with factory() as s:
        s.info["principal"] = Principal.system()
        number = s.get(Person, b["persons"][0]).id_number
    assert client.get(f"/api/v1/registry/persons?id_number={number}", headers=worker_a).json()["total"] == 0
    assert client.get(f"/api/v1/registry/persons?id_number={number}",
                      headers=login(client, "worker_b1")).json()["total"] == 1


def test_reads_and_reveals_are_audited_with_the_reason(client, system_session, factory):
    _w, a, _b = _world(system_session)
    worker = login(client, "worker_a1")
    pid = a["persons"][0]
    before = len(_entries(factory, "read", str(pid)))
    client.get(f"/api/v1/registry/persons/{pid}", headers=worker)
    assert len(_entries(factory, "read", str(pid))) == before + 1
    short = client.post(f"/api/v1/registry/persons/{pid}/reveal", json={"field": "phone", "reason": "x"},
                        headers=worker)
    assert short.status_code == 422 and short.json()["code"] == "reason_required"
    r = client.post(f"/api/v1/registry/persons/{pid}/reveal", json={"field": "phone", "reason": "入户走访联系"},
                    headers=worker)
    assert r.status_code == 200 and r.json()["value"] == "13800001234"
    reveals = _entries(factory, "reveal", str(pid))
    assert [(e.reason, e.after) for e in reveals] == [("入户走访联系", {"field": "phone"})]
    assert client.post(f"/api/v1/registry/persons/{pid}/reveal", json={"field": "password", "reason": "入户走访联系"},
                       headers=worker).status_code == 422


def test_police_only_fields_are_hidden_from_everyone_else(client, system_session):
    _w, a, _b = _world(system_session)
    pid = a["persons"][0]
    police, worker = login(client, "police_a"), login(client, "worker_a1")
    assert "police_note" in client.get(f"/api/v1/registry/persons/{pid}", headers=police).json()
    shown = client.get(f"/api/v1/registry/persons/{pid}", headers=worker).json()
    assert shown.get("police_note") is None
    refused = client.post(f"/api/v1/registry/persons/{pid}/reveal", json={"field": "police_note", "reason": "核查情况"},
                          headers=worker)
    assert refused.status_code == 403
    ok = client.post(f"/api/v1/registry/persons/{pid}/reveal", json={"field": "police_note", "reason": "核查情况"},
                     headers=police)
    assert ok.json()["value"] == "前科：无"


def test_collectors_without_the_police_view_neither_write_nor_see_police_fields(client, system_session, factory):
    _w, a, _b = _world(system_session)
    worker, operator, police = login(client, "worker_a1"), login(client, "operator_a"), login(client, "police_a")
    pid = a["persons"][0]
    sent = client.post("/api/v1/registry/changes", json={"entity": "person", "action": "update", "target_id": pid,
                                                          "data": {"police_note": "改写", "occupation": "教师"}},
                       headers=worker)
    assert sent.status_code == 201 and sent.json()["after"] == {"occupation": "教师"}
    nothing = client.post("/api/v1/registry/changes", json={"entity": "person", "action": "update", "target_id": pid,
                                                             "data": {"police_note": "改写"}}, headers=worker)
    assert nothing.status_code == 422 and nothing.json()["code"] == "no_change"
    by_police = client.post("/api/v1/registry/changes", json={
        "entity": "person", "action": "update", "target_id": pid, "data": {"police_note": "已核查"}}, headers=police)
    assert by_police.status_code == 201
    change = by_police.json()["id"]
    assert "police_note" not in client.get(f"/api/v1/registry/changes/{change}", headers=operator).json()["after"]
    assert client.get(f"/api/v1/registry/changes/{change}", headers=police).json()["after"]["police_note"] == "已***"
    for verb in ("review", "accept"):
        assert client.post(f"/api/v1/registry/changes/{change}/{verb}", json={}, headers=operator).status_code == 200
    with factory() as s:
        s.info["principal"] = Principal.system()
        assert s.get(Person, pid).police_note == "已核查"


def test_grid_worker_cannot_write_the_register_directly(system_session):
    from shiyu.core.errors import Forbidden
    from tests.registry.registry_fixtures import principal

    w, a, _b = _world(system_session)
    p = principal(system_session, w, "worker_a1")
    system_session.info["principal"] = p
    person = system_session.get(Person, a["persons"][0])
    person.phone = "13900000000"
    with pytest.raises(Forbidden):
        system_session.flush()
    system_session.rollback()
