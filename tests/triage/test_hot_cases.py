"""Hot issues over the city's cases: a burst of similar cases in one community becomes the top issue, the
daily job is idempotent and keeps analysts' decisions, split and dismiss, and scope A/B."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shiyu.core.scoping import Principal
from shiyu.org.identity.roles import PERMISSIONS, Role
from shiyu.triage.hot import hot_cases
from shiyu.triage.hot.models import HotIssue, HotIssueMember
from tests.cases.case_fixtures import POINT_A1, SH, act
from tests.factories import login
from tests.triage.case_helpers import BURST, burst, citizen, hot_world, report


@pytest.fixture
def w(system_session):
    return hot_world(system_session)


def issues(s) -> list[HotIssue]:
    s.info["principal"] = Principal.system("test")
    s.expire_all()
    return list(s.scalars(select(HotIssue).order_by(HotIssue.heat.desc())))


def members(s, issue: HotIssue) -> set[int]:
    return set(s.scalars(select(HotIssueMember.case_id).where(HotIssueMember.issue_id == issue.id)))


def test_a_burst_in_one_place_becomes_the_top_issue(system_session, factory, w):
    s = system_session
    ids = burst(s, w)
    report_ = hot_cases.refresh(factory, SH)
    assert report_.created == 2
    top, second = issues(s)
    assert members(s, top) == set(ids["a"]) and top.area_path == w.community_a.area_path
    assert top.size == 6 and top.reporters == 6 and top.recent == 6 and top.status == "open"
    assert members(s, second) == set(ids["b"]) and top.heat > second.heat
    assert ids["old"][0] not in members(s, top)


def test_rerun_is_idempotent_and_keeps_decisions(system_session, factory, w, client):
    s = system_session
    ids = burst(s, w)
    hot_cases.refresh(factory, SH)
    first = [(i.id, i.heat, i.size) for i in issues(s)]
    headers = login(client, "analyst_a")
    top_id = first[0][0]
    assert client.post(f"/api/v1/hot-issues/{top_id}/confirm", headers=headers).json()["status"] == "confirmed"
    b_id = next(i.id for i in issues(s) if i.area_path == w.community_b.area_path)
    assert client.post(f"/api/v1/hot-issues/{b_id}/dismiss", headers=login(client, "analyst_b")).status_code == 200
    again = hot_cases.refresh(factory, SH)
    assert (again.created, again.deleted) == (0, 0)
    assert [(i.id, i.heat, i.size) for i in issues(s)] == first
    assert {i.id: i.status for i in issues(s)} == {top_id: "confirmed", b_id: "dismissed"}
    # a new similar report joins the confirmed issue instead of starting another one
    report(s, w, "public", channel="citizen", description=BURST[1] + "，请尽快处理", point=POINT_A1,
           **citizen(phone="13600001111"))
    hot_cases.refresh(factory, SH)
    top = next(i for i in issues(s) if i.id == top_id)
    assert top.size == 7 and top.status == "confirmed" and len(issues(s)) == 2
    assert ids["a"][0] in members(s, top)


def test_split_pins_the_moved_cases_and_dismiss_hides(system_session, factory, w, client):
    s = system_session
    ids = burst(s, w)
    hot_cases.refresh(factory, SH)
    top = issues(s)[0]
    headers = login(client, "analyst_a")
    moved = ids["a"][:2]
    r = client.post(f"/api/v1/hot-issues/{top.id}/split", json={"case_ids": moved}, headers=headers)
    assert r.status_code == 201, r.text
    new = r.json()
    assert sorted(m["id"] for m in new["members"]) == sorted(moved) and new["size"] == 2
    assert client.get(f"/api/v1/hot-issues/{top.id}", headers=headers).json()["size"] == 4
    hot_cases.refresh(factory, SH)  # the job leaves the analyst's split alone
    assert members(s, s.get(HotIssue, new["id"])) == set(moved)
    assert members(s, s.get(HotIssue, top.id)) == set(ids["a"][2:])
    bad = client.post(f"/api/v1/hot-issues/{top.id}/split", json={"case_ids": ids["a"][2:]}, headers=headers)
    assert bad.status_code == 422 and bad.json()["code"] == "hot_issue_split_invalid"
    assert client.post(f"/api/v1/hot-issues/{new['id']}/dismiss", headers=headers).status_code == 200
    listed = [i["id"] for i in client.get("/api/v1/hot-issues", headers=headers).json()]
    assert new["id"] not in listed and top.id in listed
    everything = client.get("/api/v1/hot-issues?include_dismissed=true", headers=headers).json()
    assert new["id"] in [i["id"] for i in everything]


def test_scope_a_and_b(system_session, factory, w, client):
    s = system_session
    burst(s, w)
    hot_cases.refresh(factory, SH)
    a_issue, b_issue = issues(s)
    headers = login(client, "analyst_a")
    listed = client.get("/api/v1/hot-issues", headers=headers).json()
    assert [i["id"] for i in listed] == [a_issue.id] and listed[0]["place"] == w.community_a.name
    assert client.get(f"/api/v1/hot-issues/{b_issue.id}", headers=headers).status_code == 404
    assert client.post(f"/api/v1/hot-issues/{b_issue.id}/confirm", headers=headers).status_code == 404
    worker = login(client, "worker_a1")  # sees cases but may not decide hot issues
    assert client.post(f"/api/v1/hot-issues/{a_issue.id}/confirm", headers=worker).status_code in (403, 404)
    assert "hot_issue.manage" in PERMISSIONS[Role.CENTRE_LEADER]
    leader = login(client, "leader_a")
    assert client.post(f"/api/v1/hot-issues/{a_issue.id}/confirm", headers=leader).status_code == 200


def test_merged_reports_count_as_me_too(system_session, factory, w):
    s = system_session
    ids = burst(s, w)
    dup = report(s, w, "public", channel="citizen", description=BURST[3] + "！", point=POINT_A1,
                 **citizen(phone="13500002222")).case
    act(s, w, "operator_a", dup, "merge", fields={"into_case_id": ids["a"][3]})
    hot_cases.refresh(factory, SH)
    top = issues(s)[0]
    assert top.followers == 1 and dup.id not in members(s, top)
    s.info["principal"] = Principal.system("test")
    assert s.scalar(select(func.count(HotIssue.id))) == 2
