"""Case desk for centre operators, dispatchers and department handlers.

The queue page shows the caller's work queues (``shiyu.cases.workflow.queues``) with counts and the cases of one
queue; the case page shows what the API's case detail shows (timeline, deadline, routing suggestion,
photos) and renders exactly the actions ``service.case_detail`` lists as allowed, each as a form carrying
the version the user saw. Every read and write goes through the page's scoped session, so a case outside
the caller's scope is a 404 page here just as it is a 404 in the API, and a caller who sees a case only as
its reporter is sent to its public tracking page (the API answers them with the same public view).

A lost race (the engine's ``Conflict``) re-renders the case as it is now with a "someone else acted
first" notice, so the user sees what changed before trying again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from shiyu.cases import service
from shiyu.cases.categories import service as categories
from shiyu.cases.models import Case, has_case_role
from shiyu.cases.workflow import effects, engine, queues
from shiyu.cases.workflow.table import ACTIONS, FieldType
from shiyu.core.audit import AuditEntry
from shiyu.core.errors import Conflict, ShiyuError, ValidationFailed
from shiyu.core.http import language
from shiyu.core.paging import PageParams, paginate
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.disputes import service as disputes
from shiyu.disputes.models import REGISTER as DISPUTE_REGISTER
from shiyu.org.units import service as units
from shiyu.registry import components as registry_components
from shiyu.triage.classification import suggest as triage_suggest
from shiyu.triage.duplicates import case_duplicates
from shiyu.web.desk import find, register_dispatch, table
from shiyu.web.desk.queue_nav import HOTKEYS, after_action, neighbours, work_queue
from shiyu.web.page_deps import (
    PageDb,
    PagePrincipal,
    PageRoute,
    field_errors,
    page_form,
    render,
    require_any,
    reveal_answer,
)

router = APIRouter(prefix="/desk", route_class=PageRoute, include_in_schema=False)
PAGE_SIZE = 30
CHOICE_LIMIT = 500

# Which permission makes a queue part of the caller's desk; overdue and supervised concern everyone.
QUEUE_PERMISSION = {
    "to_register": "case.register", "to_dispatch": "case.dispatch", "to_accept": "case.handle",
    "to_handle": "case.handle", "to_verify": "case.verify", "to_close": "case.close", "to_approve": "case.approve",
    "to_follow_up": "case.evaluate",
}
BATCH_ACTIONS = ("urge", "supervise")  # 催办, 督办 on checked rows (shiyu.web.desk.work)
DESK_PERMISSIONS = tuple(sorted(set(QUEUE_PERMISSION.values()) | {"case.supervise"}))



def desk_queues(session: Session, principal: Principal) -> list[tuple[queues.Queue, int]]:
    """The queues the caller's desk shows, with their counts: those of their permissions, and any other
    that happens to hold a case for them."""
    return [(q, n) for q, n in queues.counts(session, principal)
            if n or q.name not in QUEUE_PERMISSION or principal.has_permission(QUEUE_PERMISSION[q.name])]


def critical_cases(session: Session, principal: Principal, mine: list[tuple[queues.Queue, int]],
                   lang: str) -> list[dict[str, Any]]:
    """The open 特急 cases of the desk's queues, pinned above every queue (``desk/critical.html``)."""
    now = utcnow()
    return [service.case_out(c, now, lang) for c in queues.critical(session, principal, [q.name for q, _ in mine])]


@router.get("")
def desk(request: Request, db: PageDb, principal: PagePrincipal, queue: str = Query(""),
         offset: int = Query(0, ge=0), q: str | None = Query(None), batch: str = Query("")) -> Response:
    require_any(principal, *DESK_PERMISSIONS)
    if q is not None:  # the search box (shiyu.web.desk.find)
        return find.search_page(request, db, q, offset)
    outcome = batch_results(db, principal, batch) if batch else None
    if outcome is None:
        return desk_page(request, db, principal, queue, offset)
    return desk_page(request, db, principal, queue, offset, batch_action=outcome[0], batch=outcome[1])


def batch_results(db: Session, principal: Principal, entry_id: str) -> tuple[str, list[dict[str, Any]]] | None:
    """The outcome of the caller's own batch, from its audit entry: the page after the batch is a GET of
    ``/desk?batch=<entry>``, so reloading it shows the outcome again instead of sending the batch twice.
    Someone else's batch, or any other entry, shows nothing."""
    if not entry_id.isdigit():
        return None
    entry = db.scalar(select(AuditEntry).where(
        AuditEntry.id == int(entry_id), AuditEntry.actor_id == principal.user_id,
        AuditEntry.action.in_([f"case.batch_{a}" for a in BATCH_ACTIONS])), execution_options={"unscoped": True})
    if entry is None or not entry.after:
        return None
    outcome = entry.after
    # Read in the caller's scope: a row refused as out of scope shows its number, not its tracking code.
    codes = {case_id: code for case_id, code in db.execute(
        select(Case.id, Case.tracking_code).where(Case.id.in_(outcome["order"])))}
    done = set(outcome["done"])
    return entry.action.removeprefix("case.batch_"), [
        {"id": c, "code": codes.get(c, f"#{c}"), "ok": c in done, "message": outcome["reasons"].get(str(c), "")}
        for c in outcome["order"]]


def desk_page(request: Request, db: Session, principal: Principal, queue: str, offset: int, status: int = 200,
              **extra: Any) -> Response:
    """One queue of the desk (the first that holds a case when none is named), with ``extra`` for the page
    (a batch's results, ``shiyu.web.desk.work``)."""
    mine = desk_queues(db, principal)
    if not queue:
        queue = next((q.name for q, n in mine if n), mine[0][0].name)
    page = PageParams(limit=PAGE_SIZE, offset=offset)
    rows, total = paginate(db, queues.statement(principal, queue), page)
    now, lang = utcnow(), language(request)
    return render(request, "desk/queues.html", status, queues=mine, current=queue, total=total, limit=PAGE_SIZE,
                  offset=offset, cases=[service.case_out(c, now, lang) for c in rows],
                  repeats=case_duplicates.repeat_ids(db, [c.id for c in rows]),
                  category_names=table.category_names(db, lang), base=f"/desk?queue={queue}&",
                  critical=critical_cases(db, principal, mine, lang), hotkeys=HOTKEYS,
                  can_batch=principal.has_permission("case.supervise") or principal.has_permission("case.dispatch"),
                  can_supervise=principal.has_permission("case.supervise"),
                  **{"batch": None, "batch_action": None, "done": done_label(request)} | extra)


def done_label(request: Request) -> str | None:
    """The name of the action just done (``?done=``), for the notice after it."""
    done = ACTIONS.get(request.query_params.get("done") or "")
    if done is None:
        return None
    return done.label_en if language(request) == "en" else done.label_zh


def _choices(db: PageDb, case: Case, detail: dict[str, Any], lang: str) -> dict[str, Any]:
    """Options for the fields of the allowed actions (departments at the case's centre, lower centres,
    categories; for 转派上级部门 the higher department the routing rules name), read through the caller's scoped
    session; nothing is read for actions not offered."""
    wanted = {f["name"] for a in detail["allowed_actions"] for f in a["fields"]}
    out: dict[str, Any] = {}
    suggested = (case.routing or {}).get("department_id")
    if suggested and any(a["action"] == "forward" for a in detail["allowed_actions"]):
        out["forward"] = effects.forward_target(db, case, suggested)
    if wanted & {"department_id", "assist_department_ids"}:
        out["departments"] = effects.dispatch_departments(db, detail["centre_path"], detail["area_path"])
    if "centre_id" in wanted:
        out["centres"] = effects.lower_centres(db, detail["centre_path"], detail["area_path"])
    if "category_id" in wanted:
        out["tree"] = categories.tree(db)
    return out


def _detail(request: Request, db: PageDb, principal: PagePrincipal, case_id: int, status: int = 200,
            **extra: Any) -> Response:
    lang = language(request)
    queue = work_queue(request.query_params.get("queue"))
    case = service.get_case(db, case_id)
    if not has_case_role(principal, case):  # its reporter: the public view, which is the tracking page
        return Response(status_code=303, headers={"Location": f"/portal/track?code={case.tracking_code}"})
    detail = service.case_detail(db, principal, case, request.app.state.settings.tz, lang)
    detail.update(centre_path=case.centre_path, area_path=case.area_path)
    depts, _ = units.list_departments(db, PageParams(limit=CHOICE_LIMIT, offset=0))
    # The handling department may lie outside what the caller may list (a district bureau seen from a street
    # centre): its name on this case is still the caller's business.
    assigned = units.department_names(db, [a["department_id"] for a in detail["assignments"]])
    return render(request, "desk/case.html", status, c=detail, category_names=table.category_names(db, lang),
                  can_reveal=principal.can("pii.reveal", case.area_path), reveal_fields=service.REVEALABLE,
                  field_labels=categories.field_labels(db, case.category_id, lang),
                  department_names={d.id: d.name for d in depts} | assigned, choices=_choices(db, case, detail, lang),
                  queue=queue, around=neighbours(db, principal, queue, case.id) if queue else None, hotkeys=HOTKEYS,
                  combined=register_dispatch.offer(db, principal, case, detail["allowed_actions"]),
                  triage=triage_suggest.choices(db, case),
                  dups=case_duplicates.candidates_for(db, case.id), repeat=case_duplicates.repeat_of(db, case.id),
                  dispute=disputes.for_case(db, case.id), can_convert=principal.can(DISPUTE_REGISTER, case.area_path),
                  component=registry_components.of_case(db, case),
                  dispute_types=disputes.type_names(db, lang)
                  if principal.can(DISPUTE_REGISTER, case.area_path) else {},
                  **{"errors": {}, "general": None, "open_action": None, "v": {}, "conflict": None,
                     "done": done_label(request)} | extra)


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    return _detail(request, db, principal, case_id)


@router.post("/cases/{case_id}/reveal")
def reveal(request: Request, case_id: int, db: PageDb, principal: PagePrincipal, field: str = Form(""),
           reason: str = Form("")) -> Response:
    """One masked part of the case in the clear (``service.reveal``: pii.reveal, a reason, audited)."""
    return reveal_answer(request, db, field, lambda: service.reveal(db, principal, case_id, field, reason))


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() else value


def _fields(action: str, form: FormData) -> dict[str, Any]:
    """The action's fields from the form, typed as the workflow declares them; empty optional ones are left
    out so the engine applies its own defaults and checks."""
    transition = ACTIONS.get(action)
    out: dict[str, Any] = {}
    problems = []
    for spec in transition.fields if transition else ():
        raw = [str(v).strip() for v in form.getlist(spec.name) if str(v).strip()]
        if spec.type is FieldType.BOOL:
            out[spec.name] = bool(raw) and raw[0] in ("on", "true", "1")
            continue
        if not raw:
            continue
        try:
            if spec.type is FieldType.INT:
                out[spec.name] = int(raw[0])
            elif spec.type is FieldType.IDS:
                out[spec.name] = [int(v) for v in raw]
            elif spec.type is FieldType.NUMBER:
                out[spec.name] = _number(raw[0])
            else:
                out[spec.name] = raw[0]
        except ValueError:
            problems.append({"field": spec.name, "problem": "not_" + spec.type.value})
    if problems:
        raise ValidationFailed("action_fields_invalid", "操作所需信息不完整或有误",
                               "Some details this action needs are missing or not valid", detail=problems)
    return out


def _version(form: FormData) -> int:
    return int(version) if (version := str(form.get("expected_version") or "")).isdigit() else 0


@router.post("/cases/{case_id}/actions/{action}")
async def act(request: Request, case_id: int, action: str, db: PageDb, principal: PagePrincipal) -> Response:
    form = await page_form(request)

    def steps() -> str:
        data = engine.ActionInput(
            expected_version=_version(form), note=str(form.get("note") or ""), fields=_fields(action, form),
            attachment_ids=[int(str(v)) for v in form.getlist("attachment_ids") if str(v).isdigit()])
        engine.apply(db, principal, case_id, action, data, request.app.state.settings.tz)
        return action

    return _run(request, db, principal, case_id, action, form, steps)


@router.post("/cases/{case_id}/register-dispatch")
async def register_and_dispatch(request: Request, case_id: int, db: PageDb, principal: PagePrincipal) -> Response:
    """立案并派遣 (``shiyu.web.desk.register_dispatch``): register, then dispatch or forward, in one transaction."""
    form = await page_form(request)
    tz = request.app.state.settings.tz

    def steps() -> str:
        then, department_id = register_dispatch.second_step(str(form.get("target") or ""))
        case = engine.apply(db, principal, case_id, "register",
                            engine.ActionInput(expected_version=_version(form), fields=_fields("register", form)), tz)
        sent = engine.ActionInput(expected_version=case.version, note=str(form.get("note") or ""),
                                  fields={"department_id": department_id})
        engine.apply(db, principal, case_id, then, sent, tz)
        return then

    return _run(request, db, principal, case_id, register_dispatch.ACTION, form, steps)


def _run(request: Request, db: Session, principal: Principal, case_id: int, action: str, form: FormData,
         steps: Callable[[], str]) -> Response:
    """Apply ``steps`` (the engine, once or more); then the case again or — "办理并打开下一件" — the next case of
    its queue. A lost race re-renders the case as it is now; a refused input re-renders the form with the
    reasons next to the fields, nothing written."""
    lang = language(request)
    try:
        done = steps()
    except Conflict as exc:
        db.rollback()
        return _detail(request, db, principal, case_id, 409, conflict=exc.message(lang))
    except ShiyuError as exc:
        if exc.status != 422:
            raise
        db.rollback()
        general, errors = field_errors(exc, lang)
        values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
        return _detail(request, db, principal, case_id, 422, errors=errors, general=general, open_action=action,
                       v=values)
    target = after_action(db, principal, case_id, done, work_queue(request.query_params.get("queue")),
                          form.get("then") == "next")
    if request.headers.get("hx-request") == "true":
        return Response(status_code=200, headers={"HX-Redirect": target})
    return Response(status_code=303, headers={"Location": target})
