"""Referrals from disputes and petitions: a high-risk dispute's party and a repeat petitioner named for
enrolment become referred key-person records through the outbox (once; a second referral is noted on the
open record), and a person not in the population register is refused where the request is made."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shiyu.core import outbox
from shiyu.core.scoping import Principal
from shiyu.keypersons.errors import KeyPersonError
from shiyu.keypersons.models import KeyPersonEvent, KeyPersonRecord
from shiyu.petitions import service as petitions
from shiyu.registry.models import Person
from tests.disputes.dispute_fixtures import SYSTEM, act, dispute_in, make_dispute
from tests.disputes.dispute_fixtures import service as disputes
from tests.keypersons.kp_fixtures import world
from tests.petitions.petition_fixtures import as_user, officers, register
from tests.registry.registry_fixtures import id_number

TEST = Principal.system("test")


def _records(s, person_id: int, group: str) -> list[KeyPersonRecord]:
    s.info["principal"] = TEST
    return list(s.scalars(select(KeyPersonRecord).where(KeyPersonRecord.person_id == person_id,
                                                        KeyPersonRecord.group_code == group)))


def test_a_high_risk_dispute_party_becomes_a_referred_key_person_once(system_session, factory):
    s = system_session
    w = world(s)
    person = s.get(Person, w.extra["a"]["persons"][0])
    parties = (disputes.PartyIn(role="applicant", name="陈建国", id_number=person.id_number, phone="13812345678"),
               disputes.PartyIn(role="respondent", name="刘秀英", phone="13900001111"))
    dispute = make_dispute(s, parties=parties)
    applicant = disputes.parties(s, dispute.id)[0]
    act(s, SYSTEM, dispute, "review_risk", "扬言报复", risk_level="low", signals=["threats"],
        enrol_party_ids=[applicant.id])
    s.commit()
    outbox.deliver_pending(factory)

    [record] = _records(s, person.id, "dispute")
    assert (record.state, record.grade, record.source, record.source_ref) == ("referred", "red", "dispute",
                                                                             dispute.code)
    assert record.grid_id == person.grid_id and "扬言报复" in record.attributes

    again = make_dispute(s, parties=parties[:1])  # the same person in another dispute, named again
    act(s, SYSTEM, again, "review_risk", "再次冲突", risk_level="medium",
        enrol_party_ids=[disputes.parties(s, again.id)[0].id])
    s.commit()
    outbox.deliver_pending(factory)
    assert len(_records(s, person.id, "dispute")) == 1
    noted = s.scalars(select(KeyPersonEvent).where(KeyPersonEvent.record_id == record.id,
                                                   KeyPersonEvent.kind == "referred_again")).all()
    assert [e.data["source_ref"] for e in noted] == [again.code]


def test_a_party_not_in_the_register_is_refused_and_nothing_is_written(system_session):
    s = system_session
    world(s)
    dispute = make_dispute(s, parties=dispute_in().parties)  # nobody of it is in the register
    respondent = disputes.parties(s, dispute.id)[1]
    with pytest.raises(KeyPersonError) as refused:
        act(s, SYSTEM, dispute, "review_risk", "扬言报复", risk_level="high", enrol_party_ids=[respondent.id])
    assert refused.value.code == "keyperson_not_registered" and refused.value.status == 422
    assert "请先在基础信息中登记" in refused.value.message("zh")
    s.rollback()
    s.info["principal"] = TEST
    assert s.scalar(select(func.count()).select_from(outbox.OutboxEvent)
                    .where(outbox.OutboxEvent.topic == "dispute.enrol_key_person")) == 0


def test_a_repeat_petitioner_is_referred_and_an_unregistered_one_refused(system_session, factory):
    s = system_session
    w = world(s)
    officers(s, w)
    person = s.get(Person, w.extra["a"]["persons"][1])
    register(s, w, "officer_a", w.community_a.id, name="林秀英", id_no=person.id_number)
    repeat = register(s, w, "officer_a", w.community_a.id, name="林秀英", id_no=person.id_number)
    assert repeat.is_repeat
    petitions.link(s, as_user(s, w, "officer_a"), repeat.id, "enrol_key_person", "同一事项第二次来访")
    s.commit()
    outbox.deliver_pending(factory)
    [record] = _records(s, person.id, "petition")
    assert (record.state, record.grade, record.source, record.source_ref) == ("referred", "yellow", "petition",
                                                                             repeat.number)

    stranger = id_number(serial=77)  # a petitioner nobody registered
    register(s, w, "officer_a", w.community_a.id, name="黄某", id_no=stranger)
    second = register(s, w, "officer_a", w.community_a.id, name="黄某", id_no=stranger)
    assert second.is_repeat
    with pytest.raises(KeyPersonError) as refused:
        petitions.link(s, as_user(s, w, "officer_a"), second.id, "enrol_key_person", "多次来访")
    assert refused.value.code == "keyperson_not_registered"
