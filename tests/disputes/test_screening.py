"""排查 rounds: a community centre sends the screening type to every grid; one grid answers 零报告, the other has
not answered yet — 排查率 is one half; the API refuses another community's area; a 零报告 must be a yes/no."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from shiyu.core.errors import ValidationFailed
from shiyu.core.timeutil import utcnow
from shiyu.disputes import indicators, screening
from shiyu.tasks import service as tasks
from shiyu.tasks.models import WorkItem
from tests.factories import login, populated
from tests.registry.registry_fixtures import principal


def test_a_round_to_every_grid_and_the_screening_rate(system_session):
    s = system_session
    w = populated(s)
    s.commit()
    leader = principal(s, w, "leader_a")
    s.info["principal"] = leader
    assert indicators.compute(s)["screening_rate"] is None
    round_ = screening.start_round(s, leader, area_id=w.community_a.id, due_at=utcnow() + timedelta(days=7))
    items = {i.grid_id: i for i in s.scalars(select(WorkItem).where(WorkItem.assignment_id == round_.id))}
    assert set(items) == {w.grids["a1"].id, w.grids["a2"].id}
    s.commit()

    worker = principal(s, w, "worker_a1")
    s.info["principal"] = worker
    with pytest.raises(ValidationFailed):
        tasks.act(s, worker, items[w.grids["a1"].id].id, "submit", data={"zero_report": "没有"})
    s.rollback()
    tasks.act(s, worker, items[w.grids["a1"].id].id, "submit", data={"zero_report": True, "note": "走访12户"})
    s.commit()

    s.info["principal"] = leader
    figures = indicators.compute(s)
    assert figures["screening_rate"] == 0.5
    assert figures["screening"] == {"grids": 2, "reported": 1, "zero_reports": 1, "rate": 0.5}
    s.info["principal"] = principal(s, w, "leader_b")
    assert indicators.compute(s)["screening"]["grids"] == 0  # B sees none of A's round


def test_the_api_sends_a_round_only_where_the_caller_assigns(client, system_session):
    w = populated(system_session)
    system_session.commit()
    h = login(client, "leader_a")
    due = (utcnow() + timedelta(days=3)).isoformat()
    r = client.post("/api/v1/disputes/screening", headers=h, json={"area_id": w.community_a.id, "due_at": due})
    assert r.status_code == 201 and r.json()["grids"] == 2  # every grid under the community
    assert client.post("/api/v1/disputes/screening", headers=h,
                       json={"area_id": w.community_b.id, "due_at": due}).status_code in (403, 404)
    assert client.post("/api/v1/disputes/screening", headers=login(client, "worker_a1"),
                       json={"area_id": w.grids["a1"].id, "due_at": due}).status_code == 403
