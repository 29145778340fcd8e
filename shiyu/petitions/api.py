"""``/api/v1/petitions``: register, list and read petitions (masked; reads audited), apply a transition of
the lifecycle table, reveal one petitioner field with a reason, raise links to other domains, the backlog
board, reception days, the indicators, the time limits and the petition papers (an audited reveal as Word or
PDF). Thin: parse, call one service function."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query, Request, Response

from shiyu.core.bounds import INT32_MAX
from shiyu.core.http import CurrentPrincipal, Db, Paging, attachment
from shiyu.core.paging import Page
from shiyu.core.papers import MEDIA_TYPES
from shiyu.petitions import limits, papers, service
from shiyu.petitions.schemas import (
    ActionIn,
    BacklogGroup,
    Indicators,
    LimitIn,
    LimitOut,
    LinkIn,
    PaperIn,
    PetitionDetail,
    PetitionIn,
    PetitionOut,
    ReceptionIn,
    ReceptionOut,
    RevealIn,
    RevealOut,
)

router = APIRouter(prefix="/petitions", tags=["petitions"])


def _page(items: list[Any], total: int, paging: Any) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": paging.limit, "offset": paging.offset}


@router.get("", response_model=Page[PetitionOut],
            summary="Petitions in your petition scope (masked; the read is audited), nearest deadline first")
def list_petitions(db: Db, paging: Paging, state: str | None = Query(None, max_length=16),
                   channel: str | None = Query(None, max_length=16), repeat: bool | None = None,
                   first_time: bool | None = None, collective: bool | None = None,
                   skip_level: bool | None = None, overdue: bool | None = None,
                   q: str | None = Query(None, max_length=100),
                   id_number: str | None = Query(None, max_length=30),
                   leader_id: int | None = Query(None, ge=1, le=INT32_MAX, description="包案 leader")
                   ) -> dict[str, Any]:
    rows, total = service.list_petitions(db, service.Filters(
        state=state, channel=channel, repeat=repeat, first_time=first_time, collective=collective,
        skip_level=skip_level, overdue=overdue, text=q, id_number=id_number, leader_id=leader_id), paging)
    return _page(service.outs(db, rows), total, paging)


@router.post("", response_model=PetitionDetail, status_code=201,
             summary="Register a petition: petitioners encrypted, repeat flag from earlier petitions")
def register(body: PetitionIn, request: Request, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    petition = service.register(db, principal, request.app.state.settings.tz, service.Registration(
        area_id=body.area_id, channel=body.channel, demands=body.demands, group_size=body.group_size,
        complained_unit=body.complained_unit, skip_level=body.skip_level, received_at=body.received_at,
        petitioners=[service.PetitionerIn(p.name, p.id_number, p.phone) for p in body.petitioners]))
    return service.detail(db, petition.id)


@router.get("/backlog", response_model=list[BacklogGroup],
            summary="积案: open petitions past their deadline or brought again, by responsible unit")
def backlog(db: Db) -> list[dict[str, Any]]:
    return service.backlog(db)


@router.get("/indicators", response_model=Indicators,
            summary="初信初访 resolved first time, on-time acceptance and closure, repeat rate (your scope)")
def indicators(request: Request, db: Db, since: date | None = None) -> dict[str, Any]:
    return service.indicators(db, request.app.state.settings.tz, since)


@router.get("/receptions", response_model=Page[ReceptionOut], summary="Leader reception days in your scope")
def list_receptions(db: Db, paging: Paging) -> dict[str, Any]:
    rows, total = service.receptions(db, paging)
    return _page(rows, total, paging)


@router.post("/receptions", response_model=ReceptionOut, status_code=201,
             summary="Record a reception day: leader, date, place and the petitions received")
def add_reception(body: ReceptionIn, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    row = service.add_reception(db, principal, service.ReceptionIn(
        area_id=body.area_id, leader_id=body.leader_id, day=body.day, place=body.place, note=body.note,
        petition_ids=tuple(body.petition_ids)))
    return {"id": row.id, "area_id": row.area_id, "leader_id": row.leader_id, "leader": "", "day": row.day,
            "place": row.place, "note": row.note, "petition_ids": row.petition_ids}


@router.get("/limits", response_model=list[LimitOut], summary="The time limits in force (defaults or the city's)")
def get_limits(db: Db) -> list[dict[str, Any]]:
    return [{"key": k.value, "amount": f.amount, "unit": f.unit.value} for k, f in limits.current(db).items()]


@router.put("/limits/{key}", response_model=list[LimitOut],
            summary="Set the city's figure for one limit (petition.configure over a whole city)")
def set_limit(key: str, body: LimitIn, db: Db, principal: CurrentPrincipal) -> list[dict[str, Any]]:
    figures = limits.set_limit(db, principal, key, body.amount, body.unit)
    return [{"key": k.value, "amount": f.amount, "unit": f.unit.value} for k, f in figures.items()]


@router.get("/{petition_id}", response_model=PetitionDetail,
            summary="A petition with petitioners (masked; audited), timeline and allowed actions")
def get_petition(petition_id: int, db: Db) -> dict[str, Any]:
    return service.detail(db, petition_id)


@router.post("/{petition_id}/actions/{action}", response_model=PetitionDetail,
             summary="Apply one transition of the lifecycle table (docs/petitions.md)")
def act(petition_id: int, action: str, body: ActionIn, request: Request, db: Db,
        principal: CurrentPrincipal) -> dict[str, Any]:
    service.act(db, principal, request.app.state.settings.tz, petition_id, action[:24], service.Step(
        note=body.note, assigned_unit=body.assigned_unit, leader_id=body.leader_id, satisfied=body.satisfied,
        expected_version=body.expected_version))
    return service.detail(db, petition_id)


@router.post("/{petition_id}/reveal", response_model=RevealOut,
             summary="One petitioner field in the clear (petition.reveal; a reason; audited)")
def reveal(petition_id: int, body: RevealIn, db: Db, principal: CurrentPrincipal) -> RevealOut:
    return RevealOut(field=body.field, value=service.reveal(db, principal, petition_id, body.petitioner_id,
                                                            body.field, body.reason))


@router.post("/{petition_id}/links", response_model=PetitionDetail,
             summary="Ask for a dispute, a warning or a key-person enrolment (an outbox event)")
def add_link(petition_id: int, body: LinkIn, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    service.link(db, principal, petition_id, body.kind, body.reason, body.dispute_type)
    return service.detail(db, petition_id)


@router.post("/{petition_id}/documents/{kind}",
             summary="信访文书 as a Word or PDF file, addressed to the petitioners by name (petition.reveal; "
                     "reason; audited)",
             description="`kind`: acceptance (受理告知书, once accepted), refusal (不予受理告知书, once not accepted), "
                         "answer (处理意见书, once answered), review (复查意见书), re_review (复核意见书) — before "
                         "its step, 409 `petition_paper_not_ready`. `format`: docx (Word, the default) or pdf; any "
                         "other is 422 `unknown_format`. Each download is one audited reveal recording the kind "
                         "and the format.",
             responses={200: {"content": {media: {} for media in MEDIA_TYPES.values()}}})
def document(petition_id: int, kind: str, body: PaperIn, request: Request, db: Db, principal: CurrentPrincipal,
             fmt: str = Query("docx", alias="format", max_length=8, description="docx (Word) or pdf")) -> Response:
    paper = papers.generate(db, principal, petition_id, kind[:20], body.reason, request.app.state.settings.tz, fmt)
    return attachment(paper.name, paper.media_type, paper.content)
