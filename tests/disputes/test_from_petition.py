"""信访转入 through the outbox: a petition officer's "转为矛盾纠纷" opens one dispute inside the petition's area,
its applicants the petitioners found in the register, the chosen type (其他 when unknown), the petition's
timeline answered with the dispute's code — and a second request is refused where it is made, a repeated
event opens nothing."""

from __future__ import annotations

import pytest
from shapely.geometry import Point, shape
from sqlalchemy import select

from shiyu.core import outbox
from shiyu.core.errors import ShiyuError
from shiyu.core.scoping import Principal
from shiyu.disputes import from_petition
from shiyu.disputes.models import Dispute, Party
from shiyu.org.areas.models import Area
from shiyu.petitions import service as petitions
from shiyu.petitions.models import PetitionEvent
from shiyu.registry.models import Person
from tests.keypersons.kp_fixtures import world
from tests.petitions.petition_fixtures import as_user, officers, register
from tests.registry.registry_fixtures import id_number

TEST = Principal.system("test")


def _disputes(s) -> list[Dispute]:
    s.info["principal"] = TEST
    return list(s.scalars(select(Dispute).order_by(Dispute.id)))


def test_a_petition_turned_into_a_dispute_opens_one_with_the_registered_petitioners(system_session, factory):
    s = system_session
    w = world(s)
    officers(s, w)
    person = s.get(Person, w.extra["a"]["persons"][0])
    petition = register(s, w, "officer_a", w.community_a.id, name="陈建国", id_no=person.id_number,
                        demands="楼上漏水多次协商未果，请求调处", group_size=3)
    officer = as_user(s, w, "officer_a")
    petitions.link(s, officer, petition.id, "spawn_dispute", "邻里纠纷，宜调解", dispute_type="neighbour")
    with pytest.raises(ShiyuError) as twice:
        petitions.link(s, officer, petition.id, "spawn_dispute", "再转一次")
    assert twice.value.code == "petition_dispute_asked" and twice.value.status == 409
    s.commit()
    outbox.deliver_pending(factory)
    outbox.deliver_pending(factory)  # the dispute's answer back to the petition

    [dispute] = _disputes(s)
    assert (dispute.source, dispute.petition_id, dispute.type_code) == ("petition", petition.id, "neighbour")
    assert dispute.people_count == 3 and petition.number in dispute.description
    assert "楼上漏水" in dispute.title and "邻里纠纷，宜调解" in dispute.description
    assert shape(s.get(Area, w.community_a.id).geometry).contains(Point(dispute.lon, dispute.lat))
    assert dispute.address == w.community_a.name
    [party] = s.scalars(select(Party).where(Party.dispute_id == dispute.id)).all()
    assert (party.role, party.person_id, party.name, party.id_number) == ("applicant", person.id, person.name,
                                                                          person.id_number)
    opened = s.scalars(select(PetitionEvent).where(PetitionEvent.petition_id == petition.id,
                                                   PetitionEvent.action == "dispute_opened")).one()
    assert opened.note == dispute.code
    timeline = petitions.detail(s, petition.id)["timeline"]
    assert [e["action"] for e in timeline][-2:] == ["spawn_dispute", "dispute_opened"]


def test_an_unregistered_petitioner_and_an_unknown_type_are_left_for_the_centre(system_session, factory):
    s = system_session
    w = world(s)
    officers(s, w)
    petition = register(s, w, "officer_a", w.community_a.id, name="黄某", id_no=id_number(serial=91))
    petitions.link(s, as_user(s, w, "officer_a"), petition.id, "spawn_dispute", "劳资纠纷", dispute_type="nonesuch")
    s.commit()
    outbox.deliver_pending(factory)
    [dispute] = _disputes(s)
    assert dispute.type_code == "other" and "另有 1 名信访人未在实有人口中登记" in dispute.description
    assert s.scalars(select(Party).where(Party.dispute_id == dispute.id)).all() == []


def test_the_same_event_twice_opens_one_dispute(system_session, factory):
    s = system_session
    w = world(s)
    officers(s, w)
    petition = register(s, w, "officer_a", w.community_a.id)
    petitions.link(s, as_user(s, w, "officer_a"), petition.id, "spawn_dispute", "转调解")
    s.commit()
    s.info["principal"] = TEST
    event = s.scalars(select(outbox.OutboxEvent).where(outbox.OutboxEvent.topic == "petition.spawn_dispute")).one()
    from_petition.from_petition(s, event)
    from_petition.from_petition(s, event)
    s.commit()
    assert len(_disputes(s)) == 1
