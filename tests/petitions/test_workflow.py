"""The lifecycle table, pair by pair: every (state, action) the table allows succeeds from a petition in that
state and lands where the table says; every other pair is refused with ``petition_wrong_state`` and changes
nothing. One petition is walked to each state along the table's own path, and each action is tried inside a
savepoint that is rolled back."""

from __future__ import annotations

import pytest

from shiyu.core.errors import ShiyuError
from shiyu.petitions import service
from shiyu.petitions.models import State
from shiyu.petitions.service import Step
from shiyu.petitions.workflow import TABLE, Action, Need, actions_from, transition
from tests.factories import populated
from tests.petitions.petition_fixtures import TZ, as_user, officers, register, walk

# The path from registered to every state, by the table's own transitions.
PATH: dict[State, list[str]] = {
    State.REGISTERED: [],
    State.ACCEPTED: ["accept"],
    State.NOT_ACCEPTED: ["refuse"],
    State.ASSIGNED: ["accept", "assign"],
    State.HANDLING: ["accept", "assign", "start"],
    State.ANSWERED: ["accept", "assign", "start", "answer"],
    State.EVALUATED: ["accept", "assign", "start", "answer", "evaluate"],
    State.REVIEW: ["accept", "assign", "start", "answer", "evaluate", "request_review"],
    State.REVIEWED: ["accept", "assign", "start", "answer", "evaluate", "request_review", "answer_review"],
    State.RE_REVIEW: ["accept", "assign", "start", "answer", "evaluate", "request_review", "answer_review",
                      "request_re_review"],
    State.RE_REVIEWED: ["accept", "assign", "start", "answer", "evaluate", "request_review", "answer_review",
                        "request_re_review", "answer_re_review"],
    State.CONCLUDED: ["accept", "assign", "start", "answer", "evaluate", "conclude"],
}


def _step(w, action: str) -> Step:
    """A body that satisfies what the action needs (unsatisfied, so that 复查 can follow)."""
    return Step(note=f"{action} 的说明", assigned_unit="区住房和建设局" if action == "assign" else "",
                leader_id=w.users["leader_a"].id if action == "assign" else None,
                satisfied=False if action == "evaluate" else None)


def test_the_table_is_well_formed():
    assert {t.source for t in TABLE} | {t.target for t in TABLE} == set(State)
    assert len({(t.source, t.action) for t in TABLE}) == len(TABLE)
    assert set(Action) == {t.action for t in TABLE}
    assert not actions_from(State.NOT_ACCEPTED) and not actions_from(State.CONCLUDED)
    assert transition("registered", "no_such_action") is None and transition("no_such_state", "accept") is None
    for state, path in PATH.items():  # the walks follow the table
        current = State.REGISTERED
        for action in path:
            move = transition(current, action)
            assert move is not None, (current, action)
            current = move.target
        assert current == state


@pytest.mark.parametrize("state", list(State), ids=lambda s: s.value)
def test_every_pair_from_a_state(state, system_session):
    s = system_session
    w = populated(s)
    officers(s, w)
    petition = register(s, w, "officer_a", w.community_a.id)
    walk(s, w, "officer_a", petition.id, *((a, _step(w, a)) for a in PATH[state]))
    assert petition.state == state
    principal = as_user(s, w, "officer_a")
    for action in Action:
        move = transition(state, action)
        savepoint = s.begin_nested()
        version = petition.version
        if move is None:
            with pytest.raises(ShiyuError) as refused:
                service.act(s, principal, TZ, petition.id, action, _step(w, action))
            assert refused.value.code == "petition_wrong_state" and refused.value.status == 409
            assert petition.state == state and petition.version == version
        else:
            done = service.act(s, principal, TZ, petition.id, action, _step(w, action))
            assert done.state == move.target
            if Need.NOTE in move.needs:  # the same action without its text is refused
                savepoint.rollback()
                savepoint = s.begin_nested()
                with pytest.raises(ShiyuError) as missing:
                    service.act(s, principal, TZ, petition.id, action, Step(
                        assigned_unit="x", leader_id=w.users["leader_a"].id, satisfied=False))
                assert missing.value.code == "field_required"
        savepoint.rollback()
        s.expire_all()


def test_who_may_act(system_session, factory):
    """A centre leader sees petitions but does not handle them; a grid worker and an operator of the same
    community, and community B's petition officer, do not see them at all. Each acts in a session of its own,
    as a request does."""
    s = system_session
    w = populated(s)
    officers(s, w)
    petition = register(s, w, "officer_a", w.community_a.id)
    s.commit()
    for user, code in (("leader_a", "forbidden"), ("worker_a1", "not_found"), ("operator_a", "not_found"),
                       ("officer_b", "not_found")):
        with factory() as own:
            principal = as_user(own, w, user)
            with pytest.raises(ShiyuError) as refused:
                service.act(own, principal, TZ, petition.id, "accept", Step())
            assert refused.value.code == code, user
