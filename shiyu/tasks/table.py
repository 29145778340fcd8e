"""The work item's transition table: state × action → state, the permission that allows it over the item's
grid, and what it requires. Data only, like ``shiyu.cases.workflow.table``; ``shiyu.tasks.service.act``
applies it and the tests walk every (state, action) pair generated from ``TABLE``.

- start (接单): a worker of the grid takes the item; ``open → in_progress``.
- submit (提交): the form filled in (validated against the type's form); ``open | in_progress → done``.
- unable (无法完成): with a reason (moved away, house demolished…); ``open | in_progress → unable``.
- review (审核销号): the centre accepts the result; ``done | unable → reviewed``.
- return (退回): the centre sends it back with a reason; ``done | unable → in_progress``.

When an item names an assignee, only that worker (or the centres) may start, submit or mark it unable;
without one, every worker of the grid may.
"""

from __future__ import annotations

from dataclasses import dataclass

from shiyu.tasks.models import REVIEW, WORK, ItemState

S = ItemState


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[ItemState, ...]
    target: ItemState
    permission: str
    label_zh: str
    label_en: str
    reason_required: bool = False
    data_required: bool = False  # the type's form, validated
    worker_action: bool = False  # limited to the assignee when the item names one


TRANSITIONS: tuple[Transition, ...] = (
    Transition("start", (S.OPEN,), S.IN_PROGRESS, WORK, "开始办理", "Start", worker_action=True),
    Transition("submit", (S.OPEN, S.IN_PROGRESS), S.DONE, WORK, "提交", "Submit", data_required=True,
               worker_action=True),
    Transition("unable", (S.OPEN, S.IN_PROGRESS), S.UNABLE, WORK, "无法完成", "Unable to do",
               reason_required=True, worker_action=True),
    Transition("review", (S.DONE, S.UNABLE), S.REVIEWED, REVIEW, "审核销号", "Review"),
    Transition("return", (S.DONE, S.UNABLE), S.IN_PROGRESS, REVIEW, "退回重办", "Return", reason_required=True),
)

ACTIONS: dict[str, Transition] = {t.action: t for t in TRANSITIONS}
TABLE: dict[tuple[ItemState, str], Transition] = {(s, t.action): t for t in TRANSITIONS for s in t.sources}


def actions_from(state: ItemState) -> list[Transition]:
    """The transitions the table allows from ``state`` (what a page may offer, before the permission)."""
    return [t for t in TRANSITIONS if state in t.sources]
