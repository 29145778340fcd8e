"""What each action does to the case beyond the state change, and the checks that need its fields.

Effects run inside ``engine.apply`` after the table's checks and before the version-checked flush; they
raise ``ValidationFailed`` when a field names something unusable (a department at another level, a
centre not below this one). What they add to ``ctx.data`` goes into the timeline entry and the outbox.

Departments, centres and areas are read unscoped: whether a department may receive a case is a fact about
the department, not about what the dispatcher's grants let them list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from shiyu.cases import reporters
from shiyu.cases.categories.models import Category, Urgency
from shiyu.cases.models import AssignmentRole, Case, CaseAssignment, CaseRequest, CaseState, RequestKind, RequestStatus
from shiyu.cases.routing.service import NoRoute, departments_with_jurisdiction, route
from shiyu.cases.workflow import deadlines
from shiyu.core.errors import ValidationFailed
from shiyu.org.areas.models import Area
from shiyu.org.units.models import Centre, Department

if TYPE_CHECKING:
    from shiyu.cases.workflow.engine import ActionInput, Context

UNSCOPED = {"unscoped": True}


def nothing(_ctx: Context) -> None:
    """Actions whose whole effect is the state change, the timeline entry and the outbox event."""


def _codes(path: str) -> list[str]:
    return [c for c in path.split("/") if c]


def _centre_at(ctx: Context, area_path: str) -> Centre | None:
    return ctx.session.scalar(select(Centre).where(Centre.area_path == area_path), execution_options=UNSCOPED)


def suggest_route(ctx: Context) -> dict[str, Any]:
    """The routing suggestion for the case as it is now, with its explanation (kept on the case)."""
    grid = ctx.session.get(Area, ctx.case.grid_id, execution_options=UNSCOPED)  # a batch read it already
    assert grid is not None
    try:
        decision = route(ctx.session, ctx.category, grid, ctx.case.attributes or {})
    except NoRoute as exc:
        return {"department_id": None, "centre_id": None, "rule_id": None, "basis": None, "target_name": "",
                "explanation_zh": exc.zh, "explanation_en": exc.en}
    return {"department_id": decision.department_id, "centre_id": decision.centre_id, "rule_id": decision.rule_id,
            "basis": decision.basis.value, "target_name": decision.target_name,
            "explanation_zh": decision.explanation_zh, "explanation_en": decision.explanation_en}


def register(ctx: Context) -> None:
    """Everything is read (the new category, the route) before the case is changed, so that no read flushes a
    half-changed case: a registration is one version of the case, whatever the reads hit in a cache."""
    case = ctx.case
    if "category_id" in ctx.fields and ctx.fields["category_id"] != case.category_id:
        category = ctx.session.get(Category, ctx.fields["category_id"])
        if category is None or not category.selectable:
            raise ValidationFailed("category_not_selectable", "所选类别不存在或不可用",
                                   "The category does not exist or cannot be chosen", detail={"field": "category_id"})
        ctx.data["category_from"] = case.category_id
        ctx.category = category
    routing = suggest_route(ctx)
    if ctx.category.id != case.category_id:
        case.category_id = ctx.category.id
    if "urgency" in ctx.fields:
        case.urgency = Urgency(ctx.fields["urgency"]).value
    case.registered_at = ctx.now
    case.routing = routing
    ctx.data["routing"] = case.routing


def merge(ctx: Context) -> None:
    into_id = ctx.fields["into_case_id"]
    target = ctx.session.get(Case, into_id)
    if target is None or target.id == ctx.case.id or target.state in (CaseState.REJECTED, CaseState.MERGED):
        raise ValidationFailed("merge_target_invalid", "要合并到的案件不存在或已失效",
                               "The case to merge into does not exist or is no longer active",
                               detail={"field": "into_case_id"})
    ctx.case.merged_into_id = target.id
    ctx.data["into_case_id"] = target.id
    ctx.data["into_tracking_code"] = target.tracking_code
    # The merged case's reporters (and those already following it) follow the surviving case and are told.
    ctx.data["followers"] = len(reporters.follow(ctx.session, ctx.case, target, ctx.now))


def self_resolve(ctx: Context) -> None:
    ctx.case.self_resolved = True
    ctx.case.handled_by_id = ctx.principal.user_id
    ctx.case.handled_at = ctx.now
    if ctx.transition.target_for(ctx.case, ctx.category) is CaseState.CLOSED:
        ctx.case.closed_at = ctx.now
        ctx.data["closed_by_rule"] = True


def dispatch_refusal(
    found: Mapping[int, tuple[Department, list[str]]], department_id: int, centre_path: str, area_path: str,
    field: str = "department_id",
) -> ValidationFailed | None:
    """Why a case at centre ``centre_path`` and place ``area_path`` may not be dispatched to ``department_id``
    (None: it may): the department must be that centre's own and its jurisdiction must cover the place.
    ``found`` holds the departments asked about with their jurisdictions (``departments_with_jurisdiction``).
    The one rule behind the dispatch form's choices, the dispatch itself and auto-dispatch's check before it
    runs any transition (a refused dispatch then costs a read, not two rolled-back transitions)."""
    if department_id not in found:
        return ValidationFailed("department_unknown", "部门不存在", "No such department", detail={"field": field})
    dept, jurisdiction = found[department_id]
    if dept.area_path != centre_path:
        return ValidationFailed(
            "department_not_at_level", "只能派遣给本级中心所属的部门；其他层级的部门请上报上级或派遣至下级中心",
            "Dispatch only to this centre's own departments; escalate or dispatch to a lower centre otherwise",
            detail={"field": field, "department_id": department_id},
        )
    if not any(area_path.startswith(p) for p in jurisdiction):
        return ValidationFailed("department_no_jurisdiction", "该部门不管辖案件所在区域",
                                "The department has no jurisdiction where the case is",
                                detail={"field": field, "department_id": department_id})
    return None


def dispatch_departments(session: Session, centre_path: str, area_path: str) -> list[Department]:
    """The departments a case at centre ``centre_path`` and place ``area_path`` may be dispatched to (the
    dispatch form's choices): that centre's own departments that ``dispatch_refusal`` lets through. Read
    unscoped: eligibility is a fact about the departments, not about what the dispatcher may list."""
    own = session.scalars(select(Department.id).where(Department.area_path == centre_path),
                          execution_options=UNSCOPED).all()
    found = departments_with_jurisdiction(session, set(own))
    return sorted((found[i][0] for i in own if dispatch_refusal(found, i, centre_path, area_path) is None),
                  key=lambda d: d.code)


def lower_centres(session: Session, centre_path: str, area_path: str) -> list[Centre]:
    """The centres below ``centre_path`` whose area holds the case's place (派遣至下级中心), nearest first."""
    stmt = select(Centre).where(Centre.area_path != centre_path, Centre.area_path.startswith(centre_path),
                                literal(area_path).startswith(Centre.area_path)).order_by(Centre.area_path)
    return list(session.scalars(stmt, execution_options=UNSCOPED))


Receivers = dict[int, tuple[Department, list[str]]]


def receivers_named(session: Session, inputs: Iterable[ActionInput]) -> Receivers:
    """The departments (with their jurisdictions) that the fields of ``inputs`` name, read once for a batch."""
    named = [[data.fields.get("department_id"), *_listed(data.fields.get("assist_department_ids"))]
             for data in inputs]
    ids = {i for each in named for i in each if isinstance(i, int) and not isinstance(i, bool)}
    return departments_with_jurisdiction(session, ids)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _department(ctx: Context, department_id: int, field: str) -> Department:
    known = ctx.receivers if ctx.receivers is not None and department_id in ctx.receivers else None
    found = known if known is not None else departments_with_jurisdiction(ctx.session, {department_id})
    refusal = dispatch_refusal(found, department_id, ctx.case.centre_path, ctx.case.area_path, field)
    if refusal is not None:
        raise refusal
    return found[department_id][0]


def _release_departments(case: Case) -> None:
    for a in case.assignments:
        a.active = False
    case.main_department_id = None


def dispatch(ctx: Context) -> None:
    case = ctx.case
    main = _department(ctx, ctx.fields["department_id"], "department_id")
    assisting_ids = [i for i in dict.fromkeys(ctx.fields.get("assist_department_ids") or []) if i != main.id]
    assisting = [_department(ctx, i, "assist_department_ids") for i in assisting_ids]
    _release_departments(case)
    case.main_department_id = main.id
    case.assignments.append(CaseAssignment(department_id=main.id, role=AssignmentRole.MAIN.value,
                                           area_path=case.area_path, assigned_at=ctx.now))
    for dept in assisting:
        case.assignments.append(CaseAssignment(department_id=dept.id, role=AssignmentRole.ASSIST.value,
                                               area_path=case.area_path, assigned_at=ctx.now))
    case.dispatched_at = ctx.now
    suggested = (case.routing or {}).get("department_id")
    ctx.data.update(department_id=main.id, department_name=main.name, assist_department_ids=[d.id for d in assisting],
                    followed_suggestion=suggested == main.id)


def dispatch_to_centre(ctx: Context) -> None:
    case = ctx.case
    centre = next((c for c in lower_centres(ctx.session, case.centre_path, case.area_path)
                   if c.id == ctx.fields["centre_id"]), None)
    if centre is None:
        raise ValidationFailed("centre_not_below", "只能派遣至案件所在区域的下级中心",
                               "Dispatch only to a lower centre of the case's own area", detail={"field": "centre_id"})
    ctx.data.update(from_centre_path=case.centre_path, centre_id=centre.id, centre_name=centre.name)
    case.centre_area_id, case.centre_path = centre.area_id, centre.area_path


def escalate(ctx: Context) -> None:
    case = ctx.case
    codes = _codes(case.centre_path)
    for depth in range(len(codes) - 1, 0, -1):
        centre = _centre_at(ctx, "/" + "/".join(codes[:depth]) + "/")
        if centre is not None:
            ctx.data.update(from_centre_path=case.centre_path, centre_id=centre.id, centre_name=centre.name)
            case.centre_area_id, case.centre_path = centre.area_id, centre.area_path
            return
    raise ValidationFailed("no_higher_centre", "上级没有综治中心", "There is no centre above this one")


def forward_target(session: Session, case: Case, department_id: int) -> tuple[Department, Centre] | None:
    """The department and its centre when ``department_id`` may take the case by 转派上级部门: a department
    of a centre strictly above the case's current centre, with jurisdiction over the case's place."""
    dept = session.scalar(select(Department).where(Department.id == department_id), execution_options=UNSCOPED)
    if dept is None or dept.area_path == case.centre_path or not case.centre_path.startswith(dept.area_path):
        return None
    if dept.id not in {d.id for d in dispatch_departments(session, dept.area_path, case.area_path)}:
        return None
    centre = session.scalar(select(Centre).where(Centre.area_path == dept.area_path), execution_options=UNSCOPED)
    return (dept, centre) if centre is not None else None


def forward(ctx: Context) -> None:
    """转派上级部门: the case goes to the centre of the named higher department, whose dispatcher finds it in
    待派遣 with that department suggested."""
    case = ctx.case
    target = forward_target(ctx.session, case, ctx.fields["department_id"])
    if target is None:
        raise ValidationFailed("department_not_above", "只能转派给上级中心所属、管辖案件所在区域的部门",
                               "Forward only to a department of a higher centre that covers the case's place",
                               detail={"field": "department_id"})
    dept, centre = target
    ctx.data.update(from_centre_path=case.centre_path, centre_id=centre.id, centre_name=centre.name,
                    department_id=dept.id, department_name=dept.name,
                    followed_suggestion=(case.routing or {}).get("department_id") == dept.id)
    case.centre_area_id, case.centre_path = centre.area_id, centre.area_path
    case.routing = {**(case.routing or {}), "department_id": dept.id, "target_name": dept.name}


def return_(ctx: Context) -> None:
    ctx.data["department_id"] = ctx.case.main_department_id
    _release_departments(ctx.case)
    ctx.case.return_count += 1


def report_result(ctx: Context) -> None:
    case = ctx.case
    case.handled_by_id = ctx.principal.user_id
    case.handled_at = ctx.now
    main = case.assignment_of(case.main_department_id) if case.main_department_id else None
    if main is not None:
        main.reported_at, main.report_note = ctx.now, ctx.note


def assist_report(ctx: Context) -> None:
    mine = set(ctx.principal.departments_with("case.handle"))
    for a in ctx.case.assignments:
        if a.active and a.role == AssignmentRole.ASSIST and a.reported_at is None and a.department_id in mine:
            a.reported_at, a.report_note = ctx.now, ctx.note
            ctx.data["department_id"] = a.department_id
            return


def _request(ctx: Context, kind: RequestKind) -> None:
    request = CaseRequest(kind=kind.value, reason=ctx.note, requested_by_id=ctx.principal.user_id,
                          requested_at=ctx.now, area_path=ctx.case.area_path,
                          amount=ctx.fields.get("amount"), unit=ctx.fields.get("unit"))
    ctx.case.requests.append(request)
    ctx.data.update(kind=kind.value, amount=request.amount, unit=request.unit)


def request_extension(ctx: Context) -> None:
    amount = ctx.fields["amount"]
    if not 0 < amount <= 1000:
        raise ValidationFailed("extension_amount_invalid", "延期时长须大于0且不超过1000", "The extension must be more "
                               "than 0 and at most 1000", detail={"field": "amount"})
    _request(ctx, RequestKind.EXTENSION)


def request_suspension(ctx: Context) -> None:
    _request(ctx, RequestKind.SUSPENSION)


def _decide(ctx: Context, status: RequestStatus) -> CaseRequest:
    request = ctx.case.pending_request()
    assert request is not None  # the table's guard checked it
    request.status, request.decided_by_id, request.decided_at = status.value, ctx.principal.user_id, ctx.now
    request.decision_note = ctx.note
    ctx.data.update(request_id=request.id, kind=request.kind, decision=status.value)
    return request


def approve(ctx: Context) -> None:
    _decide(ctx, RequestStatus.APPROVED)


def deny(ctx: Context) -> None:
    _decide(ctx, RequestStatus.DENIED)


def approve_extension(ctx: Context) -> None:
    request = _decide(ctx, RequestStatus.APPROVED)
    assert request.amount is not None and request.unit is not None
    deadlines.extend(ctx.case, request.amount, request.unit, ctx.calendar, ctx.now)
    ctx.case.extension_count += 1
    ctx.data["due_at"] = ctx.case.step_due_at.isoformat() if ctx.case.step_due_at else None


def verify_fail(ctx: Context) -> None:
    ctx.case.rework_count += 1
    if ctx.case.main_department_id is not None:
        main = ctx.case.assignment_of(ctx.case.main_department_id)
        if main is not None:
            main.reported_at = None


def close(ctx: Context) -> None:
    ctx.case.closed_at = ctx.now


def evaluate(ctx: Context) -> None:
    ctx.case.rating = ctx.fields["rating"]
    ctx.data["rating"] = ctx.fields["rating"]


def reopen(ctx: Context) -> None:
    ctx.data["previous_rating"] = ctx.case.rating
    ctx.case.rating = None
    ctx.case.closed_at = None
    _release_departments(ctx.case)


def supervise(ctx: Context) -> None:
    ctx.case.supervised = True
    listed = bool(ctx.fields.get("listed"))
    ctx.case.listed_supervision = ctx.case.listed_supervision or listed
    ctx.data["listed"] = listed


EFFECTS: dict[str, Callable[[Context], None]] = {
    "register": register,
    "merge": merge,
    "self_resolve": self_resolve,
    "dispatch": dispatch,
    "dispatch_to_centre": dispatch_to_centre,
    "escalate": escalate,
    "forward": forward,
    "return": return_,
    "report_result": report_result,
    "assist_report": assist_report,
    "request_extension": request_extension,
    "approve_extension": approve_extension,
    "deny_extension": deny,
    "request_suspension": request_suspension,
    "approve_suspension": approve,
    "deny_suspension": deny,
    "verify_fail": verify_fail,
    "close": close,
    "evaluate": evaluate,
    "reopen": reopen,
    "supervise": supervise,
}
