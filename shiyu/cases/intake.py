"""Intake from every channel: grid worker, citizen (anonymous allowed), hotline operator on a caller's
behalf, department, and external systems with an API key.

Every submission carries a client-generated idempotency key. The pair (submitter, key) is unique in the
database, so a retried submission — the phone lost its connection after sending — finds the first case
instead of creating a second one, even when both attempts arrive at once (the loser of the insert race
reads the winner's row). The same key with different content is refused: it is a client bug, and
answering with the first case would hide it.

The point decides the grid (``shiyu.org.areas.lookup``), the grid decides the area path (the case's scope)
and the responsible centre (the nearest centre up the chain, normally the community's). Addresses are
stored as given; there is no geocoder yet, so a point is required.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from shiyu.cases import deadlines, engine
from shiyu.cases.calendar_service import load_calendar
from shiyu.cases.categories.models import Category, Step, Urgency
from shiyu.cases.categories.service import check_attributes
from shiyu.cases.models import Case, CaseState, Channel
from shiyu.cases.schemas import IntakeIn
from shiyu.cases.timeline import record_event
from shiyu.core import outbox
from shiyu.core.errors import Conflict, Forbidden, ValidationFailed
from shiyu.core.pii import blind_hash
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.core.validators import validate_phone
from shiyu.org.areas.lookup import INDEXES
from shiyu.org.units.models import Centre
from shiyu.triage import suggest as triage_suggest

UNSCOPED = {"unscoped": True}
# Crockford's base32 without I, L, O, U: read aloud over the phone without confusion.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass
class ApiPrincipal(Principal):
    """An external system acting through an API key; its one grant is its area subtree."""

    api_client_id: int = 0


@dataclass
class IntakeResult:
    case: Case
    created: bool
    evaluation_token: str


def submitter_key(principal: Principal) -> str:
    if isinstance(principal, ApiPrincipal):
        return f"api:{principal.api_client_id}"
    return f"user:{principal.user_id}" if principal.user_id is not None else "public"


def request_hash(data: IntakeIn) -> str:
    body = data.model_dump(mode="json", exclude={"idempotency_key"})
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def new_tracking_code(now: datetime, tz: ZoneInfo) -> str:
    """``YYMM`` of the report plus 10 random characters (50 bits): short enough to read out, too many to
    guess — the public tracking page shows no personal data, but a case's progress is still nobody's
    business but the reporter's."""
    return now.astimezone(tz).strftime("%y%m") + "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))


def evaluation_token(tracking_code: str) -> str:
    """The secret that lets an anonymous reporter evaluate: a keyed hash of the tracking code, so it need
    not be stored and a retried intake gives the same token again."""
    return blind_hash("text", f"case-evaluation:{tracking_code}")[:32]


def _check_channel(principal: Principal, channel: Channel, area_path: str) -> None:
    if channel is Channel.API:
        allowed = isinstance(principal, ApiPrincipal) and principal.can("case.report", area_path)
    elif isinstance(principal, ApiPrincipal):
        allowed = False
    elif channel is Channel.CITIZEN:
        allowed = True
    else:
        allowed = principal.user_id is not None and principal.can("case.report", area_path)
    if not allowed:
        raise Forbidden("channel_not_allowed", "您不能通过该渠道在此处上报", "You cannot report through this channel "
                        "at this place", detail={"channel": channel.value})


def _category(session: Session, data: IntakeIn) -> Category:
    category = session.get(Category, data.category_id, options=[joinedload(Category.parent)])
    if category is None or not category.selectable:
        raise ValidationFailed("category_not_selectable", "所选类别不存在或不可用", "The category does not exist "
                               "or cannot be chosen", detail={"field": "category_id"})
    check_attributes(category, data.attributes)
    return category


def _centre_for(session: Session, grid_path: str) -> Centre:
    codes = [c for c in grid_path.split("/") if c]
    paths = ["/" + "/".join(codes[:n]) + "/" for n in range(1, len(codes))]
    centres = {c.area_path: c for c in session.scalars(select(Centre).where(Centre.area_path.in_(paths)),
                                                       execution_options=UNSCOPED)}
    for path in reversed(paths):
        if path in centres:
            return centres[path]
    raise ValidationFailed("no_centre", "该位置没有负责的综治中心",
                           "No governance centre is responsible for this place")


def _submitted(session: Session, key: str, idempotency_key: str) -> Case | None:
    return session.scalar(select(Case).where(Case.submitter_key == key, Case.idempotency_key == idempotency_key),
                          execution_options=UNSCOPED)


def _replay(session: Session, key: str, data: IntakeIn, digest: str) -> Case | None:
    existing = _submitted(session, key, data.idempotency_key)
    if existing is not None and existing.request_hash != digest:
        raise Conflict("idempotency_key_reused", "该幂等键已用于内容不同的上报",
                       "This idempotency key was already used for a different report",
                       detail={"idempotency_key": data.idempotency_key})
    return existing


def already_submitted(session: Session, principal: Principal, idempotency_key: str) -> IntakeResult | None:
    """The case this caller already filed under this key, if any: lets a form that uploads files first
    answer a re-submission without storing its files again."""
    existing = _submitted(session, submitter_key(principal), idempotency_key)
    return None if existing is None else IntakeResult(existing, False, evaluation_token(existing.tracking_code))


def intake(session: Session, principal: Principal, data: IntakeIn, tz: ZoneInfo, *,
           now: datetime | None = None) -> IntakeResult:
    now = now or utcnow()
    key, digest = submitter_key(principal), request_hash(data)
    existing = _replay(session, key, data, digest)
    if existing is not None:
        return IntakeResult(existing, False, evaluation_token(existing.tracking_code))
    channel = Channel(data.channel)
    record = INDEXES.get(session).locate(data.location.lon, data.location.lat)
    if record is None:
        raise ValidationFailed("outside_city", "该位置不在本市任何网格内", "This location is not inside any grid of "
                               "the city", detail={"lon": data.location.lon, "lat": data.location.lat})
    _check_channel(principal, channel, record.area_path)
    if data.self_resolved and channel is not Channel.GRID:
        raise ValidationFailed("self_resolve_grid_only", "只有网格员上报时可以自行处置",
                               "Only a grid worker's report can be resolved on the spot",
                               detail={"field": "self_resolved"})
    category = _category(session, data)
    centre = _centre_for(session, record.area_path)
    reporter = data.reporter
    anonymous = channel is Channel.CITIZEN and data.anonymous
    case = Case(
        version=1, tracking_code=new_tracking_code(now, tz), submitter_key=key, idempotency_key=data.idempotency_key,
        request_hash=digest, channel=channel.value, state=CaseState.REPORTED.value, category_id=category.id,
        urgency=(data.urgency or Urgency(category.default_urgency)).value, description=data.description.strip(),
        attributes=data.attributes, lon=data.location.lon, lat=data.location.lat, address=data.address,
        grid_id=record.ref.id, area_path=record.area_path, centre_area_id=centre.area_id,
        centre_path=centre.area_path, occurred_at=data.occurred_at, reported_at=now,
        reporter_user_id=None if anonymous or channel is Channel.HOTLINE else principal.user_id,
        submitted_by_id=principal.user_id,
        api_client_id=principal.api_client_id if isinstance(principal, ApiPrincipal) else None,
        anonymous=anonymous,
        reporter_name=None if anonymous or reporter is None else reporter.name,
        reporter_phone=None if anonymous or reporter is None or not reporter.phone else validate_phone(reporter.phone),
        last_action_at=now,
    )
    deadlines.start_step(case, Step.REGISTER, category, load_calendar(session, tz), now)
    attachments = engine.attachments_for(session, principal, case, data.attachment_ids)
    try:
        # Everything the intake adds lives in the savepoint, so a lost insert race leaves nothing pending.
        with session.begin_nested():
            session.add(case)
            for attachment in attachments:
                attachment.case, attachment.area_path = case, case.area_path
            # Flushed together with the case: for an anonymous citizen the case is writable only while it
            # is new (see models._may_write_case), and so is its first timeline entry.
            record_event(session, case, "report", None, "", {"channel": channel.value},
                         attachment_ids=[a.id for a in attachments])
            triage_suggest.on_reported(session, case)
            session.flush()
    except IntegrityError:
        existing = _replay(session, key, data, digest)
        if existing is None:
            raise
        return IntakeResult(existing, False, evaluation_token(existing.tracking_code))
    outbox.emit(session, "case.reported", "case", case.id, case.area_path, {
        "case_id": case.id, "tracking_code": case.tracking_code, "channel": channel.value,
        "category_id": category.id, "centre_path": case.centre_path, "to": case.state, "version": case.version,
    })
    session.flush()
    if data.self_resolved:
        engine.apply(session, principal, case.id, "self_resolve", engine.ActionInput(
            expected_version=case.version, note=data.self_resolution_note or "",
            attachment_ids=data.self_resolution_attachment_ids), tz, now=now)
    return IntakeResult(case, True, evaluation_token(case.tracking_code))


def outcome(result: IntakeResult) -> dict[str, Any]:
    case = result.case
    return {"id": case.id, "tracking_code": case.tracking_code, "state": case.state, "version": case.version,
            "grid_id": case.grid_id, "created": result.created, "evaluation_token": result.evaluation_token}
