"""``/api/v1/keypersons``: records (masked, every read audited), the audited reveal, state actions, the team,
grade changes and their approval, visits, hand-overs, the visit plans, the dashboard, census campaigns. Thin:
parse, authorise through the scoped session and the service, call one function."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response

from shiyu.core.errors import Forbidden
from shiyu.core.http import CurrentPrincipal, Db, Paging, get_settings
from shiyu.core.paging import Page
from shiyu.core.scoping import Principal
from shiyu.keypersons import census, dashboard, handover, plan_admin, service
from shiyu.keypersons.models import MANAGE, VIEW, VISIT
from shiyu.keypersons.schemas import (
    ActIn,
    CancelIn,
    CensusIn,
    CensusOut,
    DashboardOut,
    DecideIn,
    EventOut,
    GradeChangeOut,
    GradeIn,
    GroupOut,
    HandoverIn,
    HandoverOut,
    PlanIn,
    PlanOut,
    ReceiveIn,
    RecordDetail,
    RecordIn,
    RecordRow,
    TeamIn,
    VisitIn,
    VisitOut,
)
from shiyu.registry.schemas import RevealIn, RevealOut  # the register's reveal shapes

router = APIRouter(prefix="/keypersons", tags=["keypersons"])


def today(request: Request) -> date:
    return datetime.now(get_settings(request).tz).date()


Today = Depends(today)


def _any_right(principal: Principal) -> None:
    if not any(principal.has_permission(p) for p in (VIEW, MANAGE, VISIT)):
        raise Forbidden(detail={"permission": VIEW})


def _team(body: TeamIn) -> service.Team:
    return service.Team(body.grid_worker_id, body.police_id, body.cadre_id, body.guardian_name, body.guardian_phone)


@router.get("/groups", response_model=list[GroupOut], summary="The special groups, their grades and forms")
def groups(db: Db, principal: CurrentPrincipal) -> list[dict[str, Any]]:
    _any_right(principal)
    return plan_admin.groups(db)


@router.get("/plans", response_model=list[PlanOut], summary="Visit plans: days between visits by group × grade")
def plans(db: Db, principal: CurrentPrincipal) -> list[Any]:
    _any_right(principal)
    return plan_admin.plans_list(db)


@router.put("/plans/{plan_id}", response_model=PlanOut,
            summary="Change a plan's interval (city-wide right); every record's due date is recomputed")
def set_plan(plan_id: int, body: PlanIn, db: Db, principal: CurrentPrincipal) -> Any:
    return plan_admin.set_interval(db, principal, plan_id, body.interval_days)


@router.get("/records", response_model=Page[RecordRow],
            summary="Key-person records you may see (the team's, or your centre's as a leader); masked; audited")
def list_records(db: Db, paging: Paging, day: date = Today, group_code: str | None = Query(None, max_length=32),
                 state: str | None = Query(None, max_length=16), grid_id: int | None = Query(None, ge=1, le=2**62),
                 warning: str | None = Query(None, max_length=8), overdue: bool = False) -> dict[str, Any]:
    rows, total = service.list_records(db, service.RecordFilter(group_code, state, grid_id, warning, overdue),
                                       paging, day)
    return {"items": rows, "total": total, "limit": paging.limit, "offset": paging.offset}


@router.post("/records", response_model=RecordDetail, status_code=201,
             summary="Open a record (referred by an authority or found by the grid)")
def open_record(body: RecordIn, db: Db, principal: CurrentPrincipal, day: date = Today) -> dict[str, Any]:
    record = service.open_record(db, principal, service.Opening(
        person_id=body.person_id, group_code=body.group_code, grade=body.grade, source=body.source,
        source_ref=body.source_ref, attributes=body.attributes, team=_team(body.team),
        period_start=body.period_start, period_end=body.period_end))
    return service.detail(db, principal, record.id, day)


@router.get("/records/{record_id}", response_model=RecordDetail, summary="One record (masked; audited)")
def get_record(record_id: int, db: Db, principal: CurrentPrincipal, day: date = Today) -> dict[str, Any]:
    return service.detail(db, principal, record_id, day)


@router.get("/records/{record_id}/timeline", response_model=list[EventOut],
            summary="Enrolment, state changes, grade changes, visits and hand-overs, oldest first")
def timeline(record_id: int, db: Db) -> list[dict[str, Any]]:
    return service.timeline(db, record_id)


@router.post("/records/{record_id}/reveal", response_model=RevealOut,
             summary="One personal-data field in the clear, with a reason (audited)")
def reveal(record_id: int, body: RevealIn, db: Db, principal: CurrentPrincipal) -> RevealOut:
    return RevealOut(field=body.field, value=service.reveal(db, principal, record_id, body.field, body.reason))


@router.post("/records/{record_id}/act", response_model=RecordDetail,
             summary="A step of the state table: verify, enrol, dismiss, lose_contact, regain, release, decease")
def act(record_id: int, body: ActIn, db: Db, principal: CurrentPrincipal, day: date = Today) -> dict[str, Any]:
    service.act(db, principal, record_id, body.action, note=body.note, expected_version=body.version, today=day)
    return service.detail(db, principal, record_id, day)


@router.put("/records/{record_id}/team", response_model=RecordDetail, summary="Set the responsible team")
def set_team(record_id: int, body: TeamIn, db: Db, principal: CurrentPrincipal, day: date = Today) -> dict[str, Any]:
    service.set_team(db, principal, record_id, _team(body), body.version)
    return service.detail(db, principal, record_id, day)


@router.post("/records/{record_id}/grade", response_model=GradeChangeOut, status_code=201,
             summary="Ask for a grade change; a centre leader other than you approves it")
def request_grade(record_id: int, body: GradeIn, db: Db, principal: CurrentPrincipal) -> Any:
    return service.request_grade(db, principal, record_id, body.to_grade, body.reason)


@router.get("/grade-requests", response_model=list[GradeChangeOut],
            summary="Grade changes waiting for your decision")
def grade_requests(db: Db, principal: CurrentPrincipal) -> list[dict[str, Any]]:
    return service.grade_requests(db, principal)


@router.post("/grade-requests/{change_id}/decide", response_model=GradeChangeOut,
             summary="Approve or refuse a grade change (not your own request)")
def decide(change_id: int, body: DecideIn, db: Db, principal: CurrentPrincipal, day: date = Today) -> Any:
    return service.decide_grade(db, principal, change_id, body.approve, body.note, day)


@router.get("/records/{record_id}/visits", response_model=list[VisitOut], summary="The record's visits, newest first")
def visits(record_id: int, db: Db) -> list[Any]:
    return service.visits(db, record_id)


@router.post("/records/{record_id}/visits", response_model=VisitOut, status_code=201,
             summary="Record a visit (the team); a resend with the same client_uuid answers 200 with the first")
def record_visit(record_id: int, body: VisitIn, db: Db, principal: CurrentPrincipal, response: Response,
                 day: date = Today) -> Any:
    visit, created = service.record_visit(db, principal, record_id, service.VisitReport(
        visited_on=body.visited_on, findings=body.findings, assessed_grade=body.assessed_grade, lon=body.lon,
        lat=body.lat, photos=tuple(body.photos), client_uuid=body.client_uuid), day)
    if not created:
        response.status_code = 200
    return visit


@router.get("/my-visits", response_model=list[RecordRow], summary="Your visits, soonest due first (masked)")
def my_visits(db: Db, principal: CurrentPrincipal, day: date = Today) -> list[dict[str, Any]]:
    return plan_admin.my_visits(db, principal, day)


@router.get("/dashboard", response_model=DashboardOut,
            summary="在管, 脱管, 失联, visits due and overdue; 动态掌控率, 管控率, on-time rate by area and group")
def get_dashboard(db: Db, principal: CurrentPrincipal, area_id: int | None = Query(None, ge=1, le=2**62),
                  day: date = Today) -> dict[str, Any]:
    return dashboard.dashboard(db, principal, area_id, day)


@router.post("/census", response_model=CensusOut, status_code=201,
             summary="Send a census (集中清查): one work item per open record under an area, for its grid worker")
def start_census(body: CensusIn, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    assignment = census.start_census(db, principal, body.area_id, body.due_at, body.title, body.group_codes)
    return {"assignment_id": assignment.id, "items": len(assignment.targets), "title": assignment.title,
            "due_at": assignment.due_at}


@router.get("/handovers", response_model=list[HandoverOut], summary="Hand-overs to and from your area")
def list_handovers(db: Db, state: str | None = Query(None, max_length=10)) -> list[dict[str, Any]]:
    return [handover.handover_out(h) for h in handover.list_handovers(db, state)]


@router.post("/handovers", response_model=HandoverOut, status_code=201,
             summary="Send a hand-over: an intake from an institution (必接必送) or a transfer to another area")
def send_handover(body: HandoverIn, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return handover.handover_out(handover.send(db, principal, handover.Sending(
        group_code=body.group_code, to_grid_id=body.to_grid_id, person_id=body.person_id, record_id=body.record_id,
        from_org=body.from_org, sender_name=body.sender_name, document_no=body.document_no, due_on=body.due_on,
        items=tuple(body.items), note=body.note)))


@router.post("/handovers/{handover_id}/receive", response_model=RecordDetail,
             summary="The receiving centre confirms, item by item; answers the record now holding the person")
def receive_handover(handover_id: int, body: ReceiveIn, db: Db, principal: CurrentPrincipal,
                     day: date = Today) -> dict[str, Any]:
    record = handover.receive(db, principal, handover_id, handover.Receipt(
        received_items=tuple(body.received_items), grid_worker_id=body.grid_worker_id, grade=body.grade,
        attributes=body.attributes, note=body.note), day)
    return service.detail(db, principal, record.id, day)


@router.post("/handovers/{handover_id}/cancel", response_model=HandoverOut, summary="Withdraw a hand-over")
def cancel_handover(handover_id: int, body: CancelIn, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return handover.handover_out(handover.cancel(db, principal, handover_id, body.note))
