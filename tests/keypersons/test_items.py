"""Visits as work items of the task engine: the visits due within a week become items for the record's grid
worker (once), the item done records the visit on the record through the outbox event, a visit recorded on
the record closes its item, and lost contact opens a search item whose "found" restores contact."""

from __future__ import annotations

import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from shiyu.core import outbox
from shiyu.core.scoping import Principal
from shiyu.keypersons import items, plans, service
from shiyu.keypersons.models import KeyPersonRecord, Visit
from shiyu.tasks import service as tasks
from shiyu.tasks.models import WorkItem
from tests.keypersons.kp_fixtures import opened, today, world
from tests.registry.registry_fixtures import principal

TZ = ZoneInfo("Asia/Shanghai")


def _due_now(s, record_id: int, days_ago: int = 30) -> None:
    s.execute(update(KeyPersonRecord).where(KeyPersonRecord.id == record_id)
              .values(last_visit_on=today() - timedelta(days=days_ago)))
    plans.recompute_due(s)


def test_a_due_visit_is_one_item_and_done_records_the_visit(system_session, factory):
    s = system_session
    w = world(s)
    record_id = opened(s, w, w.extra["a"]["persons"][0])
    s.info["principal"] = Principal.system("test")
    _due_now(s, record_id)
    assert items.open_due_items(s, today(), TZ) == 1
    assert items.open_due_items(s, today(), TZ) == 0
    s.commit()
    item = s.scalar(select(WorkItem).where(WorkItem.source_ref == items.visit_ref(record_id, today())))
    assert item is not None and item.assignee_id == w.users["worker_a1"].id
    assert item.target_label == f"重点人员走访 KP-{record_id}" and "陈" not in item.title
    worker = principal(s, w, "worker_a1")
    s.info["principal"] = worker
    tasks.act(s, worker, item.id, "submit", client_uuid=str(uuid.uuid4()),
              data={"met": True, "findings": "在家，情绪稳定", "assessed_grade": "绿",
                    "position": {"lon": 117.95, "lat": 24.6}})
    s.commit()
    assert outbox.deliver_pending(factory) >= 1
    s.info["principal"] = Principal.system("test")
    s.expire_all()
    record = service.get_record(s, record_id)
    assert record.last_visit_on == today() and record.next_due_on == today() + timedelta(days=30)
    visit = s.scalar(select(Visit).where(Visit.record_id == record_id, Visit.task_item_id == item.id))
    assert visit is not None and visit.by_id == w.users["worker_a1"].id and visit.lon == 117.95
    assert service.detail(s, Principal.system("t"), record_id, today())["pending_grade"]["to_grade"] == "green"
    # delivered again (at-least-once): still one visit
    assert len(service.visits(s, record_id)) == 1


def test_a_visit_on_the_record_closes_its_item_and_counts_once(system_session, factory):
    s = system_session
    w = world(s)
    record_id = opened(s, w, w.extra["a"]["persons"][0])
    s.info["principal"] = Principal.system("test")
    _due_now(s, record_id)
    items.open_due_items(s, today(), TZ)
    s.commit()
    worker = principal(s, w, "worker_a1")
    s.info["principal"] = worker
    service.record_visit(s, worker, record_id, service.VisitReport(visited_on=today()), today())
    s.commit()
    outbox.deliver_pending(factory)
    s.info["principal"] = Principal.system("test")
    s.expire_all()
    item = s.scalar(select(WorkItem).where(WorkItem.source_ref == items.visit_ref(record_id, today())))
    assert item is not None and item.state == "done"
    assert len(service.visits(s, record_id)) == 1


def test_lost_contact_opens_a_search_and_found_restores_contact(system_session, factory):
    s = system_session
    w = world(s)
    record_id = opened(s, w, w.extra["a"]["persons"][0])
    worker = principal(s, w, "worker_a1")
    s.info["principal"] = worker
    service.act(s, worker, record_id, "lose_contact", today=today())
    s.commit()
    search = s.scalar(select(WorkItem).where(WorkItem.source_ref == f"kp:{record_id}:{today()}:search"))
    assert search is not None and search.assignee_id == w.users["worker_a1"].id
    tasks.act(s, worker, search.id, "submit", data={"found": True, "whereabouts": "已回家"})
    s.commit()
    outbox.deliver_pending(factory)
    s.info["principal"] = Principal.system("test")
    s.expire_all()
    assert service.get_record(s, record_id).state == "enrolled"


def test_the_police_officer_on_the_team_may_report_lost_contact(system_session):
    """The search item is the domain's: written by the system, not by the officer (who holds no task right)."""
    s = system_session
    w = world(s)
    record_id = opened(s, w, w.extra["a"]["persons"][0])
    police = principal(s, w, "police_a")
    s.info["principal"] = police
    assert service.act(s, police, record_id, "lose_contact", today=today()).state == "lost_contact"
    assert s.info["principal"] is police
    service.act(s, police, record_id, "regain", today=today())
    service.record_visit(s, police, record_id, service.VisitReport(visited_on=today()), today())
    s.commit()
