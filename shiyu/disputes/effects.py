"""The work each action of the transition table does besides changing the state (``workflow.apply`` calls
``run`` after every check has passed). Each effect answers what the outbox event and the timeline should
carry (ids, never personal data)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.core import outbox
from shiyu.core.errors import Conflict, ValidationFailed
from shiyu.core.scoping import Principal
from shiyu.disputes import limits
from shiyu.disputes.models import (
    Dispute,
    FollowUp,
    MediationOrg,
    Mediator,
    Party,
    PartyKind,
    Referral,
    RiskLevel,
    Signal,
    visible,
)
from shiyu.keypersons.errors import not_in_register
from shiyu.org.units.responsible import centre_for
from shiyu.registry import service as registry

if TYPE_CHECKING:
    from shiyu.disputes.workflow import Transition

Effect = Callable[[Session, Principal, Dispute, dict[str, Any], str, datetime], dict[str, Any]]
_RANK = {RiskLevel.LOW: 0, RiskLevel.MEDIUM: 1, RiskLevel.HIGH: 2}


def depth(path: str) -> int:
    return len([c for c in path.split("/") if c])


def _reject(_s: Session, _p: Principal, d: Dispute, _v: dict[str, Any], note: str, _now: datetime) -> dict[str, Any]:
    d.reason = note[:500]
    return {}


def _assign(s: Session, _p: Principal, d: Dispute, v: dict[str, Any], _note: str, now: datetime) -> dict[str, Any]:
    """The mediator must be active, of an active organisation, and one the assigning centre sees; the
    mediation's month starts (``limits.on_assign``)."""
    mediator = visible(s, Mediator, v["mediator_id"])
    org = visible(s, MediationOrg, mediator.org_id) if mediator is not None else None
    if mediator is None or org is None or not mediator.active or not org.active:
        raise ValidationFailed("unknown_mediator", "没有该调解员或其已停用", "No such active mediator",
                               detail={"field": "mediator_id"})
    d.mediator_id, d.org_id = mediator.id, org.id
    limits.on_assign(d, d.state, now)
    return {"mediator_id": mediator.id, "org_id": org.id, "mediation_due_at": d.mediation_due_at.isoformat()
            if d.mediation_due_at else None}


def _extend(_s: Session, _p: Principal, d: Dispute, _v: dict[str, Any], _note: str, now: datetime
            ) -> dict[str, Any]:
    """Both parties agreed to go on: another month (the reason is the action's note)."""
    return {"mediation_due_at": limits.extend(d, now).isoformat()}


def _agree(_s: Session, _p: Principal, d: Dispute, v: dict[str, Any], _note: str, now: datetime) -> dict[str, Any]:
    d.agreement_terms = v["terms"]
    d.perform_by = v.get("perform_by")
    d.resolved_at = now
    d.resolved_level = depth(d.centre_path)
    return {"resolved_level": d.resolved_level}


def _fail(_s: Session, _p: Principal, d: Dispute, _v: dict[str, Any], note: str, _now: datetime) -> dict[str, Any]:
    d.reason = note[:500]
    return {}


def _refer(s: Session, _p: Principal, d: Dispute, v: dict[str, Any], note: str, now: datetime) -> dict[str, Any]:
    referral = Referral(dispute_id=d.id, centre_path=d.centre_path, channel=v["channel"],
                        counterpart=v["counterpart"], reason=note[:500], external_ref=v.get("external_ref", ""),
                        referred_at=now, area_path=d.area_path)
    s.add(referral)
    s.flush()
    return {"referral_id": referral.id, "channel": referral.channel}


def _escalate(s: Session, _p: Principal, d: Dispute, _v: dict[str, Any], _note: str, _now: datetime
              ) -> dict[str, Any]:
    """The next centre up the chain answers for it now; the previous mediator no longer does."""
    higher = centre_for(s, d.centre_path)
    if higher is None:
        raise Conflict("no_higher_centre", "没有上级中心可上报", "There is no higher centre to escalate to")
    d.centre_area_id, d.centre_path = higher.area_id, higher.area_path
    d.mediator_id = d.org_id = None
    return {"centre_area_id": higher.area_id}


def _follow_up(s: Session, p: Principal, d: Dispute, v: dict[str, Any], note: str, now: datetime) -> dict[str, Any]:
    row = FollowUp(dispute_id=d.id, at=now, performed=v["performed"], satisfied=v["satisfied"],
                   residual_risk=v.get("residual_risk", False), note=note, by_user=p.user_id,
                   area_path=d.area_path)
    s.add(row)
    s.flush()
    return {"follow_up_id": row.id, "performed": row.performed, "residual_risk": row.residual_risk}


def _close(_s: Session, _p: Principal, d: Dispute, _v: dict[str, Any], _note: str, now: datetime) -> dict[str, Any]:
    d.closed_at = now
    return {}


def _review_risk(s: Session, _p: Principal, d: Dispute, v: dict[str, Any], note: str, _now: datetime
                 ) -> dict[str, Any]:
    """Any escalation signal makes the risk high whatever level was chosen; a high risk raises a warning
    and each named party is enrolled as a key person (events the key-persons domain subscribes to)."""
    signals = v.get("signals", [])
    level = RiskLevel.HIGH if signals else RiskLevel(v["risk_level"])
    enrol = v.get("enrol_party_ids", [])
    persons = _registered_parties(s, d, enrol)
    d.risk_level, d.signals = level.value, signals
    if _RANK[level] == _RANK[RiskLevel.HIGH]:
        outbox.emit(s, "dispute.warning", "dispute", d.id, d.area_path,
                    {"dispute_id": d.id, "level": level.value, "signals": signals,
                     "criminal": Signal.CRIMINAL in signals})
    for party_id in enrol:
        outbox.emit(s, "dispute.enrol_key_person", "dispute", d.id, d.area_path,
                    {"dispute_id": d.id, "code": d.code, "party_id": party_id, "person_id": persons[party_id],
                     "level": level.value, "reason": note[:500]})
    return {"risk_level": level.value, "signals": signals, "enrolled": enrol}


def _registered_parties(s: Session, d: Dispute, party_ids: list[int]) -> dict[int, int]:
    """Party id → the register's person for each party named for enrolment: the party's own link, else the
    active person with the same ID number. A party of another dispute, an organisation, or a person not in
    the register is refused here, before anything is written."""
    if not party_ids:
        return {}
    rows = {r.id: r for r in s.execute(select(Party.id, Party.person_id, Party.id_number_hash).where(
        Party.dispute_id == d.id, Party.id.in_(party_ids), Party.kind == PartyKind.PERSON))}
    missing = sorted(set(party_ids) - set(rows))
    if missing:
        raise ValidationFailed("unknown_party", "当事人不属于该纠纷或不是自然人",
                               "A party is not a person of this dispute", detail={"party_id": missing[0]})
    persons = {i: r.person_id or registry.active_person_with(s, r.id_number_hash) for i, r in rows.items()}
    unregistered = sorted(i for i, person in persons.items() if person is None)
    if unregistered:
        raise not_in_register("enrol_party_ids", unregistered[0])
    return {i: int(person) for i, person in persons.items() if person is not None}


def _nothing(*_args: Any) -> dict[str, Any]:
    return {}


EFFECTS: dict[str, Effect] = {
    "reject": _reject, "assign": _assign, "start": _nothing, "agree": _agree, "fail": _fail, "refer": _refer,
    "escalate": _escalate, "perform": _nothing, "follow_up": _follow_up, "close": _close,
    "review_risk": _review_risk, "extend": _extend,
}


def run(session: Session, principal: Principal, dispute: Dispute, transition: Transition, values: dict[str, Any],
        note: str, now: datetime) -> dict[str, Any]:
    return EFFECTS[transition.action](session, principal, dispute, values, note, now)
