"""The petitions' refusals, each with a stable code and a message in both languages."""

from __future__ import annotations

from shiyu.core.errors import Conflict, ValidationFailed


def wrong_state(state: str, action: str) -> Conflict:
    return Conflict("petition_wrong_state", "信访事项当前状态（{state}）不能执行该操作（{action}）",
                    "A petition in state {state} does not allow {action}",
                    detail={"state": state, "action": action[:24]}, state=state, action=action[:24])


def stale(version: int) -> Conflict:
    return Conflict("petition_changed", "信访事项已被他人更新，请刷新后重试",
                    "Someone changed this petition first; reload and try again", detail={"version": version})


def required(field: str) -> ValidationFailed:
    return ValidationFailed("field_required", "请填写此项", "This field is required", detail={"field": field})


def leader_not_eligible() -> ValidationFailed:
    return ValidationFailed("leader_not_eligible", "包案领导须为能查看该信访事项的在岗领导",
                            "The 包案 leader must be an active user who can see this petition",
                            detail={"field": "leader_id"})


def window_passed(limit: str) -> Conflict:
    return Conflict("petition_window_passed", "已超过请求期限，不再受理该请求",
                    "The time to make this request has passed", detail={"limit": limit})


def satisfied_no_review() -> Conflict:
    return Conflict("petition_satisfied", "信访人对处理意见表示满意，不能请求复查",
                    "The petitioner was satisfied with the answer: no 复查 can be requested")


def extended_once() -> Conflict:
    return Conflict("petition_extended", "办理期限只能延长一次", "The handling limit can be extended once only")


def not_repeat() -> Conflict:
    return Conflict("petition_not_repeat", "只有重复信访的信访人可以列为重点人员",
                    "Only a repeat petitioner can be enrolled as a key person")


def dispute_asked() -> Conflict:
    return Conflict("petition_dispute_asked", "该信访事项已转为矛盾纠纷",
                    "This petition has already been sent to mediation")


def unknown_petitions() -> ValidationFailed:
    return ValidationFailed("unknown_petitions", "所选信访事项不存在", "Some of the petitions do not exist",
                            detail={"field": "petition_ids"})


def paper_not_ready(kind: str, title: str, name_en: str, state: str, zh: str, en: str) -> Conflict:
    return Conflict("petition_paper_not_ready", "{why_zh}，不能出具{title}", "{why_en}: there is no {name} yet",
                    detail={"document": kind, "state": state}, why_zh=zh, why_en=en, title=title, name=name_en)
