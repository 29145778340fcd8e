"""Key-person pages. They call the same service functions as ``/api/v1/keypersons`` with the caller's scoped
session, so the pages show exactly what the API shows: a record outside the team or the leader's area is a
404 page, names are masked, every read is audited, a reveal needs a reason."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from shiyu.core.errors import ShiyuError
from shiyu.core.http import language
from shiyu.keypersons import census, dashboard, groups, handover, plan_admin, service
from shiyu.keypersons.errors import invalid
from shiyu.keypersons.models import GRADES, MANAGE, VIEW, VISIT, State, Warning
from shiyu.web.admin.common import end_of_day, paging, redirect
from shiyu.web.page_deps import PageDb, PagePrincipal, PageRoute, field_errors, render, require_any, reveal_answer

router = APIRouter(prefix="/keypersons", route_class=PageRoute, include_in_schema=False)


def _today(request: Request) -> date:
    return datetime.now(request.app.state.settings.tz).date()


@router.get("")
def register(request: Request, db: PageDb, principal: PagePrincipal,
             group: str = Query("", max_length=32), state: str = Query("", max_length=16),
             warning: str = Query("", max_length=8), overdue: bool = False,
             offset: int = Query(0, ge=0, le=10**6)) -> Response:
    """The register: the records the caller may see, masked, soonest due first."""
    require_any(principal, VIEW, VISIT)
    page = paging(offset)
    today = _today(request)
    rows, total = service.list_records(db, service.RecordFilter(group or None, state or None, None, warning or None,
                                                                overdue), page, today)
    query = f"?group={group}&state={state}&warning={warning}&overdue={'true' if overdue else ''}&"
    return render(request, "keypersons/register.html", rows=rows, total=total, limit=page.limit, offset=offset,
                  groups=plan_admin.groups(db), states=[s.value for s in State], warnings=[w.value for w in Warning],
                  current={"group": group, "state": state, "warning": warning, "overdue": overdue}, query=query,
                  handovers=[handover.handover_out(h) for h in handover.list_handovers(db, "sent")]
                  if principal.has_permission(MANAGE) else [])


@router.get("/records/{record_id}")
def record_page(request: Request, record_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    """A person's record and timeline: enrolment, state changes, grade changes, visits, hand-overs."""
    require_any(principal, VIEW, VISIT)
    return _record(request, db, record_id)


CLOSED = (State.RELEASED.value, State.TRANSFERRED.value, State.DECEASED.value)


def _record(request: Request, db: PageDb, record_id: int, status: int = 200, message: str | None = None) -> Response:
    today = _today(request)
    r = service.detail(db, request.state.principal, record_id, today)
    workers = service.grid_workers(db, r["grid_id"]) if r["may_manage"] and r["state"] not in CLOSED else []
    return render(request, "keypersons/record.html", status, r=r, events=service.timeline(db, record_id),
                  today=today, grades=_grades(db, r["group_code"]), workers=workers, message=message,
                  sources=groups.SOURCE_LABELS)


def _grades(db: PageDb, group_code: str) -> list[str]:
    scheme = next((g["grade_scheme"] for g in plan_admin.groups(db) if g["code"] == group_code), None)
    return list(GRADES.get(scheme or "", ()))


@router.post("/records/{record_id}/reveal")
def reveal(request: Request, record_id: int, db: PageDb, principal: PagePrincipal,
           field: str = Form("", max_length=40), reason: str = Form("", max_length=500)) -> Response:
    return reveal_answer(request, db, field, lambda: service.reveal(db, principal, record_id, field, reason))


def _back(request: Request, db: PageDb, record_id: int, call: Any, target: str = "") -> Response:
    """Run one service call and go to ``target`` (the record page); on a refusal, the record page again with
    the reason on top."""
    try:
        call()
    except ShiyuError as exc:
        db.rollback()
        if exc.status == 404:
            raise
        message, _errors = field_errors(exc, language(request))
        return _record(request, db, record_id, exc.status, message)
    return redirect(request, target or f"/keypersons/records/{record_id}")


@router.post("/records/{record_id}/act")
def act(request: Request, record_id: int, db: PageDb, principal: PagePrincipal,
        action: str = Form("", max_length=20), note: str = Form("", max_length=500),
        version: int | None = Form(None, ge=1, le=2**31)) -> Response:
    return _back(request, db, record_id, lambda: service.act(db, principal, record_id, action, note=note,
                                                             expected_version=version, today=_today(request)))


@router.post("/records/{record_id}/team")
def name_grid_worker(request: Request, record_id: int, db: PageDb, principal: PagePrincipal,
                     grid_worker_id: int = Form(0, ge=0, le=2**62),
                     version: int | None = Form(None, ge=1, le=2**31)) -> Response:
    """The centre names the responsible grid worker (a referral arrives without one; enrolment needs one)."""
    return _back(request, db, record_id, lambda: service.name_grid_worker(db, principal, record_id, grid_worker_id,
                                                                          expected_version=version))


@router.post("/records/{record_id}/grade")
def request_grade(request: Request, record_id: int, db: PageDb, principal: PagePrincipal,
                  to_grade: str = Form("", max_length=10), reason: str = Form("", max_length=500)) -> Response:
    return _back(request, db, record_id, lambda: service.request_grade(db, principal, record_id, to_grade, reason))


@router.post("/records/{record_id}/grade/{change_id}")
def decide_grade(request: Request, record_id: int, change_id: int, db: PageDb, principal: PagePrincipal,
                 decision: str = Form("", max_length=10), note: str = Form("", max_length=500)) -> Response:
    return _back(request, db, record_id, lambda: service.decide_grade(db, principal, change_id, decision == "approve",
                                                                      note, _today(request)))


@router.post("/records/{record_id}/visit")
def visit(request: Request, record_id: int, db: PageDb, principal: PagePrincipal,
          visited_on: str = Form("", max_length=10), findings: str = Form("", max_length=1000),
          assessed_grade: str = Form("", max_length=10), client_uuid: str = Form("", max_length=64),
          lon: str = Form("", max_length=20), lat: str = Form("", max_length=20),
          back: str = Form("", max_length=10)) -> Response:
    """A visit from the record page or from 我的走访 (``back=field`` returns there)."""
    today = _today(request)

    def record() -> None:
        try:
            day = date.fromisoformat(visited_on) if visited_on else today
            point = (float(lon), float(lat)) if lon and lat else (None, None)
        except ValueError:
            raise invalid("visited_on", "日期或位置格式不正确", "The date or the position is not valid") from None
        service.record_visit(db, principal, record_id, service.VisitReport(
            visited_on=day, findings={"note": findings.strip()} if findings.strip() else {},
            assessed_grade=assessed_grade or None, lon=point[0], lat=point[1],
            client_uuid=client_uuid or None), today)

    target = f"/keypersons/visits?done={record_id}" if back == "field" else f"/keypersons/records/{record_id}#timeline"
    return _back(request, db, record_id, record, target)


@router.get("/visits")
def my_visits(request: Request, db: PageDb, principal: PagePrincipal, done: int | None = Query(None, ge=1,
                                                                                               le=2**62)) -> Response:
    """我的走访: the field app's list of the worker's key persons, soonest due first, each with a visit form."""
    require_any(principal, VISIT)
    today = _today(request)
    rows = plan_admin.my_visits(db, principal, today)
    return render(request, "keypersons/visits.html", rows=rows, today=today, done=done, tab="visits",
                  grades={g["code"]: g["grades"] for g in plan_admin.groups(db)}, script_texts={})


@router.get("/dashboard")
def dashboard_page(request: Request, db: PageDb, principal: PagePrincipal,
                   area: int | None = Query(None, ge=1, le=2**62)) -> Response:
    """The centre's dashboard: 在管, 脱管, 失联, visits due and overdue, the indicators by area and group, the
    census campaigns' completion, and for those who may send one the census form."""
    require_any(principal, VIEW)
    return _dashboard(request, db, principal, area)


def _dashboard(request: Request, db: PageDb, principal: PagePrincipal, area: int | None, status: int = 200,
               **extra: Any) -> Response:
    board = dashboard.dashboard(db, principal, area, _today(request))
    census_areas = census.assignable_areas(db, principal)
    return render(request, "keypersons/dashboard.html", status, board=board, days=dashboard.INDICATOR_DAYS,
                  pending=service.grade_requests(db, principal), census_areas=census_areas,
                  groups=plan_admin.groups(db) if census_areas else [], **extra)


@router.post("/census")
def start_census(request: Request, db: PageDb, principal: PagePrincipal, area_id: int = Form(0, ge=0, le=2**62),
                 due_on: str = Form("", max_length=10), group: list[str] = Form([], max_length=20)) -> Response:
    """发起清查 from the dashboard, then the campaign's progress page (by area, the task engine's). A census
    refused for its input (no one to check, too many, no date) shows the dashboard again with the reason; one
    refused for the caller's rights is the error page."""
    require_any(principal, VIEW)
    try:
        assignment = census.start_census(db, principal, area_id, end_of_day(due_on, request, "due_on"),
                                         group_codes=group)
    except ShiyuError as exc:
        db.rollback()
        if exc.status in (403, 404):
            raise
        message, _errors = field_errors(exc, language(request))
        return _dashboard(request, db, principal, None, exc.status, message=message,
                          chosen={"area_id": area_id, "due_on": due_on, "groups": set(group)})
    return redirect(request, f"/tasks/assignments/{assignment.id}")
