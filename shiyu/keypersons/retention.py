"""Retention after release: a record closed (released, transferred, deceased) longer than the setting
``keyperson_retention_days`` keeps only its bare facts (group, grade, dates, states: the statistics need
them); its form answers, guardian and the findings of its visits are erased. The person's own data is the
register's and follows the register's rules."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shiyu.core import audit
from shiyu.keypersons.models import KeyPersonRecord, State, Visit

CLOSED = (State.RELEASED.value, State.TRANSFERRED.value, State.DECEASED.value)


def erase(session: Session, today: date, keep_days: int) -> int:
    """Answers how many records were erased now (those erased before are not counted again)."""
    before = today - timedelta(days=keep_days)
    ids = list(session.scalars(select(KeyPersonRecord.id).where(
        KeyPersonRecord.state.in_(CLOSED), KeyPersonRecord.closed_on < before,
        (KeyPersonRecord.attributes.is_not(None)) | (KeyPersonRecord.guardian_name.is_not(None))
        | (KeyPersonRecord.guardian_phone.is_not(None)))))
    if not ids:
        return 0
    session.execute(update(KeyPersonRecord).where(KeyPersonRecord.id.in_(ids))
                    .values(attributes=None, guardian_name=None, guardian_phone=None)
                    .execution_options(synchronize_session=False))
    session.execute(update(Visit).where(Visit.record_id.in_(ids)).values(findings=None)
                    .execution_options(synchronize_session=False))
    audit.record(session, "erase", "kp_record", None, after={"ids": ids, "retention_days": keep_days})
    return len(ids)
