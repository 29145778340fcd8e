"""Patrol check-ins and presence through the API, on both databases: a retried check-in is recorded once,
the scope of community A never shows community B, presence counts distinct five-minute slots whatever the
retries, and refusals are 4xx answers with stable codes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.patrol import service
from shiyu.patrol.models import PatrolCheckin, PresenceDay
from shiyu.patrol.schemas import CheckinIn
from tests.cases.case_fixtures import jpeg_bytes
from tests.factories import World, add_user, login, populated
from tests.patrol.patrol_fixtures import OUTSIDE, POINT_A1, POINT_A2, POINT_B1, SH, body, principal


@pytest.fixture
def world(system_session) -> World:
    w = populated(system_session)
    w.users["grid_leader_a"] = add_user(system_session, "grid_leader_a", w.community_a,
                                        [("grid_leader", w.community_a)])
    w.users["worker_operator_a"] = add_user(system_session, "worker_operator_a", w.grids["a1"],
                                            [("grid_worker", w.grids["a1"]), ("centre_operator", w.community_a)])
    system_session.commit()
    return w


def count(factory, model, **where) -> int:
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        stmt = select(func.count()).select_from(model)
        for name, value in where.items():
            stmt = stmt.where(getattr(model, name) == value)
        return s.scalar(stmt)


def test_a_retried_check_in_is_recorded_once(client, world, factory):
    h = login(client, "worker_a1")
    sent = body(POINT_A1, key="retry-me-0001", note="巡查正常")
    first = client.post("/api/v1/patrol/checkins", json=sent, headers=h)
    assert first.status_code == 201, first.text
    out = first.json()
    assert out["grid_id"] == world.grids["a1"].id and out["in_grid"] is True and out["created"] is True
    assert out["grid_name"] == "甲社区第一网格" and out["username"] == "worker_a1"
    for _ in range(2):
        again = client.post("/api/v1/patrol/checkins", json=sent, headers=h)
        assert again.status_code == 200 and again.json()["id"] == out["id"] and again.json()["created"] is False
    assert count(factory, PatrolCheckin) == 1
    changed = client.post("/api/v1/patrol/checkins", json={**sent, "note": "另一条"}, headers=h)
    assert changed.status_code == 409 and changed.json()["code"] == "idempotency_key_reused"
    # The same key is another user's own business.
    other = client.post("/api/v1/patrol/checkins", json=body(POINT_B1, key="retry-me-0001"),
                        headers=login(client, "worker_b1"))
    assert other.status_code == 201
    assert count(factory, PatrolCheckin) == 2


def test_a_lost_insert_race_answers_with_the_first_check_in(system_session, world, monkeypatch):
    """Two deliveries of one queued check-in at once: the later insert hits the unique key and answers with
    the winner's row instead of failing."""
    p = principal(system_session, world, "worker_a1")
    data = CheckinIn.model_validate(body(POINT_A1, key="race-key-0001"))
    system_session.info["principal"] = p
    winner, created = service.check_in(system_session, p, data, SH)
    assert created
    real, looks = service._replay, []

    def not_yet_committed(*args):
        looks.append(1)
        return None if len(looks) == 1 else real(*args)

    monkeypatch.setattr(service, "_replay", not_yet_committed)
    again, created = service.check_in(system_session, p, data, SH)
    assert not created and again.id == winner.id and len(looks) == 2


def test_where_a_check_in_may_be_made(client, world):
    h = login(client, "worker_a1")
    across = client.post("/api/v1/patrol/checkins", json=body(POINT_A2), headers=h)
    assert across.status_code == 201 and across.json()["grid_id"] == world.grids["a1"].id
    assert across.json()["in_grid"] is False  # recorded, flagged: GPS drifts, visits cross streets
    far = client.post("/api/v1/patrol/checkins", json=body(OUTSIDE), headers=h)
    assert far.status_code == 422 and far.json()["code"] == "outside_city"
    visit = client.post("/api/v1/patrol/checkins", json=body(POINT_A1, kind="visit"), headers=h)
    assert visit.status_code == 201 and visit.json()["kind"] == "visit"


def test_validation_errors_are_4xx_with_codes(client, world):
    worker = login(client, "worker_a1")
    # Patrols grid a1, and sees all of community A as its operator: grids it sees but does not patrol exist.
    both = login(client, "worker_operator_a")
    cases = [
        (worker, {**body(), "kind": "picnic"}, 422, "validation_failed"),
        (worker, {**body(), "idempotency_key": "short"}, 422, "validation_failed"),
        (worker, {k: v for k, v in body().items() if k != "client_time"}, 422, "validation_failed"),
        (worker, {**body(), "client_time": "2026-05-01T08:00:00"}, 422, "validation_failed"),  # no zone
        (worker, body(when=utcnow() + timedelta(hours=2)), 422, "client_time_out_of_range"),
        (worker, body(when=utcnow() - timedelta(days=30)), 422, "client_time_out_of_range"),
        (worker, body(grid_id=world.grids["a2"].id), 404, "not_found"),
        (worker, body(grid_id=world.grids["b1"].id), 404, "not_found"),
        (worker, body(attachment_id=987654), 404, "not_found"),
        (both, body(grid_id=world.community_a.id), 422, "not_a_grid"),
        (both, body(grid_id=world.grids["a2"].id), 403, "not_your_grid"),
    ]
    for h, sent, status, code in cases:
        r = client.post("/api/v1/patrol/checkins", json=sent, headers=h)
        assert (r.status_code, r.json()["code"]) == (status, code), (sent, r.text)
    denied = client.post("/api/v1/patrol/checkins", json=body(), headers=login(client, "operator_a"))
    assert denied.status_code == 403 and denied.json()["code"] == "forbidden"
    assert client.post("/api/v1/patrol/checkins", json=body()).status_code == 401


def test_a_photo_goes_with_one_check_in_only(client, world):
    h = login(client, "worker_a1")
    up = client.post("/api/v1/attachments", files={"file": ("p.jpg", jpeg_bytes(), "image/jpeg")}, headers=h)
    assert up.status_code == 201, up.text
    photo = up.json()["id"]
    ok = client.post("/api/v1/patrol/checkins", json=body(attachment_id=photo), headers=h)
    assert ok.status_code == 201 and ok.json()["attachment_id"] == photo
    again = client.post("/api/v1/patrol/checkins", json=body(attachment_id=photo), headers=h)
    assert again.status_code == 422 and again.json()["code"] == "attachment_unavailable"
    # The photo now belongs to the grid: the grid's leaders can open it, another worker's grid cannot.
    assert client.get(f"/api/v1/attachments/{photo}", headers=login(client, "leader_a")).status_code == 200
    assert client.get(f"/api/v1/attachments/{photo}", headers=login(client, "worker_b1")).status_code == 404


def test_scope_a_never_shows_b(client, world):
    mine = client.post("/api/v1/patrol/checkins", json=body(POINT_A1), headers=login(client, "worker_a1"))
    theirs = client.post("/api/v1/patrol/checkins", json=body(POINT_B1), headers=login(client, "worker_b1"))
    assert mine.status_code == theirs.status_code == 201

    def seen(username: str, query: str = "") -> set[int]:
        r = client.get(f"/api/v1/patrol/checkins?limit=500{query}", headers=login(client, username))
        assert r.status_code == 200, r.text
        return {c["id"] for c in r.json()["items"]}

    a, b = mine.json()["id"], theirs.json()["id"]
    assert seen("worker_a1") == {a}
    assert seen("worker_b1") == {b}
    assert seen("leader_a") == {a} and seen("leader_b") == {b}
    assert seen("admin") == {a, b}
    assert seen("admin", f"&grid_id={world.grids['b1'].id}") == {b}
    assert seen("admin", "&in_grid=false") == set()
    assert seen("handler_a") == set()  # a department has no business with patrols


def test_presence_counts_distinct_five_minute_slots(system_session, world):
    p = principal(system_session, world, "worker_a1")
    system_session.info["principal"] = p
    day = datetime(2026, 5, 6, 8, 0, tzinfo=SH)
    beats = [day, day + timedelta(minutes=2), day + timedelta(minutes=4, seconds=59),  # one slot
             day + timedelta(minutes=5), day + timedelta(minutes=12), day + timedelta(minutes=12)]
    for at in beats:
        row, _ = service.heartbeat(system_session, p, SH, now=at)
    system_session.commit()
    assert row.minutes == 15
    _, slot = service.heartbeat(system_session, p, SH, now=day.replace(hour=23, minute=59))
    assert slot == 287
    _, slot = service.heartbeat(system_session, p, SH, now=day + timedelta(days=1))
    assert slot == 96
    system_session.commit()
    system_session.info["principal"] = Principal.system("test")
    rows = list(system_session.scalars(select(PresenceDay).order_by(PresenceDay.day)))
    assert [(r.day.isoformat(), r.minutes) for r in rows] == [("2026-05-06", 20), ("2026-05-07", 5)]
    assert rows[0].first_seen_at == day and rows[0].last_seen_at == day.replace(hour=23, minute=59)
    assert rows[0].area_path == world.grids["a1"].area_path  # the worker's home area


def test_presence_api_is_idempotent_and_scoped(client, world):
    for _ in range(3):
        r = client.post("/api/v1/patrol/presence", headers=login(client, "worker_a1"))
        assert r.status_code == 200 and r.json()["minutes"] == 5, r.text
    assert client.post("/api/v1/patrol/presence", headers=login(client, "worker_b1")).status_code == 200
    today = r.json()["day"]

    def users(username: str, query: str = "") -> set[str]:
        got = client.get(f"/api/v1/patrol/presence?limit=500{query}", headers=login(client, username))
        assert got.status_code == 200, got.text
        return {row["username"] for row in got.json()["items"]}

    assert users("grid_leader_a") == {"worker_a1"}
    assert users("leader_a", f"&date={today}") == {"worker_a1"}
    assert users("leader_b") == {"worker_b1"}
    assert users("worker_a1") == {"worker_a1"}  # one's own, nobody else's
    assert users("admin", "&date=2020-01-01") == set()
    refused = client.post("/api/v1/patrol/presence", headers=login(client, "leader_a"))
    assert refused.status_code == 403
    bad = client.get("/api/v1/patrol/presence?date=yesterday", headers=login(client, "leader_a"))
    assert bad.status_code == 422 and bad.json()["code"] == "validation_failed"


def test_due_patrols_are_my_grids_without_a_check_in_today(client, system_session, world):
    system_session.info["principal"] = principal(system_session, world, "grid_leader_a")
    due = service.due_grids(system_session, system_session.info["principal"], SH)
    assert [(g.code, done) for g, done in due] == [("359901001001001", False), ("359901001001002", False)]
    r = client.post("/api/v1/patrol/checkins", json=body(POINT_A2), headers=login(client, "grid_leader_a"))
    assert r.status_code == 201 and r.json()["grid_id"] == world.grids["a2"].id and r.json()["in_grid"]
    system_session.expire_all()
    due = service.due_grids(system_session, system_session.info["principal"], SH)
    assert [(g.code, done) for g, done in due] == [("359901001001001", False), ("359901001001002", True)]
    no_grid = client.post("/api/v1/patrol/checkins", json=body(POINT_B1), headers=login(client, "grid_leader_a"))
    assert no_grid.status_code == 422 and no_grid.json()["code"] == "grid_required"
