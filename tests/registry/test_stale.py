"""Stale records become check items (shiyu.registry.stale): one per stale person, house and unit, opened once
however often the job runs; done with "confirmed", the record's confirmed_at moves and no new item opens."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from shiyu.core import outbox
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.registry import stale
from shiyu.registry.models import House, Person
from shiyu.tasks import service as tasks
from shiyu.tasks.models import WorkItem
from tests.factories import populated
from tests.registry.registry_fixtures import principal, registered_family

SYSTEM = Principal.system("test")


def test_stale_records_become_items_once_and_confirmation_moves_the_date(system_session, factory):
    s = system_session
    w = populated(s)
    ids = registered_family(s, w, "worker_a1", "operator_a")
    s.commit()
    s.info["principal"] = SYSTEM
    assert stale.open_checks(s, months=12) == 0  # everything was just registered
    old = utcnow() - timedelta(days=400)
    for model in (Person, House):
        s.execute(update(model).values(created_at=old))
    s.commit()
    opened = stale.open_checks(s, months=12)
    assert opened == len(ids["persons"]) + 1
    s.commit()
    assert stale.open_checks(s, months=12) == 0
    items = list(s.scalars(select(WorkItem).order_by(WorkItem.id)))
    assert {i.target_kind for i in items} == {"person", "house"}
    assert all(i.area_path == w.grids["a1"].area_path and i.source_ref for i in items)
    person_item = next(i for i in items if i.target_kind == "person")
    assert "张" not in person_item.target_label  # no name in clear on the item
    house_item = next(i for i in items if i.target_kind == "house")
    assert house_item.target_label.startswith("幸福小区")

    worker = principal(s, w, "worker_a1")
    s.info["principal"] = worker
    tasks.act(s, worker, person_item.id, "submit", data={"confirmed": True})
    tasks.act(s, worker, house_item.id, "submit", data={"confirmed": False, "note": "已改为出租"})
    s.commit()
    outbox.deliver_pending(factory)
    s.info["principal"] = SYSTEM
    s.expire_all()
    confirmed = s.get(Person, person_item.target_id)
    assert confirmed.confirmed_at is not None and confirmed.confirmed_at > old
    assert s.get(House, house_item.target_id).confirmed_at is None  # not confirmed: the date stays
    assert stale.open_checks(s, months=12) == 0
