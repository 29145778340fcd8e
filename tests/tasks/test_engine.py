"""The task engine's service: fan-out, idempotent opening and submitting, every (state, action) pair of the
transition table, scoping, events, warnings, progress and the admitted list — on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shiyu.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shiyu.core.outbox import OutboxEvent
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.tasks import service
from shiyu.tasks.models import ItemState, Submission, TypeStatus, WorkItem
from shiyu.tasks.service import TargetRef
from shiyu.tasks.table import ACTIONS, TABLE
from tests.factories import add_user, populated
from tests.tasks.task_fixtures import RENTAL_FORM, campaign, principal, rental_type

GOOD = {"tenants": 3, "registered": True, "hazards": ["电线私拉"], "where": {"lon": 117.95, "lat": 24.6}}
SYSTEM = Principal.system("test")


@pytest.fixture
def world(system_session):
    w = populated(system_session)
    system_session.commit()
    return w


def _as(s, w, name):
    p = principal(s, w, name)
    s.info["principal"] = p
    return p


def _items(s, assignment_id):
    s.info["principal"] = SYSTEM
    return list(s.scalars(select(WorkItem).where(WorkItem.assignment_id == assignment_id).order_by(WorkItem.grid_id)))


def test_an_assignment_fans_out_one_item_per_grid(system_session, world):
    s, w = system_session, world
    assignment = campaign(s, w)
    items = _items(s, assignment.id)
    assert [i.grid_id for i in items] == [w.grids["a1"].id, w.grids["a2"].id]
    assert [i.area_path for i in items] == [w.grids["a1"].area_path, w.grids["a2"].area_path]
    assert all(i.state == "open" and i.target_kind == "grid" and i.title == "出租房屋专项检查" for i in items)
    assert assignment.issuer_area_id == w.community_a.id and assignment.area_path == w.community_a.area_path
    # a community stands for its grids; a grid named twice is one item
    operator = _as(s, w, "operator_a")
    again = service.assign(s, operator, type_code="rental.check", title="复查", due_at=utcnow() + timedelta(days=3),
                           grid_ids=[w.community_a.id, w.grids["a1"].id])
    assert len(_items(s, again.id)) == 2


def test_targets_fan_out_one_item_per_record(system_session, world):
    s, w = system_session, world
    rental_type(s)
    operator = _as(s, w, "operator_a")
    targets = [TargetRef("house", 11, w.grids["a1"].id, "幸福小区3栋501"),
               TargetRef("house", 12, w.grids["a2"].id, "幸福小区5栋101")]
    assignment = service.assign(s, operator, type_code="rental.check", title="出租屋", targets=targets,
                                due_at=utcnow() + timedelta(days=3))
    items = _items(s, assignment.id)
    assert [(i.target_kind, i.target_id, i.target_label) for i in items] == [
        ("house", 11, "幸福小区3栋501"), ("house", 12, "幸福小区5栋101")]
    assert [i.assignee_id for i in items] == [None, None]


def test_a_target_may_name_its_worker(system_session, world):
    """A domain that knows whose record a target is (a key person's grid worker) names them: only they work it."""
    s, w = system_session, world
    rental_type(s)
    worker = w.users["worker_a1b"] = add_user(s, "worker_a1b", w.grids["a1"], [("grid_worker", w.grids["a1"])])
    operator = _as(s, w, "operator_a")
    targets = [TargetRef("house", 11, w.grids["a1"].id, "3栋501", assignee_id=worker.id),
               TargetRef("house", 12, w.grids["a1"].id, "5栋101")]
    assignment = service.assign(s, operator, type_code="rental.check", title="出租屋", targets=targets,
                                due_at=utcnow() + timedelta(days=3))
    s.commit()
    named, anyone = sorted(_items(s, assignment.id), key=lambda i: i.target_id or 0)
    assert (named.assignee_id, anyone.assignee_id) == (worker.id, None)
    with pytest.raises(Forbidden) as e:
        service.act(s, _as(s, w, "worker_a1"), named.id, "start")
    assert e.value.code == "task_not_assignee"
    assert service.act(s, _as(s, w, "worker_a1b"), named.id, "start").state == "in_progress"


def test_assigning_is_refused_outside_the_centre_for_unadmitted_types_and_in_the_past(system_session, world):
    s, w = system_session, world
    rental_type(s)
    operator = _as(s, w, "operator_a")
    due = utcnow() + timedelta(days=1)
    with pytest.raises(NotFound) as e:  # a grid out of sight is as unknown as one that does not exist
        service.assign(s, operator, type_code="rental.check", title="越界", due_at=due, grid_ids=[w.grids["b1"].id])
    assert e.value.code == "task_area_unknown"
    s.info["principal"] = SYSTEM
    w.users["instructor"] = add_user(s, "instructor", w.street, [("grid_instructor", w.street),
                                                                 ("centre_operator", w.community_a)])
    s.commit()
    with pytest.raises(Forbidden) as e:  # a grid in sight but outside the centre's own area
        service.assign(s, _as(s, w, "instructor"), type_code="rental.check", title="越界", due_at=due,
                       grid_ids=[w.grids["a1"].id, w.grids["b1"].id])
    assert e.value.code == "task_assign_forbidden"
    with pytest.raises(ValidationFailed) as e:
        service.assign(s, operator, type_code="rental.check", title="过期", due_at=utcnow() - timedelta(hours=1),
                       grid_ids=[w.grids["a1"].id])
    assert e.value.code == "task_due_invalid"
    with pytest.raises(ValidationFailed) as e:
        service.assign(s, operator, type_code="rental.check", title="无对象", due_at=due)
    assert e.value.code == "task_no_targets"
    worker = _as(s, w, "worker_a1")
    with pytest.raises(Forbidden):
        service.assign(s, worker, type_code="rental.check", title="x", due_at=due, grid_ids=[w.grids["a1"].id])
    proposed = service.propose_type(s, _as(s, w, "handler_a"), code="dept.check", name="部门检查",
                                    department_id=w.departments["a"].id, form=RENTAL_FORM, legal_basis="依据")
    assert proposed.status == TypeStatus.PROPOSED
    with pytest.raises(Conflict) as e:
        service.assign(s, _as(s, w, "operator_a"), type_code="dept.check", title="x", due_at=due,
                       grid_ids=[w.grids["a1"].id])
    assert e.value.code == "task_type_not_admitted"


def test_open_item_is_idempotent_on_type_and_source_ref(system_session, world):
    s, w = system_session, world
    rental_type(s)
    target = TargetRef("person", 7, w.grids["a1"].id, "幸福小区3栋501 住户")
    due = utcnow() + timedelta(days=30)
    first = service.open_item(s, type_code="rental.check", target=target, due_at=due, source_ref="person:7:2026")
    s.commit()
    second = service.open_item(s, type_code="rental.check", target=target, due_at=due, source_ref="person:7:2026")
    assert second.id == first.id
    assert s.scalar(select(func.count()).select_from(WorkItem)) == 1
    other = service.open_item(s, type_code="rental.check", target=target, due_at=due, source_ref="person:7:2027")
    assert other.id != first.id and other.title == "出租房屋检查" and other.area_path == w.grids["a1"].area_path
    with pytest.raises(ValidationFailed):  # an item belongs to a grid
        service.open_item(s, type_code="rental.check", target=TargetRef("person", 7, w.community_a.id),
                          due_at=due, source_ref="person:7:x")


def test_the_same_client_uuid_stores_once_and_answers_the_first_result(system_session, world):
    s, w = system_session, world
    first, second = _items(s, campaign(s, w).id)
    worker = _as(s, w, "worker_a1")
    key = str(uuid.uuid4())
    done = service.act(s, worker, first.id, "submit", data=GOOD, client_uuid=key)
    s.commit()
    assert done.state == "done" and done.data["tenants"] == 3
    again = service.act(s, worker, first.id, "submit", data={**GOOD, "tenants": 9}, client_uuid=key)
    s.commit()
    assert again.id == first.id and again.data["tenants"] == 3
    s.info["principal"] = SYSTEM
    assert s.scalar(select(func.count()).select_from(Submission)) == 1
    submission = s.scalar(select(Submission))
    assert (submission.lon, submission.lat, submission.client_uuid) == (117.95, 24.6, key)
    assert s.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.topic == "task.item_done")) == 1
    s.info["principal"] = worker
    with pytest.raises(Conflict) as e:  # a uuid belongs to one submission of one item
        service.act(s, worker, second.id, "submit", data=GOOD, client_uuid=key)
    assert e.value.code == "task_uuid_reused"
    with pytest.raises(ValidationFailed):
        service.act(s, worker, second.id, "submit", data=GOOD, client_uuid="not-a-uuid")


def _put(s, item_id, state):
    s.info["principal"] = SYSTEM
    item = s.get(WorkItem, item_id)
    item.state = state.value
    item.outcome = {"done": "done", "unable": "unable"}.get(state.value)
    s.commit()


def _inputs(action):
    if action == "submit":
        return {"data": GOOD}
    if action in ("unable", "return"):
        return {"reason": "房屋已拆除"}
    return {}


@pytest.mark.parametrize("state", list(ItemState))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_state_and_action_pair(system_session, world, state, action):
    """Generated from the table: allowed pairs reach their target, every other pair is a 409 and changes
    nothing; the worker acts for worker actions, the community's operator for reviews."""
    s, w = system_session, world
    item = _items(s, campaign(s, w, grids=("a1",)).id)[0]
    _put(s, item.id, state)
    actor = _as(s, w, "worker_a1" if ACTIONS[action].permission == "task.work" else "operator_a")
    transition = TABLE.get((state, action))
    if transition is None:
        with pytest.raises(Conflict) as e:
            service.act(s, actor, item.id, action, **_inputs(action))
        assert e.value.code == "task_action_not_allowed" and e.value.status == 409
        s.rollback()
        s.info["principal"] = SYSTEM
        assert s.get(WorkItem, item.id).state == state.value
        return
    done = service.act(s, actor, item.id, action, **_inputs(action))
    s.commit()
    assert done.state == transition.target.value


@pytest.mark.parametrize("action", list(ACTIONS))
def test_each_action_needs_its_permission(system_session, world, action):
    s, w = system_session, world
    item = _items(s, campaign(s, w, grids=("a1",)).id)[0]
    source = ACTIONS[action].sources[0]
    _put(s, item.id, source)
    # A grid instructor sees the grid's items but works none of them; a grid worker reviews nothing.
    if "instructor_a" not in w.users:
        w.users["instructor_a"] = add_user(s, "instructor_a", w.community_a, [("grid_instructor", w.community_a)])
        s.commit()
    wrong = _as(s, w, "instructor_a" if ACTIONS[action].permission == "task.work" else "worker_a1")
    with pytest.raises(Forbidden) as e:
        service.act(s, wrong, item.id, action, **_inputs(action))
    assert e.value.code == "task_action_forbidden"


def test_required_inputs_and_the_assignee(system_session, world):
    s, w = system_session, world
    rental_type(s)
    item = service.open_item(s, type_code="rental.check", target=TargetRef("house", 1, w.grids["a1"].id),
                             due_at=utcnow() + timedelta(days=1), source_ref="house:1",
                             assignee_id=w.users["leader_a"].id)
    s.commit()
    worker = _as(s, w, "worker_a1")
    with pytest.raises(Forbidden) as e:
        service.act(s, worker, item.id, "start")
    assert e.value.code == "task_not_assignee"
    s.info["principal"] = SYSTEM
    s.get(WorkItem, item.id).assignee_id = None
    s.commit()
    worker = _as(s, w, "worker_a1")
    with pytest.raises(ValidationFailed) as e:
        service.act(s, worker, item.id, "unable", reason="  ")
    assert e.value.code == "task_field_required"
    with pytest.raises(ValidationFailed) as e:
        service.act(s, worker, item.id, "submit", data={"tenants": "三", "extra": 1})
    assert e.value.code == "task_data_invalid"
    assert {(p["field"], p["problem"]) for p in e.value.detail} == {
        ("extra", "unknown"), ("tenants", "not_number"), ("registered", "required")}
    with pytest.raises(ValidationFailed) as e:
        service.act(s, worker, item.id, "start", data=GOOD)
    assert e.value.code == "task_data_not_expected"
    with pytest.raises(NotFound):
        service.act(s, worker, item.id, "delete")


def test_a_worker_of_grid_a_never_sees_grid_b(system_session, world):
    s, w = system_session, world
    rental_type(s)
    leader_b = _as(s, w, "leader_b")
    b_campaign = service.assign(s, leader_b, type_code="rental.check", title="乙社区", grid_ids=[w.grids["b1"].id],
                                due_at=utcnow() + timedelta(days=2))
    a_item = _items(s, campaign(s, w).id)[0]
    b_item = _items(s, b_campaign.id)[0]
    s.commit()
    worker_a = _as(s, w, "worker_a1")
    assert [i.grid_id for i in service.items_for_worker(s, worker_a)] == [w.grids["a1"].id]
    assert s.scalar(select(func.count()).select_from(WorkItem)) == 1
    with pytest.raises(NotFound):
        service.get_item(s, b_item.id)
    with pytest.raises(NotFound):
        service.act(s, worker_a, b_item.id, "start")
    worker_b = _as(s, w, "worker_b1")
    assert [i.id for i in service.items_for_worker(s, worker_b)] == [b_item.id]
    with pytest.raises(NotFound):
        service.act(s, worker_b, a_item.id, "submit", data=GOOD)
    operator_a = _as(s, w, "operator_a")
    with pytest.raises(NotFound):
        service.act(s, operator_a, b_item.id, "review")


def test_done_unable_and_review_are_events_in_the_same_transaction(system_session, world):
    s, w = system_session, world
    first, second = _items(s, campaign(s, w).id)
    service.act(s, _as(s, w, "worker_a1"), first.id, "submit", data=GOOD)
    s.info["principal"] = SYSTEM
    service.act(s, SYSTEM, second.id, "unable", reason="整栋拆迁")
    service.act(s, _as(s, w, "operator_a"), first.id, "review")
    s.commit()
    s.info["principal"] = SYSTEM
    events = {e.topic: e for e in s.scalars(select(OutboxEvent))}
    done = events["task.item_done"].payload
    assert done["item_id"] == first.id and done["type_code"] == "rental.check" and done["data"]["tenants"] == 3
    assert done["target_kind"] == "grid" and done["by"] == w.users["worker_a1"].id and done["done_at"]
    assert events["task.item_unable"].payload["reason"] == "整栋拆迁"
    assert events["task.item_reviewed"].payload["outcome"] == "done"
    s.rollback()


def test_warnings_yellow_then_red_once_each(system_session, world):
    s, w = system_session, world
    item = _items(s, campaign(s, w, grids=("a1",), days=2).id)[0]
    s.commit()
    now = utcnow()
    near = timedelta(hours=24)
    assert service.raise_warnings(s, now=now, near=near) == 0
    assert service.raise_warnings(s, now=now + timedelta(days=1, hours=1), near=near) == 1
    assert service.raise_warnings(s, now=now + timedelta(days=1, hours=2), near=near) == 0
    assert s.get(WorkItem, item.id).warning == "yellow"
    assert service.raise_warnings(s, now=now + timedelta(days=3), near=near) == 1
    assert service.raise_warnings(s, now=now + timedelta(days=4), near=near) == 0
    s.commit()
    levels = [e.payload["level"] for e in s.scalars(select(OutboxEvent).where(OutboxEvent.topic == "task.item_warning")
                                                    .order_by(OutboxEvent.id))]
    assert levels == ["yellow", "red"]


def test_progress_by_area_counts_what_the_caller_sees(system_session, world):
    s, w = system_session, world
    rental_type(s)
    leader = _as(s, w, "admin")
    assignment = service.assign(s, leader, type_code="rental.check", title="全街道", grid_ids=[w.street.id],
                                due_at=utcnow() + timedelta(days=2))
    items = _items(s, assignment.id)
    assert len(items) == 4 and assignment.issuer_area_id == w.city.id  # the admin's own centre issues
    service.act(s, SYSTEM, items[0].id, "submit", data=GOOD)
    service.act(s, SYSTEM, items[1].id, "unable", reason="无人")
    s.commit()
    admin = _as(s, w, "admin")
    assert [(r.name, r.items) for r in service.progress(s, admin, assignment.id)] == [("东区", 4)]
    rows = {r.name: r for r in service.progress(s, admin, assignment.id, under_area_id=w.street.id)}
    assert set(rows) == {"甲社区", "乙社区"}
    assert (rows["甲社区"].items, rows["甲社区"].done, rows["甲社区"].unable, rows["甲社区"].percent) == (2, 1, 1, 100)
    assert (rows["乙社区"].items, rows["乙社区"].open, rows["乙社区"].percent) == (2, 2, 0)
    grids = {r.name: r for r in service.progress(s, admin, assignment.id, under_area_id=w.community_a.id)}
    assert (grids["甲社区第一网格"].done, grids["甲社区第二网格"].unable) == (1, 1)
    later = utcnow() + timedelta(days=3)
    assert sum(r.overdue for r in service.progress(s, admin, assignment.id, now=later)) == 2
    operator_a = _as(s, w, "operator_a")  # community A's operator sees community A's grids only
    mine = service.progress(s, operator_a, type_code="rental.check")
    assert {r.name for r in mine} == {"甲社区第一网格", "甲社区第二网格"}


def test_the_same_level_centre_admits_what_a_department_proposes(system_session, world):
    s, w = system_session, world
    handler = _as(s, w, "handler_a")
    proposed = service.propose_type(s, handler, code="fire.check", name="安全隐患排查",
                                    department_id=w.departments["a"].id, form=RENTAL_FORM,
                                    legal_basis="《消防法》", cycle_days=30)
    assert proposed.area_id == w.community_a.id and proposed.proposed_by_id == w.users["handler_a"].id
    with pytest.raises(NotFound):  # another department is not even visible to this one's staff
        service.propose_type(s, handler, code="other.check", name="x", department_id=w.departments["b"].id,
                             form=RENTAL_FORM, legal_basis="y")
    with pytest.raises(NotFound):  # community B's centre does not even see community A's proposals
        service.decide_type(s, _as(s, w, "leader_b"), proposed.id, "admit")
    with pytest.raises(Forbidden) as e:  # the city sees it, but the same-level centre decides
        service.decide_type(s, _as(s, w, "admin"), proposed.id, "admit")
    assert e.value.code == "task_admit_forbidden"
    with pytest.raises(Forbidden):  # an operator holds no task.admit
        service.decide_type(s, _as(s, w, "operator_a"), proposed.id, "admit")
    with pytest.raises(ValidationFailed):  # refusing needs a reason
        service.decide_type(s, _as(s, w, "leader_a"), proposed.id, "refuse")
    admitted = service.decide_type(s, _as(s, w, "leader_a"), proposed.id, "admit")
    assert admitted.status == "admitted" and admitted.admitted_by_area_id == w.community_a.id
    assert admitted.admitted_at is not None
    with pytest.raises(Conflict):
        service.decide_type(s, _as(s, w, "leader_a"), proposed.id, "admit")
    with pytest.raises(Forbidden) as e:  # seeing a department is not proposing for it
        service.propose_type(s, _as(s, w, "admin"), code="b.check", name="x", legal_basis="y",
                             department_id=w.departments["a"].id, form=[])
    assert e.value.code == "task_propose_forbidden"
    own = service.propose_type(s, _as(s, w, "leader_a"), code="own.check", name="自拟", legal_basis="z",
                               department_id=w.departments["a"].id, form=[])
    with pytest.raises(Forbidden) as e:
        service.decide_type(s, _as(s, w, "leader_a"), own.id, "admit")
    assert e.value.code == "task_admit_own"
    exited = service.exit_type(s, _as(s, w, "leader_a"), proposed.id, "任务已结束")
    assert exited.status == "exited" and exited.exit_at is not None


def test_forms_are_checked_when_proposed(system_session, world):
    s, w = system_session, world
    handler = _as(s, w, "handler_a")
    bad = [{"name": "Bad Name", "label": "x", "type": "text"}, {"name": "c", "label": "选项", "type": "choice"},
           {"name": "t", "label": "类型", "type": "video"}]
    with pytest.raises(ValidationFailed) as e:
        service.propose_type(s, handler, code="bad.form", name="坏表单", department_id=w.departments["a"].id,
                             form=bad, legal_basis="x")
    assert [p["problem"] for p in e.value.detail] == ["bad_name", "bad_options", "bad_type"]


def test_ensure_system_type_is_idempotent(system_session):
    s = system_session
    first = service.ensure_system_type(s, "keyperson.visit", "重点人员走访", RENTAL_FORM[:1], cycle_days=30)
    again = service.ensure_system_type(s, "keyperson.visit", "重点人员走访", RENTAL_FORM[:2], cycle_days=30)
    assert again.id == first.id and len(again.form) == 2 and again.status == "admitted" and again.system
