"""The hot-issue page: renders for an analyst with the top issues, their members, place and period; the
three decisions work from its forms; others are refused; the nav shows it to analysts only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shiyu.core.scoping import Principal
from shiyu.triage.hot import hot_cases
from shiyu.triage.hot.models import HotIssue
from tests.cases.case_fixtures import SH
from tests.triage.case_helpers import burst, hot_world
from tests.web.test_pages import log_in


@pytest.fixture
def world(system_session, factory):
    w = hot_world(system_session)
    ids = burst(system_session, w)
    hot_cases.refresh(factory, SH)
    system_session.info["principal"] = Principal.system("test")
    w.extra["ids"] = ids
    w.extra["issues"] = {i.area_path: i.id for i in system_session.scalars(select(HotIssue))}
    return w


def _issue(s, issue_id: int) -> HotIssue:
    s.info["principal"] = Principal.system("test")
    s.expire_all()
    issue = s.get(HotIssue, issue_id)
    assert issue is not None
    return issue


def test_page_renders_for_an_analyst(client, world):
    log_in(client, "analyst_a")
    r = client.get("/analysis/hot")
    assert r.status_code == 200
    a_id = world.extra["issues"][world.community_a.area_path]
    b_id = world.extra["issues"][world.community_b.area_path]
    assert f'id="issue-{a_id}"' in r.text and f'id="issue-{b_id}"' not in r.text
    assert world.community_a.name in r.text and "幸福路菜市场" in r.text and "待研判" in r.text
    assert r.text.count('name="case_ids"') == 6
    assert 'href="/analysis/hot"' in client.get("/").text


def test_actions_work(client, world, system_session):
    s = system_session
    csrf = log_in(client, "analyst_a")
    a_id = world.extra["issues"][world.community_a.area_path]
    moved = world.extra["ids"]["a"][:2]
    r = client.post(f"/analysis/hot/{a_id}/split", data={"csrf_token": csrf, "case_ids": [str(i) for i in moved]},
                    follow_redirects=False)
    assert r.status_code == 303
    assert _issue(s, a_id).size == 4
    r = client.post(f"/analysis/hot/{a_id}/confirm", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and _issue(s, a_id).status == "confirmed"
    r = client.post(f"/analysis/hot/{a_id}/dismiss", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and _issue(s, a_id).status == "dismissed"
    page = client.get("/analysis/hot").text
    assert f'id="issue-{a_id}"' not in page
    assert f'id="issue-{a_id}"' in client.get("/analysis/hot?dismissed=true").text


def test_others_are_refused(client, world):
    csrf = log_in(client, "worker_a1")
    assert client.get("/analysis/hot").status_code == 403
    assert 'href="/analysis/hot"' not in client.get("/").text
    b_id = world.extra["issues"][world.community_b.area_path]
    csrf = log_in(client, "analyst_a")
    r = client.post(f"/analysis/hot/{b_id}/confirm", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 404
    assert client.post(f"/analysis/hot/{b_id}/confirm", data={}, follow_redirects=False).status_code == 403
