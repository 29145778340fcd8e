"""The transition table walked in full: for every action, every state — the pairs the table allows succeed
and land in the declared state, every other pair answers 409 and changes nothing; each rule admits exactly
its holders; the effects (referral, escalation, follow-up, risk review's events) happen."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from shiyu.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shiyu.core.outbox import OutboxEvent
from shiyu.disputes import service, workflow
from shiyu.disputes.models import Dispute, DisputeEvent, DisputeState, FollowUp, Referral
from shiyu.disputes.workflow import ACTIONS, TABLE, Scope
from shiyu.keypersons.errors import KeyPersonError
from tests.disputes.dispute_fixtures import SYSTEM, act, make_dispute
from tests.registry.registry_fixtures import principal, registered_family

NOTES = {"reject": "已向法院起诉", "fail": "双方分歧大", "refer": "引导诉讼", "escalate": "需街道协调",
         "extend": "双方同意继续调解", "follow_up": "已履行", "review_risk": "扬言报复"}


def fields_for(action: str, ids: dict[str, int]) -> dict[str, Any]:
    return {
        "assign": {"mediator_id": ids["mediator"]},
        "agree": {"terms": "一、赔偿维修费3200元。", "perform_by": "2026-12-31"},
        "refer": {"channel": "court", "counterpart": "区人民法院"},
        "follow_up": {"performed": True, "satisfied": True},
        "review_risk": {"risk_level": "medium"},
    }.get(action, {})


def test_the_table_covers_every_state_and_action_once():
    assert len(ACTIONS) == len(TABLE)
    reachable = {t.target for t in TABLE if t.target is not None} | {DisputeState.REGISTERED}
    assert reachable == set(DisputeState)
    closed = DisputeState.CLOSED
    assert not [t for t in TABLE if closed in t.sources], "a closed dispute takes no action"


@pytest.mark.parametrize("action", [t.action for t in TABLE])
def test_every_state_action_pair(action, system_session, world):
    s = system_session
    transition = ACTIONS[action]
    for state in DisputeState:
        dispute = make_dispute(s, state=state.value, mediator_id=world.extra["mediator"])
        before = dispute.version
        given = workflow.ActionInput(dispute.version, NOTES.get(action, ""), fields_for(action, world.extra))
        if state in transition.sources:
            workflow.apply(s, SYSTEM, dispute.id, action, given)
            expected = transition.target or state
            assert dispute.state == expected.value, (state, action)
            assert dispute.version == before + 1
            last = s.scalar(select(DisputeEvent).where(DisputeEvent.dispute_id == dispute.id)
                            .order_by(DisputeEvent.seq.desc()).limit(1))
            assert (last.action, last.from_state, last.to_state) == (action, state.value, expected.value)
        else:
            with pytest.raises(Conflict) as refused:
                workflow.apply(s, SYSTEM, dispute.id, action, given)
            assert refused.value.code == "transition_not_allowed", (state, action)
            assert refused.value.status == 409
            assert dispute.state == state.value and dispute.version == before
        s.commit()


@pytest.mark.parametrize("action", [t.action for t in TABLE])
def test_each_rule_admits_exactly_its_holders(action, system_session, world):
    """operator_a holds the centre's rule, worker_a1 the grid's, mediator_a is the assigned mediator;
    leader_b (another community) does not even see the dispute."""
    s = system_session
    transition = ACTIONS[action]
    scopes = {r.scope for r in transition.rules}
    who = {"operator_a": Scope.CENTRE in scopes, "worker_a1": Scope.AREA in scopes,
           "mediator_a": Scope.MEDIATOR in scopes}
    for name, allowed in who.items():
        dispute = make_dispute(s, state=transition.sources[0].value, mediator_id=world.extra["mediator"])
        s.commit()
        p = principal(s, world, name)
        s.info["principal"] = p
        if allowed:
            act(s, p, dispute, action, NOTES.get(action, ""), **fields_for(action, world.extra))
        else:
            with pytest.raises(Forbidden):
                act(s, p, dispute, action, NOTES.get(action, ""), **fields_for(action, world.extra))
        s.rollback()
    dispute = make_dispute(s, state=transition.sources[0].value, mediator_id=world.extra["mediator"])
    s.commit()
    outsider = principal(s, world, "leader_b")
    s.info["principal"] = outsider
    with pytest.raises(NotFound):
        act(s, outsider, dispute, action, NOTES.get(action, ""), **fields_for(action, world.extra))
    s.rollback()


def test_a_mediator_not_assigned_may_not_mediate(system_session, world):
    s = system_session
    dispute = make_dispute(s, state="assigned", mediator_id=world.extra["other_mediator"])
    s.commit()
    p = principal(s, world, "mediator_a")
    with pytest.raises(Forbidden):
        act(s, p, dispute, "start")


def test_requirements_are_checked_before_anything_changes(system_session, world):
    s = system_session
    dispute = make_dispute(s)
    s.commit()
    with pytest.raises(ValidationFailed) as no_note:
        act(s, SYSTEM, dispute, "reject")
    assert no_note.value.code == "note_required"
    with pytest.raises(ValidationFailed) as no_mediator:
        act(s, SYSTEM, dispute, "assign")
    assert no_mediator.value.code == "field_required"
    with pytest.raises(ValidationFailed) as unknown:
        act(s, SYSTEM, dispute, "assign", mediator_id=999999)
    assert unknown.value.code == "unknown_mediator"
    with pytest.raises(ValidationFailed) as extra:
        act(s, SYSTEM, dispute, "assign", mediator_id=world.extra["mediator"], colour="red")
    assert extra.value.code == "unknown_field"
    s.rollback()
    with pytest.raises(Conflict):  # a stale version: someone acted first
        workflow.apply(s, SYSTEM, dispute.id, "assign",
                       workflow.ActionInput(dispute.version + 1, "", {"mediator_id": world.extra["mediator"]}))
    s.rollback()
    assert s.get(Dispute, dispute.id).state == "registered"


def test_refer_escalate_follow_up_and_risk_review_do_their_work(system_session, world):
    s = system_session
    failed = make_dispute(s, state="failed")
    act(s, SYSTEM, failed, "refer", "引导诉讼", channel="court", counterpart="区人民法院",
        external_ref="(2026)闽0203民初1号")
    referral = s.scalar(select(Referral).where(Referral.dispute_id == failed.id))
    assert (referral.status, referral.centre_path, referral.external_ref) == (
        "open", world.community_a.area_path, "(2026)闽0203民初1号")

    up = make_dispute(s, state="failed", mediator_id=world.extra["mediator"])
    act(s, SYSTEM, up, "escalate", "需街道协调")
    assert (up.centre_path, up.mediator_id, up.state) == (world.street.area_path, None, "escalated")
    operator = principal(s, world, "operator_a")
    s.info["principal"] = operator
    with pytest.raises(Forbidden):  # the community's centre no longer answers for it
        act(s, operator, up, "assign", mediator_id=world.extra["mediator"])
    s.rollback()

    performing = make_dispute(s, state="performing")
    act(s, SYSTEM, performing, "follow_up", "已履行", performed=True, satisfied=False, residual_risk=True)
    row = s.scalar(select(FollowUp).where(FollowUp.dispute_id == performing.id))
    assert (row.performed, row.satisfied, row.residual_risk, row.note) == (True, False, True, "已履行")

    risky = make_dispute(s)
    respondent = service.parties(s, risky.id)[1]
    with pytest.raises(KeyPersonError):  # not in the population register: nobody to enrol yet
        act(s, SYSTEM, risky, "review_risk", "扬言报复", risk_level="low", enrol_party_ids=[respondent.id])
    respondent.person_id = registered_family(s, world, "worker_a1", "operator_a")["persons"][0]
    act(s, SYSTEM, risky, "review_risk", "扬言报复", risk_level="low", signals=["threats", "criminal"],
        enrol_party_ids=[respondent.id])
    assert (risky.risk_level, risky.signals, risky.state) == ("high", ["criminal", "threats"], "registered")
    topics = {e.topic: e.payload for e in s.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == risky.id,
                                                                             OutboxEvent.aggregate == "dispute"))}
    assert topics["dispute.enrol_key_person"] == {"dispute_id": risky.id, "code": risky.code, "level": "high",
                                                  "party_id": respondent.id, "person_id": respondent.person_id,
                                                  "reason": "扬言报复"}
    assert topics["dispute.warning"]["criminal"] is True
    other = make_dispute(s)
    with pytest.raises(ValidationFailed):  # a party of another dispute cannot be enrolled through this one
        act(s, SYSTEM, other, "review_risk", "核查", risk_level="low", enrol_party_ids=[respondent.id])


def test_escalating_from_the_top_is_refused(system_session, world):
    s = system_session
    dispute = make_dispute(s, state="failed")
    dispute.centre_path, dispute.centre_area_id = world.city.area_path, world.city.id
    s.flush()
    with pytest.raises(Conflict) as top:
        act(s, SYSTEM, dispute, "escalate", "上报")
    assert top.value.code == "no_higher_centre"
