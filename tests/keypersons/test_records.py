"""Records: the declared state table walked for every allowed and every forbidden pair, grade changes
approved by a centre leader who did not ask, visits (idempotent, scheduling, re-assessment), the attribute
forms, and the audit of every read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shiyu.core.audit import AuditEntry
from shiyu.core.scoping import Principal
from shiyu.keypersons import service, workflow
from shiyu.keypersons.errors import KeyPersonError
from shiyu.keypersons.models import KeyPersonRecord, State
from tests.factories import login
from tests.keypersons.kp_fixtures import opened, today, world
from tests.registry.registry_fixtures import principal

PATHS = {State.REFERRED: [], State.FOUND: None, State.VERIFYING: ["verify"], State.ENROLLED: ["verify", "enrol"],
         State.LOST_CONTACT: ["verify", "enrol", "lose_contact"], State.RELEASED: ["dismiss"],
         State.DECEASED: ["verify", "enrol", "decease"], State.TRANSFERRED: None}


def _at(s, w, state: State) -> int:
    """A record taken to ``state`` by the centre leader (found: opened with source ``grid``)."""
    p = principal(s, w, "leader_a")
    s.info["principal"] = p
    person = w.extra["a"]["persons"][0]
    record = service.open_record(s, p, service.Opening(person_id=person, group_code="released", grade="yellow",
                                                       source="grid" if state is State.FOUND else "judicial",
                                                       attributes={"offence": "盗窃罪", "released_on": "2026-01-01"},
                                                       team=service.Team(grid_worker_id=w.users["worker_a1"].id)))
    for action in PATHS[state] or []:
        service.act(s, p, record.id, action, today=today())
    return record.id


@pytest.mark.parametrize("state", [s for s in State if s is not State.TRANSFERRED])
def test_every_pair_of_the_state_table(system_session, state):
    s = system_session
    w = world(s)
    for action in workflow.ACTIONS:
        record_id = _at(s, w, state)
        p = principal(s, w, "leader_a")
        s.info["principal"] = p
        step = workflow.TRANSITIONS.get((state, action))
        if step is None or action in workflow.INTERNAL:
            with pytest.raises(KeyPersonError) as err:
                service.act(s, p, record_id, action, today=today())
            assert err.value.code == "keyperson_bad_transition"
        else:
            record = service.act(s, p, record_id, action, today=today())
            assert record.state == step.to.value
        s.rollback()


def test_the_team_takes_only_its_team_steps(system_session):
    s = system_session
    w = world(s)
    record_id = opened(s, w, w.extra["a"]["persons"][0])
    worker = principal(s, w, "worker_a1")
    s.info["principal"] = worker
    with pytest.raises(KeyPersonError) as err:
        service.act(s, worker, record_id, "release", today=today())
    assert err.value.status == 403
    assert service.act(s, worker, record_id, "lose_contact", today=today()).state == "lost_contact"
    other = principal(s, w, "worker_a2")
    s.info["principal"] = other
    with pytest.raises(Exception) as hidden:
        service.act(s, other, record_id, "regain", today=today())
    assert getattr(hidden.value, "status", None) in (403, 404)


def test_a_grade_change_waits_for_another_leader(system_session):
    s = system_session
    w = world(s)
    record_id = opened(s, w, w.extra["a"]["persons"][0])
    leader = principal(s, w, "leader_a")
    s.info["principal"] = leader
    change = service.request_grade(s, leader, record_id, "red", "多次滋事")
    with pytest.raises(KeyPersonError) as own:
        service.decide_grade(s, leader, change.id, True, "", today())
    assert own.value.code == "keyperson_own_request"
    assert service.get_record(s, record_id).grade == "yellow"
    worker = principal(s, w, "worker_a1")
    s.info["principal"] = worker
    with pytest.raises(Exception) as not_leader:
        service.decide_grade(s, worker, change.id, True, "", today())
    assert getattr(not_leader.value, "status", None) in (403, 404)
    second = principal(s, w, "leader_a2")
    s.info["principal"] = second
    service.decide_grade(s, second, change.id, True, "同意", today())
    record = service.get_record(s, record_id)
    assert record.grade == "red"
    # the red plan (7 days) applies from the last visit or the enrolment
    assert record.next_due_on == today() + timedelta(days=7)


def test_grades_and_forms_are_the_groups(system_session):
    s = system_session
    w = world(s)
    p = principal(s, w, "leader_a")
    s.info["principal"] = p
    person = w.extra["a"]["persons"][1]
    for grade, attrs, code in (("red", {"diagnosis": "精神分裂症"}, "keyperson_invalid"),
                               ("6", {"diagnosis": "精神分裂症"}, "keyperson_invalid"),
                               ("3", {}, "keyperson_invalid"),
                               ("3", {"diagnosis": "感冒"}, "keyperson_invalid"),
                               ("3", {"diagnosis": "精神分裂症", "shoe_size": 42}, "keyperson_invalid")):
        with pytest.raises(KeyPersonError) as err:
            service.open_record(s, p, service.Opening(person_id=person, group_code="mental", grade=grade,
                                                      source="health", attributes=attrs))
        assert err.value.code == code
    record = service.open_record(s, p, service.Opening(person_id=person, group_code="mental", grade="3",
                                                       source="health", attributes={"diagnosis": "精神分裂症"}))
    assert record.state == "referred"
    with pytest.raises(KeyPersonError) as twice:
        service.open_record(s, p, service.Opening(person_id=person, group_code="mental", grade="0", source="health",
                                                  attributes={"diagnosis": "精神分裂症"}))
    assert twice.value.code == "keyperson_already_open"


def test_a_visit_schedules_the_next_and_is_stored_once(client, system_session, factory):
    s = system_session
    w = world(s)
    record_id = opened(s, w, w.extra["a"]["persons"][0])
    h = login(client, "worker_a1")
    body = {"visited_on": str(today()), "findings": {"note": "在家，情绪稳定"}, "client_uuid": "visit-0001",
            "lon": 117.95, "lat": 24.6, "assessed_grade": "green"}
    first = client.post(f"/api/v1/keypersons/records/{record_id}/visits", json=body, headers=h)
    assert first.status_code == 201, first.text
    again = client.post(f"/api/v1/keypersons/records/{record_id}/visits", json=body, headers=h)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    detail = client.get(f"/api/v1/keypersons/records/{record_id}", headers=h).json()
    assert detail["last_visit_on"] == str(today())
    # the assessment became a grade request for the centre, not a grade change
    assert detail["grade"] == "yellow" and detail["pending_grade"]["to_grade"] == "green"
    kinds = [e["kind"] for e in client.get(f"/api/v1/keypersons/records/{record_id}/timeline", headers=h).json()]
    assert kinds[:3] == ["opened", "state", "state"] and "visit" in kinds and "grade_requested" in kinds
    future = client.post(f"/api/v1/keypersons/records/{record_id}/visits",
                         json={**body, "client_uuid": None, "visited_on": "2099-01-01"}, headers=h)
    assert future.status_code == 422


def test_every_read_is_audited_and_reveal_needs_a_reason(client, system_session, factory):
    s = system_session
    w = world(s)
    record_id = opened(s, w, w.extra["a"]["persons"][0])
    h = login(client, "leader_a")
    listed = client.get("/api/v1/keypersons/records", headers=h).json()
    assert listed["total"] == 1 and "*" in listed["items"][0]["name"]
    client.get(f"/api/v1/keypersons/records/{record_id}", headers=h)
    no_reason = client.post(f"/api/v1/keypersons/records/{record_id}/reveal", json={"field": "name", "reason": ""},
                            headers=h)
    assert no_reason.status_code == 422
    shown = client.post(f"/api/v1/keypersons/records/{record_id}/reveal",
                        json={"field": "name", "reason": "核实身份"}, headers=h)
    assert shown.json()["value"] == "陈建国"
    with factory() as check:
        check.info["principal"] = Principal.system()
        entries = list(check.scalars(select(AuditEntry).where(AuditEntry.object_type == "kp_record",
                                                              AuditEntry.actor_name == "leader_a")
                                         .order_by(AuditEntry.id)))
    assert [e.action for e in entries if e.action in ("read", "reveal")] == ["read", "read", "reveal"]
    assert entries[-1].reason == "核实身份"


def test_the_register_stores_no_personal_data_in_clear(system_session, factory):
    s = system_session
    w = world(s)
    record_id = opened(s, w, w.extra["a"]["persons"][0])
    raw = s.connection().exec_driver_sql(
        f"SELECT attributes, guardian_name, guardian_phone FROM kp_record WHERE id = {record_id}").one()
    assert all(v and "陈大伯" not in v and "盗窃" not in v and "1391111" not in v for v in raw)
    assert s.scalar(select(func.count()).select_from(KeyPersonRecord)) == 1
