"""``/api/v1/disputes``: disputes (register, from a case, list, detail, actions of the transition table),
parties and their audited reveal, mediation sessions, the generated papers (an audited reveal), 履行凭证
uploads, 司法确认, referrals and their feedback, the legal adviser's questions, organisations and mediators,
the indicators and the map layer. Thin: parse, call one service function."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, UploadFile
from fastapi.responses import Response

from shiyu.core.errors import ValidationFailed
from shiyu.core.http import CurrentPrincipal, Db, Paging, attachment, language
from shiyu.core.paging import Page
from shiyu.core.papers import MEDIA_TYPES
from shiyu.core.pii import mask_text
from shiyu.disputes import documents, indicators, proofs, screening, service, workflow
from shiyu.disputes.schemas import (
    ActionIn,
    AnswerIn,
    ConfirmationIn,
    ConfirmationOut,
    ConfirmationResultIn,
    DisputeDetail,
    DisputeIn,
    DisputeOut,
    FeedbackIn,
    FromCaseIn,
    IndicatorsOut,
    MapPoint,
    MediatorIn,
    MediatorOut,
    MediatorPatch,
    OrgIn,
    OrgOut,
    OrgPatch,
    PartyIn,
    PartyOut,
    QuestionIn,
    QuestionOut,
    ReferralOut,
    ScreeningIn,
    ScreeningOut,
    SessionIn,
    SessionOut,
    TypeOut,
)
from shiyu.registry.schemas import RevealIn, RevealOut  # the registers' reveal: the same shapes

router = APIRouter(prefix="/disputes", tags=["disputes"])


def _tz(request: Request) -> ZoneInfo:
    tz: ZoneInfo = request.app.state.settings.tz
    return tz


def to_input(body: DisputeIn) -> service.DisputeIn:
    return service.DisputeIn(
        title=body.title, type_code=body.type_code, lon=body.lon, lat=body.lat, description=body.description,
        address=body.address, source=body.source, amount=body.amount, people_count=body.people_count,
        is_group=body.is_group, risk_level=body.risk_level, signals=tuple(body.signals),
        parties=tuple(service.PartyIn(**p.model_dump()) for p in body.parties))


@router.get("", response_model=Page[DisputeOut], summary="Disputes you see, high risk first (masked)")
def list_disputes(request: Request, db: Db, principal: CurrentPrincipal, paging: Paging,
                  state: str | None = Query(None, max_length=14), risk_level: str | None = Query(None, max_length=8),
                  mine: bool = Query(False, description="only those assigned to me as mediator")) -> dict[str, Any]:
    f = service.DisputeFilter(state=state, risk_level=risk_level,
                              mediator_ids=tuple(service.my_mediator_ids(db, principal)) if mine else None)
    rows, total = service.list_disputes(db, f, paging)
    lang = language(request)
    return {"items": [service.dispute_out(d, lang) for d in rows], "total": total, "limit": paging.limit,
            "offset": paging.offset}


@router.post("", response_model=DisputeOut, status_code=201,
             summary="Register a dispute at a point (its grid and centre found from the point)")
def register(body: DisputeIn, request: Request, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return service.dispute_out(service.register(db, principal, to_input(body)), language(request))


@router.get("/types", response_model=list[TypeOut], summary="The dispute type tree")
def list_types(db: Db) -> list[Any]:
    return [TypeOut.model_validate(t, from_attributes=True) for t in service.types(db)]


@router.get("/indicators", response_model=IndicatorsOut,
            summary="化解率, 调解成功率, share resolved per level, 民转刑, mediator workload (your scope)")
def get_indicators(db: Db, since: datetime | None = None, until: datetime | None = None) -> dict[str, Any]:
    return indicators.compute(db, since, until)


@router.post("/screening", response_model=ScreeningOut, status_code=201,
             summary="Send a 排查 round (task type dispute.screening, with 零报告) to every grid under an area")
def start_screening(body: ScreeningIn, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    assignment = screening.start_round(db, principal, area_id=body.area_id, due_at=body.due_at, title=body.title,
                                       instructions=body.instructions)
    return {"assignment_id": assignment.id, "grids": len(assignment.targets)}


@router.get("/map", response_model=list[MapPoint], summary="Open disputes as map points (no personal data)")
def map_layer(db: Db) -> list[dict[str, Any]]:
    return service.map_points(db)


@router.get("/referrals", response_model=Page[ReferralOut], summary="Referrals, open ones by default")
def list_referrals(db: Db, paging: Paging, all: bool = Query(False, description="include those answered")
                   ) -> dict[str, Any]:
    rows, total = service.referrals(db, open_only=not all, params=paging)
    return {"items": [service.referral_out(r) for r in rows], "total": total, "limit": paging.limit,
            "offset": paging.offset}


@router.post("/referrals/{referral_id}/feedback", response_model=ReferralOut,
             summary="Record the counterpart's acceptance or result")
def referral_feedback(referral_id: int, body: FeedbackIn, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return service.referral_out(service.referral_feedback(db, principal, referral_id, body.status, body.feedback,
                                                          body.external_ref))


@router.get("/questions", response_model=list[QuestionOut], summary="The legal adviser's queue")
def list_questions(db: Db, unanswered: bool = True) -> list[dict[str, Any]]:
    return [service.question_out(q) for q in service.questions(db, unanswered=unanswered)]


@router.post("/questions/{question_id}/answer", response_model=QuestionOut, summary="Answer a legal question")
def answer_question(question_id: int, body: AnswerIn, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return service.question_out(service.answer(db, principal, question_id, body.answer))


@router.get("/orgs", response_model=list[OrgOut], summary="Mediation organisations you see")
def list_orgs(db: Db) -> list[Any]:
    return [OrgOut.model_validate(o, from_attributes=True) for o in service.orgs(db)]


@router.post("/orgs", response_model=OrgOut, status_code=201, summary="Add a mediation organisation")
def create_org(body: OrgIn, db: Db, principal: CurrentPrincipal) -> Any:
    return OrgOut.model_validate(service.create_org(db, principal, **body.model_dump()), from_attributes=True)


@router.patch("/orgs/{org_id}", response_model=OrgOut,
              summary="Change a mediation organisation (only the fields sent); active=false stops it "
                      "(409 org_has_active_mediators while a mediator of it is active)")
def update_org(org_id: int, body: OrgPatch, db: Db, principal: CurrentPrincipal) -> Any:
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    return OrgOut.model_validate(service.update_org(db, principal, org_id, changes, body.version),
                                 from_attributes=True)


@router.get("/mediators", response_model=list[MediatorOut], summary="Mediators with workload and success rate")
def list_mediators(db: Db, org_id: int | None = Query(None, ge=1, le=2**31 - 1)) -> list[dict[str, Any]]:
    rows = service.mediators(db, org_id)
    stats = service.mediator_stats(db, [m.id for m in rows])
    names = {o.id: o.name for o in service.orgs(db)}
    return [service.mediator_out(m, stats[m.id], names.get(m.org_id, "")) for m in rows]


@router.post("/mediators", response_model=MediatorOut, status_code=201, summary="Add a mediator")
def create_mediator(body: MediatorIn, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    m = service.create_mediator(db, principal, **{**body.model_dump(), "specialties": tuple(body.specialties)})
    return service.mediator_full(db, m)


@router.patch("/mediators/{mediator_id}", response_model=MediatorOut,
              summary="Change a mediator (only the fields sent): move to another organisation you manage, "
                      "relink the account, active=false stops new assignments (assigned disputes keep them)")
def update_mediator(mediator_id: int, body: MediatorPatch, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    return service.mediator_full(db, service.update_mediator(db, principal, mediator_id, changes, body.version))


@router.post("/from-case/{case_id}", response_model=DisputeOut, status_code=201,
             summary="转为矛盾纠纷: a dispute from a case (one per case)")
def from_case(case_id: int, body: FromCaseIn, request: Request, db: Db, principal: CurrentPrincipal
              ) -> dict[str, Any]:
    return service.dispute_out(service.from_case(db, principal, case_id, body.type_code, body.title),
                               language(request))


@router.post("/parties/{party_id}/reveal", response_model=RevealOut,
             summary="One field of a party in the clear (dispute.reveal; reason; audited)")
def reveal_party(party_id: int, body: RevealIn, db: Db, principal: CurrentPrincipal) -> RevealOut:
    return RevealOut(field=body.field, value=service.reveal_party(db, principal, party_id, body.field, body.reason))


@router.get("/{dispute_id}", response_model=DisputeDetail, summary="A dispute's whole record (masked; audited)")
def get_dispute(dispute_id: int, request: Request, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return service.detail(db, principal, dispute_id, language(request))


@router.post("/{dispute_id}/actions/{action}", response_model=DisputeOut,
             summary="Apply an action of the transition table (409 when the state does not allow it)")
def act(dispute_id: int, action: str, body: ActionIn, request: Request, db: Db, principal: CurrentPrincipal
        ) -> dict[str, Any]:
    dispute = workflow.apply(db, principal, dispute_id, action[:20],
                             workflow.ActionInput(body.version, body.note, body.fields))
    return service.dispute_out(dispute, language(request))


@router.post("/{dispute_id}/parties", response_model=PartyOut, status_code=201, summary="Add a party")
def add_party(dispute_id: int, body: PartyIn, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return service.party_out(service.add_party(db, principal, dispute_id, service.PartyIn(**body.model_dump())))


@router.post("/{dispute_id}/sessions", response_model=SessionOut, status_code=201,
             summary="Schedule or record a mediation session")
def add_session(dispute_id: int, body: SessionIn, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    row = service.add_session(db, principal, dispute_id, **body.model_dump())
    return {"id": row.id, "starts_at": row.starts_at, "place": row.place, "video_link": row.video_link,
            "attendees": mask_text(row.attendees), "record": mask_text(row.record)}


@router.post("/{dispute_id}/confirmation", response_model=ConfirmationOut, status_code=201,
             summary="司法确认: record the application to the court")
def apply_confirmation(dispute_id: int, body: ConfirmationIn, db: Db, principal: CurrentPrincipal) -> Any:
    return ConfirmationOut.model_validate(service.apply_confirmation(db, principal, dispute_id, body.court,
                                                                     body.applied_on), from_attributes=True)


@router.post("/{dispute_id}/confirmation/result", response_model=ConfirmationOut,
             summary="司法确认: record the court's ruling")
def confirmation_result(dispute_id: int, body: ConfirmationResultIn, db: Db, principal: CurrentPrincipal) -> Any:
    row = service.confirmation_result(db, principal, dispute_id, body.result, body.ruling_no, body.decided_on)
    return ConfirmationOut.model_validate(row, from_attributes=True)


@router.post("/{dispute_id}/questions", response_model=QuestionOut, status_code=201,
             summary="Ask the legal adviser about this dispute")
def ask(dispute_id: int, body: QuestionIn, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return service.question_out(service.ask(db, principal, dispute_id, body.question))


@router.post("/{dispute_id}/documents/{kind}", summary="受理登记表 / 调解记录 / 调解协议书 as a Word or PDF file, with "
             "the parties' names (dispute.reveal; reason; audited)",
             description="`kind`: acceptance (受理登记表), record (调解记录), agreement (调解协议书, once agreed). "
                         "`format`: docx (Word, the default) or pdf; any other is 422 `unknown_format`. Each "
                         "download is one audited reveal recording the kind and the format.",
             responses={200: {"content": {media: {} for media in MEDIA_TYPES.values()}}})
def document(dispute_id: int, kind: str, body: RevealIn, request: Request, db: Db, principal: CurrentPrincipal,
             fmt: str = Query("docx", alias="format", max_length=8, description="docx (Word) or pdf")) -> Response:
    paper = documents.generate(db, principal, dispute_id, kind[:20], body.reason, _tz(request), fmt)
    return attachment(paper.name, paper.media_type, paper.content)


@router.post("/{dispute_id}/proofs", status_code=201, response_model=proofs.ProofOut,
             summary="Upload a 履行凭证 (a photo of a receipt or a signed paper)")
async def upload_proof(dispute_id: int, request: Request, db: Db, principal: CurrentPrincipal,
                       file: UploadFile | None = None) -> dict[str, Any]:
    proofs.may_upload(db, principal, dispute_id)
    if file is None:
        raise ValidationFailed("file_required", "请选择照片", "Choose a photo", detail={"field": "file"})
    data = await proofs.read(file)
    row = proofs.store(db, principal, proofs.storage(request), dispute_id, file.filename, data)
    return proofs.proof_out(row)


@router.get("/{dispute_id}/proofs/{proof_id}", summary="A 履行凭证's file",
            responses={200: {"content": {"image/*": {}}}})
def get_proof(dispute_id: int, proof_id: int, request: Request, db: Db) -> Response:
    data, mime = proofs.content(db, proofs.storage(request), dispute_id, proof_id)
    return Response(data, media_type=mime)
