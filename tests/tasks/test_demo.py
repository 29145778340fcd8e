"""The demo step: two admitted department types and a campaign over the demo worker's community with items in
mixed states, the worker's own grid's item left open for them."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select

from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.tasks import demo
from shiyu.tasks.models import TaskType, WorkItem
from tests.factories import add_user, populated


def test_the_demo_city_gets_types_a_campaign_and_mixed_items(system_session, factory):
    w = populated(system_session)
    add_user(system_session, "demo_grid_worker", w.grids["a1"], [("grid_worker", w.grids["a1"])])
    system_session.commit()
    line = demo.build(factory, ZoneInfo("Asia/Shanghai"), utcnow())
    assert line is not None and "2项准入事项" in line[0]
    with factory() as s:
        s.info["principal"] = Principal.system()
        types = {t.code: t.status for t in s.scalars(select(TaskType))}
        assert types == {"rental.check": "admitted", "hazard.screening": "admitted"}
        items = list(s.scalars(select(WorkItem).order_by(WorkItem.id)))
        states = {(i.grid_id, i.state) for i in items if i.assignment_id is not None}
        assert (w.grids["a1"].id, "open") in states and (w.grids["a2"].id, "done") in states
        assert any(i.source_ref == "demo:hazard:1" for i in items)
