"""Who sees what of a case (security review 2026-12, S1, S3, L8): uploads belong to an id, never to a name;
a reporter sees the public view of their case, not its internal record; a 404 about a case asked for by
its tracking code names that code, not the case's internal id; phone and ID numbers typed into free text
are masked like any personal data and revealed only with pii.reveal and a recorded reason."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from shiyu.cases.models import Attachment, Case
from shiyu.core.scoping import Principal
from tests.cases.case_fixtures import POINT_A1, act, case_world, evidence, jpeg_bytes
from tests.factories import World, add_user, login
from tests.web.test_pages import log_in
from tests.web.test_portal import form


@pytest.fixture
def w(system_session) -> World:
    return case_world(system_session)


def _citizen_report(w, key: str, **extra) -> dict:
    return {"idempotency_key": key, "channel": "citizen", "category_id": w.extra["category"].id,
            "description": "小区门口路灯不亮", "location": POINT_A1, **extra}


def _anonymous_portal_photo(client, w, system_session) -> int:
    data = form(client) | {"category_id": str(w.extra["category"].id), "lon": "117.95", "lat": "24.6",
                           "description": "路面塌陷", "anonymous": "on"}
    r = client.post("/portal/report", data=data, files=[("photos", ("a.jpg", jpeg_bytes(), "image/jpeg"))])
    assert r.status_code == 200, r.text[:500]
    client.cookies.clear()
    system_session.expire_all()
    return system_session.scalar(select(Attachment.id))


def test_an_account_called_public_sees_no_anonymous_upload(client, system_session, w):
    """S1: anonymous reporters acted as the username ``public`` and uploads were owned by username, so an
    account of that name read every anonymous citizen's photo."""
    photo = _anonymous_portal_photo(client, w, system_session)
    row = system_session.get(Attachment, photo)
    assert row.uploader_id is None and row.uploader_client_id is None and row.upload_secret_hash
    system_session.info["principal"] = Principal.system("test")
    # An account of that name made before names were reserved (or directly in the database).
    add_user(system_session, "public", w.grids["b1"], [("grid_worker", w.grids["b1"])])
    system_session.commit()
    public = login(client, "public")
    assert client.get(f"/api/v1/attachments/{photo}", headers=public).status_code == 404
    assert client.get(f"/api/v1/attachments/{photo}/thumbnail", headers=public).status_code == 404
    assert client.get(f"/api/v1/attachments/{photo}", headers=login(client, "leader_a")).status_code == 200


@pytest.mark.parametrize("name", ["public", "Public", "anonymous", "system"])
def test_names_that_stand_for_nobody_cannot_be_taken(client, w, name):
    r = client.post("/api/v1/users", headers=login(client, "admin"), json={
        "username": name, "password": "Passw0rd123x", "home_area_id": w.grids["b1"].id,
        "grants": [{"role": "grid_worker", "area_id": w.grids["b1"].id}]})
    assert r.status_code == 422 and r.json()["code"] == "username_reserved", r.text


def _citizen_case_with_an_internal_record(client, system_session, w) -> tuple[Case, int, int]:
    """A logged-in citizen's report with their photo, then: registered, dispatched, accepted, an extension
    asked and denied (non-public events with internal notes), and a result reported with evidence."""
    citizen = login(client, "citizen")
    mine = client.post("/api/v1/attachments", files={"file": ("p.jpg", jpeg_bytes(), "image/jpeg")}, headers=citizen)
    assert mine.status_code == 201, mine.text
    r = client.post("/api/v1/cases", json=_citizen_report(w, "citizen-0001", attachment_ids=[mine.json()["id"]],
                                                         reporter={"name": "赵六", "phone": "13811112222"}),
                    headers=citizen)
    assert r.status_code == 201, r.text
    s = system_session
    s.info["principal"] = Principal.system("test")
    case = s.get(Case, r.json()["id"])
    case = act(s, w, "operator_a", case, "register")
    case = act(s, w, "operator_a", case, "dispatch", fields={"department_id": w.departments["a"].id})
    case = act(s, w, "handler_a", case, "accept")
    case = act(s, w, "handler_a", case, "request_extension", note="需协调多个单位，申请延期办理",
               fields={"amount": 2, "unit": "working_days"})
    case = act(s, w, "leader_a", case, "deny_extension", note="理由不充分")
    proof = evidence(s, "handler_a")
    case = act(s, w, "handler_a", case, "report_result", note="已修复", attachment_ids=[proof])
    return case, mine.json()["id"], proof


def test_the_reporter_gets_the_public_view_staff_the_full_record(client, system_session, w):
    """S3: the reporter of a case got its staff detail: internal notes, non-public events, requests, routing
    and the login names of the staff who handled it."""
    case, own_photo, proof = _citizen_case_with_an_internal_record(client, system_session, w)
    citizen = login(client, "citizen")
    seen = client.get(f"/api/v1/cases/{case.id}", headers=citizen)
    assert seen.status_code == 200, seen.text
    public = seen.json()
    assert public["view"] == "public" and public["tracking_code"] == case.tracking_code
    assert public == {"view": "public", "id": case.id} | client.get(f"/api/v1/track/{case.tracking_code}").json()
    for secret in ("需协调", "理由不充分", "已修复", "operator_a", "handler_a", "leader_a", "request_extension",
                   "deny_extension", "routing", "requests", "actor_name", "赵", "13811112222"):
        assert secret not in seen.text, secret
    staff = client.get(f"/api/v1/cases/{case.id}", headers=login(client, "leader_a")).json()
    assert staff["view"] == "staff"
    assert {"request_extension", "deny_extension"} <= {e["action"] for e in staff["timeline"]}
    assert "理由不充分" in str(staff["timeline"]) and staff["requests"]

    assert client.get(f"/api/v1/attachments/{own_photo}", headers=citizen).status_code == 200
    assert client.get(f"/api/v1/attachments/{proof}", headers=citizen).status_code == 404  # staff evidence

    log_in(client, "citizen")  # the desk page sends the reporter to the public tracking page
    page = client.get(f"/desk/cases/{case.id}", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == f"/portal/track?code={case.tracking_code}"
    assert "理由不充分" not in client.get(page.headers["location"]).text


def test_a_404_about_a_tracking_code_names_the_code_only(client, system_session, w):
    """L8: evaluating someone else's case by its code answered ``{"object": "case", "id": <internal id>}``."""
    r = client.post("/api/v1/cases", json=_citizen_report(w, "anon-l8-0001", anonymous=True))
    code, case_id = r.json()["tracking_code"], r.json()["id"]
    stranger = login(client, "worker_b1")
    answer = client.post(f"/api/v1/track/{code.lower()}/evaluate", json={"rating": "satisfied"}, headers=stranger)
    assert answer.status_code == 404, answer.text
    assert answer.json()["detail"] == {"object": "case", "tracking_code": code}
    assert not re.search(rf"\b{case_id}\b", answer.text)
    unknown = client.get("/api/v1/track/NOPE0000000000")
    assert unknown.status_code == 404 and unknown.json()["detail"] == {"object": "case",
                                                                       "tracking_code": "NOPE0000000000"}


TYPED = "请联系13812345678（或 0592-5551234），身份证350203199001011234，订单号 20261201123456789012"


def test_numbers_typed_into_free_text_are_masked_and_revealed_only_with_a_reason(client, system_session, w):
    """L8: phone and ID numbers typed into a description, an address or a note showed in the clear."""
    h = login(client, "worker_a1")
    r = client.post("/api/v1/cases", headers=h, json={
        "idempotency_key": "typed-0001", "channel": "grid", "category_id": w.extra["category"].id,
        "description": TYPED, "address": "幸福路 12 号，电话 13900001111", "location": POINT_A1})
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    s = system_session
    s.info["principal"] = Principal.system("test")
    act(s, w, "operator_a", s.get(Case, case_id), "register", note="已电话联系 13700002222")
    leader = login(client, "leader_a")
    clear = ("13812345678", "5551234", "350203199001011234", "13900001111", "13700002222")
    detail = client.get(f"/api/v1/cases/{case_id}", headers=leader)
    listed = client.get("/api/v1/cases", headers=leader)
    log_in(client, "leader_a")
    page = client.get(f"/desk/cases/{case_id}")
    queue = client.get("/desk?queue=to_dispatch")
    for shown in (detail.text, listed.text, page.text, queue.text):
        assert not any(number in shown for number in clear), shown[:2000]
    assert "138****5678" in detail.text and "3502**********1234" in detail.text and "137****2222" in detail.text
    assert "20261201123456789012" in detail.text  # a long number is not a phone number

    def reveal(who: dict, field: str, reason: str = "回访核实情况"):
        return client.post(f"/api/v1/cases/{case_id}/reveal", json={"field": field, "reason": reason}, headers=who)

    assert reveal(leader, "description").json() == {"field": "description", "value": TYPED}
    note = next(e for e in detail.json()["timeline"] if e["action"] == "register")["id"]
    assert reveal(leader, f"note:{note}").json()["value"] == "已电话联系 13700002222"
    assert reveal(leader, "reporter_phone").json()["value"] is None
    assert reveal(h, "description").status_code == 403  # a grid worker may not reveal personal data
    assert reveal(leader, "description", "看看").status_code == 422
    assert reveal(leader, "lon").status_code == 422
    csrf = client.cookies.get("shiyu_csrf")
    shown = client.post(f"/desk/cases/{case_id}/reveal", data={"field": "address", "reason": "回访核实情况"},
                        headers={"X-CSRF-Token": csrf, "HX-Request": "true"})
    assert shown.status_code == 200 and "13900001111" in shown.text
    audit = client.get("/api/v1/audit", headers=login(client, "admin"), params={"action": "reveal"}).json()["items"]
    assert sorted(e["reason"] for e in audit if e["object_type"] == "case") == ["回访核实情况"] * 4
