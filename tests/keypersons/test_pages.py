"""The key-person pages: the leader's register, record, timeline and dashboard; the grid worker's 我的走访
with a visit recorded from the phone; the other grid's worker and a citizen see nothing on any page."""

from __future__ import annotations

from tests.keypersons.kp_fixtures import opened, today, world
from tests.web.test_pages import hx, log_in


def test_a_leader_reads_the_register_and_the_dashboard(client, system_session):
    w = world(system_session)
    record_id = opened(system_session, w, w.extra["a"]["persons"][0])
    csrf = log_in(client, "leader_a")
    page = client.get("/keypersons")
    assert page.status_code == 200 and "陈*" in page.text and "陈建国" not in page.text
    record = client.get(f"/keypersons/records/{record_id}")
    assert record.status_code == 200 and "盗窃罪" in record.text and "列管" in record.text
    shown = client.post(f"/keypersons/records/{record_id}/reveal", data={"field": "name", "reason": "入户核实身份"},
                        headers=hx(csrf))
    assert shown.status_code == 200 and "陈建国" in shown.text
    board = client.get("/keypersons/dashboard")
    assert board.status_code == 200 and "动态掌控率" in board.text and "甲社区第一网格" in board.text
    asked = client.post(f"/keypersons/records/{record_id}/grade", data={"to_grade": "red", "reason": "多次滋事"},
                        headers=hx(csrf))
    assert asked.status_code == 200 and asked.headers["HX-Redirect"] == f"/keypersons/records/{record_id}"
    own = client.get(f"/keypersons/records/{record_id}")
    assert "等级调整待审批" in own.text and 'value="approve"' not in own.text  # not their own request
    csrf2 = log_in(client, "leader_a2")
    assert 'value="approve"' in client.get(f"/keypersons/records/{record_id}").text
    client.post(f"/keypersons/records/{record_id}/grade/1", data={"decision": "approve"}, headers=hx(csrf2))
    assert "kp-red" in client.get(f"/keypersons/records/{record_id}").text


def test_a_grid_worker_visits_from_the_phone(client, system_session):
    w = world(system_session)
    record_id = opened(system_session, w, w.extra["a"]["persons"][0])
    csrf = log_in(client, "worker_a1")
    visits = client.get("/keypersons/visits")
    assert visits.status_code == 200 and f'id="visit-{record_id}"' in visits.text
    done = client.post(f"/keypersons/records/{record_id}/visit",
                       data={"findings": "在家，情绪稳定", "back": "field"}, headers=hx(csrf))
    assert done.headers["HX-Redirect"] == f"/keypersons/visits?done={record_id}"
    record = client.get(f"/keypersons/records/{record_id}")
    assert record.status_code == 200 and "走访" in record.text
    future = client.post(f"/keypersons/records/{record_id}/visit", data={"visited_on": "2099-01-01"},
                         headers=hx(csrf))
    assert future.status_code == 422 and "走访日期不能晚于今天" in future.text


def test_the_grid_workers_home_lists_visits_overdue_and_due_this_week(client, system_session):
    """我的待办 for the team's grid worker: the overdue visit first, marked, then those due within the week;
    another grid's worker has none of them."""
    from datetime import date, timedelta

    from shiyu.keypersons.models import KeyPersonRecord

    w = world(system_session)
    late = opened(system_session, w, w.extra["a"]["persons"][0])
    soon = opened(system_session, w, w.extra["a"]["persons"][1], group="youth", grade="green",
                  attributes={"kind": "闲散青少年"})
    for record_id, due in ((late, date.today() - timedelta(days=2)), (soon, date.today() + timedelta(days=3))):
        system_session.get(KeyPersonRecord, record_id).next_due_on = due
    system_session.commit()
    log_in(client, "worker_a1")
    home = client.get("/").text
    assert ('<li class="urgent"><a href="/keypersons/visits"><span>走访已超期的重点人员</span>'
            '<b class="count">1</b>') in home
    assert '<a href="/keypersons/visits"><span>本周要走访的重点人员</span><b class="count">1</b>' in home
    assert home.index("走访已超期的重点人员") < home.index("本周要走访的重点人员")
    log_in(client, "worker_a2")
    assert "重点人员" not in client.get("/").text.split('id="todo"')[1].split("</section>")[0]


def test_outsiders_see_nothing_on_any_page(client, system_session):
    w = world(system_session)
    record_id = opened(system_session, w, w.extra["a"]["persons"][0])
    for who, status in (("worker_a2", 200), ("worker_b1", 200), ("citizen", 403), ("operator_a", 403)):
        log_in(client, who)
        for path in ("/keypersons", "/keypersons/visits", "/keypersons/dashboard", f"/keypersons/records/{record_id}"):
            r = client.get(path)
            assert "陈" not in r.text, (who, path)
            if path.endswith(str(record_id)):
                assert r.status_code in (403, 404), (who, path, r.status_code)
        listed = client.get("/keypersons")
        assert listed.status_code in (status, 403)


def test_a_referral_without_a_grid_worker_gets_one_on_the_page_and_is_enrolled(client, system_session):
    """A referral (from a dispute, a petition) arrives with no team: the leader names one of the person's
    grid's workers on the record page — another grid's worker is refused — and only then enrols it."""
    from shiyu.keypersons import service
    from tests.registry.registry_fixtures import principal

    w = world(system_session)
    leader = principal(system_session, w, "leader_a")
    system_session.info["principal"] = leader
    record = service.open_record(system_session, leader, service.Opening(
        person_id=w.extra["a"]["persons"][0], group_code="dispute", grade="red", source="dispute",
        source_ref="MD-1", attributes={"dispute_ref": "MD-1", "risk": "扬言报复"}))
    service.act(system_session, leader, record.id, "verify", today=today())
    system_session.commit()
    record_id = record.id
    csrf = log_in(client, "leader_a")
    page = client.get(f"/keypersons/records/{record_id}").text
    assert 'id="kp-team"' in page and f'value="{w.users["worker_a1"].id}"' in page
    assert f'value="{w.users["worker_b1"].id}"' not in page  # only the person's grid's workers are offered
    refused = client.post(f"/keypersons/records/{record_id}/act", data={"action": "enrol"}, headers=hx(csrf))
    assert refused.status_code == 422 and "列管前须指定责任网格员" in refused.text
    other = client.post(f"/keypersons/records/{record_id}/team", data={"grid_worker_id": w.users["worker_b1"].id},
                        headers=hx(csrf))
    assert other.status_code == 422 and "请选择该人员所在网格的网格员" in other.text
    named = client.post(f"/keypersons/records/{record_id}/team", data={"grid_worker_id": w.users["worker_a1"].id},
                        headers=hx(csrf))
    assert named.headers["HX-Redirect"] == f"/keypersons/records/{record_id}"
    enrolled = client.post(f"/keypersons/records/{record_id}/act", data={"action": "enrol"}, headers=hx(csrf))
    assert enrolled.headers["HX-Redirect"] == f"/keypersons/records/{record_id}"
    shown = client.get(f"/keypersons/records/{record_id}").text
    assert '<span class="badge" id="kp-state">在管</span>' in shown and "调整责任人" in shown
    log_in(client, "worker_a1")
    assert 'id="kp-team"' not in client.get(f"/keypersons/records/{record_id}").text  # the team does not name itself
