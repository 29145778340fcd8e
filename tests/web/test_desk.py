"""Case desk pages through TestClient: queues with counts, the case detail with exactly the allowed actions,
actions posted at the version seen (and the conflict message when someone else was first), errors next to
fields, and the same scope as the API (a case of community B is a 404 for community A)."""

from __future__ import annotations

import re

import pytest

from shiyu.cases.models import Case
from tests.cases.case_fixtures import act, case_world, jpeg_bytes, report, scope_matrix_extra
from tests.factories import World
from tests.web.test_pages import hx, log_in


@pytest.fixture
def world(system_session) -> World:
    w = case_world(system_session)
    w.extra["case"] = report(system_session, w).case.id
    w.extra.update(scope_matrix_extra(system_session, w))
    system_session.commit()
    return w


def version(factory, case_id: int) -> int:
    from shiyu.core.scoping import Principal

    with factory() as s:
        s.info["principal"] = Principal.system("test")
        return s.get(Case, case_id).version


def test_queue_page_shows_counts_and_the_case(client, world):
    log_in(client, "operator_a")
    r = client.get("/desk")
    assert r.status_code == 200, r.text[:500]
    assert 'data-queue="to_register"' in r.text
    assert f'href="/desk/cases/{world.extra["case"]}?queue=to_register"' in r.text
    assert re.search(r'data-queue="to_register">\s*<span>待立案</span><b class="count">1</b>', r.text)
    assert "案件办理" in r.text  # the navigation entry
    empty = client.get("/desk?queue=to_close")
    assert empty.status_code == 200 and "这个队列里没有案件" in empty.text
    assert client.get("/desk?queue=nonsense").status_code == 404


def test_desk_needs_a_case_role_and_a_session(client, world):
    assert client.get("/desk", follow_redirects=False).headers["location"].startswith("/login?next=/desk")
    log_in(client, "auditor")
    assert client.get("/desk").status_code == 403


def test_case_detail_shows_what_the_workflow_allows(client, world):
    log_in(client, "operator_a")
    r = client.get(f"/desk/cases/{world.extra['case']}")
    assert r.status_code == 200, r.text[:500]
    text = r.text
    assert "人行道上有流动摊贩占道经营" in text and 'class="map small case-map"' in text
    assert {m for m in re.findall(r'data-action="(\w+)"', text)} >= {"register", "reject", "merge", "report"}
    assert "dispatch" not in re.findall(r'<details class="action" data-action="(\w+)"', text)
    assert 'name="expected_version" value="1"' in text


def test_case_of_another_community_is_404(client, world):
    log_in(client, "operator_a")
    assert client.get(f"/desk/cases/{world.extra['case_b']}").status_code == 404
    csrf = client.cookies.get("shiyu_csrf")
    r = client.post(f"/desk/cases/{world.extra['case_b']}/actions/register", headers=hx(csrf),
                    data={"expected_version": str(world.extra["case_b_version"])})
    assert r.status_code == 404


def test_register_dispatch_accept_report_through_the_desk(client, world, factory):
    case_id = world.extra["case"]
    csrf = log_in(client, "operator_a")
    r = client.post(f"/desk/cases/{case_id}/actions/register", headers=hx(csrf),
                    data={"expected_version": "1", "urgency": "urgent", "note": ""})
    assert r.status_code == 200 and r.headers["HX-Redirect"] == f"/desk/cases/{case_id}?done=register", r.text[:800]
    page = client.get(r.headers["HX-Redirect"]).text
    assert "已完成：立案" in page and 'id="routing"' in page and 'data-action="dispatch"' in page
    dept = world.departments["a"]
    assert f'<option value="{dept.id}"' in page
    r = client.post(f"/desk/cases/{case_id}/actions/dispatch", headers=hx(csrf),
                    data={"expected_version": str(version(factory, case_id)), "department_id": str(dept.id)})
    assert r.status_code == 200 and "HX-Redirect" in r.headers, r.text[:800]

    csrf = log_in(client, "handler_a")
    queue = client.get("/desk?queue=to_accept").text
    assert f'href="/desk/cases/{case_id}?queue=' in queue
    r = client.post(f"/desk/cases/{case_id}/actions/accept", headers=hx(csrf),
                    data={"expected_version": str(version(factory, case_id))})
    assert r.status_code == 200 and "HX-Redirect" in r.headers, r.text[:800]
    # the result needs evidence: a photo uploaded through the API with the page session, then its id
    up = client.post("/api/v1/attachments", headers={"X-CSRF-Token": csrf},
                     files={"file": ("after.jpg", jpeg_bytes(), "image/jpeg")})
    assert up.status_code == 201, up.text
    missing = client.post(f"/desk/cases/{case_id}/actions/report_result", headers=hx(csrf),
                          data={"expected_version": str(version(factory, case_id)), "note": "已清理"})
    assert missing.status_code == 422 and "请上传处置前后的照片等证据" in missing.text
    r = client.post(f"/desk/cases/{case_id}/actions/report_result", headers=hx(csrf),
                    data={"expected_version": str(version(factory, case_id)), "note": "已清理",
                          "attachment_ids": str(up.json()["id"])})
    assert r.status_code == 200 and "HX-Redirect" in r.headers, r.text[:800]
    page = client.get(f"/desk/cases/{case_id}").text
    assert f'/api/v1/attachments/{up.json()["id"]}/thumbnail' in page
    assert 'data-state="to_verify"' in page
    assert client.get(f"/api/v1/attachments/{up.json()['id']}/thumbnail").status_code == 200


def test_stale_version_shows_the_conflict_message(client, world, system_session):
    case_id = world.extra["case"]
    act(system_session, world, "operator_a", system_session.get(Case, case_id), "register")
    csrf = log_in(client, "operator_a")
    r = client.post(f"/desk/cases/{case_id}/actions/register", headers=hx(csrf), data={"expected_version": "1"})
    assert r.status_code == 409
    assert "已被他人处理，请刷新" in r.text and f'href="/desk/cases/{case_id}"' in r.text
    assert 'data-action="dispatch"' in r.text  # the case as it is now


def test_errors_show_next_to_fields(client, world):
    case_id = world.extra["case"]
    csrf = log_in(client, "operator_a")
    r = client.post(f"/desk/cases/{case_id}/actions/reject", headers=hx(csrf),
                    data={"expected_version": "1", "note": "  "})
    assert r.status_code == 422
    assert 'id="err-note"' in r.text and "请填写说明" in r.text
    r = client.post(f"/desk/cases/{case_id}/actions/merge", headers=hx(csrf),
                    data={"expected_version": "1", "into_case_id": "abc"})
    assert r.status_code == 422 and 'id="err-into_case_id"' in r.text
    # The forms leave checking to the server, whose message stands next to the field in Chinese: the
    # browser's own bubbles ("请填写此字段") never appear (novalidate on every action form with fields).
    page = client.get(f"/desk/cases/{case_id}").text
    forms = re.findall(r"<form[^>]*hx-post=\"/desk/cases/\d+/actions/\w+[^>]*>", page)
    with_fields = [f for f in forms if 'x-data="{ tried: false }"' in f]
    assert with_fields and all("novalidate" in f for f in with_fields)


def test_writes_need_csrf(client, world):
    log_in(client, "operator_a")
    r = client.post(f"/desk/cases/{world.extra['case']}/actions/register", data={"expected_version": "1"})
    assert r.status_code == 403


def test_english(client, world):
    log_in(client, "operator_a")
    r = client.get(f"/desk/cases/{world.extra['case']}?lang=en")
    assert "Timeline" in r.text and "register" in r.text and not re.search(r"desk\.(?!css|js)", r.text)



def test_case_page_names_fields_and_departments(client, world, system_session):
    """Attributes show their field labels, and the handling department shows its name."""
    category = system_session.merge(world.extra["category"])
    category.fields = [{"name": "owner", "label_zh": "权属单位", "label_en": "Owner", "type": "text"}]
    system_session.commit()
    case = report(system_session, world, attributes={"owner": "园林所"}).case
    for action, fields in (("register", {}), ("dispatch", {"department_id": world.departments["a"].id})):
        case = act(system_session, world, "operator_a", case, action, fields=fields)
    log_in(client, "operator_a")
    text = client.get(f"/desk/cases/{case.id}").text
    assert "<dt>权属单位</dt><dd>园林所</dd>" in text
    assert f"{world.departments['a'].name} · 主办" in text
    assert "<dt>Owner</dt>" in client.get(f"/desk/cases/{case.id}?lang=en").text


def test_a_nul_in_a_page_form_is_refused_before_anything_is_stored(client, world, factory):
    """On SQLite a NUL would be stored, on PostgreSQL it cannot be: both refuse it as 422 invalid_input, in a
    multipart form too (the request gate checks url-encoded bodies as they stream; multipart ones may carry
    binary files, so their text fields are checked once parsed)."""
    from sqlalchemy import func, select

    from shiyu.cases.models import CaseEvent
    from shiyu.core.scoping import Principal

    case_id = world.extra["case"]
    csrf = log_in(client, "operator_a")
    for form in ({"expected_version": "1", "note": "a\x00b"}, {"expected_version": "1", "note": "ok",
                                                              "csrf_token": csrf}):
        r = client.post(f"/desk/cases/{case_id}/actions/reject", headers=hx(csrf) if "csrf_token" not in form else {},
                        data=form | ({"note": "x\x00"} if "csrf_token" in form else {}),
                        files={"unused": ("a.bin", b"\x00\x01", "application/octet-stream")})
        assert r.status_code == 422 and "无法保存" in r.text, r.text[:300]
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        assert s.get(Case, case_id).state == "reported"
        assert s.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id,
                                                                            CaseEvent.action == "reject")) == 0
