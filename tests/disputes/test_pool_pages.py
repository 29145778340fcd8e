"""The pool's pages (/disputes/pool): reached from the desk and the navigation by holders of ``dispute.manage``
only; the list shows each organisation's mediators with workload, success rate and state; the add and edit
forms come back with what was typed and a Chinese reason (never a 500, nothing written); an edit made
meanwhile by someone else is reported; 停用 takes a mediator out of the desk's assign list and the portal, and
the disputes he had still name him; another community's organisation is a 404 page."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from shiyu.core.audit import AuditEntry
from shiyu.core.scoping import Principal
from shiyu.disputes.models import Mediator
from tests.disputes.dispute_fixtures import SYSTEM, act, make_dispute, pool
from tests.factories import add_user, populated
from tests.web.test_pages import log_in


def _world(system_session):
    w = populated(system_session)
    w.extra = pool(system_session, w)
    system_session.commit()
    return w


def _writes(factory) -> int:
    """Audit entries of changes (a refused form must leave none)."""
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        return s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action.in_(("create", "update"))))


def test_the_pool_is_listed_for_its_managers_only(client, system_session):
    w = _world(system_session)
    dispute = make_dispute(system_session, mediator_id=w.extra["mediator"], state="mediating")
    act(system_session, SYSTEM, dispute, "agree", terms="赔偿维修费")
    make_dispute(system_session, mediator_id=w.extra["mediator"], state="assigned")
    system_session.commit()
    log_in(client, "leader_a")
    desk = client.get("/disputes").text
    assert 'href="/disputes/pool"' in desk and "管理调解组织与调解员" in desk
    page = client.get("/disputes/pool")
    assert page.status_code == 200
    row = re.search(r'<tr id="mediator-{}">(.*?)</tr>'.format(w.extra["mediator"]), page.text, re.S).group(1)
    assert "王建国" in row and "邻里" in row and ">1<" in row and "100%" in row and "在用" in row
    assert "甲社区人民调解委员会" in page.text and "村（居）人民调解委员会" in page.text
    assert "乙社区" not in page.text

    log_in(client, "operator_a")
    assert client.get("/disputes/pool").status_code == 403
    assert client.get(f"/disputes/pool/mediators/{w.extra['mediator']}").status_code == 403
    assert 'href="/disputes/pool"' not in client.get("/disputes").text


def test_forms_come_back_with_what_was_typed_and_why(client, system_session, factory):
    w = _world(system_session)
    csrf = log_in(client, "leader_a")
    before = _writes(factory)
    no_area = client.post("/disputes/pool/orgs/new", data={"csrf_token": csrf, "kind": "brand", "name": "老娘舅调解室"})
    assert no_area.status_code == 422 and "请从列表中选择区域" in no_area.text
    assert 'value="老娘舅调解室"' in no_area.text and 'value="brand" selected' in no_area.text
    bad = {"csrf_token": csrf, "org_id": str(w.extra["org"]), "name": "赵" * 41, "specialties": ["family", "astrology"],
           "intro": "擅长婚姻家庭"}
    r = client.post("/disputes/pool/mediators/new", data=bad)
    assert r.status_code == 422 and "最多 40 个字" in r.text and "擅长婚姻家庭" in r.text
    r = client.post("/disputes/pool/mediators/new", data={**bad, "name": "赵敏"})
    assert r.status_code == 422 and "擅长领域须为纠纷类型" in r.text and 'value="赵敏"' in r.text
    r = client.post("/disputes/pool/mediators/new", data={**bad, "name": "赵敏", "specialties": ["family"],
                                                          "user_id": str(w.users["worker_a1"].id)})
    assert r.status_code == 422 and "没有该调解员账号" in r.text
    assert _writes(factory) == before

    added = client.post("/disputes/pool/orgs/new", follow_redirects=False, data={
        "csrf_token": csrf, "area_id": str(w.community_a.id), "kind": "brand", "name": "老娘舅调解室", "phone": ""})
    assert added.status_code == 303 and "done=org_added" in added.headers["location"]
    r = client.post("/disputes/pool/mediators/new", data={**bad, "name": "赵敏", "specialties": ["family"],
                                                          "expert": "on"}, follow_redirects=True)
    assert r.status_code == 200 and "调解员已添加" in r.text and "赵敏" in r.text
    assert client.post("/disputes/pool/orgs/new", data={"kind": "brand", "name": "无令牌"}).status_code == 403


def test_an_edit_saved_meanwhile_is_reported_not_overwritten(client, system_session):
    w = _world(system_session)
    csrf = log_in(client, "leader_a")
    url = f"/disputes/pool/mediators/{w.extra['other_mediator']}"
    form = client.get(url).text
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    fields = {"csrf_token": csrf, "version": version, "org_id": str(w.extra["org"]), "name": "李淑芬",
              "user_id": "", "specialties": ["family"], "intro": "婚姻家庭", "expert": "on"}
    assert client.post(url, data=fields, follow_redirects=False).status_code == 303
    stale = client.post(url, data={**fields, "intro": "邻里纠纷"})
    assert stale.status_code == 409 and "数据已被他人修改" in stale.text and "邻里纠纷" in stale.text
    system_session.expire_all()
    assert system_session.get(Mediator, w.extra["other_mediator"]).intro == "婚姻家庭"


def test_a_stopped_mediator_leaves_the_assign_list_and_the_portal_but_not_his_records(client, system_session):
    w = _world(system_session)
    kept = make_dispute(system_session, title="旧纠纷", mediator_id=w.extra["mediator"], state="assigned")
    fresh = make_dispute(system_session, title="新纠纷")
    add_user(system_session, "citizen_a", w.city, [("citizen", w.city)])
    system_session.commit()
    csrf = log_in(client, "leader_a")
    org_page = client.get(f"/disputes/pool/orgs/{w.extra['org']}").text
    assert "还有2名在用调解员（王建国、李淑芬）" in org_page
    refused = client.post(f"/disputes/pool/orgs/{w.extra['org']}/active",
                          data={"csrf_token": csrf, "active": "0", "version": "1"})
    assert refused.status_code == 409 and "请先将其调往其他组织或停用" in refused.text

    page = client.get(f"/disputes/pool/mediators/{w.extra['mediator']}").text
    assert "其手上还有1件在办纠纷" in page
    stopped = client.post(f"/disputes/pool/mediators/{w.extra['mediator']}/active", follow_redirects=True,
                          data={"csrf_token": csrf, "active": "0", "version": "1"})
    assert stopped.status_code == 200 and "调解员已停用" in stopped.text
    row = re.search(r'<tr id="mediator-{}">(.*?)</tr>'.format(w.extra["mediator"]), stopped.text, re.S).group(1)
    assert "已停用" in row

    log_in(client, "operator_a")
    assign = client.get(f"/disputes/{fresh.id}").text
    options = re.search(r'<select id="assign-mediator_id".*?</select>', assign, re.S).group(0)
    assert "李淑芬" in options and "王建国" not in options
    record = client.get(f"/disputes/{kept.id}").text
    assert re.search(r'id="dispute-mediator">王建国 <span class="badge">已停用</span>', record)
    log_in(client, "citizen_a")
    portal = client.get("/portal/mediation").text
    assert "李淑芬" in portal and "王建国" not in portal


def test_another_communitys_organisation_is_a_404_page(client, system_session):
    w = _world(system_session)
    b = pool(system_session, w, "b")
    system_session.commit()
    csrf = log_in(client, "leader_a")
    assert client.get(f"/disputes/pool/orgs/{b['org']}").status_code == 404
    assert client.get(f"/disputes/pool/mediators/{b['mediator']}").status_code == 404
    r = client.post(f"/disputes/pool/mediators/{b['mediator']}/active", data={"csrf_token": csrf, "active": "0"})
    assert r.status_code == 404 and "王建国" not in r.text
    moved = client.post(f"/disputes/pool/mediators/{w.extra['mediator']}", data={
        "csrf_token": csrf, "org_id": str(b["org"]), "name": "王建国", "user_id": "", "intro": ""})
    assert moved.status_code == 404 and "未找到该对象" in moved.text  # the form again, its org refused
    sneaky = client.post("/disputes/pool/orgs/new", data={"csrf_token": csrf, "area_id": str(w.community_b.id),
                                                          "kind": "village", "name": "越权调委会"})
    assert sneaky.status_code == 404 and "越权调委会" in sneaky.text and "乙社区" not in sneaky.text
