"""Routes for cases: intake, lists, detail, actions, attachments, queues and public tracking. Thin: parse,
authorise, call one service function, return.

Intake accepts three kinds of caller: a logged-in user (bearer token or page session), an external system
(``X-Api-Key``) and, for citizen reports only, nobody at all. Tracking is public by tracking code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile
from sqlalchemy.orm import Session

from shiyu.cases import attachments, service
from shiyu.cases.models import AnonymousReporter, CaseState, Channel
from shiyu.cases.schemas import (
    ActionIn,
    AttachmentOut,
    CaseOut,
    CaseView,
    IntakeIn,
    IntakeOut,
    QueueCount,
    TrackEvaluateIn,
    TrackOut,
)
from shiyu.cases.workflow import engine, queues
from shiyu.core.errors import Unauthenticated
from shiyu.core.http import (
    CurrentPrincipal,
    Db,
    Paging,
    client_ip,
    language,
    optional_principal,
    request_session,
    request_transaction,
)
from shiyu.core.paging import Page, PageParams, paginate
from shiyu.core.scoping import Principal
from shiyu.core.storage import LocalStorage
from shiyu.core.timeutil import utcnow
from shiyu.org.identity import api_clients
from shiyu.org.identity.schemas import RevealIn, RevealOut

router = APIRouter(tags=["cases"])
PUBLIC = "public"
UPLOAD_CHUNK = 1024 * 1024


def _caller(request: Request, session: Session) -> Principal | None:
    """An external system by its API key, else the logged-in user, else nobody."""
    key = request.headers.get("x-api-key")
    if key:
        return api_clients.api_principal(session, key)
    return optional_principal(request, session)


def _credentials(request: Request) -> str | None:
    """What identifies the caller completely: an API key or a bearer token. A session cookie does not (each
    request must also pass its own CSRF check), nor does its absence."""
    key = request.headers.get("x-api-key")
    if key:
        return f"api:{key}"
    header = request.headers.get("authorization", "")
    return f"bearer:{header[7:].strip()}" if header.lower().startswith("bearer ") else None


def _reporter(request: Request) -> Callable[[Session], Principal]:
    """Anonymous callers act as a principal with no grants and no id: they can file a citizen report,
    nothing else, and own only the uploads of their own request (``AnonymousReporter``)."""
    return lambda session: _caller(request, session) or AnonymousReporter(user_id=None, username=PUBLIC)


def _actor(request: Request) -> Callable[[Session], Principal]:
    def find(session: Session) -> Principal:
        principal = _caller(request, session)
        if principal is None:
            raise Unauthenticated()
        return principal

    return find


def intake_session(request: Request) -> Iterator[Session]:
    with request_transaction(request, _reporter(request)) as session:
        yield session


def actor_session(request: Request) -> Iterator[Session]:
    with request_transaction(request, _actor(request)) as session:
        yield session


def public_session(request: Request) -> Iterator[Session]:
    """The tracking page reads one case by its code, whoever asks; the service shows only public parts."""
    yield from request_session(request, Principal.system("track"))


ActorDb = Annotated[Session, Depends(actor_session, scope="function")]
PublicDb = Annotated[Session, Depends(public_session, scope="function")]


def _storage(request: Request) -> LocalStorage:
    return LocalStorage(request.app.state.settings.storage_dir)


def _page(items: list[Any], total: int, paging: PageParams) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": paging.limit, "offset": paging.offset}


@router.post("/cases", response_model=IntakeOut, status_code=201,
             summary="Report a case (any channel); a retry with the same idempotency key answers 200 with the "
                     "first case")
async def create_case(body: IntakeIn, request: Request, response: Response) -> dict[str, Any]:
    # Written by the process's intake writer (group commit, shiyu.cases.intake.writer), which answers after
    # its transaction commits; the caller is identified in the writer's session.
    writer = request.app.state.intake_writer
    answer: dict[str, Any] = await asyncio.wrap_future(
        writer.submit(_reporter(request), client_ip(request), body, _credentials(request)))
    if not answer["created"]:
        response.status_code = 200
    return answer


@router.get("/cases", response_model=Page[CaseOut], summary="Cases within your scope, newest first")
def list_cases(
    db: Db, paging: Paging, request: Request,
    state: list[CaseState] | None = Query(None),
    category_id: int | None = None,
    area_id: int | None = Query(None, description="a grid or any area: cases in its subtree"),
    channel: Channel | None = None,
    reported_from: datetime | None = None,
    reported_to: datetime | None = None,
    overdue: bool | None = None,
    supervised: bool | None = None,
    department_id: int | None = Query(None, description="main department"),
    tracking_code: str | None = None,
    repeat: bool | None = Query(None, description="flagged as a repeat complaint (重复诉求) or not"),
) -> dict[str, Any]:
    filters = service.CaseFilters(
        state=[s.value for s in state] if state else None, category_id=category_id, area_id=area_id,
        channel=channel.value if channel else None, reported_from=reported_from, reported_to=reported_to,
        overdue=overdue, supervised=supervised, department_id=department_id, tracking_code=tracking_code,
        repeat=repeat,
    )
    rows, total = service.list_cases(db, paging, filters)
    now, lang = utcnow(), language(request)
    return _page([service.case_out(c, now, lang) for c in rows], total, paging)


@router.get("/cases/{case_id}", response_model=CaseView,
            summary="A case with its timeline, deadline, routing suggestion and the actions you may take now "
                    "(its reporter gets the public tracking view)")
def get_case(case_id: int, db: Db, principal: CurrentPrincipal, request: Request) -> dict[str, Any]:
    case = service.get_case(db, case_id)
    return service.case_view(db, principal, case, request.app.state.settings.tz, language(request))


@router.post("/cases/{case_id}/actions/{action}", response_model=CaseView,
             summary="Apply a workflow action (register, dispatch, accept, …) at the version you saw")
def act(
    case_id: int, action: str, body: ActionIn, db: Db, principal: CurrentPrincipal, request: Request
) -> dict[str, Any]:
    tz = request.app.state.settings.tz
    case = engine.apply(db, principal, case_id, action, engine.ActionInput(
        expected_version=body.expected_version, note=body.note, fields=body.fields,
        attachment_ids=body.attachment_ids), tz)
    return service.case_view(db, principal, case, tz, language(request))


@router.post("/cases/{case_id}/reveal", response_model=RevealOut,
             summary="See one masked part of a case in the clear: reporter_name, reporter_phone, description, "
                     "address or note:<event id> (needs pii.reveal and a reason; audited)")
def reveal(case_id: int, body: RevealIn, db: Db, principal: CurrentPrincipal) -> RevealOut:
    return RevealOut(field=body.field, value=service.reveal(db, principal, case_id, body.field, body.reason))


@router.post("/attachments", response_model=AttachmentOut, status_code=201,
             summary="Upload a photo, recording or video (type checked by content); use its id in a report or "
                     "an action")
def upload(request: Request, db: ActorDb, file: UploadFile = File(...)) -> dict[str, Any]:
    data, file_type = attachments.read_limited(iter(lambda: file.file.read(UPLOAD_CHUNK), b""))
    stored = attachments.store_upload(db, db.info["principal"], _storage(request), file.filename, data, file_type)
    return attachments.attachment_out(stored)


@router.get("/attachments/{attachment_id}", summary="The file itself", response_class=Response)
def download(attachment_id: int, db: ActorDb, request: Request) -> Response:
    return _file(db, request, attachment_id, thumbnail=False)


@router.get("/attachments/{attachment_id}/thumbnail", summary="A 320-pixel JPEG of a photo",
            response_class=Response)
def thumbnail(attachment_id: int, db: ActorDb, request: Request) -> Response:
    return _file(db, request, attachment_id, thumbnail=True)


def _file(db: Session, request: Request, attachment_id: int, thumbnail: bool) -> Response:
    found = attachments.get_attachment(db, attachment_id)
    data, mime = attachments.content(_storage(request), found, thumbnail)
    return Response(data, media_type=mime, headers={
        "Content-Disposition": f"attachment; filename=attachment-{found.id}",
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"})


@router.get("/queues", response_model=list[QueueCount], summary="Your work queues with their counts")
def queue_counts(db: Db, principal: CurrentPrincipal, request: Request) -> list[dict[str, Any]]:
    lang = language(request)
    return [{"name": q.name, "label": q.label_en if lang == "en" else q.label_zh, "count": n}
            for q, n in queues.counts(db, principal)]


@router.get("/queues/{name}", response_model=Page[CaseOut], summary="The cases in one of your queues")
def queue_cases(name: str, db: Db, principal: CurrentPrincipal, paging: Paging, request: Request) -> dict[str, Any]:
    rows, total = paginate(db, queues.statement(principal, name), paging)
    now, lang = utcnow(), language(request)
    return _page([service.case_out(c, now, lang) for c in rows], total, paging)


@router.get("/track/{code}", response_model=TrackOut, summary="Public progress of a case by its tracking code")
def track(code: str, db: PublicDb, request: Request) -> dict[str, Any]:
    return service.track(db, code, language(request))


@router.post("/track/{code}/evaluate", response_model=TrackOut,
             summary="Evaluate a closed case: with the evaluation token from the report, or as the logged-in reporter")
def track_evaluate(code: str, body: TrackEvaluateIn, db: PublicDb, request: Request) -> dict[str, Any]:
    reporter = None if body.token else optional_principal(request)
    service.track_evaluate(db, code, body.rating, body.note, body.token, reporter, request.app.state.settings.tz)
    return service.track(db, code, language(request))
