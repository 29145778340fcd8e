"""Dispute pages: the desk (queues by state and risk, the indicators panel, open referrals), a dispute's page
(masked parties with the audited reveal, the actions the caller may take now, sessions, papers, 司法确认,
referrals, questions), the new-dispute form for the grid, the mediator's workbench, the legal adviser's
queue, and 转为矛盾纠纷 from a case. They call the same service functions as ``/api/v1/disputes`` with the
caller's scoped session; a failed form re-renders the dispute's page with the reason instead of a bare error."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import Response
from shapely.geometry import shape
from sqlalchemy import select

from shiyu.core.errors import ShiyuError, ValidationFailed
from shiyu.core.http import attachment, language
from shiyu.core.storage import LocalStorage
from shiyu.disputes import documents, indicators, proofs, screening, service, workflow
from shiyu.disputes.models import (
    ADVISE,
    MANAGE,
    MEDIATE,
    OPEN_STATES,
    REGISTER,
    REPORT,
    REVEAL,
    VIEW,
    DisputeState,
    PartyRole,
    ReferralChannel,
    RiskLevel,
    Signal,
)
from shiyu.org.areas import service as areas
from shiyu.org.areas.models import Area, AreaLevel
from shiyu.web.admin.common import end_of_day, paging, redirect
from shiyu.web.page_deps import PageDb, PagePrincipal, PageRoute, field_errors, render, require_any, reveal_answer

router = APIRouter(prefix="/disputes", route_class=PageRoute, include_in_schema=False)
QUEUES = ("registered", "escalated", "assigned", "mediating", "failed", "agreed", "performing", "followed_up")


def _labels(db: PageDb, lang: str) -> dict[str, Any]:
    return {"types": service.type_names(db, lang),
            "states": {s.value: workflow.STATE_LABELS[s][1 if lang == "en" else 0] for s in DisputeState}}


@router.get("")
def desk(request: Request, db: PageDb, principal: PagePrincipal, state: str | None = Query(None, max_length=14),
         risk: str | None = Query(None, max_length=8), offset: int = Query(0, ge=0)) -> Response:
    """Queues by state with their counts, high risk first; the indicators panel; the open referrals."""
    require_any(principal, VIEW)
    lang = language(request)
    current = state if state in {s.value for s in DisputeState} else None
    page = paging(offset)
    rows, total = service.list_disputes(db, service.DisputeFilter(
        state=current, risk_level=risk if risk in set(RiskLevel) else None, open_only=current is None), page)
    return render(request, "disputes/desk.html", items=[service.dispute_out(d, lang) for d in rows], total=total,
                  limit=page.limit, offset=offset, current=current, risk=risk, queues=QUEUES,
                  counts=service.queue_counts(db), ind=indicators.compute(db),
                  referrals=[service.referral_out(r) for r in service.referrals(db, open_only=True)[0]],
                  can_report=principal.has_permission(REPORT) or principal.has_permission(REGISTER),
                  can_manage=principal.has_permission(MANAGE),
                  screening_areas=_screening_areas(db, principal),
                  screening_sent=request.query_params.get("screening") == "sent", **_labels(db, lang))


def _screening_areas(db: PageDb, principal: PagePrincipal) -> list[Any]:
    """The caller's own areas and those one level below (above the grids), where a 排查 round may be sent."""
    return areas.own_and_below(db, principal, (screening.ASSIGN,), max_level=int(AreaLevel.GRID) - 1)


@router.post("/screening")
def start_screening(request: Request, db: PageDb, principal: PagePrincipal, area_id: int = Form(0, ge=0),
                    due_on: str = Form("", max_length=10)) -> Response:
    """发起排查 from the desk: a round to every grid under the area, due at the end of the day chosen."""
    due = end_of_day(due_on, request, "due_on")
    screening.start_round(db, principal, area_id=area_id, due_at=due)
    return redirect(request, "/disputes?screening=sent")


def _grids(db: PageDb, principal: PagePrincipal) -> list[Any]:
    """The grids where the caller may register a dispute (of those the caller sees)."""
    grids = db.scalars(select(Area).where(Area.level == int(AreaLevel.GRID)).order_by(Area.code))
    return [g for g in grids if principal.can(REPORT, g.area_path) or principal.can(REGISTER, g.area_path)]


def _new_form(request: Request, db: PageDb, principal: PagePrincipal, status: int = 200, **extra: Any) -> Response:
    return render(request, "disputes/new.html", status, grids=_grids(db, principal), signals=list(Signal),
                  **{"values": {}, "errors": {}, "message": None, **extra, **_labels(db, language(request))})


@router.get("/new")
def new_dispute(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    require_any(principal, REPORT, REGISTER)
    return _new_form(request, db, principal)


def _amount(text: str) -> Decimal | None:
    if not text.strip():
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ValidationFailed("invalid_amount", "金额须为数字", "The amount must be a number",
                               detail={"field": "amount"}) from None
    if not value.is_finite() or value < 0 or value > Decimal("999999999999"):
        raise ValidationFailed("invalid_amount", "金额超出范围", "The amount is out of range",
                               detail={"field": "amount"})
    return value.quantize(Decimal("0.01"))


def _point(db: PageDb, form: dict[str, str]) -> tuple[float, float]:
    """The point typed or sent by the phone's GPS, else a point inside the chosen grid."""
    try:
        if form.get("lon") and form.get("lat"):
            return float(form["lon"]), float(form["lat"])
        grid = areas.get_area(db, int(form.get("grid_id") or 0))
    except ValueError:
        raise ValidationFailed("invalid_location", "请选择网格", "Choose a grid", detail={"field": "grid_id"}) from None
    if not grid.geometry:
        raise ValidationFailed("invalid_location", "该网格没有边界", "The grid has no boundary",
                               detail={"field": "grid_id"})
    point = shape(grid.geometry).representative_point()
    return point.x, point.y


@router.post("/new")
async def submit_dispute(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    require_any(principal, REPORT, REGISTER)
    raw = await request.form()
    form = {k: str(v)[:4000] for k, v in raw.items()}
    lang = language(request)
    try:
        if not form.get("title", "").strip():
            raise ValidationFailed("title_required", "请填写纠纷标题", "Give the dispute a title",
                                   detail={"field": "title"})
        lon, lat = _point(db, form)
        parties = tuple(service.PartyIn(role=role, name=form[f"{role}_name"].strip(),
                                        phone=form.get(f"{role}_phone", "").strip() or None)
                        for role in (PartyRole.APPLICANT, PartyRole.RESPONDENT) if form.get(f"{role}_name", "").strip())
        dispute = service.register(db, principal, service.DisputeIn(
            title=form.get("title", "").strip()[:100], type_code=form.get("type_code", ""), lon=lon, lat=lat,
            description=form.get("description", ""), address=form.get("address", "")[:200],
            amount=_amount(form.get("amount", "")),
            people_count=max(1, min(int(form.get("people_count") or 2), 100000)),
            is_group=form.get("is_group") == "on",
            signals=tuple(s for s in Signal if form.get(f"signal_{s}") == "on"), parties=parties))
    except (ShiyuError, ValueError) as exc:
        db.rollback()
        if isinstance(exc, ValueError):
            exc = ValidationFailed("invalid_number", "人数须为数字", "The number of people must be a number",
                                   detail={"field": "people_count"})
        message, errors = field_errors(exc, lang)
        return _new_form(request, db, principal, 422, values=form, errors=errors, message=message)
    return redirect(request, f"/disputes/{dispute.id}")


@router.get("/workbench")
def workbench(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    """The mediator's disputes (assigned to them), the sessions ahead, and the papers to write."""
    require_any(principal, MEDIATE)
    lang = language(request)
    mine = tuple(service.my_mediator_ids(db, principal))
    rows, _ = service.list_disputes(db, service.DisputeFilter(mediator_ids=mine, open_only=True), paging(0, 200))
    upcoming = [(s, d) for d in rows for s in service.sessions(db, d.id)
                if s.starts_at >= datetime.now(s.starts_at.tzinfo)]
    upcoming.sort(key=lambda pair: pair[0].starts_at)
    stats = service.mediator_stats(db, list(mine))
    return render(request, "disputes/workbench.html", items=[service.dispute_out(d, lang) for d in rows],
                  upcoming=[{"dispute": service.dispute_out(d, lang), "starts_at": s.starts_at,
                             "place": s.place, "video_link": s.video_link} for s, d in upcoming],
                  stats=list(stats.values()), **_labels(db, lang))


@router.get("/advice")
def advice(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    require_any(principal, ADVISE)
    lang = language(request)
    rows = service.questions(db, unanswered=True)
    titles = {d.id: d for d in service.list_disputes(
        db, service.DisputeFilter(), paging(0, 500))[0]} if rows else {}
    return render(request, "disputes/advice.html", questions=[service.question_out(q) for q in rows],
                  disputes={k: service.dispute_out(v, lang) for k, v in titles.items()}, **_labels(db, lang))


@router.post("/questions/{question_id}/answer")
def answer(request: Request, question_id: int, db: PageDb, principal: PagePrincipal,
           text: str = Form("", max_length=4000)) -> Response:
    if len(text.strip()) < 2:
        raise ValidationFailed("answer_required", "请填写答复", "Write an answer", detail={"field": "text"})
    service.answer(db, principal, question_id, text.strip())
    return redirect(request, "/disputes/advice")


@router.post("/from-case/{case_id}")
def from_case(request: Request, case_id: int, db: PageDb, principal: PagePrincipal,
              type_code: str = Form("", max_length=20)) -> Response:
    """转为矛盾纠纷 from the case page; a case already converted leads to its dispute."""
    existing = service.for_case(db, case_id)
    if existing is None:
        existing = service.from_case(db, principal, case_id, type_code or "other")
    return redirect(request, f"/disputes/{existing.id}")


@router.post("/referrals/{referral_id}/feedback")
def referral_feedback(request: Request, referral_id: int, db: PageDb, principal: PagePrincipal,
                      status: str = Form("", max_length=10), feedback: str = Form("", max_length=4000),
                      external_ref: str = Form("", max_length=60)) -> Response:
    row = service.referral_feedback(db, principal, referral_id, status, feedback, external_ref or None)
    return redirect(request, f"/disputes/{row.dispute_id}#referrals")


@router.post("/parties/{party_id}/reveal")
def reveal(request: Request, party_id: int, db: PageDb, principal: PagePrincipal, field: str = Form(""),
           reason: str = Form("")) -> Response:
    return reveal_answer(request, db, field, lambda: service.reveal_party(db, principal, party_id, field, reason))


# -- one dispute -----------------------------------------------------------------------------------------


def _page(request: Request, db: PageDb, principal: PagePrincipal, dispute_id: int, status: int = 200,
          message: str | None = None) -> Response:
    lang = language(request)
    d = service.detail(db, principal, dispute_id, lang)
    return render(request, "disputes/dispute.html", status, d=d, message=message,
                  mediators=service.assignable(db), assigned=service.assigned_mediator(db, d["mediator_id"]),
                  proofs=[proofs.proof_out(p) for p in proofs.list_for(db, dispute_id)],
                  can_reveal=principal.can(REVEAL, d["area_path"]),
                  can_work=principal.can(REGISTER, d["area_path"]) or principal.can(MEDIATE, d["area_path"]),
                  can_ask=principal.can(REPORT, d["area_path"]) or principal.can(REGISTER, d["area_path"]),
                  can_feedback=principal.has_permission(REGISTER), open_states=[s.value for s in OPEN_STATES],
                  channels=list(ReferralChannel), signals=list(Signal), risks=list(RiskLevel),
                  papers=documents.available(d["state"]), **_labels(db, lang))


def _refused(request: Request, db: PageDb, principal: PagePrincipal, dispute_id: int, exc: ShiyuError) -> Response:
    """The dispute's page again with why the form was refused (nothing of it kept); a 404 stays one."""
    db.rollback()
    if exc.status == 404:
        raise exc
    return _page(request, db, principal, dispute_id, exc.status, exc.message(language(request)))


def _then(request: Request, db: PageDb, principal: PagePrincipal, dispute_id: int, work: Callable[[], Any],
          anchor: str = "") -> Response:
    """Do one change and go back to the dispute's page, or show the page again with why not."""
    try:
        work()
    except ShiyuError as exc:
        return _refused(request, db, principal, dispute_id, exc)
    return redirect(request, f"/disputes/{dispute_id}{anchor}")


@router.get("/code/{code}")
def by_code(request: Request, code: str, db: PageDb, principal: PagePrincipal) -> Response:
    """A dispute by the code people quote (a petition's timeline links here): its page, when the caller sees it."""
    require_any(principal, VIEW)
    return redirect(request, f"/disputes/{service.id_for_code(db, code[:20])}")


@router.get("/{dispute_id}")
def dispute_page(request: Request, dispute_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    require_any(principal, VIEW)
    return _page(request, db, principal, dispute_id)


def _fields(transition: workflow.Transition, form: dict[str, str]) -> dict[str, Any]:
    """Form values as the table's field types expect them (checkboxes, numbers, lists)."""
    out: dict[str, Any] = {}
    for spec in transition.fields:
        if spec.type is workflow.FieldType.BOOL:
            out[spec.name] = form.get(spec.name) == "on"
        elif spec.type is workflow.FieldType.CHOICES:
            out[spec.name] = [c for c in spec.choices if form.get(f"{spec.name}_{c}") == "on"]
        elif spec.type in (workflow.FieldType.INT, workflow.FieldType.IDS):
            raw = form.get(spec.name, "").strip()
            if raw:
                try:
                    out[spec.name] = int(raw) if spec.type is workflow.FieldType.INT else [int(raw)]
                except ValueError:
                    out[spec.name] = raw
        elif form.get(spec.name, "").strip():
            out[spec.name] = form[spec.name]
    return out


@router.post("/{dispute_id}/act/{action}")
async def act(request: Request, dispute_id: int, action: str, db: PageDb, principal: PagePrincipal) -> Response:
    form = {k: str(v)[:4000] for k, v in (await request.form()).items()}
    transition = workflow.ACTIONS.get(action[:20])
    try:
        version = int(form.get("version", "0"))
    except ValueError:
        version = 0
    fields = _fields(transition, form) if transition else {}
    return _then(request, db, principal, dispute_id, lambda: workflow.apply(
        db, principal, dispute_id, action[:20], workflow.ActionInput(version, form.get("note", ""), fields)))


@router.post("/{dispute_id}/sessions")
def add_session(request: Request, dispute_id: int, db: PageDb, principal: PagePrincipal,
                starts_at: str = Form("", max_length=40), place: str = Form("", max_length=200),
                video_link: str = Form("", max_length=300), attendees: str = Form("", max_length=1000),
                record: str = Form("", max_length=8000)) -> Response:
    def work() -> Any:
        try:
            when = datetime.fromisoformat(starts_at).replace(tzinfo=request.app.state.settings.tz)
        except ValueError:
            raise ValidationFailed("invalid_time", "请填写调解时间", "Give the session's time",
                                   detail={"field": "starts_at"}) from None
        if video_link and not video_link.startswith("https://"):
            raise ValidationFailed("invalid_link", "视频链接须以 https:// 开头", "A video link starts with https://",
                                   detail={"field": "video_link"})
        return service.add_session(db, principal, dispute_id, starts_at=when, place=place, video_link=video_link,
                                   attendees=attendees, record=record)
    return _then(request, db, principal, dispute_id, work, "#sessions")


def _date(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed("invalid_date", "请填写日期", "Give a date", detail={"field": field}) from None


@router.post("/{dispute_id}/confirmation")
def apply_confirmation(request: Request, dispute_id: int, db: PageDb, principal: PagePrincipal,
                       court: str = Form("", max_length=100), applied_on: str = Form("", max_length=10)) -> Response:
    return _then(request, db, principal, dispute_id, lambda: service.apply_confirmation(
        db, principal, dispute_id, court.strip() or "—", _date(applied_on, "applied_on")), "#confirmation")


@router.post("/{dispute_id}/confirmation/result")
def confirmation_result(request: Request, dispute_id: int, db: PageDb, principal: PagePrincipal,
                        result: str = Form("", max_length=10), ruling_no: str = Form("", max_length=60),
                        decided_on: str = Form("", max_length=10)) -> Response:
    return _then(request, db, principal, dispute_id, lambda: service.confirmation_result(
        db, principal, dispute_id, result, ruling_no, _date(decided_on, "decided_on")), "#confirmation")


@router.post("/{dispute_id}/questions")
def ask(request: Request, dispute_id: int, db: PageDb, principal: PagePrincipal,
        question: str = Form("", max_length=2000)) -> Response:
    def work() -> Any:
        if len(question.strip()) < 2:
            raise ValidationFailed("question_required", "请填写问题", "Write the question",
                                   detail={"field": "question"})
        return service.ask(db, principal, dispute_id, question.strip())
    return _then(request, db, principal, dispute_id, work, "#questions")


@router.post("/{dispute_id}/documents/{kind}")
def document(request: Request, dispute_id: int, kind: str, db: PageDb, principal: PagePrincipal,
             reason: str = Form("", max_length=500), fmt: str = Form("docx", alias="format", max_length=8)) -> Response:
    """The paper in the format of the button pressed (Word or PDF)."""
    try:
        paper = documents.generate(db, principal, dispute_id, kind[:20], reason, request.app.state.settings.tz,
                                   fmt)
    except ShiyuError as exc:
        return _refused(request, db, principal, dispute_id, exc)
    return attachment(paper.name, paper.media_type, paper.content)


@router.post("/{dispute_id}/proofs")
async def upload_proof(request: Request, dispute_id: int, db: PageDb, principal: PagePrincipal,
                       file: UploadFile | None = None) -> Response:
    try:
        proofs.may_upload(db, principal, dispute_id)
        if file is None or not file.filename:
            raise ValidationFailed("file_required", "请选择照片", "Choose a photo", detail={"field": "file"})
        data = await proofs.read(file)
        proofs.store(db, principal, LocalStorage(request.app.state.settings.storage_dir), dispute_id, file.filename,
                     data)
    except ShiyuError as exc:
        return _refused(request, db, principal, dispute_id, exc)
    return redirect(request, f"/disputes/{dispute_id}#proofs")
