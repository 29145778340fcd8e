"""Working the desk fast (issue 13): the queue a case was opened from, J/K neighbours and "办理并打开下一件";
one-click actions; 派遣 hidden when there is nothing to choose and 转派上级部门 offered when the rules name a
higher department; live queue counts; batch 催办/督办 with a result per row, scoped and audited."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import delete, select

from shiyu.cases.models import Case, CaseEvent
from shiyu.core.audit import AuditEntry
from shiyu.core.live import Change
from shiyu.core.scoping import Principal
from shiyu.org.units.models import DepartmentJurisdiction
from shiyu.web.desk.urgent import desk_text
from tests.cases.case_fixtures import act, case_world, district_department, report
from tests.factories import World
from tests.web.test_pages import hx, log_in


@pytest.fixture
def world(system_session) -> World:
    s = system_session
    w = case_world(s)
    w.departments["d"] = district_department(s, w)
    w.extra["cases"] = [report(s, w).case.id for _ in range(3)]
    w.extra["b"] = report(s, w, who="worker_b1", point={"lon": 118.10, "lat": 24.6}).case.id
    s.commit()
    return w


def _version(factory, case_id: int) -> int:
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        return s.get(Case, case_id).version


def _routed_to_district(system_session, w: World, case_id: int) -> None:
    """Registered at community A, with the routing suggestion naming the district bureau (as a rule would)."""
    s = system_session
    s.info["principal"] = Principal.system("test")
    case = act(s, w, "leader_a", s.get(Case, case_id), "register")
    s.info["principal"] = Principal.system("test")
    row = s.get(Case, case.id)
    row.routing = {**(row.routing or {}), "department_id": w.departments["d"].id, "target_name": "东区城市管理局",
                   "explanation_zh": "规则「事件属地：城管局」", "explanation_en": "rule"}
    s.commit()


def test_queue_links_carry_the_queue_and_the_case_page_knows_its_neighbours(client, world):
    log_in(client, "operator_a")
    first, second, third = world.extra["cases"]
    page = client.get("/desk?queue=to_register").text
    assert re.findall(r'href="/desk/cases/(\d+)\?queue=to_register" class="case-row', page) == \
        [str(first), str(second), str(third)]
    assert 'id="keys-help"' in page and "/static/desk_work.js" in page and 'id="sound-toggle"' in page
    middle = client.get(f"/desk/cases/{second}?queue=to_register").text
    assert f'id="case-prev" class="button small secondary" href="/desk/cases/{first}?queue=to_register"' in middle
    assert f'href="/desk/cases/{third}?queue=to_register"' in middle
    assert "待立案：第 2 / 3 件" in middle and 'data-key="r"' in middle
    # A queue name that is no queue is ignored, not an error.
    plain = client.get(f"/desk/cases/{second}?queue=nonsense")
    assert plain.status_code == 200 and 'id="case-next"' not in plain.text


def test_do_it_and_open_the_next_case(client, world, factory):
    csrf = log_in(client, "operator_a")
    first, second, third = world.extra["cases"]
    r = client.post(f"/desk/cases/{first}/actions/register?queue=to_register", headers=hx(csrf),
                    data={"expected_version": str(_version(factory, first)), "then": "next"})
    assert r.status_code == 200 and r.headers["HX-Redirect"] == f"/desk/cases/{second}?done=register&queue=to_register"
    for case_id in (second, third):
        r = client.post(f"/desk/cases/{case_id}/actions/register?queue=to_register", headers=hx(csrf),
                        data={"expected_version": str(_version(factory, case_id)), "then": "next"})
    assert r.headers["HX-Redirect"] == "/desk?queue=to_register&done=register"
    assert "这个队列里没有下一件了" in client.get("/desk?queue=to_register&done=register").text
    # Without "next" the case page comes back, keeping its queue.
    r = client.post(f"/desk/cases/{first}/actions/escalate?queue=to_dispatch", headers=hx(csrf),
                    data={"expected_version": str(_version(factory, first))})
    assert r.headers["HX-Redirect"] == f"/desk/cases/{first}?done=escalate&queue=to_dispatch"


def test_no_empty_dispatch_and_the_forward_path(client, world, system_session, factory):
    case_id = world.extra["cases"][0]
    _routed_to_district(system_session, world, case_id)
    # Community A's own departments no longer cover the place: nothing to choose there.
    system_session.execute(delete(DepartmentJurisdiction).where(DepartmentJurisdiction.department_id.in_(
        [world.departments["a"].id, world.departments["a2"].id])))
    system_session.commit()
    csrf = log_in(client, "operator_a")
    page = client.get(f"/desk/cases/{case_id}?queue=to_dispatch").text
    assert 'data-action="dispatch"' not in page, "nothing to choose: 派遣 is not offered empty"
    assert "转派至 东区城市管理局（经东区综治中心）" in page and 'data-key="f"' in page
    assert "规则「事件属地：城管局」；本中心不能直接派遣东区城市管理局，转至东区综治中心派遣。" in page
    # 上报上级 is one click: a form with a button and no note field.
    escalate = page[page.index('data-action="escalate"'):]
    escalate = escalate[:escalate.index("</form>")]
    assert "<textarea" not in escalate and "上报上级" in escalate
    bureau = world.departments["d"].id
    r = client.post(f"/desk/cases/{case_id}/actions/forward?queue=to_dispatch", headers=hx(csrf), data={
        "expected_version": str(_version(factory, case_id)), "department_id": str(bureau),
        "note": "按派遣规则应由东区城市管理局办理"})
    assert r.status_code == 200 and "HX-Redirect" in r.headers, r.text[:500]
    log_in(client, "leader_d")
    page = client.get(f"/desk/cases/{case_id}").text
    assert "转派至：东区城市管理局（经东区综治中心）" in page
    assert re.search(rf'<option value="{bureau}" selected>东区城市管理局 · ', page), "the district's 派遣 has it chosen"


def test_a_department_that_is_not_above_is_refused_in_words(client, world, system_session, factory):
    case_id = world.extra["cases"][0]
    _routed_to_district(system_session, world, case_id)
    csrf = log_in(client, "operator_a")
    r = client.post(f"/desk/cases/{case_id}/actions/forward", headers=hx(csrf), data={
        "expected_version": str(_version(factory, case_id)), "department_id": str(world.departments["a"].id)})
    assert r.status_code == 422 and "只能转派给上级中心所属" in r.text


def test_live_counts_and_the_stream_text(client, world):
    log_in(client, "operator_a")
    tabs = client.get("/desk/counts?queue=to_register", headers={"HX-Request": "true"})
    assert tabs.status_code == 200 and 'id="queue-tabs"' in tabs.text and "<html" not in tabs.text
    assert "to_register=3" in tabs.text and 'href="/desk?queue=to_register" aria-current="page"' in tabs.text
    assert desk_text(Change("case", 9, "/1/", {"urgency": "normal"})) == 'event: case\ndata: {"id": 9}\n\n'
    both = desk_text(Change("case", 7, "/1/", {"urgency": "critical"}))
    assert both.startswith("event: critical\n") and both.endswith('event: case\ndata: {"id": 7}\n\n')
    log_in(client, "auditor")
    assert client.get("/desk/counts").status_code == 403


def test_batch_urge_and_supervise_report_each_row(client, world, factory):
    first, second, _third = world.extra["cases"]
    other = world.extra["b"]  # community B: outside leader_a2's scope
    csrf = log_in(client, "leader_a2")
    rows = [f"{first}:{_version(factory, first)}", f"{second}:0", f"{other}:1"]
    r = client.post("/desk/batch", data={"csrf_token": csrf, "action": "urge", "queue": "to_register", "case": rows},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/desk?queue=to_register&batch="), r.text[:500]
    r = client.get(r.headers["location"])
    assert r.status_code == 200
    results = r.text[r.text.index('id="batch-results"'):]
    assert "批量催办：成功 1 件，未办理 2 件" in results
    assert re.search(rf'data-case="{first}">.*已办理', results)
    assert re.search(rf'data-case="{second}">.*未办理：', results), "a stale version is refused for that row"
    assert re.search(rf'data-case="{other}">.*未办理：', results), "a case outside the caller's scope is refused"
    assert re.search(rf'data-case="{other}"><span class="mono">#{other}<', results), "and its code is not shown"
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        urged = s.scalars(select(CaseEvent.case_id).where(CaseEvent.action == "urge")).all()
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "case.batch_urge")).one()
    assert urged == [first] and entry.after["done"] == [first] and entry.after["refused"] == [second, other]
    assert entry.after["order"] == [first, second, other] and set(entry.after["reasons"]) == {str(second), str(other)}
    # The page after the batch is a GET: reloading it shows the outcome again and urges nobody twice.
    again = client.get(f"/desk?queue=to_register&batch={entry.id}")
    assert "批量催办：成功 1 件，未办理 2 件" in again.text
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        assert s.scalars(select(CaseEvent.case_id).where(CaseEvent.action == "urge")).all() == [first]
    # Someone else's batch (or any other entry) shows nothing.
    log_in(client, "operator_a")
    assert 'id="batch-results"' not in client.get(f"/desk?batch={entry.id}").text
    assert client.get("/desk?batch=x").status_code == 200
    csrf = log_in(client, "leader_a2")
    # 督办 needs its instruction; nothing is written without it.
    r = client.post("/desk/batch", data={"csrf_token": csrf, "action": "supervise", "case": [f"{first}:2"]})
    assert r.status_code == 422 and "请填写督办意见" in r.text
    r = client.post("/desk/batch", data={"csrf_token": csrf, "action": "supervise", "note": "今日办结",
                                         "case": [f"{first}:{_version(factory, first)}"]})
    assert "批量督办：成功 1 件" in r.text
    assert client.post("/desk/batch", data={"csrf_token": csrf, "action": "close", "case": [f"{first}:1"]}
                       ).status_code == 422
    assert client.post("/desk/batch", data={"csrf_token": csrf, "action": "urge", "case": ["x"]}).status_code == 422


def test_an_operator_urges_in_a_batch_but_does_not_supervise(client, world, factory):
    first = world.extra["cases"][0]
    csrf = log_in(client, "operator_a")
    page = client.get("/desk?queue=to_register").text
    assert "批量催办" in page and "批量督办" not in page
    r = client.post("/desk/batch", data={"csrf_token": csrf, "action": "urge",
                                         "case": [f"{first}:{_version(factory, first)}"]})
    assert "批量催办：成功 1 件，未办理 0 件" in r.text
    r = client.post("/desk/batch", data={"csrf_token": csrf, "action": "supervise", "note": "快",
                                         "case": [f"{first}:{_version(factory, first)}"]})
    assert "批量督办：成功 0 件，未办理 1 件" in r.text and "您无权对该案件执行此操作" in r.text


def test_batch_needs_the_supervise_permission_and_csrf(client, world):
    csrf = log_in(client, "handler_a")
    assert client.post("/desk/batch", data={"csrf_token": csrf, "action": "urge", "case": ["1:1"]}).status_code == 403
    log_in(client, "leader_a2")
    assert client.post("/desk/batch", data={"action": "urge", "case": ["1:1"]}).status_code in (400, 403)


def _state(factory, case_id: int) -> tuple[str, str]:
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        case = s.get(Case, case_id)
        return case.state, case.centre_path


def test_register_and_dispatch_in_one_form(client, world, factory):
    first, second, third = world.extra["cases"]
    csrf = log_in(client, "operator_a")
    page = client.get(f"/desk/cases/{first}?queue=to_register").text
    assert 'data-action="register_dispatch"' in page and "立案并派遣并打开下一件" in page
    dept = world.departments["a"]
    assert f'<option value="{dept.id}"' in page[page.index('id="rd-target"'):]
    r = client.post(f"/desk/cases/{first}/register-dispatch?queue=to_register", headers=hx(csrf), data={
        "expected_version": str(_version(factory, first)), "target": str(dept.id), "urgency": "urgent",
        "then": "next"})
    assert r.headers["HX-Redirect"] == f"/desk/cases/{second}?done=dispatch&queue=to_register"
    assert _state(factory, first)[0] == "to_accept"
    # To the district bureau instead: registered and forwarded, in one request.
    r = client.post(f"/desk/cases/{second}/register-dispatch", headers=hx(csrf), data={
        "expected_version": str(_version(factory, second)), "target": f"forward:{world.departments['d'].id}"})
    assert "HX-Redirect" in r.headers and _state(factory, second) == ("to_dispatch", world.district.area_path)


@pytest.mark.parametrize("target", ["", "nonsense", "street"])
def test_register_and_dispatch_writes_nothing_when_the_second_step_is_refused(client, world, factory, target):
    case_id = world.extra["cases"][2]
    csrf = log_in(client, "operator_a")
    sent = str(world.departments["s"].id) if target == "street" else target
    before = _version(factory, case_id)
    r = client.post(f"/desk/cases/{case_id}/register-dispatch", headers=hx(csrf), data={
        "expected_version": str(before), "target": sent})
    assert r.status_code == 422
    assert ("只能派遣给本级中心所属的部门" if target == "street" else "请选择派遣或转派的部门") in r.text
    assert _state(factory, case_id)[0] == "reported" and _version(factory, case_id) == before, "not registered either"
