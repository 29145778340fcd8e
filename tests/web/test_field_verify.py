"""核查 is no longer blind: the field app's verification card shows the reporter's and the handler's photos
side by side, the handler's note with who wrote it (name and unit, not a login name), a navigation link and the
point for the distance; a category flag makes the verifier's own on-site photo a condition of 核查通过."""

from __future__ import annotations

import re

import pytest

from shiyu.cases.categories.models import Category
from shiyu.cases.models import Case
from shiyu.core.scoping import Principal
from shiyu.org.identity.models import User
from shiyu.org.identity.people import labels
from tests.cases.case_fixtures import act, case_world, evidence, report
from tests.factories import World, login
from tests.web.test_pages import log_in


@pytest.fixture
def world(system_session) -> World:
    w = case_world(system_session)
    system_session.info["principal"] = Principal.system("test")
    system_session.get(User, w.users["handler_a"].id).full_name = "刘德华"
    before = evidence(system_session, "leader_grid_a1")
    case = report(system_session, w, "leader_grid_a1", attachment_ids=[before]).case
    case = act(system_session, w, "operator_a", case, "register")
    case = act(system_session, w, "operator_a", case, "dispatch", fields={"department_id": w.departments["a"].id})
    case = act(system_session, w, "handler_a", case, "accept")
    after = evidence(system_session, "handler_a")
    act(system_session, w, "handler_a", case, "report_result", note="已清理占道摊点", attachment_ids=[after])
    w.extra.update(to_verify=case.id, before=before, after=after)
    return w


def test_the_card_shows_both_photos_the_note_and_the_way_there(client, world):
    log_in(client, "worker_a1")
    page = client.get("/field/tasks").text
    card = re.search(rf'<article[^>]*id="case-{world.extra["to_verify"]}".*?</article>', page, re.S).group(0)
    before, after = card.index(f'/api/v1/attachments/{world.extra["before"]}/thumbnail'), \
        card.index(f'/api/v1/attachments/{world.extra["after"]}/thumbnail')
    assert before < after and "反映时的照片" in card and "处置后的照片" in card
    assert "已清理占道摊点" in card and f"刘*华 · {world.departments['a'].name}" in card and "handler_a" not in card
    assert re.search(r'href="geo:[\d.]+,[\d.]+\?q=[\d.]+,[\d.]+"', card) and 'class="f-distance" data-lon=' in card
    assert "data-photo-required" not in card and 'id="verify-count">1<' in page and 'id="verify-none" hidden' in page


def test_a_flagged_category_needs_an_on_site_photo_to_pass(client, world, system_session):
    system_session.info["principal"] = Principal.system("test")
    system_session.get(Category, world.extra["category"].id).verify_photo_required = True
    system_session.commit()
    log_in(client, "worker_a1")
    assert "data-photo-required" in client.get("/field/tasks").text
    h = login(client, "worker_a1")
    case = system_session.get(Case, world.extra["to_verify"])
    url = f"/api/v1/cases/{case.id}/actions/verify_pass"
    bare = client.post(url, json={"expected_version": case.version, "note": "", "fields": {}}, headers=h)
    assert bare.status_code == 422 and bare.json()["code"] == "onsite_photo_required"
    photo = client.post("/api/v1/attachments", files={"file": ("site.jpg", _jpeg(), "image/jpeg")}, headers=h)
    assert photo.status_code == 201, photo.text
    ok = client.post(url, json={"expected_version": case.version, "note": "", "fields": {},
                                "attachment_ids": [photo.json()["id"]]}, headers=h)
    assert ok.status_code == 200 and ok.json()["state"] == "to_close", ok.text


def test_people_are_named_by_masked_name_and_unit(system_session, world):
    users = world.users
    named = labels(system_session, [users["handler_a"].id, users["operator_a"].id, users["worker_a1"].id, None, 999999])
    assert named[users["handler_a"].id] == f"刘*华 · {world.departments['a'].name}"
    assert named[users["operator_a"].id] == f"中心操作员 · {world.community_a.name}"  # no full name on file
    assert named[users["worker_a1"].id] == f"王*明 · {world.grids['a1'].name}" and 999999 not in named


def test_the_desk_timeline_names_people_not_logins(client, world):
    h = login(client, "operator_a")
    timeline = client.get(f"/api/v1/cases/{world.extra['to_verify']}", headers=h).json()["timeline"]
    by_action = {e["action"]: e["actor_label"] for e in timeline}
    assert by_action["report_result"] == f"刘*华 · {world.departments['a'].name}"
    assert by_action["register"] == f"中心操作员 · {world.community_a.name}"


def _jpeg() -> bytes:
    from tests.cases.case_fixtures import jpeg_bytes

    return jpeg_bytes()
