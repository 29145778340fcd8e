"""Notices (站内消息): who hears about what — a petition's limit about to pass or passed reaches the nearest
petition officers and its 包案 leader, a warning raised from a petition the centre leaders, a high-risk
dispute the nearest centre staff — once per event however often it is delivered; and the reader's page:
their own notices only, unread first, opened (marked read) into the page they are about, cleared at once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from shiyu.core import outbox
from shiyu.core.errors import NotFound
from shiyu.core.paging import PageParams
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.notices import service as notices
from shiyu.org.notices.models import Notice
from shiyu.petitions import service as petitions
from shiyu.petitions import tasks as petition_tasks
from shiyu.petitions.models import HANDLE
from shiyu.petitions.service import Step
from tests.disputes.dispute_fixtures import SYSTEM, act, make_dispute
from tests.factories import add_user, populated
from tests.petitions.petition_fixtures import as_user, officers, register, walk
from tests.web.test_pages import log_in

TEST = Principal.system("test")


def _world(s):
    w = populated(s)
    officers(s, w)
    # A street-level officer sees community A's petitions too, but the community's own officer is nearer.
    w.users["officer_street"] = add_user(s, "officer_street", w.street, [("petition_officer", w.street)])
    s.commit()
    return w


def _inbox(s, w, user: str) -> list[Notice]:
    s.info["principal"] = TEST
    return list(s.scalars(select(Notice).where(Notice.user_id == w.users[user].id).order_by(Notice.id)))


def test_holders_are_the_nearest_with_the_permission(system_session):
    s = system_session
    w = _world(s)
    path = w.community_a.area_path
    assert notices.holders(s, HANDLE, path) == {w.users["officer_a"].id, w.users["officer_street"].id}
    assert notices.holders(s, HANDLE, path, nearest=True) == {w.users["officer_a"].id}
    w.users["officer_a"].is_active = False
    s.flush()
    assert notices.holders(s, HANDLE, path, nearest=True) == {w.users["officer_street"].id}


def test_a_petition_past_its_limit_tells_its_officer_and_leader_once(system_session, factory):
    s = system_session
    w = _world(s)
    late = register(s, w, "officer_a", w.community_a.id, received_at=utcnow() - timedelta(days=20))
    walk(s, w, "officer_a", late.id, ("accept", Step()),
         ("assign", Step(assigned_unit="区住建局", leader_id=w.users["leader_a"].id)))
    s.info["principal"] = TEST
    s.commit()
    assert petition_tasks.scan(factory, utcnow() + timedelta(days=100)) == {"yellow": 0, "red": 1}
    outbox.deliver_pending(factory)
    [mine] = _inbox(s, w, "officer_a")
    assert (mine.kind, mine.urgent, mine.link) == ("petition.overdue", True, f"/petitions/{late.id}")
    assert mine.data == {"number": late.number, "state": "assigned"}
    assert [n.kind for n in _inbox(s, w, "leader_a")] == ["petition.overdue"]
    assert _inbox(s, w, "officer_street") == [] and _inbox(s, w, "officer_b") == []
    event = s.scalars(select(outbox.OutboxEvent).where(outbox.OutboxEvent.topic == "petition.overdue")).one()
    with factory() as again:  # the same event delivered once more (a redelivery from the outbox page)
        again.info["principal"] = Principal.system("outbox")
        from shiyu.petitions.notices import deadline
        deadline(again, again.get(outbox.OutboxEvent, event.id))
        again.commit()
    assert len(_inbox(s, w, "officer_a")) == 1


def test_a_warning_raised_from_a_petition_reaches_the_centre_leaders(system_session, factory):
    s = system_session
    w = _world(s)
    petition = register(s, w, "officer_a", w.community_a.id)
    petitions.link(s, as_user(s, w, "officer_a"), petition.id, "raise_warning", "扬言到市政府聚集")
    s.commit()
    outbox.deliver_pending(factory)
    [notice] = _inbox(s, w, "leader_a")
    assert (notice.kind, notice.body, notice.urgent) == ("petition.raise_warning", "扬言到市政府聚集", True)
    assert _inbox(s, w, "leader_b") == [] and _inbox(s, w, "officer_a") == []


def test_a_high_risk_dispute_warns_the_nearest_centre_staff(system_session, factory):
    s = system_session
    w = _world(s)
    dispute = make_dispute(s)
    act(s, SYSTEM, dispute, "review_risk", "扬言报复", risk_level="low", signals=["criminal"])
    s.commit()
    outbox.deliver_pending(factory)
    staff = {name for name in ("operator_a", "leader_a", "leader_b", "worker_a1") if _inbox(s, w, name)}
    assert staff == {"operator_a", "leader_a"}
    [notice] = _inbox(s, w, "operator_a")
    assert notice.kind == "dispute.warning" and notice.data == {"code": dispute.code, "criminal": True}


def test_the_reader_sees_opens_and_clears_only_their_own(system_session, client):
    s = system_session
    w = _world(s)
    for n in range(3):
        notices.send(s, [w.users["leader_a"].id], notices.Message(
            key=f"test:{n}", kind="petition.raise_warning", data={"number": f"XF{n}"}, body=f"理由{n}",
            link="/petitions" if n else "//evil.example/", urgent=n == 2))
    notices.send(s, [w.users["leader_b"].id], notices.Message(key="test:b", kind="petition.raise_warning",
                                                               data={"number": "XFB"}))
    notices.send(s, [w.users["leader_b"].id], notices.Message(key="test:b2", kind="dispute.warning",
                                                               data={"code": "MD1", "criminal": True}))
    notices.send(s, [w.users["leader_b"].id], notices.Message(key="test:b3", kind="petition.overdue",
                                                               data={"number": "XF9", "state": "handling"}))
    s.commit()
    mine = _inbox(s, w, "leader_a")
    with pytest.raises(NotFound):
        notices.open_notice(s, Principal(user_id=w.users["leader_b"].id, username="leader_b"), mine[0].id)
    assert notices.list_for(s, Principal(user_id=w.users["leader_a"].id, username="leader_a"),
                            PageParams())[1] == 3

    csrf = log_in(client, "leader_a")
    home = client.get("/")
    assert re.search(r'class="urgent"><a href="/notices"><span>未读消息</span><b class="count">3</b>', home.text)
    page = client.get("/notices")
    assert "3 条未读" in page.text and "信访件 XF2 发出预警" in page.text and "XFB" not in page.text
    opened = client.post(f"/notices/{mine[1].id}/open", data={"csrf_token": csrf}, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == "/petitions"
    unsafe = client.post(f"/notices/{mine[0].id}/open", data={"csrf_token": csrf}, follow_redirects=False)
    assert unsafe.headers["location"] == "/notices"  # a stored link never leads off the site
    assert client.post(f"/notices/{_inbox(s, w, 'leader_b')[0].id}/open", data={"csrf_token": csrf}
                       ).status_code == 404
    assert "1 条未读" in client.get("/notices").text
    client.post("/notices/read", data={"csrf_token": csrf})
    page = client.get("/notices")
    assert "条未读" not in page.text and page.text.count('data-notice="') == 3
    assert "未读消息" not in client.get("/").text
    log_in(client, "leader_b")  # each kind in the reader's words, the state in words too
    page = client.get("/notices")
    assert "信访件 XF9（办理中）已超过办理期限" in page.text and "矛盾纠纷 MD1 有民转刑风险" in page.text
    assert "Petition XF9 (" in client.get("/notices?lang=en").text
