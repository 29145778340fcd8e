"""Hand-over with both sides' confirmation: an intake from a prison opens a record only when the receiving
centre confirms every item; a transfer leaves the record with the sender (enrolled, visited) until the
receiver confirms, then moves it with its grade, form and last visit — the person is never nobody's."""

from __future__ import annotations

import pytest

from shiyu.core.paging import PageParams
from shiyu.core.scoping import Principal
from shiyu.keypersons import handover, service
from shiyu.keypersons.errors import KeyPersonError
from tests.keypersons.kp_fixtures import opened, today, world
from tests.registry.registry_fixtures import principal

ITEMS = ("释放证明书", "回执单")


def test_an_intake_needs_every_item_confirmed(system_session):
    s = system_session
    w = world(s)
    leader = principal(s, w, "leader_a")
    s.info["principal"] = leader
    sent = handover.send(s, leader, handover.Sending(group_code="released", to_grid_id=w.grids["a1"].id,
                                                     person_id=w.extra["a"]["persons"][0], from_org="省第二监狱",
                                                     sender_name="刘管教", document_no="释字001", items=ITEMS))
    receipt = handover.Receipt(received_items=("释放证明书",), grid_worker_id=w.users["worker_a1"].id,
                               grade="yellow", attributes={"offence": "盗窃罪", "released_on": str(today())})
    with pytest.raises(KeyPersonError) as lost:
        handover.receive(s, leader, sent.id, receipt, today())
    assert lost.value.code == "keyperson_items_missing" and lost.value.detail == {"missing": ["回执单"]}
    record = handover.receive(s, leader, sent.id, handover.Receipt(
        received_items=ITEMS, grid_worker_id=w.users["worker_a1"].id, grade="yellow",
        attributes={"offence": "盗窃罪", "released_on": str(today())}), today())
    assert (record.state, record.source, record.source_ref) == ("referred", "institution", "释字001")
    assert handover.get(s, sent.id).state == "received"
    with pytest.raises(KeyPersonError) as twice:
        handover.receive(s, leader, sent.id, receipt, today())
    assert twice.value.code == "keyperson_handover_closed"


def test_a_transfer_moves_the_record_only_when_received(system_session):
    s = system_session
    w = world(s)
    record_id = opened(s, w, w.extra["a"]["persons"][0])
    worker = principal(s, w, "worker_a1")
    s.info["principal"] = worker
    service.record_visit(s, worker, record_id, service.VisitReport(visited_on=today()), today())
    sender = principal(s, w, "leader_a")
    s.info["principal"] = sender
    with pytest.raises(KeyPersonError):  # inside the sender's own area is not a transfer
        handover.send(s, sender, handover.Sending(group_code="released", to_grid_id=w.grids["a2"].id,
                                                  record_id=record_id, items=ITEMS))
    sent = handover.send(s, sender, handover.Sending(group_code="released", to_grid_id=w.grids["b1"].id,
                                                     record_id=record_id, items=ITEMS))
    assert service.get_record(s, record_id).state == "enrolled"  # still the sender's, still visited
    receiver = principal(s, w, "leader_b")
    s.info["principal"] = receiver
    moved = handover.receive(s, receiver, sent.id, handover.Receipt(received_items=ITEMS,
                                                                    grid_worker_id=w.users["worker_b1"].id), today())
    assert moved.area_path == w.grids["b1"].area_path and moved.state == "enrolled"
    assert (moved.grade, moved.last_visit_on) == ("yellow", today())
    assert moved.attributes is not None and "盗窃罪" in moved.attributes
    s.info["principal"] = Principal.system("test")
    s.expire_all()
    old = service.get_record(s, record_id)
    assert old.state == "transferred" and old.next_due_on is None
    # the sender no longer sees the person's new record; the receiver does not see the old one
    s.info["principal"] = sender
    assert [r["id"] for r in service.list_records(s, service.RecordFilter(), _page(), today())[0]] == [record_id]
    s.info["principal"] = receiver
    assert [r["id"] for r in service.list_records(s, service.RecordFilter(), _page(), today())[0]] == [moved.id]


def _page() -> PageParams:
    return PageParams(limit=50, offset=0)
