"""Case reads (lists with filters, the detail with timeline, deadline and allowed actions), the public
tracking view, and API keys for external systems.

Every read goes through the caller's scoped session. Reporters' contact data leaves here masked only.
The public tracking view shows states, actions and times — no names, notes, phone numbers or places
beyond what the reporter already knows.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from shiyu.cases import reporters
from shiyu.cases.attachments import attachment_out
from shiyu.cases.categories.models import Category
from shiyu.cases.intake import hooks
from shiyu.cases.intake.service import evaluation_code, evaluation_token
from shiyu.cases.models import OPEN_STATES, Attachment, Case, CaseEvent, CaseState, Rating, has_case_role
from shiyu.cases.workflow import deadlines, engine
from shiyu.cases.workflow.table import EVENT_LABELS, STATE_LABELS, available
from shiyu.core import audit
from shiyu.core.errors import Forbidden, NotFound, Unauthenticated, ValidationFailed
from shiyu.core.paging import PageParams, paginate
from shiyu.core.pii import mask, mask_text, reveal_reason
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.areas.models import Area
from shiyu.org.calendar.service import load_calendar
from shiyu.org.identity.people import labels
from shiyu.org.units.models import Centre, Department

UNSCOPED = {"unscoped": True}


def _label(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


@dataclass
class CaseFilters:
    state: list[str] | None = None
    category_id: int | None = None
    area_id: int | None = None
    channel: str | None = None
    reported_from: datetime | None = None
    reported_to: datetime | None = None
    overdue: bool | None = None
    supervised: bool | None = None
    department_id: int | None = None
    tracking_code: str | None = None
    repeat: bool | None = None  # flagged as a repeat complaint (重复诉求, a flag triage registers)


def filtered(session: Session, f: CaseFilters) -> Select[Any]:
    stmt = select(Case).order_by(Case.reported_at.desc(), Case.id.desc())
    if f.state:
        stmt = stmt.where(Case.state.in_(f.state))
    if f.category_id is not None:
        stmt = stmt.where(Case.category_id == f.category_id)
    if f.area_id is not None:
        area = session.get(Area, f.area_id)
        if area is None:
            raise NotFound(detail={"object": "area", "id": f.area_id})
        stmt = stmt.where(Case.area_path.startswith(area.area_path, autoescape=True))
    if f.channel:
        stmt = stmt.where(Case.channel == f.channel)
    if f.reported_from is not None:
        stmt = stmt.where(Case.reported_at >= f.reported_from)
    if f.reported_to is not None:
        stmt = stmt.where(Case.reported_at < f.reported_to)
    if f.overdue is not None:
        stmt = stmt.where((Case.step_alert >= deadlines.Alert.OVERDUE) == f.overdue)
    if f.supervised is not None:
        stmt = stmt.where(Case.supervised.is_(f.supervised))
    if f.department_id is not None:
        stmt = stmt.where(Case.main_department_id == f.department_id)
    if f.tracking_code:
        stmt = stmt.where(Case.tracking_code == f.tracking_code.strip().upper())
    if f.repeat is not None:
        stmt = stmt.where(hooks.flag_clause("repeat", f.repeat))
    return stmt


def list_cases(session: Session, params: PageParams, f: CaseFilters) -> tuple[list[Case], int]:
    return paginate(session, filtered(session, f), params)


def get_case(session: Session, case_id: int) -> Case:
    return engine.load_case(session, case_id)


def case_out(case: Case, now: datetime, lang: str) -> dict[str, Any]:
    colour = deadlines.colour(case, now)
    return {
        "id": case.id, "tracking_code": case.tracking_code, "version": case.version, "state": case.state,
        "state_label": _label(STATE_LABELS[case.state_enum], lang), "channel": case.channel,
        "category_id": case.category_id, "urgency": case.urgency, "description": mask_text(case.description),
        "address": mask_text(case.address), "lon": case.lon, "lat": case.lat, "grid_id": case.grid_id,
        "centre_area_id": case.centre_area_id, "main_department_id": case.main_department_id,
        "reported_at": case.reported_at, "closed_at": case.closed_at, "step": case.step,
        "step_due_at": case.step_due_at, "step_basis": case.step_basis if case.step else None,
        "colour": colour.value if colour else None, "supervised": case.supervised,
        "listed_supervision": case.listed_supervision, "rating": case.rating,
    }


def allowed_actions(principal: Principal, case: Case, lang: str) -> list[dict[str, Any]]:
    return [
        {"action": t.action, "label": _label((t.label_zh, t.label_en), lang), "note_required": t.note_required,
         "evidence_required": t.evidence_required,
         "fields": [{"name": f.name, "type": f.type.value, "required": f.required, "choices": list(f.choices),
                     "label": _label((f.label_zh, f.label_en), lang)} for f in t.fields]}
        for t in available(principal, case)
    ]


def case_view(session: Session, principal: Principal, case: Case, tz: ZoneInfo, lang: str) -> dict[str, Any]:
    """What the caller sees of a case they can see: the staff detail when their grants give them a role on
    it (``models.has_case_role``); otherwise — they see it as its reporter — the public view, the very one
    the tracking page shows (public events only; no notes, names, routing or requests)."""
    if has_case_role(principal, case):
        return case_detail(session, principal, case, tz, lang)
    return {"view": "public", "id": case.id, **public_view(session, case, lang)}


def case_detail(session: Session, principal: Principal, case: Case, tz: ZoneInfo, lang: str,
                now: datetime | None = None) -> dict[str, Any]:
    """The staff view of a case."""
    now = now or utcnow()
    calendar = load_calendar(session, tz)
    events = list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)))
    people = labels(session, [e.actor_id for e in events], lang)
    files = session.scalars(select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id))
    colour = deadlines.colour(case, now)
    out = case_out(case, now, lang)
    out.update(
        view="staff", occurred_at=case.occurred_at,
        attributes={k: mask_text(v) if isinstance(v, str) else v for k, v in case.attributes.items()},
        reporter={"anonymous": case.anonymous, "user_id": case.reporter_user_id,
                  "name": mask("name", case.reporter_name), "phone": mask("phone", case.reporter_phone)},
        routing=case.routing, merged_into_id=case.merged_into_id, self_resolved=case.self_resolved,
        component_id=case.component_id,
        rework_count=case.rework_count, return_count=case.return_count, extension_count=case.extension_count,
        deadline={"step": case.step, "started_at": case.step_started_at, "warn_at": case.step_warn_at,
                  "due_at": case.step_due_at, "colour": colour.value if colour else None,
                  "elapsed_fraction": deadlines.elapsed_fraction(case, calendar, now),
                  "suspended": case.state == CaseState.SUSPENDED},
        assignments=[{"department_id": a.department_id, "role": a.role, "active": a.active,
                      "assigned_at": a.assigned_at, "reported_at": a.reported_at,
                      "report_note": mask_text(a.report_note)}
                     for a in case.assignments],
        requests=[{"id": r.id, "kind": r.kind, "status": r.status, "amount": r.amount, "unit": r.unit,
                   "reason": mask_text(r.reason), "requested_at": r.requested_at, "decided_at": r.decided_at,
                   "decision_note": mask_text(r.decision_note)} for r in case.requests],
        timeline=[{"id": e.id, "at": e.at, "action": e.action,
                   "label": _label(EVENT_LABELS.get(e.action, (e.action, e.action)), lang),
                   "actor_name": e.actor_name, "actor_label": _actor(e, people, lang),
                   "from_state": e.from_state, "to_state": e.to_state,
                   "version": e.version, "note": mask_text(e.note), "data": e.data, "attachment_ids": e.attachment_ids}
                  for e in events],
        attachments=[attachment_out(a) for a in files],
        allowed_actions=allowed_actions(principal, case, lang),
    )
    return out


def verification_facts(session: Session, cases: list[Case], lang: str) -> dict[int, dict[str, Any]]:
    """What a verifier needs beside each case on site (核查 is blind without it): the reporter's photos, the
    handler's last 处置反馈 — note, photos, who wrote it and for which department — and whether the case's
    category asks for the verifier's own on-site photo. Read in one query per kind for the whole list."""
    ids = [c.id for c in cases]
    if not ids:
        return {}
    events = list(session.scalars(select(CaseEvent).where(CaseEvent.case_id.in_(ids),
                                                          CaseEvent.action.in_(("report", "report_result")))
                                  .order_by(CaseEvent.id)))
    people = labels(session, [e.actor_id for e in events if e.action == "report_result"], lang)
    photo_ids = {a for e in events for a in e.attachment_ids or []}
    photos = set(session.scalars(select(Attachment.id).where(Attachment.id.in_(photo_ids),
                                                             Attachment.kind == "photo"))) if photo_ids else set()
    flags = {row.id: row.verify_photo_required for row in session.execute(
        select(Category.id, Category.verify_photo_required).where(Category.id.in_({c.category_id for c in cases})))}
    out: dict[int, dict[str, Any]] = {
        c.id: {"original": [], "handler": None, "photo_required": bool(flags.get(c.category_id))} for c in cases}
    for e in events:
        shown = [a for a in e.attachment_ids or [] if a in photos]
        if e.action == "report":
            out[e.case_id]["original"] = shown
        else:  # the last 处置反馈 wins
            out[e.case_id]["handler"] = {"note": mask_text(e.note), "photos": shown, "at": e.at,
                                         "by": _actor(e, people, lang)}
    return out


# Actors without an account: a citizen's report, the reporter's evaluation with the token, the system's jobs.
NOBODY_LABELS = {"public": ("群众", "citizen"), "reporter": ("反映人", "reporter")}


def _actor(event: CaseEvent, people: dict[int, str], lang: str) -> str:
    if event.actor_id is not None and event.actor_id in people:
        return people[event.actor_id]
    return _label(NOBODY_LABELS.get(event.actor_name, ("系统", "system")), lang)


# What of a case is personal data, shown masked: the reporter's contact, the free text a reporter typed
# (phone and ID numbers in it), and the notes of its timeline (``note:<event id>``).
REVEALABLE = ("reporter_name", "reporter_phone", "description", "address")


def reveal(session: Session, principal: Principal, case_id: int, field: str, reason: str) -> str | None:
    """The clear value of one masked part of a case, for a caller holding ``pii.reveal`` over it who says
    why; every reveal is in the audit log with its reason (as for users: ``identity.service.reveal``)."""
    event_id = field.removeprefix("note:")
    if field not in REVEALABLE and not (field.startswith("note:") and event_id.isdigit()):
        raise ValidationFailed("unknown_field", "该字段不可查看", "No such personal-data field",
                               detail={"field": field[:40]})
    reason = reveal_reason(reason)
    case = get_case(session, case_id)
    principal.require("pii.reveal", case.area_path)
    if field in REVEALABLE:
        value: str | None = getattr(case, field)
    else:
        event = session.scalar(select(CaseEvent).where(CaseEvent.id == int(event_id), CaseEvent.case_id == case.id))
        if event is None:
            raise NotFound(detail={"object": "case_event", "id": int(event_id)})
        value = event.note
    audit.record(session, "reveal", "case", case.id, area_path=case.area_path, reason=reason,
                 after={"field": field})
    return value


# -- public tracking -------------------------------------------------------------------------------------


def _not_found(code: str) -> NotFound:
    """A case asked for by its tracking code is named by that code only, never by its internal id."""
    return NotFound(detail={"object": "case", "tracking_code": code.strip().upper()[:16]})


def normal_code(code: str) -> str:
    """A tracking code as typed or read aloud: any case, grouped with spaces or dashes (2612-AZJ8-SJWH-45)."""
    return code.replace("-", "").replace(" ", "").strip().upper()


def reported_by(session: Session, principal: Principal, limit: int) -> list[Case]:
    """The caller's own reports (我的反映), newest first."""
    if principal.user_id is None:
        return []
    return list(session.scalars(select(Case).where(Case.reporter_user_id == principal.user_id)
                                .order_by(Case.reported_at.desc(), Case.id.desc()).limit(limit)))


def _by_code(session: Session, code: str) -> Case:
    case = session.scalar(select(Case).where(Case.tracking_code == normal_code(code)),
                          execution_options=UNSCOPED)
    if case is None:
        raise _not_found(code)
    return case


def track(session: Session, code: str, lang: str) -> dict[str, Any]:
    """What anyone with the tracking code may see."""
    return public_view(session, _by_code(session, code), lang)


def public_view(session: Session, case: Case, lang: str) -> dict[str, Any]:
    """The public view of a case: states, actions and times only. A merged case also shows the progress of
    the case it was merged into (``merged_into``; not that case's code), which its reporter now follows
    (``shiyu.cases.reporters``)."""
    out = _public_progress(session, case, lang)
    survivor = reporters.survivor_of(session, case)
    if survivor is not None:
        progress = _public_progress(session, survivor, lang)
        out["merged_into"] = {k: progress[k] for k in ("state", "state_label", "closed_at", "timeline")}
    return out


# The public timeline in the reporter's words: internal hops (上报上级, 转派中心) fold into one "转交" line, and
# steps with nothing to tell the reporter (督办, 延期审批 …) are left out; consecutive equal lines show once.
PUBLIC_STEPS: dict[str, tuple[str, str]] = {
    "report": ("已收到您的反映", "Your report was received"),
    "register": ("已立案", "Registered"),
    "reject": ("不予立案", "Not taken up"),
    "merge": ("与同一问题的反映合并办理", "Handled together with a report of the same problem"),
    "self_resolve": ("网格员已现场处置", "Resolved on the spot by the grid worker"),
    "escalate": ("转交上级中心处理", "Passed to a higher centre"),
    "dispatch_to_centre": ("转交下级中心处理", "Passed to a local centre"),
    "dispatch": ("已交由责任部门处理", "Passed to the responsible department"),
    "accept": ("责任部门已接单", "The department took it on"),
    "return": ("重新安排处理部门", "A new department is being chosen"),
    "report_result": ("责任部门已处理完毕", "The department finished the work"),
    "verify_pass": ("网格员现场核查通过", "Checked on site"),
    "verify_fail": ("现场核查未通过，重新处理", "Not fixed yet: the work is being redone"),
    "close": ("已办结", "Closed"),
    "reopen": ("重新办理", "Reopened"),
    "evaluate": ("您已评价", "You evaluated it"),
}
HELD_BY_CENTRE = (CaseState.REPORTED, CaseState.TO_DISPATCH, CaseState.TO_CLOSE)
HELD_BY_DEPARTMENT = (CaseState.TO_ACCEPT, CaseState.HANDLING, CaseState.SUSPENDED)


def _public_progress(session: Session, case: Case, lang: str) -> dict[str, Any]:
    category = session.get(Category, case.category_id)
    events = list(session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.public.is_(True)).order_by(CaseEvent.id),
        execution_options=UNSCOPED,
    ))
    return {
        "tracking_code": case.tracking_code, "state": case.state,
        "state_label": _label(STATE_LABELS[case.state_enum], lang),
        "category": _label((category.name_zh, category.name_en or category.name_zh), lang) if category else "",
        "reported_at": case.reported_at, "closed_at": case.closed_at, "rating": case.rating,
        "can_evaluate": case.state == CaseState.CLOSED and case.rating is None,
        "holder": _holder(session, case),
        "due_at": case.step_due_at if case.state_enum in OPEN_STATES else None,
        "result": _result(events, case) if case.state == CaseState.CLOSED else None,
        "timeline": _public_steps(events, lang),
    }


def _public_steps(events: list[CaseEvent], lang: str) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    for e in events:
        label = PUBLIC_STEPS.get(e.action)
        if label is None or (steps and steps[-1]["action"] == e.action):
            continue
        steps.append({"at": e.at, "action": e.action, "label": _label(label, lang), "state": e.to_state})
    return steps


def _holder(session: Session, case: Case) -> str | None:
    """Who has the case now, as the reporter would name them: the department handling it, the centre
    registering, dispatching or closing it, or the grid worker checking the work (None once it is done)."""
    state = case.state_enum
    if state in HELD_BY_DEPARTMENT and case.main_department_id is not None:
        department = session.get(Department, case.main_department_id, execution_options=UNSCOPED)
        return department.name if department else None
    if state in HELD_BY_CENTRE:
        centre = session.scalar(select(Centre).where(Centre.area_id == case.centre_area_id),
                                execution_options=UNSCOPED)
        return centre.name if centre else None
    if state == CaseState.TO_VERIFY:
        return "网格员（现场核查）"
    return None


def _result(events: list[CaseEvent], case: Case) -> dict[str, Any] | None:
    """The department's reply and its after-photos: the last 处置反馈 of a closed case (checked on site, so
    what it says was done), its note masked like any free text."""
    done = [e for e in events if e.action == "report_result"]
    if not done:
        return None
    last = done[-1]
    return {"note": mask_text(last.note), "at": last.at, "attachment_ids": list(last.attachment_ids or [])}


def result_photo(session: Session, code: str, attachment_id: int) -> Attachment:
    """One after-photo of a closed case's public result, for whoever has the tracking code."""
    case = _by_code(session, code)
    result = _result(list(session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.public.is_(True)).order_by(CaseEvent.id),
        execution_options=UNSCOPED)), case) if case.state == CaseState.CLOSED else None
    if result is None or attachment_id not in result["attachment_ids"]:
        raise NotFound(detail={"object": "attachment", "id": attachment_id})
    found = session.get(Attachment, attachment_id, execution_options=UNSCOPED)
    if found is None:
        raise NotFound(detail={"object": "attachment", "id": attachment_id})
    return found


def _token_ok(tracking_code: str, token: str) -> bool:
    """The long evaluation token (kept by the reporter's device) or the short evaluation code (written down;
    any case, spaces and dashes allowed)."""
    short = token.replace("-", "").replace(" ", "").upper()
    return (hmac.compare_digest(token, evaluation_token(tracking_code))
            or hmac.compare_digest(short, evaluation_code(tracking_code)))


def track_evaluate(
    session: Session, code: str, rating: Rating, note: str, token: str | None, reporter: Principal | None,
    tz: ZoneInfo,
) -> Case:
    """Evaluation from the tracking page: with the evaluation token given at intake, or logged in as the
    reporter. The token satisfies only the workflow's reporter rule; everything else is checked as usual."""
    case = _by_code(session, code)
    data = engine.ActionInput(expected_version=case.version, note=note, fields={"rating": rating.value})
    if token is not None:
        if not _token_ok(case.tracking_code, token):
            raise Forbidden("evaluation_token_invalid", "评价凭证不正确", "The evaluation token is not valid")
        session.info["principal"] = Principal.system("reporter")
        return engine.apply(session, session.info["principal"], case.id, "evaluate", data, tz, with_token=True)
    if reporter is None:
        raise Unauthenticated(detail={"hint": "send the evaluation token or log in as the reporter"})
    session.info["principal"] = reporter
    try:
        return engine.apply(session, reporter, case.id, "evaluate", data, tz)
    except NotFound as exc:  # the logged-in caller cannot see this case: they know it by its code only
        raise _not_found(code) from exc


