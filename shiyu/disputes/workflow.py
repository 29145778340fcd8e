"""The dispute lifecycle as a declared transition table, applied by one engine (like ``shiyu.cases.workflow``).

``TABLE`` is data: state × action → state, who may (permission and where), what it requires (fields, a
note). ``apply`` checks a request against it, runs the action's work (``shiyu.disputes.effects``), writes the
timeline and the outbox event in the caller's transaction. The tests walk every (state, action) pair from
``TABLE``: each allowed pair succeeds for a holder of the rule, each other pair answers 409.

Scopes, and why:

- ``CENTRE``: the permission over the responsible centre's area (its grant or one above). The centre
  accepts, assigns, refers and closes its own disputes; after 上报 the next level's centre does.
- ``AREA``: the permission over the dispute's grid (the grid worker follows up on site, reviews risk).
- ``MEDIATOR``: the user linked to the assigned mediator, with ``dispute.mediate`` — a township expert sent
  to a community's dispute works it without a grant over that community.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from shiyu.core import outbox
from shiyu.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.disputes import effects
from shiyu.disputes.models import (
    MEDIATE,
    OPEN_STATES,
    REGISTER,
    REPORT,
    Dispute,
    DisputeEvent,
    DisputeState,
    Mediator,
    ReferralChannel,
    RiskLevel,
    Signal,
    visible,
)

S = DisputeState
MAX_NOTE = 2000


class Scope(StrEnum):
    CENTRE = "centre"
    AREA = "area"
    MEDIATOR = "mediator"


@dataclass(frozen=True)
class Rule:
    permission: str
    scope: Scope


class FieldType(StrEnum):
    INT = "int"
    TEXT = "text"
    DATE = "date"
    BOOL = "bool"
    CHOICE = "choice"
    CHOICES = "choices"
    IDS = "ids"


@dataclass(frozen=True)
class ActionField:
    name: str
    type: FieldType
    required: bool = False
    choices: tuple[str, ...] = ()
    max_length: int = 2000


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[DisputeState, ...]
    target: DisputeState | None  # None: the state stays
    rules: tuple[Rule, ...]
    label_zh: str
    label_en: str
    fields: tuple[ActionField, ...] = ()
    note_required: bool = False


CENTRE = Rule(REGISTER, Scope.CENTRE)
MEDIATOR = Rule(MEDIATE, Scope.MEDIATOR)
GRID = Rule(REPORT, Scope.AREA)

TABLE: tuple[Transition, ...] = (
    Transition("reject", (S.REGISTERED,), S.NOT_ACCEPTED, (CENTRE,), "不予受理", "Not accepted",
               note_required=True),
    Transition("assign", (S.REGISTERED, S.ESCALATED, S.ASSIGNED), S.ASSIGNED, (CENTRE,), "指派调解员",
               "Assign a mediator", fields=(ActionField("mediator_id", FieldType.INT, required=True),)),
    Transition("start", (S.ASSIGNED,), S.MEDIATING, (MEDIATOR, CENTRE), "开始调解", "Start mediation"),
    Transition("extend", (S.ASSIGNED, S.MEDIATING), None, (MEDIATOR, CENTRE), "延长调解期限",
               "Extend the mediation time", note_required=True),
    Transition("agree", (S.MEDIATING,), S.AGREED, (MEDIATOR, CENTRE), "达成协议", "Agreement reached",
               fields=(ActionField("terms", FieldType.TEXT, required=True),
                       ActionField("perform_by", FieldType.DATE))),
    Transition("fail", (S.MEDIATING,), S.FAILED, (MEDIATOR, CENTRE), "调解不成", "Mediation failed",
               note_required=True),
    Transition("refer", (S.FAILED,), S.REFERRED, (CENTRE,), "分流移交", "Refer",
               fields=(ActionField("channel", FieldType.CHOICE, True, tuple(ReferralChannel)),
                       ActionField("counterpart", FieldType.TEXT, True, max_length=100),
                       ActionField("external_ref", FieldType.TEXT, max_length=60)),
               note_required=True),
    Transition("escalate", (S.FAILED,), S.ESCALATED, (CENTRE,), "上报上级中心", "Escalate to the next level",
               note_required=True),
    Transition("perform", (S.AGREED,), S.PERFORMING, (MEDIATOR, CENTRE), "进入履行", "Performance begins"),
    Transition("follow_up", (S.PERFORMING,), S.FOLLOWED_UP, (MEDIATOR, GRID, CENTRE), "回访", "Follow-up visit",
               fields=(ActionField("performed", FieldType.BOOL, required=True),
                       ActionField("satisfied", FieldType.BOOL, required=True),
                       ActionField("residual_risk", FieldType.BOOL)),
               note_required=True),
    Transition("close", (S.FOLLOWED_UP,), S.CLOSED, (CENTRE,), "案结事了", "Close (settled)"),
    Transition("review_risk", tuple(s for s in S if s in OPEN_STATES), None, (CENTRE, GRID, MEDIATOR),
               "风险研判", "Risk review",
               fields=(ActionField("risk_level", FieldType.CHOICE, True, tuple(RiskLevel)),
                       ActionField("signals", FieldType.CHOICES, choices=tuple(Signal)),
                       ActionField("enrol_party_ids", FieldType.IDS)),
               note_required=True),
)
ACTIONS: dict[str, Transition] = {t.action: t for t in TABLE}

STATE_LABELS: dict[DisputeState, tuple[str, str]] = {
    S.REGISTERED: ("已登记", "registered"),
    S.NOT_ACCEPTED: ("不予受理", "not accepted"),
    S.ASSIGNED: ("待调解", "assigned"),
    S.MEDIATING: ("调解中", "mediating"),
    S.AGREED: ("已达成协议", "agreed"),
    S.FAILED: ("调解不成", "failed"),
    S.REFERRED: ("已分流", "referred"),
    S.ESCALATED: ("已上报", "escalated"),
    S.PERFORMING: ("履行中", "performing"),
    S.FOLLOWED_UP: ("已回访", "followed up"),
    S.CLOSED: ("案结事了", "closed"),
}


def mediator_user(session: Session, dispute: Dispute) -> int | None:
    """The account of the dispute's mediator (read unscoped: the link, not the mediator's record)."""
    if dispute.mediator_id is None:
        return None
    return session.scalar(select(Mediator.user_id).where(Mediator.id == dispute.mediator_id),
                          execution_options={"unscoped": True})


def rule_allows(rule: Rule, principal: Principal, dispute: Dispute, mediator_user_id: int | None) -> bool:
    if rule.scope is Scope.CENTRE:
        return principal.can(rule.permission, dispute.centre_path)
    if rule.scope is Scope.AREA:
        return principal.can(rule.permission, dispute.area_path)
    return (principal.is_system or (mediator_user_id is not None and principal.user_id == mediator_user_id
                                    and principal.has_permission(rule.permission)))


def permitted(transition: Transition, principal: Principal, dispute: Dispute, mediator_user_id: int | None) -> bool:
    return any(rule_allows(r, principal, dispute, mediator_user_id) for r in transition.rules)


def available(session: Session, principal: Principal, dispute: Dispute) -> list[Transition]:
    """Exactly the actions this principal may take on this dispute now."""
    who = mediator_user(session, dispute)
    return [t for t in TABLE if dispute.state in t.sources and permitted(t, principal, dispute, who)]


@dataclass
class ActionInput:
    expected_version: int
    note: str = ""
    fields: dict[str, Any] = field(default_factory=dict)


def _bad(name: str, zh: str, en: str) -> ValidationFailed:
    return ValidationFailed("invalid_field", f"{zh}（{name}）", f"{en} ({name})", detail={"field": name})


def _parse(spec: ActionField, value: Any) -> Any:
    if spec.type is FieldType.INT:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
            raise _bad(spec.name, "须为正整数", "Must be a positive whole number")
        return value
    if spec.type is FieldType.TEXT:
        if not isinstance(value, str) or not value.strip() or len(value) > spec.max_length:
            raise _bad(spec.name, f"须为不超过{spec.max_length}字的文字", f"Must be text of at most {spec.max_length}")
        return value.strip()
    if spec.type is FieldType.DATE:
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise _bad(spec.name, "日期格式应为 YYYY-MM-DD", "A date must be YYYY-MM-DD") from None
    if spec.type is FieldType.BOOL:
        if not isinstance(value, bool):
            raise _bad(spec.name, "须为是或否", "Must be true or false")
        return value
    if spec.type is FieldType.CHOICE:
        if value not in spec.choices:
            raise _bad(spec.name, "不是可选的值", "Not one of the choices")
        return value
    items = value if isinstance(value, list) else None
    if items is None or len(items) > 50:
        raise _bad(spec.name, "须为列表", "Must be a list")
    if spec.type is FieldType.CHOICES:
        if any(v not in spec.choices for v in items):
            raise _bad(spec.name, "含不可选的值", "Holds a value that is not a choice")
        return sorted(set(items))
    if any(isinstance(v, bool) or not isinstance(v, int) or not 0 < v < 2**31 for v in items):
        raise _bad(spec.name, "须为编号列表", "Must be a list of ids")
    return sorted(set(items))


def parse_fields(transition: Transition, given: dict[str, Any]) -> dict[str, Any]:
    unknown = set(given) - {f.name for f in transition.fields}
    if unknown:
        raise ValidationFailed("unknown_field", "该操作不接受字段 {name}", "This action takes no field {name}",
                               detail={"field": sorted(unknown)[0][:40]}, name=sorted(unknown)[0][:40])
    out: dict[str, Any] = {}
    for spec in transition.fields:
        value = given.get(spec.name)
        if value is None or value == "":
            if spec.required:
                raise ValidationFailed("field_required", "请填写 {name}", "{name} is required",
                                       detail={"field": spec.name}, name=spec.name)
            continue
        out[spec.name] = _parse(spec, value)
    return out


def load(session: Session, dispute_id: int) -> Dispute:
    dispute = visible(session, Dispute, dispute_id)
    if dispute is None:
        raise NotFound(detail={"object": "dispute", "id": dispute_id})
    return dispute


def check(session: Session, principal: Principal, dispute: Dispute, action: str, given: ActionInput
          ) -> tuple[Transition, dict[str, Any], str]:
    """Everything that can refuse an action, before anything changes: known action, current version, a
    transition from this state, a rule allowing the caller, the note and the fields it requires."""
    transition = ACTIONS.get(action)
    if transition is None:
        raise NotFound("unknown_action", "没有该操作", "No such action", detail={"action": action[:40]})
    if given.expected_version != dispute.version:
        raise Conflict(detail={"version": dispute.version})
    if dispute.state not in transition.sources:
        raise Conflict("transition_not_allowed", "当前状态（{state}）不能执行“{action}”",
                       "“{action}” is not possible in state {state}",
                       detail={"state": dispute.state, "action": action},
                       state=STATE_LABELS[S(dispute.state)][0], action=transition.label_zh)
    if not permitted(transition, principal, dispute, mediator_user(session, dispute)):
        raise Forbidden(detail={"action": action})
    note = given.note.strip()
    if len(note) > MAX_NOTE:
        raise ValidationFailed("note_too_long", "说明过长", "The note is too long", detail={"field": "note"})
    if transition.note_required and not note:
        raise ValidationFailed("note_required", "请填写说明或原因", "Give a note or reason", detail={"field": "note"})
    return transition, parse_fields(transition, given.fields), note


def apply(session: Session, principal: Principal, dispute_id: int, action: str, given: ActionInput) -> Dispute:
    """Check and apply one action in the caller's transaction: the action's work, the new state, the
    timeline, the outbox event. Two people acting at once: the version check lets exactly one through."""
    dispute = load(session, dispute_id)
    transition, values, note = check(session, principal, dispute, action, given)
    before = dispute.state
    now = utcnow()
    data = effects.run(session, principal, dispute, transition, values, note, now)
    if transition.target is not None:
        dispute.state = transition.target.value
    try:
        session.flush()
    except StaleDataError:
        raise Conflict(detail={"dispute": dispute.id}) from None
    record_event(session, principal, dispute, action, before, note, now)
    outbox.emit(session, f"dispute.{action}", "dispute", dispute.id, dispute.area_path,
                {"dispute_id": dispute.id, "from": before, "to": dispute.state, **data})
    return dispute


def record_event(session: Session, principal: Principal, dispute: Dispute, action: str, before: str, note: str,
                 at: datetime) -> None:
    seq = (session.scalar(select(func.max(DisputeEvent.seq)).where(DisputeEvent.dispute_id == dispute.id)) or 0) + 1
    session.add(DisputeEvent(dispute_id=dispute.id, seq=seq, action=action, from_state=before,
                             to_state=dispute.state, actor_id=principal.user_id, at=at, note=note or None,
                             area_path=dispute.area_path))
    session.flush()
