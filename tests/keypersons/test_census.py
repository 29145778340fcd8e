"""集中清查 (census campaigns, issue 16): one assignment with one item per open record of the area for its grid
worker; refused without both rights, for an empty area, past the engine's limit — writing nothing; the item
done writes its finding on the record once (however often the event comes), verifies the record or takes it
the lost-contact way; completion by area on the dashboard and in the report; the API and the page form."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shiyu.core import outbox
from shiyu.core.errors import Forbidden, NotFound, ValidationFailed
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.keypersons import census, dashboard, items, service
from shiyu.keypersons import tasks as kp_tasks
from shiyu.keypersons.errors import KeyPersonError
from shiyu.keypersons.models import KeyPersonEvent
from shiyu.tasks import service as tasks
from shiyu.tasks.models import Assignment, TaskType, WorkItem
from tests.factories import World, login
from tests.keypersons.kp_fixtures import opened, today, world
from tests.registry.registry_fixtures import principal
from tests.web.test_pages import log_in

SYSTEM = Principal.system("test")
STABILITY = {"matter": "集体上访组织者"}


def _due():
    return utcnow() + timedelta(days=7)


def _records(s, w) -> dict[str, int]:
    """In grid a1: enrolled, lost contact, being verified, released; in b1 (another community): enrolled."""
    a = w.extra["a"]["persons"]
    ids = {"enrolled": opened(s, w, a[0]), "lost": opened(s, w, a[1], state="lost_contact"),
           "verifying": opened(s, w, a[2], group="stability", attributes=STABILITY, state="verifying"),
           "released": opened(s, w, a[0], group="stability", attributes=STABILITY)}
    leader = principal(s, w, "leader_a")
    s.info["principal"] = leader
    service.act(s, leader, ids["released"], "release", today=today())
    ids["other"] = opened(s, w, w.extra["b"]["persons"][0], leader="leader_b", worker="worker_b1")
    s.info["principal"] = SYSTEM
    s.commit()
    return ids


def _sent(s) -> tuple[World, dict[str, int], Assignment]:
    """The world, its records and a census the leader of community A sent for it."""
    w = world(s)
    ids = _records(s, w)
    leader = principal(s, w, "leader_a")
    s.info["principal"] = leader
    sent = census.start_census(s, leader, w.community_a.id, _due())
    s.commit()
    return w, ids, sent


def _items(s, assignment_id: int) -> dict[int, WorkItem]:
    s.info["principal"] = SYSTEM
    return {i.target_id: i for i in s.scalars(select(WorkItem).where(WorkItem.assignment_id == assignment_id))}


def _count(s, model) -> int:
    s.info["principal"] = SYSTEM
    return s.scalar(select(func.count()).select_from(model)) or 0


def _census_type(s) -> TaskType | None:
    s.info["principal"] = SYSTEM
    return s.scalar(select(TaskType).where(TaskType.code == census.TYPE_CODE))


def _answer(s, w, item: WorkItem, factory, *, met: bool, living: bool, who: str = "worker_a1") -> None:
    worker = principal(s, w, who)
    s.info["principal"] = worker
    tasks.act(s, worker, item.id, "submit", data={"met": met, "living_here": living, "situation": "入户核实",
                                                  "position": {"lon": 117.95, "lat": 24.6}})
    s.commit()
    outbox.deliver_pending(factory)
    s.info["principal"] = SYSTEM
    s.expire_all()


def _census_entries(s, record_id: int) -> list[dict]:
    s.info["principal"] = SYSTEM
    return [e.data for e in s.scalars(select(KeyPersonEvent).where(KeyPersonEvent.record_id == record_id,
                                                                   KeyPersonEvent.kind == census.EVENT))]


def test_a_census_sends_one_item_per_open_record_of_the_area(system_session):
    s = system_session
    w, ids, sent = _sent(s)
    got = _items(s, sent.id)
    assert set(got) == {ids["enrolled"], ids["lost"], ids["verifying"]}  # not released, not another community
    assert sent.title == "重点人员集中清查" and sent.issuer_area_id == w.community_a.id
    for record_id, item in got.items():
        assert item.target_kind == "keyperson" and item.target_label == f"KP-{record_id}"
        assert item.assignee_id == w.users["worker_a1"].id and item.grid_id == w.grids["a1"].id
        assert "陈" not in item.title + item.target_label and "林" not in item.target_label
    task_type = _census_type(s)
    assert task_type is not None and task_type.system and task_type.status == "admitted"
    assert [f["name"] for f in task_type.form] == ["met", "living_here", "situation", "photos", "position"]

    leader = principal(s, w, "leader_a")
    s.info["principal"] = leader
    only = census.start_census(s, leader, w.community_a.id, _due(), title="涉稳人员清查", group_codes=["stability"])
    assert set(_items(s, only.id)) == {ids["verifying"]} and only.title == "涉稳人员清查"


@pytest.mark.parametrize(("who", "where"), [("operator_a", "community"), ("worker_a1", "grid"),
                                             ("police_a", "community")])
def test_a_census_without_both_rights_is_refused_and_writes_nothing(system_session, who, where):
    """The operator assigns tasks but sees no key person; the grid worker (in their own grid) and the police
    officer on the team see their records but assign nothing: none of them may send a census."""
    s = system_session
    w = world(s)
    _records(s, w)
    caller = principal(s, w, who)
    s.info["principal"] = caller
    with pytest.raises(Forbidden):
        census.start_census(s, caller, (w.community_a if where == "community" else w.grids["a1"]).id, _due())
    s.rollback()
    assert (_count(s, Assignment), _census_type(s)) == (0, None)
    leader_b = principal(s, w, "leader_b")
    s.info["principal"] = leader_b
    with pytest.raises(NotFound):  # another community's area does not exist for B's leader
        census.start_census(s, leader_b, w.community_a.id, _due())


def test_only_the_records_viewers_and_the_items_own_worker_see_a_census_item_and_its_answer(
        system_session, factory, client):
    """A census item names a key person and its answer describes them: the centre's operator (who reads every
    task of the community) and another grid worker of the same grid see neither the item, nor its
    submission, nor a count of them; the record's grid worker and the centre leader do (docs/adr/0010)."""
    from shiyu.tasks.models import Submission
    from tests.factories import add_user

    s = system_session
    w, ids, sent = _sent(s)
    w.users["worker_a1b"] = add_user(s, "worker_a1b", w.grids["a1"], [("grid_worker", w.grids["a1"])])
    s.commit()
    _answer(s, w, _items(s, sent.id)[ids["enrolled"]], factory, met=True, living=True)
    seen = {}
    for who in ("operator_a", "worker_a1b", "worker_a1", "leader_a"):
        s.info["principal"] = principal(s, w, who)
        seen[who] = (len(list(s.scalars(select(WorkItem).where(WorkItem.assignment_id == sent.id)))),
                     len(list(s.scalars(select(Submission)))))
    assert seen == {"operator_a": (0, 0), "worker_a1b": (0, 0), "worker_a1": (3, 1), "leader_a": (3, 1)}
    listed = client.get("/api/v1/tasks/items", headers=login(client, "operator_a")).json()
    assert all("KP-" not in (i.get("target_label") or "") for i in listed["items"])


def test_an_empty_census_and_one_past_the_engines_limit_are_refused(system_session, monkeypatch):
    s = system_session
    w = world(s)
    _records(s, w)
    leader = principal(s, w, "leader_a")
    s.info["principal"] = leader
    with pytest.raises(ValidationFailed) as e:
        census.start_census(s, leader, w.community_a.id, _due(), group_codes=["mental"])
    assert e.value.code == "keyperson_census_empty" and e.value.status == 422
    assert "没有需要清查" in e.value.zh and "no key person" in e.value.en
    with pytest.raises(KeyPersonError) as bad:
        census.start_census(s, leader, w.community_a.id, _due(), group_codes=["nobody"])
    assert bad.value.status == 422 and bad.value.detail == {"field": "group_code"}
    monkeypatch.setattr(tasks, "MAX_TARGETS", 2)  # three records to check, two allowed
    with pytest.raises(ValidationFailed) as e:
        census.start_census(s, leader, w.community_a.id, _due())
    assert e.value.code == "keyperson_census_too_large" and e.value.detail["count"] == 3
    assert e.value.zh == "该区域需清查3人，一次最多2人，请按街道或社区分别发起"
    s.rollback()
    assert (_count(s, Assignment), _census_type(s)) == (0, None)


def test_a_done_item_verifies_the_record_once_however_often_the_event_comes(system_session, factory):
    s = system_session
    w, ids, sent = _sent(s)
    item = _items(s, sent.id)[ids["enrolled"]]
    _answer(s, w, item, factory, met=True, living=True)
    record = service.get_record(s, ids["enrolled"])
    assert record.last_verified_on == today() and record.state == "enrolled"
    assert _census_entries(s, ids["enrolled"]) == [{"item_id": item.id, "met": True, "living_here": True,
                                                   "checked_on": today().isoformat(), "outcome": "verified"}]
    assert "入户核实" not in str(_census_entries(s, ids["enrolled"]))  # the worker's text stays with the item

    event = s.scalar(select(outbox.OutboxEvent).where(outbox.OutboxEvent.topic == "task.item_done"))
    for _ in range(2):  # delivered again (at least once)
        kp_tasks.item_done(s, event)
        s.commit()
    assert len(_census_entries(s, ids["enrolled"])) == 1
    assert len(service.visits(s, ids["enrolled"])) == 0  # a census is not a visit: the plan's dates stand


def test_not_met_and_not_living_here_goes_the_lost_contact_way(system_session, factory):
    s = system_session
    w, ids, sent = _sent(s)
    got = _items(s, sent.id)
    _answer(s, w, got[ids["enrolled"]], factory, met=False, living=False)
    record = service.get_record(s, ids["enrolled"])
    assert record.state == "lost_contact" and record.last_verified_on is None
    searches = list(s.scalars(select(WorkItem).join(TaskType, TaskType.id == WorkItem.type_id)
                              .where(TaskType.code == items.SEARCH, WorkItem.target_id == ids["enrolled"])))
    assert len(searches) == 1 and searches[0].assignee_id == w.users["worker_a1"].id
    assert _census_entries(s, ids["enrolled"])[0]["outcome"] == "lost_contact"
    event = s.scalar(select(outbox.OutboxEvent).where(outbox.OutboxEvent.topic == "task.item_done"))
    kp_tasks.item_done(s, event)  # again: no second step, no second search
    s.commit()
    states = s.scalars(select(KeyPersonEvent.data).where(KeyPersonEvent.record_id == ids["enrolled"],
                                                         KeyPersonEvent.kind == "state"))
    assert [d["action"] for d in states].count("lose_contact") == 1

    _answer(s, w, got[ids["verifying"]], factory, met=False, living=False)  # not enrolled: the centre decides
    assert service.get_record(s, ids["verifying"]).state == "verifying"
    assert _census_entries(s, ids["verifying"])[0]["outcome"] == "for_centre"

    _answer(s, w, got[ids["lost"]], factory, met=True, living=True)  # the person lost is met again
    record = service.get_record(s, ids["lost"])
    assert record.state == "enrolled" and record.last_verified_on == today()
    assert _census_entries(s, ids["lost"])[0]["outcome"] == "regained"


def test_completion_by_area_on_the_dashboard_and_in_the_report(system_session, factory):
    s = system_session
    w = world(s)
    ids = _records(s, w)
    leader = principal(s, w, "leader_a")
    s.info["principal"] = leader
    assert census.completion(s)["rate"] is None
    sent = census.start_census(s, leader, w.community_a.id, _due())
    s.commit()
    got = _items(s, sent.id)
    _answer(s, w, got[ids["enrolled"]], factory, met=True, living=True)
    worker = principal(s, w, "worker_a1")
    s.info["principal"] = worker
    tasks.act(s, worker, got[ids["verifying"]].id, "unable", reason="本人拒绝开门")
    s.commit()

    s.info["principal"] = leader
    figures = census.completion(s)
    assert (figures["sent"], figures["checked"], figures["unable"], figures["rate"]) == (3, 1, 1, 33.3)
    assert census.completion(s, until=utcnow() - timedelta(days=1))["sent"] == 0
    board = dashboard.dashboard(s, leader, w.community_a.id, today())
    assert [(r["area_name"], r["sent"], r["checked"], r["rate"]) for r in board["census"]["areas"]] == [
        ("甲社区第一网格", 3, 1, 33.3)]
    s.info["principal"] = principal(s, w, "leader_b")
    assert census.completion(s)["sent"] == 0  # B sees none of A's census


def test_the_api_sends_a_census(client, system_session):
    w = world(system_session)
    ids = _records(system_session, w)
    due = _due().isoformat()
    r = client.post("/api/v1/keypersons/census", headers=login(client, "leader_a"),
                    json={"area_id": w.community_a.id, "due_at": due, "group_codes": ["released"]})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["items"] == 2 and body["title"] == "重点人员集中清查" and body["assignment_id"] > 0
    assert set(_items(system_session, body["assignment_id"])) == {ids["enrolled"], ids["lost"]}
    empty = client.post("/api/v1/keypersons/census", headers=login(client, "leader_a"),
                        json={"area_id": w.community_a.id, "due_at": due, "group_codes": ["drugs"]})
    assert empty.status_code == 422 and empty.json()["code"] == "keyperson_census_empty"
    refused = client.post("/api/v1/keypersons/census", headers=login(client, "operator_a"),
                          json={"area_id": w.community_a.id, "due_at": due})
    assert refused.status_code == 403
    past = client.post("/api/v1/keypersons/census", headers=login(client, "leader_a"),
                       json={"area_id": w.community_a.id, "due_at": (utcnow() - timedelta(days=1)).isoformat()})
    assert past.status_code == 422 and past.json()["code"] == "task_due_invalid"
    assert _count(system_session, Assignment) == 1


def test_the_dashboard_form_sends_a_census_and_shows_its_completion(client, system_session, factory):
    s = system_session
    w = world(s)
    ids = _records(s, w)
    csrf = log_in(client, "leader_a")
    board = client.get("/keypersons/dashboard")
    assert board.status_code == 200 and "发起集中清查" in board.text and "近期没有下发集中清查" in board.text
    assert 'name="group" value="stability"' in board.text and f'<option value="{w.community_a.id}"' in board.text
    english = client.get("/keypersons/dashboard?lang=en").text
    assert "Send a census" in english and "Census completion" in english and "kp.census." not in english
    client.get("/keypersons/dashboard?lang=zh")
    due = (today() + timedelta(days=5)).isoformat()
    sent = client.post("/keypersons/census", data={"csrf_token": csrf, "area_id": str(w.community_a.id),
                                                   "due_on": due, "group": ["released", "stability"]},
                       follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"].startswith("/tasks/assignments/")
    progress = client.get(sent.headers["location"])
    assert progress.status_code == 200 and "重点人员集中清查" in progress.text and "0/3" in progress.text
    empty = client.post("/keypersons/census", data={"csrf_token": csrf, "area_id": str(w.community_a.id),
                                                    "due_on": due, "group": "mental"})
    assert empty.status_code == 422 and "没有需要清查的重点人员" in empty.text and "发起集中清查" in empty.text
    undated = client.post("/keypersons/census", data={"csrf_token": csrf, "area_id": str(w.community_a.id)})
    assert undated.status_code == 422 and "请选择截止日期" in undated.text

    assignment_id = int(sent.headers["location"].rsplit("/", 1)[-1])
    _answer(s, w, _items(s, assignment_id)[ids["enrolled"]], factory, met=True, living=True)
    board = client.get("/keypersons/dashboard")
    assert 'id="kp-census-rate"><b>33.3%' in board.text and "甲社区第一网格" in board.text
    record = client.get(f"/keypersons/records/{ids['enrolled']}")
    assert "集中清查" in record.text and "已核实" in record.text and today().isoformat() in record.text

    csrf = log_in(client, "operator_a")  # assigns tasks, sees no key person: no form, no census
    assert client.post("/keypersons/census", data={"csrf_token": csrf, "area_id": str(w.community_a.id),
                                                   "due_on": due}).status_code == 403
    log_in(client, "worker_a1")
    assert client.get("/keypersons/dashboard").status_code == 403
    assert _count(s, Assignment) == 1
