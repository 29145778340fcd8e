"""Parked deliveries through the API and the page: only a city-wide administrator sees and acts on them;
redeliver and discard are audited, and a redelivered event takes effect once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shiyu.core import outbox
from shiyu.core.audit import AuditEntry
from shiyu.core.outbox import OutboxDelivery
from shiyu.core.scoping import Principal
from tests.core.test_outbox import Flaky, _effects, _emit
from tests.factories import add_user, login, populated
from tests.web.test_pages import hx, log_in


@pytest.fixture
def parked(factory, system_session, monkeypatch):
    """Two deliveries parked by a subscriber that fails (then is fixed); returns (subscriber, delivery ids)."""
    w = populated(system_session)
    add_user(system_session, "admin_a", w.community_a, [("admin", w.community_a)])
    system_session.commit()
    monkeypatch.setitem(outbox._POLICY, "current", outbox.Policy(max_attempts=2, backoff_base_seconds=0.0,
                                                                  backoff_max_seconds=0.0))
    sub = Flaky("parking").install(monkeypatch)
    ids = _emit(factory, ("t.a", 1), ("t.b", 2))
    sub.fail_for = set(ids)
    outbox.deliver_pending(factory)
    sub.fail_for = set()
    with factory() as s:
        deliveries = list(s.scalars(select(OutboxDelivery.id).where(OutboxDelivery.subscriber == "parking")
                                    .order_by(OutboxDelivery.event_id)))
    return sub, ids, deliveries


def _audit(factory, action: str) -> list[AuditEntry]:
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def test_the_city_admin_lists_redelivers_and_discards(client, factory, parked):
    sub, ids, deliveries = parked
    h = login(client, "admin")
    page = client.get("/api/v1/outbox/parked", headers=h).json()
    assert page["total"] == 2
    assert client.get("/readyz").json()["outbox_parked"] == 2
    first = page["items"][0]
    assert (first["id"], first["topic"], first["subscriber"], first["aggregate_id"], first["attempts"]) == (
        deliveries[0], "t.a", "parking", 1, 2)
    assert "cannot take event" in first["last_error"] and first["parked_at"] and first["created_at"]

    assert client.post(f"/api/v1/outbox/parked/{deliveries[0]}/redeliver", headers=h).status_code == 204
    assert client.post(f"/api/v1/outbox/parked/{deliveries[1]}/discard", headers=h).status_code == 204
    assert client.get("/api/v1/outbox/parked", headers=h).json()["total"] == 0
    outbox.deliver_pending(factory)
    assert sub.seen == [ids[0]]  # the discarded one never runs
    assert _effects(factory, "parking") == {ids[0]: 1}  # the failed attempts left nothing

    [redone] = _audit(factory, "outbox_redeliver")
    assert redone.object_id == str(deliveries[0]) and redone.actor_name == "admin"
    assert redone.after["subscriber"] == "parking" and redone.after["topic"] == "t.a"
    [dropped] = _audit(factory, "outbox_discard")
    assert dropped.object_id == str(deliveries[1])

    again = client.post(f"/api/v1/outbox/parked/{deliveries[1]}/redeliver", headers=h)
    assert again.status_code == 409 and again.json()["code"] == "outbox.not_parked"
    assert client.post("/api/v1/outbox/parked/999999/discard", headers=h).status_code == 404


@pytest.mark.parametrize("who", ["admin_a", "auditor", "leader_a"])
def test_nobody_below_the_city_admin_reaches_them(client, factory, parked, who):
    _sub, _ids, deliveries = parked
    h = login(client, who)
    assert client.get("/api/v1/outbox/parked", headers=h).status_code == 403
    assert client.post(f"/api/v1/outbox/parked/{deliveries[0]}/redeliver", headers=h).status_code == 403
    assert client.post(f"/api/v1/outbox/parked/{deliveries[0]}/discard", headers=h).status_code == 403
    assert _audit(factory, "outbox_redeliver") == [] and _audit(factory, "outbox_discard") == []
    with factory() as s:
        assert outbox.parked_count(s) == 2


def test_the_page_shows_them_and_redelivers(client, factory, parked):
    sub, ids, deliveries = parked
    csrf = log_in(client, "admin")
    r = client.get("/admin/outbox")
    assert r.status_code == 200 and f'id="delivery-{deliveries[0]}"' in r.text and "cannot take event" in r.text
    r = client.post(f"/admin/outbox/{deliveries[0]}/redeliver", headers=hx(csrf))
    assert r.headers["HX-Redirect"] == "/admin/outbox?done=redeliver"
    outbox.deliver_pending(factory)
    assert sub.seen == [ids[0]]
    r = client.get("/admin/outbox?done=redeliver")
    assert f'id="delivery-{deliveries[0]}"' not in r.text and f'id="delivery-{deliveries[1]}"' in r.text
    r = client.post(f"/admin/outbox/{deliveries[0]}/discard", headers=hx(csrf))
    assert r.status_code == 409 and ("no longer parked" in r.text or "不在搁置" in r.text)

    log_in(client, "admin_a")
    assert client.get("/admin/outbox").status_code == 403
