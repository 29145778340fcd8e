"""The petition lifecycle as a declared transition table: state × action → state, the permission it needs
and what it requires, applied by one function (``service.act``). Every allowed and every forbidden pair is
tested from ``TABLE`` (tests/petitions/test_workflow.py).

The path follows 《信访工作条例》: a registered petition is accepted or, with a written notice, not accepted;
an accepted one is assigned to a responsible unit with a 包案 leader, handled (the limit may be extended
once), answered with a written opinion and evaluated by the petitioner. A petitioner who is not satisfied may
ask for 复查 within the limit, and after the 复查 opinion for 复核; the 复核 opinion ends it. ``conclude``
closes a petition whose petitioner accepted the answer (or whose request window passed).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shiyu.petitions.limits import Limit
from shiyu.petitions.models import HANDLE, State

S = State


class Action(StrEnum):
    ACCEPT = "accept"
    REFUSE = "refuse"
    ASSIGN = "assign"
    START = "start"
    EXTEND = "extend"
    ANSWER = "answer"
    EVALUATE = "evaluate"
    REQUEST_REVIEW = "request_review"
    ANSWER_REVIEW = "answer_review"
    REQUEST_RE_REVIEW = "request_re_review"
    ANSWER_RE_REVIEW = "answer_re_review"
    CONCLUDE = "conclude"


class Need(StrEnum):
    """What an action's body must carry."""

    NOTE = "note"  # the text: notice, answer, opinion, reason
    UNIT_AND_LEADER = "unit_and_leader"
    SATISFIED = "satisfied"


@dataclass(frozen=True)
class Transition:
    source: State
    action: Action
    target: State
    needs: frozenset[Need] = frozenset()
    # The clock this transition starts (None: the running one stops, or none runs)
    starts: Limit | None = None
    # A request the petitioner may make only within this limit from the previous step's end
    window: Limit | None = None
    # This transition is what the running deadline asks for (a decision, an answer, an opinion): done after
    # the deadline, the timeline marks it late
    meets: bool = False
    permission: str = HANDLE


_NOTE = frozenset({Need.NOTE})

TABLE: tuple[Transition, ...] = (
    Transition(S.REGISTERED, Action.ACCEPT, S.ACCEPTED, starts=Limit.HANDLE, meets=True),
    Transition(S.REGISTERED, Action.REFUSE, S.NOT_ACCEPTED, _NOTE, meets=True),
    Transition(S.ACCEPTED, Action.ASSIGN, S.ASSIGNED, frozenset({Need.UNIT_AND_LEADER})),
    Transition(S.ASSIGNED, Action.START, S.HANDLING),
    Transition(S.HANDLING, Action.EXTEND, S.HANDLING, _NOTE),
    Transition(S.HANDLING, Action.ANSWER, S.ANSWERED, _NOTE, meets=True),
    Transition(S.ANSWERED, Action.EVALUATE, S.EVALUATED, frozenset({Need.SATISFIED})),
    Transition(S.EVALUATED, Action.REQUEST_REVIEW, S.REVIEW, _NOTE, starts=Limit.REVIEW,
               window=Limit.REVIEW_REQUEST),
    Transition(S.REVIEW, Action.ANSWER_REVIEW, S.REVIEWED, _NOTE, meets=True),
    Transition(S.REVIEWED, Action.REQUEST_RE_REVIEW, S.RE_REVIEW, _NOTE, starts=Limit.RE_REVIEW,
               window=Limit.RE_REVIEW_REQUEST),
    Transition(S.RE_REVIEW, Action.ANSWER_RE_REVIEW, S.RE_REVIEWED, _NOTE, meets=True),
    Transition(S.EVALUATED, Action.CONCLUDE, S.CONCLUDED),
    Transition(S.REVIEWED, Action.CONCLUDE, S.CONCLUDED),
    Transition(S.RE_REVIEWED, Action.CONCLUDE, S.CONCLUDED),
)

_BY_KEY = {(t.source, t.action): t for t in TABLE}


def transition(state: str, action: str) -> Transition | None:
    """The transition ``action`` makes from ``state``, or None when the table has none."""
    try:
        return _BY_KEY.get((State(state), Action(action)))
    except ValueError:
        return None


def actions_from(state: str) -> list[Action]:
    """The actions the table allows from ``state``, in table order (what a page offers)."""
    return [t.action for t in TABLE if t.source == state]
