"""The petition pages: the desk with its queues and indicators, registration through the form, a petition's
page with its actions and timeline, the audited reveal, the backlog board and the reception days; nobody
outside the petition roles sees any of it, and another community's petition is a 404 page."""

from __future__ import annotations

import re

from tests.factories import populated
from tests.petitions.petition_fixtures import officers, register
from tests.registry.registry_fixtures import id_number
from tests.web.test_pages import hx, log_in


def _world(s):
    w = populated(s)
    officers(s, w)
    b = register(s, w, "officer_b", w.community_b.id, name="赵乙", demands="乙社区的诉求")
    s.commit()
    return w, b


def test_register_and_walk_a_petition_through_the_pages(client, system_session):
    w, b = _world(system_session)
    csrf = log_in(client, "officer_a")
    form = client.get("/petitions/new")
    assert form.status_code == 200 and "甲社区" in form.text and "乙社区" not in form.text
    data = {"csrf_token": csrf, "area_id": str(w.community_a.id), "channel": "visit", "group_size": "6",
            "demands": "", "complained_unit": "某物业公司", "p0_name": "王强", "p0_id_number": id_number(),
            "p0_phone": "13900002222"}
    refused = client.post("/petitions/new", data=data)
    assert refused.status_code == 422 and 'value="王强"' in refused.text
    data["demands"] = "电梯停运三个月"
    sent = client.post("/petitions/new", data=data, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    url = sent.headers["location"]
    page = client.get(url)
    assert page.status_code == 200 and "王*" in page.text and "王强" not in page.text and "集体访" in page.text
    assert 'data-action="accept"' in page.text and 'data-action="assign"' not in page.text
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
    accepted = client.post(f"{url}/actions/accept", data={"csrf_token": csrf, "version": version},
                           follow_redirects=False)
    assert accepted.status_code == 303
    wrong = client.post(f"{url}/actions/conclude", data={"csrf_token": csrf})
    assert wrong.status_code == 409 and "不能执行该操作" in wrong.text
    page = client.get(url)
    assert "剩余" in page.text and 'data-action="assign"' in page.text and "张*丰 · 甲社区" in page.text
    petitioner = re.search(r'name="field" value="(\d+)-name"', page.text).group(1)
    shown = client.post(f"{url}/reveal", data={"field": f"{petitioner}-name", "reason": "电话回访核实"},
                        headers=hx(csrf))
    assert shown.status_code == 200 and "王强" in shown.text
    desk = client.get("/petitions?state=accepted")
    assert desk.status_code == 200 and "电梯停运三个月" in desk.text and "乙社区的诉求" not in desk.text
    assert 'data-figure="on_time_acceptance_rate"' in desk.text and "100%" in desk.text
    assert client.get(f"/petitions/{b.id}").status_code == 404
    number = re.search(r"XF\d+", page.text).group(0)
    day = client.post("/petitions/receptions", data={
        "csrf_token": csrf, "area_id": str(w.community_a.id), "leader_id": str(w.users["leader_a"].id),
        "day": "2026-12-01", "place": "甲社区接访室", "petition_ids": number}, follow_redirects=False)
    assert day.status_code == 303, day.text
    assert number in client.get("/petitions/receptions").text
    bad = client.post("/petitions/receptions", data={
        "csrf_token": csrf, "area_id": str(w.community_a.id), "leader_id": str(w.users["leader_a"].id),
        "day": "2026-12-01", "place": "甲社区接访室", "petition_ids": f"{number}, XF000"})
    assert bad.status_code == 422 and "不存在" in bad.text
    assert client.get("/petitions/backlog").status_code == 200


def test_nobody_else_sees_petitions(client, system_session):
    w, b = _world(system_session)
    for user in ("worker_a1", "operator_a", "admin"):
        log_in(client, user)
        assert client.get("/petitions").status_code == 403, user
        assert client.get(f"/petitions/{b.id}").status_code in (403, 404), user
        assert 'href="/petitions"' not in client.get("/").text, user
    log_in(client, "leader_b")
    assert "乙社区的诉求" not in client.get("/petitions?flag=mine").text  # not (yet) leader_b's 包案
    page = client.get(f"/petitions/{b.id}")
    assert page.status_code == 200 and "乙社区的诉求" in page.text and 'data-action="accept"' not in page.text


def test_a_petition_sent_to_mediation_shows_the_dispute_it_opened(client, system_session, factory):
    from shiyu.core import outbox

    w, _ = _world(system_session)
    a = register(system_session, w, "officer_a", w.community_a.id, name="孙甲", demands="楼上漏水")
    system_session.commit()
    csrf = log_in(client, "officer_a")
    url = f"/petitions/{a.id}"
    page = client.get(url)
    assert 'name="dispute_type"' in page.text and "邻里" in page.text
    sent = client.post(f"{url}/links", data={"csrf_token": csrf, "kind": "spawn_dispute", "reason": "邻里纠纷",
                                             "dispute_type": "neighbour"}, follow_redirects=False)
    assert sent.status_code == 303
    again = client.post(f"{url}/links", data={"csrf_token": csrf, "kind": "spawn_dispute", "reason": "再转"})
    assert again.status_code == 409 and "已转为矛盾纠纷" in again.text
    outbox.deliver_pending(factory)
    outbox.deliver_pending(factory)
    page = client.get(url)
    assert '<option value="spawn_dispute">' not in page.text  # asked once: not offered again
    code = re.search(r'data-action="dispute_opened">.*?<p class="note">(MD\d+)', page.text, re.S).group(1)
    assert "/disputes/code/" not in page.text  # the petition officer does not see disputes
    log_in(client, "leader_a")
    page = client.get(url)
    assert f'href="/disputes/code/{code}"' in page.text
    opened = client.get(f"/disputes/code/{code}", follow_redirects=False)
    assert opened.status_code == 303
    dispute = client.get(opened.headers["location"])
    assert dispute.status_code == 200 and code in dispute.text and "信访转入" in dispute.text
    log_in(client, "leader_b")
    assert client.get(f"/disputes/code/{code}").status_code == 404
