"""Intake from every channel: grid worker, citizen (anonymous allowed), hotline operator on a caller's
behalf, department, and external systems with an API key.

Every submission carries a client-generated idempotency key. The pair (submitter, key) is unique in the
database, so a retried submission — the phone lost its connection after sending — finds the first case
instead of creating a second one, even when both attempts arrive at once (the loser of the insert race
reads the winner's row). A retry is recognised by the report's fingerprint (``request_hash``: its content,
photos by their digest, not by the ids of their uploads, so a photo sent again is the same photo). The same
key with different content is refused for a known submitter: it is a client bug, and answering with the
first case would hide it. Anonymous reporters are nobody in particular, so they share no namespace: an
anonymous submitter is the fingerprint of its report (``submitter_key``). A key reused by someone else
with other content is then simply another report; only the very same report under the same key finds the
first case — never another reporter's tracking code and evaluation token.

The point decides the grid (``shiyu.org.areas.lookup``), the grid decides the area path (the case's scope)
and the responsible centre (the nearest centre up the chain, normally the community's). Addresses are
stored as given; there is no geocoder yet, so a point is required.

Intake is the hot path (a city's hotline, sensors and video analytics at peak), so it writes below the ORM:
reference data comes from memory (``shiyu.core.refcache``), the case is one ``INSERT … ON CONFLICT DO
NOTHING`` (no read first: the conflict *is* the retry check), and the timeline entry, audit entries and
outbox event are Core inserts. What the ORM's flush listeners would do is done here explicitly: blind
indexes, audit entries, the live announcement; the write rule is the channel check below, the same one the
flush rule for cases applies. A grid worker's self-resolution then goes through the workflow engine like
any other action.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, delete, inspect, select
from sqlalchemy.orm import Session

from shiyu.cases import attachments as uploads
from shiyu.cases.categories.models import Step, Urgency
from shiyu.cases.categories.selectable import SelectableCategory, selectable
from shiyu.cases.categories.service import check_attributes
from shiyu.cases.intake import hooks
from shiyu.cases.models import Attachment, Case, CaseEvent, CaseState, Channel
from shiyu.cases.schemas import IntakeIn
from shiyu.cases.workflow import deadlines, engine
from shiyu.cases.workflow.timeline import event_values
from shiyu.core import audit, live, outbox, pii
from shiyu.core.db import insert_new_returning, insert_returning, with_defaults
from shiyu.core.errors import Conflict, Forbidden, ShiyuError, ValidationFailed
from shiyu.core.pii import blind_hash
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.core.validators import validate_phone
from shiyu.org.areas.lookup import INDEXES, GridRecord
from shiyu.org.calendar.service import load_calendar
from shiyu.org.identity.api_clients import ApiPrincipal
from shiyu.org.units.responsible import CentreRef, centre_for

UNSCOPED = {"unscoped": True}
# Crockford's base32 without I, L, O, U: read aloud over the phone without confusion.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
EVALUATION_CODE_LENGTH = 6


@dataclass(frozen=True)
class IntakeResult:
    """What the reporter is told. The case itself is read only when asked for (``case``): the API answers
    from these fields without reading the row back."""

    session: Session = field(repr=False, compare=False)
    case_id: int
    tracking_code: str
    state: str
    version: int
    grid_id: int
    created: bool

    @property
    def evaluation_token(self) -> str:
        return evaluation_token(self.tracking_code)

    @property
    def case(self) -> Case:
        case = self.session.get(Case, self.case_id, options=[], execution_options=UNSCOPED)
        assert case is not None
        return case


def submitter_key(principal: Principal, digest: str) -> str:
    """Whose idempotency keys these are: a user's, an API client's, or, for nobody, this very report's."""
    if isinstance(principal, ApiPrincipal):
        return f"api:{principal.api_client_id}"
    return f"user:{principal.user_id}" if principal.user_id is not None else f"anon:{digest[:32]}"


def request_hash(data: IntakeIn, photo_digests: list[str]) -> str:
    """The report's fingerprint: its content, with its attachments by the SHA-256 of their files (in the
    order named) instead of by upload id."""
    body = data.model_dump(mode="json", exclude={"idempotency_key", "attachment_ids"})
    if body.get("component_code") is None:  # as before components could be named: a retry still matches
        body.pop("component_code", None)
    body["attachments"] = photo_digests
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


def evaluation_code(tracking_code: str) -> str:
    """The short evaluation code (评价码) printed on the receipt and the tracking page: six characters of the
    same keyed hash in the read-aloud alphabet. Short enough to note down; guessing it is slowed by the
    evaluation rate limit (``shiyu.web.limits``) and needs the tracking code too."""
    digest = blind_hash("text", f"case-evaluation-code:{tracking_code}")
    number = int(digest[:16], 16)
    return "".join(CODE_ALPHABET[(number >> (5 * i)) & 31] for i in range(EVALUATION_CODE_LENGTH))


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


def _category(session: Session, data: IntakeIn) -> SelectableCategory:
    category = selectable(session, data.category_id)
    if category is None:
        raise ValidationFailed("category_not_selectable", "所选类别不存在或不可用", "The category does not exist "
                               "or cannot be chosen", detail={"field": "category_id"})
    # A citizen cannot know an official class's form (权属单位, 问题情况 …): the operator completes it at 立案.
    check_attributes(category, data.attributes, partial=data.channel is Channel.CITIZEN)
    return category


def _centre_for(session: Session, grid_path: str) -> CentreRef:
    centre = centre_for(session, grid_path)
    if centre is None:
        raise ValidationFailed("no_centre", "该位置没有负责的综治中心",
                               "No governance centre is responsible for this place")
    return centre


def _submitted(session: Session, key: str, idempotency_key: str) -> tuple[IntakeResult, str] | None:
    """The case filed earlier under (submitter, key), as its reporter is told, with its request hash."""
    row = session.execute(
        select(Case.id, Case.tracking_code, Case.state, Case.version, Case.grid_id, Case.request_hash)
        .where(Case.submitter_key == key, Case.idempotency_key == idempotency_key),
        execution_options=UNSCOPED).one_or_none()
    if row is None:
        return None
    answer = IntakeResult(session, row.id, row.tracking_code, row.state, row.version, row.grid_id, False)
    return answer, row.request_hash


def _replay(session: Session, key: str, data: IntakeIn, digest: str) -> IntakeResult | None:
    found = _submitted(session, key, data.idempotency_key)
    if found is None:
        return None
    if found[1] != digest:
        raise Conflict("idempotency_key_reused", "该幂等键已用于内容不同的上报",
                       "This idempotency key was already used for a different report",
                       detail={"idempotency_key": data.idempotency_key})
    return found[0]


def already_submitted(session: Session, principal: Principal, data: IntakeIn,
                      photo_digests: list[str]) -> IntakeResult | None:
    """The case this caller already filed as this very report (same key, same fingerprint with the
    attachments about to be sent), if any: lets a form that uploads its files with the report answer a
    re-submission without storing them again. The same key with other content is refused, as at intake."""
    digest = request_hash(data, photo_digests)
    return _replay(session, submitter_key(principal, digest), data, digest)


def _urgency(channel: Channel, urgency: Urgency) -> Urgency:
    """A citizen's pick never makes a case 特急 by itself (a resident's 路面塌陷 is often a pothole): at most
    紧急 until an operator raises it at 立案."""
    if channel is Channel.CITIZEN and urgency is Urgency.CRITICAL:
        return Urgency.URGENT
    return urgency


def _new_case(session: Session, principal: Principal, data: IntakeIn, key: str, digest: str, record: GridRecord,
              category: SelectableCategory, centre: CentreRef, tz: ZoneInfo, now: datetime) -> Case:
    """The case as it will be inserted: a transient object (never added to the session), so the deadline
    code and the live announcement work on it as on any case."""
    channel = Channel(data.channel)
    reporter = data.reporter
    anonymous = channel is Channel.CITIZEN and data.anonymous
    case = Case(
        version=1, tracking_code=new_tracking_code(now, tz), submitter_key=key, idempotency_key=data.idempotency_key,
        request_hash=digest, channel=channel.value, state=CaseState.REPORTED.value, category_id=category.id,
        urgency=_urgency(channel, data.urgency or Urgency(category.default_urgency)).value,
        description=data.description.strip(),
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
    return case


@dataclass
class Filing:
    """A report checked and ready to be written: every check that can refuse it has run, so a batch of
    filings is written without one report's problem undoing the others."""

    principal: Principal
    client_ip: str | None
    data: IntakeIn
    case: Case  # transient; gets its id when written
    values: dict[str, Any]  # the case row
    attachments: list[Attachment]
    extras: dict[str, dict[str, Any]]  # by intake hook: the row it adds, without its case id

    @property
    def unique(self) -> tuple[str, str]:
        return self.values["submitter_key"], self.values["idempotency_key"]


def prepare(session: Session, principal: Principal, data: IntakeIn, tz: ZoneInfo, *,
            now: datetime | None = None) -> Filing:
    """Check a report and build its rows (reads only: a refused report has written nothing)."""
    now = now or utcnow()
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
    attachments, digest = _attachments(session, principal, data)
    case = _new_case(session, principal, data, submitter_key(principal, digest), digest, record, category,
                     _centre_for(session, record.area_path), tz, now)
    if data.component_code:
        case.component_id = hooks.resolve_component(session, case, data.component_code)
    table = Case.__table__
    values = pii.with_blind_index(Case, with_defaults(table, {k: v for k, v in inspect(case).dict.items()
                                                             if k in table.c}))
    extras = {hook.name: row for hook in hooks.hooks() if (row := hook.prepare(session, case)) is not None}
    return Filing(principal, session.info.get("client_ip"), data, case, values, attachments, extras)


def _attachments(session: Session, principal: Principal, data: IntakeIn) -> tuple[list[Attachment], str]:
    """The uploads a report takes, with its fingerprint. A retry names uploads its first attempt already
    took: when the caller filed this very report under this key before, it takes nothing and is answered
    with that case (``write``); otherwise a taken upload refuses the report."""
    try:
        taken = engine.attachments_for(session, principal, None, data.attachment_ids)
    except ValidationFailed:
        found = {a.id: a for a in session.scalars(select(Attachment).where(Attachment.id.in_(data.attachment_ids)))}
        if set(found) != set(data.attachment_ids):
            raise
        digest = request_hash(data, [found[i].sha256 for i in dict.fromkeys(data.attachment_ids)])
        if _submitted(session, submitter_key(principal, digest), data.idempotency_key) is None:
            raise
        return [], digest
    return taken, request_hash(data, [a.sha256 for a in taken])


def _acting(session: Session, filing: Filing) -> None:
    """Rows built next are by this filing's reporter (audit entries, timeline, outbox read the session)."""
    session.info.update(principal=filing.principal, client_ip=filing.client_ip)


def _insert_children(session: Session, table: Table, rows: list[dict[str, Any]], filings: list[Filing],
                     entries: list[dict[str, Any]]) -> None:
    """Rows hanging off the new cases (one per filing, ``case_id`` set), inserted in one statement."""
    if not rows:
        return
    ids = {r.case_id: r.id for r in session.execute(insert_returning(table, "case_id"), rows)}
    by_case = {f.case.id: f for f in filings}
    for row in rows:
        _acting(session, by_case[row["case_id"]])
        entries.append(audit.created(session, table, ids[row["case_id"]], row))


def write(session: Session, filings: list[Filing]) -> list[IntakeResult | ShiyuError]:
    """Write checked reports in the caller's transaction, with one statement per table however many there
    are; answers each filing in order: its case, or the error that refused it (a reused idempotency key).

    A filing whose (submitter, key) pair already has a case — a retry, or the same report twice in this
    batch — writes nothing and is answered with that case. A filing that cannot take all the uploads it
    names, because another report took one since it was checked (in another transaction, or earlier in
    this batch), is refused alone: its case row is removed again before anything hangs off it."""
    first: dict[tuple[str, str], Filing] = {}
    for filing in filings:
        first.setdefault(filing.unique, filing)
    if not filings:
        return []
    table = Case.__table__
    created = {(r.submitter_key, r.idempotency_key): r.id for r in session.execute(
        insert_new_returning(session, table, ("submitter_key", "idempotency_key")),
        [f.values for f in first.values()])}
    new: list[tuple[Filing, list[dict[str, Any]]]] = []
    refused: dict[tuple[str, str], ShiyuError] = {}
    for key, filing in first.items():
        if key not in created:
            continue
        filing.case.id = created[key]
        _acting(session, filing)
        linked = uploads.claim(session, filing.attachments, filing.case.area_path, filing.case.id)
        if linked is None:  # another report took one of its uploads since it was checked
            session.execute(delete(table).where(table.c.id == filing.case.id))
            refused[key] = uploads.unusable()
        else:
            new.append((filing, linked))
    entries: list[dict[str, Any]] = []
    events, reported = [], []
    extras: dict[str, list[dict[str, Any]]] = {hook.name: [] for hook in hooks.hooks()}
    for filing, linked in new:
        case = filing.case
        _acting(session, filing)
        entries.append(audit.created(session, table, case.id, filing.values))
        entries.extend(linked)
        events.append({"case_id": case.id, **with_defaults(CaseEvent.__table__, event_values(
            session, case, "report", None, "", {"channel": case.channel},
            attachment_ids=[a.id for a in filing.attachments]))})
        for hook in hooks.hooks():
            if hook.name in filing.extras:
                extras[hook.name].append(with_defaults(hook.table, {**filing.extras[hook.name], "case_id": case.id}))
        reported.append(outbox.event_row(session, "case.reported", "case", case.id, case.area_path, {
            "case_id": case.id, "tracking_code": case.tracking_code, "channel": case.channel,
            "category_id": case.category_id, "centre_path": case.centre_path, "to": case.state,
            "version": case.version,
        }))
        live.announce(session, case)
    written = [filing for filing, _ in new]
    _insert_children(session, CaseEvent.__table__, events, written, entries)
    for hook in hooks.hooks():
        _insert_children(session, hook.table, extras[hook.name], written, entries)
    audit.write(session, entries)
    outbox.emit_rows(session, reported)
    results: list[IntakeResult | ShiyuError] = []
    for filing in filings:
        case = filing.case
        if filing.unique in refused:
            results.append(refused[filing.unique])
            continue
        if filing is first[filing.unique] and filing.unique in created:
            results.append(IntakeResult(session, case.id, case.tracking_code, case.state, case.version,
                                        case.grid_id, True))
            continue
        try:  # a retry: answered with the first case, if it is the same report
            replayed = _replay(session, filing.unique[0], filing.data, filing.values["request_hash"])
        except ShiyuError as error:
            results.append(error)
            continue
        assert replayed is not None  # the conflicting row is committed, or was inserted by this batch
        results.append(replayed)
    return results


def intake(session: Session, principal: Principal, data: IntakeIn, tz: ZoneInfo, *,
           now: datetime | None = None) -> IntakeResult:
    """File one report in the caller's transaction. A grid worker's self-resolution is applied through the
    workflow engine right after (in the same transaction)."""
    now = now or utcnow()
    result = write(session, [prepare(session, principal, data, tz, now=now)])[0]
    if isinstance(result, ShiyuError):
        raise result
    if data.self_resolved and result.created:
        resolved = engine.apply(session, principal, result.case_id, "self_resolve", engine.ActionInput(
            expected_version=result.version, note=data.self_resolution_note or "",
            attachment_ids=data.self_resolution_attachment_ids), tz, now=now)
        result = replace(result, state=resolved.state, version=resolved.version)
    return result


def outcome(result: IntakeResult) -> dict[str, Any]:
    return {"id": result.case_id, "tracking_code": result.tracking_code, "state": result.state,
            "version": result.version, "grid_id": result.grid_id, "created": result.created,
            "evaluation_token": result.evaluation_token}
