"""Petitions through the service and the API: encrypted and masked petitioners, the repeat and collective
flags, deadlines from the time limits on the calendar, the request windows, the one extension, the backlog,
reception days, the indicators, links as outbox events, and the audited reveal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from shiyu.core.audit import AuditEntry
from shiyu.core.errors import ShiyuError
from shiyu.core.outbox import OutboxEvent
from shiyu.core.paging import PageParams
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.petitions import limits, service, tasks
from shiyu.petitions.limits import Limit
from shiyu.petitions.models import Petition
from shiyu.petitions.service import ReceptionIn, Step
from shiyu.registry.models import Person
from tests.factories import login, populated
from tests.petitions.petition_fixtures import TZ, as_user, officers, register, walk
from tests.registry.registry_fixtures import id_number, registered_family


def _world(s):
    w = populated(s)
    officers(s, w)
    return w


def _assign(w) -> Step:
    return Step(assigned_unit="区住房和建设局", leader_id=w.users["leader_a"].id)


def test_registration_encrypts_masks_and_flags(system_session):
    s = system_session
    w = _world(s)
    family = registered_family(s, w, "worker_a1", "operator_a")
    known = s.get(Person, family["persons"][0])
    first = register(s, w, "officer_a", w.community_a.id, name="陈建国", id_no=known.id_number,
                     demands="电梯停运，联系电话13805920011")
    assert first.first_time and not first.is_repeat and first.number.startswith("XF")
    again = register(s, w, "officer_a", w.community_a.id, name="陈建国", id_no=known.id_number, group_size=6)
    assert again.is_repeat and not again.first_time and again.earlier_count == 1 and again.collective
    stored = s.execute(text("SELECT name, id_number FROM petition_petitioner WHERE petition_id = :p"),
                       {"p": first.id}).one()
    assert "陈建国" not in stored.name and known.id_number not in stored.id_number
    shown = service.detail(s, first.id)
    assert shown["petitioners"][0]["name"] == "陈*国" and shown["petitioners"][0]["person_id"] == known.id
    assert "13805920011" not in shown["demands"] and "138****0011" in shown["demands"]
    assert shown["accept_due_at"] == first.received_at + timedelta(days=15)  # natural days by default


def test_deadlines_windows_and_the_one_extension(system_session):
    s = system_session
    w = _world(s)
    received = utcnow() - timedelta(days=10)
    petition = register(s, w, "officer_a", w.community_a.id, received_at=received)
    assert limits.colour(petition.step_started_at, petition.due_at, utcnow()) == "green"
    assert limits.colour(petition.step_started_at, petition.due_at, received + timedelta(days=13)) == "yellow"
    assert limits.colour(petition.step_started_at, petition.due_at, received + timedelta(days=16)) == "red"
    walk(s, w, "officer_a", petition.id, ("accept", Step()), ("assign", _assign(w)), ("start", Step()))
    handle_due = petition.handle_due_at
    assert handle_due - petition.decided_at == timedelta(days=60)
    walk(s, w, "officer_a", petition.id, ("extend", Step(note="需要现场勘验")))
    assert petition.handle_due_at - handle_due == timedelta(days=30) and petition.due_at == petition.handle_due_at
    with pytest.raises(ShiyuError) as once:
        walk(s, w, "officer_a", petition.id, ("extend", Step(note="再次延期")))
    assert once.value.code == "petition_extended"
    walk(s, w, "officer_a", petition.id, ("answer", Step(note="已督促修复")), ("evaluate", Step(satisfied=True)))
    with pytest.raises(ShiyuError) as satisfied:
        walk(s, w, "officer_a", petition.id, ("request_review", Step(note="复查")))
    assert satisfied.value.code == "petition_satisfied"
    petition.satisfied = False
    petition.step_started_at = utcnow() - timedelta(days=31)  # the answer was received 31 days ago
    with pytest.raises(ShiyuError) as late:
        walk(s, w, "officer_a", petition.id, ("request_review", Step(note="复查")))
    assert late.value.code == "petition_window_passed"


def test_a_city_sets_its_own_limit_in_working_days(system_session):
    s = system_session
    w = _world(s)
    with pytest.raises(ShiyuError):
        limits.set_limit(s, as_user(s, w, "leader_a"), "accept", 10, "working_days")
    s.info["principal"] = Principal.system("test")
    figures = limits.set_limit(s, Principal.system("test"), "accept", 10, "working_days")
    assert figures[Limit.ACCEPT] == limits.Figure(10, limits.TimeUnit.WORKING_DAYS)
    for key, unit in (("nope", "natural_days"), ("accept", "hours")):
        with pytest.raises(ShiyuError):
            limits.set_limit(s, Principal.system("test"), key, 5, unit)
    petition = register(s, w, "officer_a", w.community_a.id)
    # Ten days of office hours end on the 10th working day after the start: at least 11 days later whatever the
    # weekday (from a Monday morning, the next week's Friday evening), where 10 natural days would be 10.
    assert petition.accept_due_at - petition.received_at >= timedelta(days=11)


def test_late_answers_are_marked_and_counted(system_session):
    s = system_session
    w = _world(s)
    on_time = register(s, w, "officer_a", w.community_a.id)
    walk(s, w, "officer_a", on_time.id, ("accept", Step()), ("assign", _assign(w)), ("start", Step()),
         ("answer", Step(note="已处理")), ("evaluate", Step(satisfied=True)), ("conclude", Step()))
    late = register(s, w, "officer_a", w.community_a.id, received_at=utcnow() - timedelta(days=20))
    walk(s, w, "officer_a", late.id, ("accept", Step()))
    late.handle_due_at = late.due_at = utcnow() - timedelta(hours=1)
    walk(s, w, "officer_a", late.id, ("assign", _assign(w)), ("start", Step()), ("answer", Step(note="迟复")),
         ("evaluate", Step(satisfied=False)))
    repeat = register(s, w, "officer_a", w.community_a.id, id_no=id_number(serial=77))
    register(s, w, "officer_a", w.community_a.id, id_no=id_number(serial=77))
    figures = service.indicators(s, TZ)
    assert figures["total"] == 4 and figures["repeat"] == 1 and figures["repeat_rate"] == 0.25
    assert figures["decided"] == 2 and figures["on_time_acceptance_rate"] == 0.5  # 20 days > 15
    assert figures["answered"] == 2 and figures["on_time_closure_rate"] == 0.5
    assert figures["first_time_evaluated"] == 2 and figures["first_time_resolved_rate"] == 0.5
    timeline = service.detail(s, late.id)["timeline"]
    assert [e["action"] for e in timeline if e["late"]] == ["accept", "answer"]
    s.info["principal"] = Principal.system("test")
    reads = s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "read"))
    board = service.backlog(s)
    assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "read")) == reads + 1
    assert {i["id"] for g in board for i in g["items"]} == {repeat.id + 1}
    assert repeat.id + 1 in {i["id"] for g in board for i in g["items"] if i["repeat"]}


def test_links_are_outbox_events_and_reveals_are_audited(system_session):
    s = system_session
    w = _world(s)
    known = s.get(Person, registered_family(s, w, "worker_a1", "operator_a")["persons"][0])
    petition = register(s, w, "officer_a", w.community_a.id, id_no=known.id_number)
    principal = as_user(s, w, "officer_a")
    service.link(s, principal, petition.id, "spawn_dispute", "邻里纠纷，转调解")
    with pytest.raises(ShiyuError) as refused:
        service.link(s, principal, petition.id, "enrol_key_person", "多次信访")
    assert refused.value.code == "petition_not_repeat"
    again = register(s, w, "officer_a", w.community_a.id, id_no=known.id_number)
    service.link(s, as_user(s, w, "officer_a"), again.id, "enrol_key_person", "多次信访")
    s.info["principal"] = Principal.system("test")
    topics = [(e.topic, e.payload["petition_id"], e.payload["reason"]) for e in s.scalars(
        select(OutboxEvent).where(OutboxEvent.aggregate == "petition").order_by(OutboxEvent.id))]
    assert topics == [("petition.spawn_dispute", petition.id, "邻里纠纷，转调解"),
                      ("petition.enrol_key_person", again.id, "多次信访")]
    petitioner = service.detail(s, petition.id)["petitioners"][0]["id"]
    leader = as_user(s, w, "leader_a")
    with pytest.raises(ShiyuError):
        service.reveal(s, leader, petition.id, petitioner, "name", "短")
    assert service.reveal(s, leader, petition.id, petitioner, "name", "核实信访人身份") == "陈建国"
    s.info["principal"] = Principal.system("test")
    entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "reveal")).one()
    assert entry.actor_name == "leader_a" and entry.reason == "核实信访人身份"


def test_reception_days(system_session):
    s = system_session
    w = _world(s)
    petition = register(s, w, "officer_a", w.community_a.id)
    principal = as_user(s, w, "officer_a")
    day = utcnow().date()
    row = service.add_reception(s, principal, ReceptionIn(area_id=w.community_a.id, leader_id=w.users["leader_a"].id,
                                                          day=day, place="甲社区接访室", petition_ids=(petition.id,)))
    assert row.petition_ids == [petition.id]
    for bad, code in ((dict(leader_id=w.users["worker_a1"].id), "leader_not_eligible"),
                      (dict(leader_id=w.users["leader_b"].id), "leader_not_eligible"),
                      (dict(petition_ids=(petition.id + 999,)), "unknown_petitions"),
                      (dict(area_id=w.community_b.id), "not_found")):
        data = {"area_id": w.community_a.id, "leader_id": w.users["leader_a"].id, "day": day, "place": "接访室",
                "petition_ids": (), **bad}
        with pytest.raises(ShiyuError) as refused:
            service.add_reception(s, principal, ReceptionIn(**data))
        assert refused.value.code == code
    items, total = service.receptions(s, PageParams())
    assert total == 1 and items[0]["leader"] == "张*丰 · 甲社区"


def test_the_api_for_the_officer_and_nobody_else(client, system_session):
    w = _world(system_session)
    system_session.commit()
    officer = login(client, "officer_a")
    body = {"area_id": w.community_a.id, "channel": "online", "demands": "道路积水", "complained_unit": "区市政园林局",
            "petitioners": [{"name": "刘洋", "id_number": id_number(), "phone": "13900001111"}]}
    r = client.post("/api/v1/petitions", json=body, headers=officer)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["petitioners"][0]["name"] == "刘*" and created["actions"] == ["accept", "refuse"]
    r = client.post(f"/api/v1/petitions/{created['id']}/actions/refuse", json={"note": ""}, headers=officer)
    assert r.status_code == 422 and r.json()["code"] == "field_required"
    r = client.post(f"/api/v1/petitions/{created['id']}/actions/conclude", json={}, headers=officer)
    assert r.status_code == 409 and r.json()["code"] == "petition_wrong_state"
    r = client.post(f"/api/v1/petitions/{created['id']}/actions/accept", json={"expected_version": 99},
                    headers=officer)
    assert r.status_code == 409 and r.json()["code"] == "petition_changed"
    r = client.post(f"/api/v1/petitions/{created['id']}/actions/accept",
                    json={"expected_version": created["version"]}, headers=officer)
    assert r.status_code == 200 and r.json()["state"] == "accepted"
    assert client.get("/api/v1/petitions", headers=officer).json()["total"] == 1
    leader = login(client, "leader_a")
    client.post(f"/api/v1/petitions/{created['id']}/actions/assign", headers=officer,
                json={"assigned_unit": "区市政园林局", "leader_id": w.users["leader_a"].id})
    mine = client.get(f"/api/v1/petitions?leader_id={w.users['leader_a'].id}", headers=leader).json()
    assert [p["id"] for p in mine["items"]] == [created["id"]]
    assert client.get(f"/api/v1/petitions/{created['id']}", headers=leader).status_code == 200
    for user in ("worker_a1", "operator_a", "officer_b", "admin"):
        h = login(client, user)
        assert client.get("/api/v1/petitions", headers=h).json()["total"] == 0, user
        assert client.get(f"/api/v1/petitions/{created['id']}", headers=h).status_code == 404, user
    assert client.get("/api/v1/petitions/limits", headers=officer).json()[0] == {
        "key": "accept", "amount": 15, "unit": "natural_days"}
    assert system_session.scalar(select(Petition.state).where(Petition.id == created["id"])) == "assigned"


def test_the_deadline_scan_announces_yellow_and_red_once(system_session, factory):
    s = system_session
    w = _world(s)
    yellow = register(s, w, "officer_a", w.community_a.id, received_at=utcnow() - timedelta(days=13))
    red = register(s, w, "officer_a", w.community_a.id, received_at=utcnow() - timedelta(days=16))
    green = register(s, w, "officer_a", w.community_a.id)
    refused = register(s, w, "officer_a", w.community_a.id, received_at=utcnow() - timedelta(days=16))
    walk(s, w, "officer_a", refused.id, ("refuse", Step(note="不属于信访事项")))
    ids = (yellow.id, red.id, green.id)
    s.info["principal"] = Principal.system("test")
    s.commit()
    assert tasks.scan(factory) == {"yellow": 1, "red": 1}
    assert tasks.scan(factory) == {"yellow": 0, "red": 0}
    assert tasks.scan(factory, utcnow() + timedelta(days=3)) == {"yellow": 0, "red": 1}  # yellow turned red
    s.expire_all()
    topics = [(e.topic, e.aggregate_id) for e in s.scalars(select(OutboxEvent).where(
        OutboxEvent.topic.startswith("petition.")).order_by(OutboxEvent.id))]
    assert topics == [("petition.deadline_warning", ids[0]), ("petition.overdue", ids[1]),
                      ("petition.overdue", ids[0])]
    assert "overdue" in [e["action"] for e in service.detail(s, ids[1])["timeline"]]
    walk(s, w, "officer_a", ids[1], ("accept", Step()))  # a new clock: nothing announced for it yet
    assert s.get(Petition, ids[1]).alert == 0
