"""The mediation pool through the API: a centre leader edits an organisation and a mediator (audited, only
the fields sent, the version checked), a stopped mediator is neither assignable nor offered on the portal but
keeps the disputes assigned before, an organisation stops only once its mediators have, another community's
pool is a 404, the centre's operator (no ``dispute.manage``) a 403, and bad input a 422 naming its code with
nothing written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shiyu.core.audit import AuditEntry
from shiyu.core.scoping import Principal
from shiyu.disputes import service
from shiyu.disputes.models import OrgKind
from tests.disputes.dispute_fixtures import SYSTEM, make_dispute, pool
from tests.factories import add_user, login

ORGS, MEDIATORS = "/api/v1/disputes/orgs", "/api/v1/disputes/mediators"


def _audit(factory, object_type: str) -> list[AuditEntry]:
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        return list(s.scalars(select(AuditEntry).where(AuditEntry.object_type == object_type,
                                                       AuditEntry.action == "update").order_by(AuditEntry.id)))


def _act(client, h, dispute_id: int, action: str, **fields):
    d = client.get(f"/api/v1/disputes/{dispute_id}", headers=h).json()
    return client.post(f"/api/v1/disputes/{dispute_id}/actions/{action}", headers=h,
                       json={"version": d["version"], "note": "", "fields": fields})


def test_the_centre_leader_edits_an_organisation_and_a_mediator(client, world, factory):
    leader = login(client, "leader_a")
    r = client.patch(f"{ORGS}/{world.extra['org']}", headers=leader,
                     json={"name": "甲社区人民调解委员会（新）", "phone": "0592-1234567", "version": 1})
    assert r.status_code == 200, r.text
    org = r.json()
    assert (org["name"], org["phone"], org["kind"], org["version"], org["active"]) == (
        "甲社区人民调解委员会（新）", "0592-1234567", "village", 2, True)

    r = client.patch(f"{MEDIATORS}/{world.extra['other_mediator']}", headers=leader,
                     json={"specialties": ["family", "neighbour", "family"], "intro": " 二十年婚姻家庭调解经验 ",
                           "expert": False, "user_id": world.extra["mediator_user"]})
    assert r.status_code == 200, r.text
    m = r.json()
    assert (m["specialties"], m["intro"], m["expert"], m["user_id"], m["org_name"], m["version"]) == (
        ["family", "neighbour"], "二十年婚姻家庭调解经验", False, world.extra["mediator_user"],
        "甲社区人民调解委员会（新）", 2)
    assert m["name"] == "李淑芬"  # not sent, not changed
    r = client.patch(f"{MEDIATORS}/{world.extra['other_mediator']}", headers=leader, json={"user_id": None})
    assert r.status_code == 200 and r.json()["user_id"] is None  # an explicit null unlinks the account

    entries = _audit(factory, "dispute_mediator")
    assert [e.actor_name for e in entries] == ["leader_a", "leader_a"]
    assert entries[0].before["specialties"] == [] and entries[0].after["specialties"] == ["family", "neighbour"]
    assert _audit(factory, "dispute_org")[0].after["name"] == "甲社区人民调解委员会（新）"


def test_a_stopped_mediator_is_not_assignable_nor_offered_but_keeps_his_disputes(client, world, system_session):
    kept = make_dispute(system_session, title="旧纠纷")
    fresh = make_dispute(system_session, title="新纠纷")
    system_session.commit()
    operator, leader = login(client, "operator_a"), login(client, "leader_a")
    assert _act(client, operator, kept.id, "assign", mediator_id=world.extra["mediator"]).status_code == 200

    r = client.patch(f"{MEDIATORS}/{world.extra['mediator']}", headers=leader, json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False and r.json()["workload"] == 1

    refused = _act(client, operator, fresh.id, "assign", mediator_id=world.extra["mediator"])
    assert refused.status_code == 422 and refused.json()["code"] == "unknown_mediator"
    system_session.expire_all()
    assert [m["name"] for m in service.public_pool(system_session)] == ["李淑芬"]
    listed = {m["id"]: m for m in client.get(MEDIATORS, headers=operator).json()}
    assert listed[world.extra["mediator"]]["active"] is False  # still listed, marked
    # The dispute assigned before keeps him, and his account still works it.
    assert client.get(f"/api/v1/disputes/{kept.id}", headers=operator).json()["mediator_id"] == world.extra["mediator"]
    started = _act(client, login(client, "mediator_a"), kept.id, "start")
    assert started.status_code == 200 and started.json()["state"] == "mediating"

    assert client.patch(f"{MEDIATORS}/{world.extra['mediator']}", headers=leader,
                        json={"active": True}).json()["active"] is True
    assert _act(client, operator, fresh.id, "assign", mediator_id=world.extra["mediator"]).status_code == 200


def test_an_organisation_stops_only_once_its_mediators_have(client, world):
    leader = login(client, "leader_a")
    org = f"{ORGS}/{world.extra['org']}"
    r = client.patch(org, headers=leader, json={"active": False})
    assert r.status_code == 409 and r.json()["code"] == "org_has_active_mediators", r.text
    assert r.json()["detail"]["mediators"] == ["王建国", "李淑芬"] and "王建国、李淑芬" in r.json()["message"]
    for key in ("mediator", "other_mediator"):
        r = client.patch(f"{MEDIATORS}/{world.extra[key]}", headers=leader, json={"active": False})
        assert r.status_code == 200
    assert client.patch(org, headers=leader, json={"active": False}).json()["active"] is False

    back = client.patch(f"{MEDIATORS}/{world.extra['mediator']}", headers=leader, json={"active": True})
    assert back.status_code == 409 and back.json()["code"] == "org_inactive"
    added = client.post(MEDIATORS, headers=leader, json={"org_id": world.extra["org"], "name": "赵新"})
    assert added.status_code == 409 and added.json()["code"] == "org_inactive"
    assert client.patch(org, headers=leader, json={"active": True}).json()["active"] is True
    assert client.patch(f"{MEDIATORS}/{world.extra['mediator']}", headers=leader,
                        json={"active": True}).json()["active"] is True


def test_two_edits_at_once_one_is_told(client, world):
    leader = login(client, "leader_a")
    url = f"{MEDIATORS}/{world.extra['mediator']}"
    assert client.patch(url, headers=leader, json={"intro": "甲", "version": 1}).json()["version"] == 2
    stale = client.patch(url, headers=leader, json={"intro": "乙", "version": 1})
    assert stale.status_code == 409 and stale.json()["code"] == "conflict"
    assert client.get(MEDIATORS, headers=leader).json()[0]["intro"] == "甲"
    # Without a version the caller chose to overwrite.
    assert client.patch(url, headers=leader, json={"intro": "丙"}).json()["intro"] == "丙"


def test_another_communitys_pool_is_not_found_and_operators_may_not_edit(client, world, system_session):
    b = pool(system_session, world, "b")
    street_org = service.create_org(system_session, SYSTEM, area_id=world.street.id, kind=OrgKind.TOWNSHIP,
                                    name="东街道人民调解委员会")
    add_user(system_session, "leader_street", world.street, [("centre_leader", world.street)])
    # Sees the whole street, manages only community A.
    add_user(system_session, "viewer_street", world.street, [("centre_operator", world.street),
                                                            ("centre_leader", world.community_a)])
    system_session.commit()
    leader = login(client, "leader_a")
    for url, body in ((f"{ORGS}/{b['org']}", {"name": "越权改名"}),
                      (f"{MEDIATORS}/{b['mediator']}", {"active": False})):
        r = client.patch(url, headers=leader, json=body)
        assert r.status_code == 404 and "乙社区" not in r.text, r.text
    moved = client.patch(f"{MEDIATORS}/{world.extra['mediator']}", headers=leader, json={"org_id": b["org"]})
    assert moved.status_code == 404
    assert client.patch(f"{MEDIATORS}/{world.extra['mediator']}", headers=login(client, "viewer_street"),
                        json={"org_id": street_org.id}).status_code == 403
    operator = login(client, "operator_a")
    assert client.patch(f"{ORGS}/{world.extra['org']}", headers=operator, json={"name": "改名"}).status_code == 403
    assert client.patch(f"{MEDIATORS}/{world.extra['mediator']}", headers=operator,
                        json={"intro": "改"}).status_code == 403

    # The 司法所 (street) moves him to the street's committee: community A no longer sees him.
    r = client.patch(f"{MEDIATORS}/{world.extra['mediator']}", headers=login(client, "leader_street"),
                     json={"org_id": street_org.id})
    assert r.status_code == 200 and r.json()["org_id"] == street_org.id
    assert client.patch(f"{MEDIATORS}/{world.extra['mediator']}", headers=leader, json={"intro": "改"}
                        ).status_code == 404


@pytest.mark.parametrize(("url", "body", "code"), [
    ("org", {"name": "   "}, "name_required"),
    ("org", {"name": None}, "field_required"),
    ("org", {"kind": "castle"}, "invalid_kind"),
    ("org", {"name": "x" * 101}, "validation_failed"),
    ("org", {"active": "maybe"}, "validation_failed"),
    ("mediator", {"specialties": ["neighbour", "astrology"]}, "unknown_type"),
    ("mediator", {"user_id": "worker"}, "unknown_account"),
    ("mediator", {"user_id": "mediator_b"}, "unknown_account"),
    ("mediator", {"name": ""}, "validation_failed"),
    ("mediator", {"expert": None}, "field_required"),
    ("mediator", {"intro": "长" * 301}, "validation_failed"),
    ("mediator", {"version": 0}, "validation_failed"),
])
def test_bad_input_is_refused_with_its_code_and_nothing_written(client, world, system_session, factory, url, body,
                                                                code):
    pool(system_session, world, "b")
    system_session.commit()
    accounts = {"worker": world.users["worker_a1"].id, "mediator_b": world.users["mediator_b"].id}
    if body.get("user_id") in accounts:
        body = {**body, "user_id": accounts[body["user_id"]]}
    leader = login(client, "leader_a")
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        before = s.scalar(select(func.count()).select_from(AuditEntry))
    target = f"{ORGS}/{world.extra['org']}" if url == "org" else f"{MEDIATORS}/{world.extra['mediator']}"
    r = client.patch(target, headers=leader, json=body)
    assert r.status_code == 422 and r.json()["code"] == code, r.text
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == before
