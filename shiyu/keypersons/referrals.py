"""Referrals from the domains above: a dispute's risk review names a party to enrol (``dispute.enrol_key_person``),
a petition officer asks that a repeat petitioner be enrolled (``petition.enrol_key_person``). Each becomes a
record in ``referred`` in the matching group — 高危矛盾纠纷当事人 or 信访重点人员 — for the centre leader to
verify and enrol like any other referral; the record's source names where it came from.

The sender checked that the person is in the register (``errors.not_in_register``), so the payload carries the
register's person id. A person whose record in the group is already open gets a ``referred_again`` entry on
that record instead of a second record: the leader sees that another dispute or petition points at them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shiyu.core import outbox
from shiyu.core.scoping import Principal
from shiyu.keypersons import service
from shiyu.keypersons.errors import KeyPersonError
from shiyu.keypersons.models import KeyPersonRecord

SYSTEM = Principal.system("keypersons")


@outbox.subscribe("dispute.enrol_key_person", name="keypersons.from_dispute")
def from_dispute(session: Session, event: outbox.OutboxEvent) -> None:
    """A high-risk dispute's party: graded red when the review found the dispute high-risk, else yellow."""
    p = event.payload
    ref = p.get("code") or f"dispute:{p['dispute_id']}"
    refer(session, p["person_id"], "dispute", "dispute", ref, "red" if p.get("level") == "high" else "yellow",
          {"dispute_ref": ref, "risk": p.get("reason") or "—"})


@outbox.subscribe("petition.enrol_key_person", name="keypersons.from_petition")
def from_petition(session: Session, event: outbox.OutboxEvent) -> None:
    """Each registered petitioner of a repeat petition, graded yellow (the leader regrades on verifying)."""
    p = event.payload
    for person_id in p.get("person_ids", []):
        refer(session, person_id, "petition", "petition", p["number"], "yellow",
              {"matter": p.get("reason") or "—"})


def refer(session: Session, person_id: int, group_code: str, source: str, ref: str, grade: str,
          attributes: dict[str, Any]) -> KeyPersonRecord:
    """Open a referred record, or note the referral on the record already open for the person in the group."""
    caller = session.info.get("principal")
    session.info["principal"] = SYSTEM
    try:
        try:
            with session.begin_nested():
                return service.open_record(session, SYSTEM, service.Opening(
                    person_id=person_id, group_code=group_code, grade=grade, source=source, source_ref=ref[:64],
                    attributes=attributes))
        except KeyPersonError as exc:
            if exc.code != "keyperson_already_open":
                raise
            record_id = int(exc.detail["record_id"])
        record = service.get_record(session, record_id)
        service.log(session, record, "referred_again", SYSTEM, source=source, source_ref=ref[:64])
        return record
    finally:
        session.info["principal"] = caller
