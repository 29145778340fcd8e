"""The home page is a to-do list (issue 13, "home pages as to-do lists with counts"): each person sees what
waits for them with a count and a link that opens exactly that — the operator the desk's queues, the grid
worker the cases to verify in the field app, the citizen the reports to evaluate — and someone with nothing
waiting is told so."""

from __future__ import annotations

import re

import pytest

from shiyu.cases.models import Case
from shiyu.core.scoping import Principal
from tests.cases.case_fixtures import act, case_world, evidence, report
from tests.factories import World
from tests.web.test_pages import log_in

TODO = re.compile(r'<li class="(urgent)?"><a href="([^"]+)"><span>([^<]+)</span><b class="count">(\d+)</b>')


@pytest.fixture
def world(system_session) -> World:
    s = system_session
    w = case_world(s)
    w.extra["new"] = [report(s, w).case.id for _ in range(2)]
    case = report(s, w, "leader_grid_a1").case
    case = act(s, w, "operator_a", case, "register")
    case = act(s, w, "operator_a", case, "dispatch", fields={"department_id": w.departments["a"].id})
    case = act(s, w, "handler_a", case, "accept")
    act(s, w, "handler_a", case, "report_result", attachment_ids=[evidence(s, "handler_a")])
    mine = report(s, w, "citizen", channel="citizen").case
    s.info["principal"] = Principal.system("test")
    s.get(Case, mine.id).state = "closed"
    s.commit()
    return w


def todo(client) -> dict[str, tuple[str, int, bool]]:
    page = client.get("/").text
    assert 'id="todo"' in page and "我的待办" in page
    return {label: (href, int(n), bool(urgent)) for urgent, href, label, n in TODO.findall(page)}


def test_the_operator_sees_the_desks_queues_with_counts(client, world):
    log_in(client, "operator_a")
    items = todo(client)
    assert items["待立案"] == ("/desk?queue=to_register", 2, False)
    assert items["待回访"] == ("/desk?queue=to_follow_up", 1, False)  # the citizen's closed, unrated case
    for label, (href, count, _urgent) in items.items():
        assert client.get(href).text.count('class="case-row') == count, label


def test_a_follow_up_call_records_the_rating_and_empties_the_queue(client, world, factory):
    """回访: the centre calls the citizen back and records the rating from the 待回访 queue."""
    csrf = log_in(client, "operator_a")
    page = client.get("/desk?queue=to_follow_up").text
    assert "待回访" in page
    case_id = int(re.search(r'href="/desk/cases/(\d+)\?queue=to_follow_up"', page).group(1))
    detail = client.get(f"/desk/cases/{case_id}?queue=to_follow_up").text
    assert "回访评价" in detail
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        version = s.get(Case, case_id).version
    r = client.post(f"/desk/cases/{case_id}/actions/evaluate", data={
        "csrf_token": csrf, "expected_version": version, "rating": "satisfied", "note": "电话回访，群众满意"})
    assert r.status_code in (200, 303), r.text[:300]
    assert "待回访" not in todo(client)


def test_the_grid_worker_is_sent_to_the_field_app_to_verify(client, world):
    log_in(client, "worker_a1")
    items = todo(client)
    assert items == {"待核查": ("/field/tasks", 1, False)}


def test_the_citizen_sees_the_reports_waiting_for_an_evaluation(client, world):
    log_in(client, "citizen")
    assert todo(client) == {"待评价的反映": ("/portal/mine", 1, False)}


def test_someone_with_nothing_waiting_is_told_so(client, world):
    log_in(client, "auditor")
    page = client.get("/").text
    assert "眼下没有等您办理的事项" in page and not TODO.findall(page)


def test_the_greeting_and_header_name_the_person_not_the_account(client, world, system_session):
    from shiyu.org.identity.models import User

    system_session.info["principal"] = Principal.system("test")
    system_session.get(User, world.users["operator_a"].id).full_name = "王晓燕"
    system_session.commit()
    log_in(client, "operator_a")
    page = client.get("/").text
    assert "欢迎，王晓燕" in page
    assert "王晓燕</a>" in client.get("/desk").text  # the header of every page names them too
    log_in(client, "auditor")  # no name on file: the account name
    assert "欢迎，auditor" in client.get("/").text
