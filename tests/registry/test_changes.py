"""Change records end to end through the API: a grid worker submits a family, an operator reviews and
accepts it, and only then is it in the register; returned changes write nothing; resends are idempotent;
duplicates are flagged and merged with the history kept."""

from __future__ import annotations

from sqlalchemy import func, select

from shiyu.core.scoping import Principal
from shiyu.registry.models import ChangeRecord, Person, Residence
from tests.factories import add_user, login, populated
from tests.registry.registry_fixtures import POINT_B1, family, member, registered_family


def _count(factory, model, *where) -> int:
    with factory() as s:
        s.info["principal"] = Principal.system()
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_a_family_reaches_the_register_only_after_review_and_acceptance(client, system_session, factory):
    populated(system_session)
    worker, operator = login(client, "worker_a1"), login(client, "operator_a")
    r = client.post("/api/v1/registry/changes", json={"entity": "household", "action": "create",
                                                       "data": family(), "client_key": "family-0001"}, headers=worker)
    assert r.status_code == 201, r.text
    change = r.json()
    assert change["status"] == "submitted" and change["after"]["members"][0]["name"] == "张*"
    assert "110" not in str(change["after"]["members"][0]["id_number"])[4:-4]  # masked in the middle
    again = client.post("/api/v1/registry/changes", json={"entity": "household", "action": "create",
                                                           "data": family(), "client_key": "family-0001"},
                        headers=worker)
    assert again.status_code == 200 and again.json()["id"] == change["id"]
    assert _count(factory, Person) == 0
    # the worker cannot decide their own submission
    assert client.post(f"/api/v1/registry/changes/{change['id']}/accept", json={}, headers=worker).status_code == 403
    # accepting before review is refused
    early = client.post(f"/api/v1/registry/changes/{change['id']}/accept", json={}, headers=operator)
    assert early.status_code == 409 and early.json()["code"] == "change_not_open"
    assert client.post(f"/api/v1/registry/changes/{change['id']}/review", json={}, headers=operator).status_code == 200
    done = client.post(f"/api/v1/registry/changes/{change['id']}/accept", json={"note": "核实无误"}, headers=operator)
    assert done.status_code == 200 and done.json()["status"] == "accepted"
    assert _count(factory, Person) == 3 and _count(factory, Residence) == 3
    persons = client.get("/api/v1/registry/persons", headers=worker).json()
    assert persons["total"] == 3
    head = persons["items"][0]
    assert head["name"] == "张*" and head["sex"] in ("M", "F") and head["birth_date"] == "1980-01-01"
    assert "police_note" not in head or head["police_note"] is None


def test_a_returned_change_writes_nothing_and_needs_a_reason(client, system_session, factory):
    populated(system_session)
    worker, operator = login(client, "worker_a1"), login(client, "operator_a")
    change = client.post("/api/v1/registry/changes", json={"entity": "household", "action": "create",
                                                            "data": family()}, headers=worker).json()
    bare = client.post(f"/api/v1/registry/changes/{change['id']}/return", json={}, headers=operator)
    assert bare.status_code == 422 and bare.json()["code"] == "reason_required"
    r = client.post(f"/api/v1/registry/changes/{change['id']}/return", json={"note": "门牌号有误"}, headers=operator)
    assert r.status_code == 200 and r.json()["status"] == "returned"
    assert client.post(f"/api/v1/registry/changes/{change['id']}/review", json={}, headers=operator).status_code == 409
    assert _count(factory, Person) == 0


def test_bad_input_is_refused_at_submission_with_its_field(client, system_session, factory):
    w = populated(system_session)
    worker = login(client, "worker_a1")
    bad_id = family(members=[member("张伟", id_number="350203198001010010")])
    r = client.post("/api/v1/registry/changes", json={"entity": "household", "action": "create", "data": bad_id},
                    headers=worker)
    assert r.status_code == 422 and r.json()["code"] == "invalid_id_number", r.text
    outside = client.post("/api/v1/registry/changes", json={"entity": "household", "action": "create",
                                                             "data": family(point={"lon": 118.1, "lat": 24.6})},
                          headers=worker)
    assert outside.status_code == 422 and outside.json()["code"] == "outside_grids"
    unknown = client.post("/api/v1/registry/changes", json={"entity": "house", "action": "delete", "data": {}},
                          headers=worker)
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_change"
    shop = {"name": "店", "credit_code": "91350200MA0000001X"}
    bad_unit = client.post("/api/v1/registry/changes", json={"entity": "unit", "action": "create",
                                                              "grid_id": w.grids["a1"].id, "data": shop},
                           headers=worker)
    assert bad_unit.status_code == 422 and bad_unit.json()["code"] == "invalid_credit_code"
    assert _count(factory, ChangeRecord) == 0


def test_update_move_out_keep_history(client, system_session, factory):
    populated(system_session)
    worker, operator = login(client, "worker_a1"), login(client, "operator_a")

    def accepted(body):
        change = client.post("/api/v1/registry/changes", json=body, headers=worker)
        assert change.status_code == 201, change.text
        cid = change.json()["id"]
        client.post(f"/api/v1/registry/changes/{cid}/review", json={}, headers=operator)
        r = client.post(f"/api/v1/registry/changes/{cid}/accept", json={}, headers=operator)
        assert r.status_code == 200, r.text
        return r.json()

    done = accepted({"entity": "household", "action": "create", "data": family()})
    pid = int(done["applied_ids"][2].split(":")[1])
    upd = accepted({"entity": "person", "action": "update", "target_id": pid, "data": {"phone": "13911112222"}})
    assert upd["before"]["phone"] == "138****1234" and upd["after"]["phone"] == "139****2222"
    accepted({"entity": "person", "action": "move_out", "target_id": pid, "data": {"on": "2026-12-01"}})
    profile = client.get(f"/api/v1/registry/persons/{pid}", headers=worker).json()
    assert profile["status"] == "moved_out"
    assert [r["moved_out_on"] for r in profile["residences"]] == ["2026-12-01"]
    assert profile["residences"][0]["address"] == "幸福小区 3栋 2单元 501"


def test_duplicates_are_flagged_and_merged_with_history(client, system_session, factory):
    w = populated(system_session)
    add_user(system_session, "worker_a2", w.grids["a2"], [("grid_worker", w.grids["a2"])])
    system_session.commit()
    worker, leader = login(client, "worker_a1"), login(client, "leader_a")
    same = member("王芳")
    first = client.post("/api/v1/registry/changes", json={"entity": "household", "action": "create",
                                                           "data": family(members=[same])}, headers=worker).json()
    second = client.post("/api/v1/registry/changes", json={
        "entity": "household", "action": "create", "data": family(point={"lon": 117.95, "lat": 24.45}, road="和平路",
                                                                  members=[same])}, headers=login(client, "worker_a2"))
    assert second.status_code == 201, second.text
    for change in (first, second.json()):
        client.post(f"/api/v1/registry/changes/{change['id']}/review", json={}, headers=leader)
    # the first acceptance writes the person; the second finds them (same ID number) and moves them
    client.post(f"/api/v1/registry/changes/{first['id']}/accept", json={}, headers=leader)
    flagged = client.get(f"/api/v1/registry/changes/{second.json()['id']}", headers=leader).json()
    assert len(flagged["duplicates"]) == 0  # submitted before the first was accepted
    assert client.post(f"/api/v1/registry/changes/{second.json()['id']}/accept", json={},
                       headers=leader).status_code == 200
    assert _count(factory, Person) == 1
    pid = client.get("/api/v1/registry/persons", headers=leader).json()["items"][0]["id"]
    history = client.get(f"/api/v1/registry/persons/{pid}", headers=leader).json()["residences"]
    assert len(history) == 2 and sum(1 for r in history if r["moved_out_on"] is None) == 1
    assert w.grids["a2"].id == client.get(f"/api/v1/registry/persons/{pid}", headers=leader).json()["grid_id"]


def test_a_person_registered_in_another_community_is_a_duplicate_merged_above_both(client, system_session,
                                                                                 factory):
    w = populated(system_session)
    same = member("周杰")
    registered_family(system_session, w, "worker_b1", "leader_b", point=POINT_B1, members=[same])
    system_session.commit()
    worker, operator, admin = login(client, "worker_a1"), login(client, "operator_a"), login(client, "admin")
    change = client.post("/api/v1/registry/changes", json={"entity": "household", "action": "create",
                                                            "data": family(members=[same])}, headers=worker).json()
    assert len(change["duplicates"]) == 1  # flagged at submission, found on the ID number's blind index
    client.post(f"/api/v1/registry/changes/{change['id']}/review", json={}, headers=operator)
    client.post(f"/api/v1/registry/changes/{change['id']}/accept", json={}, headers=operator)
    assert _count(factory, Person) == 2  # B's record is not operator_a's to move
    assert client.get("/api/v1/registry/duplicates", headers=operator).json() == []  # sees only A's
    groups = client.get("/api/v1/registry/duplicates", headers=admin).json()
    assert len(groups) == 1 and len(groups[0]) == 2
    keep, dup = groups[0][1]["id"], groups[0][0]["id"]
    refused = client.post(f"/api/v1/registry/persons/{keep}/merge", json={"duplicate_id": dup}, headers=operator)
    assert refused.status_code == 404
    merged = client.post(f"/api/v1/registry/persons/{keep}/merge", json={"duplicate_id": dup}, headers=admin)
    assert merged.status_code == 200 and merged.json()["action"] == "merge", merged.text
    profile = client.get(f"/api/v1/registry/persons/{keep}", headers=admin).json()
    assert len(profile["residences"]) == 2  # the duplicate's residence history moved to the kept record
    assert client.get(f"/api/v1/registry/persons/{dup}", headers=admin).json()["merged_into_id"] == keep
    assert client.get("/api/v1/registry/duplicates", headers=admin).json() == []
