"""The record's states as a declared table (state × action → state, the permission it needs), applied by one
function, like the case workflow (shiyu/cases/workflow). ``transfer`` is not an action anyone takes here: a
record becomes ``transferred`` only when the receiving centre confirms a hand-over (shiyu.keypersons.handover).

    referred / found → verifying → enrolled ⇄ lost_contact → released | transferred | deceased
"""

from __future__ import annotations

from dataclasses import dataclass

from shiyu.core.scoping import Principal
from shiyu.keypersons.errors import KeyPersonError
from shiyu.keypersons.models import MANAGE, VISIT, KeyPersonRecord, State


@dataclass(frozen=True)
class Step:
    to: State
    permission: str
    team: bool = False  # may the record's own team take it (with ``keyperson.visit``)


S = State
TRANSITIONS: dict[tuple[State, str], Step] = {
    (S.REFERRED, "verify"): Step(S.VERIFYING, MANAGE, team=True),
    (S.FOUND, "verify"): Step(S.VERIFYING, MANAGE, team=True),
    (S.REFERRED, "dismiss"): Step(S.RELEASED, MANAGE),
    (S.FOUND, "dismiss"): Step(S.RELEASED, MANAGE),
    (S.VERIFYING, "enrol"): Step(S.ENROLLED, MANAGE),
    (S.VERIFYING, "dismiss"): Step(S.RELEASED, MANAGE),
    (S.ENROLLED, "lose_contact"): Step(S.LOST_CONTACT, MANAGE, team=True),
    (S.ENROLLED, "release"): Step(S.RELEASED, MANAGE),
    (S.ENROLLED, "decease"): Step(S.DECEASED, MANAGE),
    (S.LOST_CONTACT, "regain"): Step(S.ENROLLED, MANAGE, team=True),
    (S.LOST_CONTACT, "release"): Step(S.RELEASED, MANAGE),
    (S.LOST_CONTACT, "decease"): Step(S.DECEASED, MANAGE),
    (S.ENROLLED, "transfer"): Step(S.TRANSFERRED, MANAGE),
}
ACTIONS = tuple(sorted({action for _state, action in TRANSITIONS}))
# Taken only by the hand-over's receipt, never through the action route.
INTERNAL = frozenset({"transfer"})
ACTION_LABELS = {"verify": ("开始核实", "Start verifying"), "dismiss": ("核实不属实", "Not a key person"),
                 "enrol": ("列管", "Enrol"), "lose_contact": ("报告失联", "Report lost contact"),
                 "regain": ("恢复联系", "Contact regained"), "release": ("解除管控", "Release"),
                 "decease": ("死亡注销", "Deceased"), "transfer": ("迁出移交", "Transferred")}


def on_team(principal: Principal, record: KeyPersonRecord) -> bool:
    uid = principal.user_id
    return uid is not None and uid in (record.grid_worker_id, record.police_id, record.cadre_id)


def step_for(principal: Principal, record: KeyPersonRecord, action: str) -> Step:
    """The step ``action`` takes from the record's state, if ``principal`` may take it; else a 409 (no such
    step from here) or 403 (not theirs to take)."""
    step = TRANSITIONS.get((State(record.state), action))
    if step is None:
        raise KeyPersonError("keyperson_bad_transition", "当前状态下不能执行该操作",
                             "This action is not possible in the record's current state",
                             detail={"state": record.state, "action": action[:40]})
    allowed = principal.can(step.permission, record.area_path) or (
        step.team and on_team(principal, record) and principal.has_permission(VISIT))
    if not allowed:
        raise KeyPersonError("keyperson_not_allowed", "您不能对该人员执行此操作", "You may not take this action",
                             status=403, detail={"action": action})
    return step


def allowed_actions(principal: Principal, record: KeyPersonRecord) -> list[str]:
    out = []
    for (state, action), _step in TRANSITIONS.items():
        if state.value != record.state or action in INTERNAL:
            continue
        try:
            step_for(principal, record, action)
        except KeyPersonError:
            continue
        out.append(action)
    return out
