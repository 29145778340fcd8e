"""The case workflow as a declared transition table: state × action → state, who may do it (permission and
scope rule), what it requires (fields, note, evidence) and the guards that must hold.

This module is data plus the meaning of its scope rules and guards, each given twice side by side: in Python
for one case in hand (``permitted``, ``failed_guard``) and in SQL for a set of cases (``clause``), which is
what the work queues (``queues``, beside it) are built from. It changes nothing. ``engine`` applies a
transition (checks, one transaction, timeline, outbox), ``effects`` holds the per-action work, and the
tests walk every (state, action, role) combination generated from ``TABLE``.

Scope rules, and why each exists:

- ``CENTRE``: a grant exactly at the area of the centre currently responsible for the case. Each level
  registers, dispatches to its own departments and closes its own cases; a street operator does not
  silently act on a community's queue — the community escalates (上报上级) or the street dispatches down.
- ``ABOVE``: a grant at that centre's area or any area above it (supervision comes from the same or a
  higher level).
- ``AREA``: a grant over an area containing the case's grid (grid workers verify on site; follow-up calls).
- ``MAIN_DEPARTMENT`` / ``ASSIST_DEPARTMENT``: a department grant for the main (主办) or an assisting (协办)
  department of the current dispatch.
- ``REPORTER``: the logged-in reporter of the case, or whoever holds the evaluation token given at intake.

Two actions exist for the desk operator's day (issue 13). 转派上级部门 (``forward``): the routing rules often
name a department of a higher centre (a district bureau for a pothole reported in a community); one action
moves the case to that department's centre, where it is dispatched with the department already chosen,
instead of a chain of 上报上级 each with a note. 催办 (``urge``): the light reminder beside 督办 — no note, no
listing, not shown to the public — which supervisors, and the dispatchers of the same or a higher centre, send
to many overdue cases at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, exists, false, not_, or_, true

from shiyu.cases.categories.models import Category, Step
from shiyu.cases.models import (
    OPEN_STATES,
    AssignmentRole,
    Case,
    CaseAssignment,
    CaseRequest,
    CaseState,
    Channel,
    Rating,
    RequestKind,
    RequestStatus,
)
from shiyu.core.errors import Conflict, Forbidden, ShiyuError
from shiyu.core.scoping import Principal

S = CaseState


class Scope(StrEnum):
    CENTRE = "centre"
    ABOVE = "above"
    AREA = "area"
    MAIN_DEPARTMENT = "main_department"
    ASSIST_DEPARTMENT = "assist_department"
    REPORTER = "reporter"


@dataclass(frozen=True)
class Rule:
    permission: str | None
    scope: Scope


class Clock(StrEnum):
    """What a transition does to the step clock (see ``shiyu.cases.workflow.deadlines``)."""

    FOLLOW = "follow"  # restart when the state changes, keep otherwise
    RESTART = "restart"  # restart even though the state stays (escalation: the new level's own limit)
    PAUSE = "pause"  # suspension stops the clock
    RESUME = "resume"  # and resuming continues it


class FieldType(StrEnum):
    INT = "int"
    IDS = "ids"
    NUMBER = "number"
    CHOICE = "choice"
    BOOL = "bool"


@dataclass(frozen=True)
class ActionField:
    name: str
    type: FieldType
    required: bool = False
    choices: tuple[str, ...] = ()
    label_zh: str = ""
    label_en: str = ""


Check = Callable[[Case, Principal], ShiyuError | None]
Clause = Callable[[Principal], Any]


class Guard:
    """A condition on the case and the actor: ``check`` for one case (the error to answer, or None), and,
    for guards of transitions that back a work queue, ``clause`` — the same condition as SQL over ``Case``.
    Both are written next to each other (``@guard`` then ``@<name>.sql``) so they change together; the
    generated queue test holds them to agreement."""

    def __init__(self, check: Check) -> None:
        self.check = check
        self.clause: Clause | None = None
        self.__name__ = check.__name__

    def __call__(self, case: Case, principal: Principal) -> ShiyuError | None:
        return self.check(case, principal)

    def sql(self, clause: Clause) -> Clause:
        self.clause = clause
        return clause


def guard(check: Check) -> Guard:
    return Guard(check)


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[CaseState, ...]
    targets: tuple[CaseState, ...]  # empty: the state stays; else the first, or what ``choose`` picks
    rules: tuple[Rule, ...]
    label_zh: str
    label_en: str
    fields: tuple[ActionField, ...] = ()
    note_required: bool = False
    evidence_required: bool = False
    guards: tuple[Guard, ...] = ()
    clock: Clock = Clock.FOLLOW
    public: bool = True
    # Needs a photo when the case's category asks for one on site (``Category.verify_photo_required``).
    onsite_photo: bool = False
    choose: Callable[[Case, Category], CaseState] | None = None

    def target_for(self, case: Case, category: Category) -> CaseState:
        if self.choose is not None:
            return self.choose(case, category)
        return self.targets[0] if self.targets else case.state_enum


STAYS: tuple[CaseState, ...] = ()

STEP_OF_STATE: dict[CaseState, Step] = {
    S.REPORTED: Step.REGISTER,
    S.TO_DISPATCH: Step.DISPATCH,
    S.TO_ACCEPT: Step.ACCEPT,
    S.HANDLING: Step.HANDLE,
    S.SUSPENDED: Step.HANDLE,
    S.TO_VERIFY: Step.VERIFY,
}


# -- guards: conditions on the case and the actor, checked before any field is looked at ----------------


def _depth(path: str) -> int:
    return len([c for c in path.split("/") if c])


COMMUNITY_DEPTH = 4


@guard
def not_top_level(case: Case, _p: Principal) -> ShiyuError | None:
    if _depth(case.centre_path) <= 1:
        return Conflict("no_higher_centre", "市级中心无上级可上报",
                        "The city centre has no higher level to escalate to")
    return None


@guard
def has_lower_level(case: Case, _p: Principal) -> ShiyuError | None:
    if _depth(case.centre_path) >= COMMUNITY_DEPTH:
        return Conflict("no_lower_centre", "社区中心之下没有可派遣的中心", "There is no centre below a community")
    return None


def _pending_request(kind: RequestKind | None = None) -> Any:
    where = [CaseRequest.case_id == Case.id, CaseRequest.status == RequestStatus.PENDING]
    if kind is not None:
        where.append(CaseRequest.kind == kind)
    return exists().where(*where)


@guard
def no_pending_request(case: Case, _p: Principal) -> ShiyuError | None:
    if case.pending_request() is not None:
        return Conflict("request_pending", "已有待审批的延期或挂账申请",
                        "An extension or suspension request is pending")
    return None


@no_pending_request.sql
def _no_pending_request_sql(_p: Principal) -> Any:
    return not_(_pending_request())


def _pending(kind: RequestKind) -> Guard:
    def check(case: Case, _p: Principal) -> ShiyuError | None:
        request = case.pending_request()
        if request is None or request.kind != kind:
            return Conflict("no_pending_request", "没有待审批的该类申请", "There is no pending request of this kind",
                            detail={"kind": kind.value})
        return None

    check.__name__ = f"pending_{kind.value}"
    pending = Guard(check)
    pending.sql(lambda _p: _pending_request(kind))
    return pending


pending_extension = _pending(RequestKind.EXTENSION)
pending_suspension = _pending(RequestKind.SUSPENSION)


@guard
def reporter_in_the_field(case: Case, principal: Principal) -> ShiyuError | None:
    """自行处置 is for the grid worker who found the problem and fixed it on the spot."""
    if case.channel != Channel.GRID or principal.user_id is None or principal.user_id != case.reporter_user_id:
        return Forbidden("self_resolve_reporter_only", "只有上报该案件的网格员可以自行处置",
                         "Only the grid worker who reported the case can resolve it on the spot")
    return None


@guard
def not_the_handler(case: Case, principal: Principal) -> ShiyuError | None:
    """采办分离: whoever handled the case (or works for a department on it) never verifies it."""
    handling_departments = set(principal.departments_with("case.handle"))
    on_case = any(a.active and a.department_id in handling_departments for a in case.assignments)
    if (principal.user_id is not None and principal.user_id == case.handled_by_id) or on_case:
        return Forbidden("verifier_is_handler", "核查人不能是处置人（采办分离）",
                         "The person who handled a case cannot verify it (separation of handling and checking)")
    return None


@not_the_handler.sql
def _not_the_handler_sql(principal: Principal) -> Any:
    where = []
    if principal.user_id is not None:
        where.append(or_(Case.handled_by_id.is_(None), Case.handled_by_id != principal.user_id))
    departments = principal.departments_with("case.handle")
    if departments:
        where.append(not_(exists().where(CaseAssignment.case_id == Case.id, CaseAssignment.active.is_(True),
                                         CaseAssignment.department_id.in_(departments))))
    return and_(true(), *where)


@guard
def not_evaluated(case: Case, _p: Principal) -> ShiyuError | None:
    if case.rating is not None:
        return Conflict("already_evaluated", "该案件已评价", "This case has already been evaluated")
    return None


@not_evaluated.sql
def _not_evaluated_sql(_p: Principal) -> Any:
    return Case.rating.is_(None)


@guard
def unsatisfied(case: Case, _p: Principal) -> ShiyuError | None:
    if case.rating != Rating.UNSATISFIED:
        return Conflict("reopen_needs_unsatisfied", "只有评价为不满意的案件可以重新办理",
                        "Only a case evaluated as unsatisfied can be reopened")
    return None


@guard
def own_assist_pending(case: Case, principal: Principal) -> ShiyuError | None:
    mine = set(principal.departments_with("case.handle"))
    if principal.is_system or any(
        a.active and a.role == AssignmentRole.ASSIST and a.reported_at is None and a.department_id in mine
        for a in case.assignments
    ):
        return None
    return Conflict("assist_already_reported", "协办部门已反馈或不是协办部门",
                    "Your department has already reported its part, or is not assisting")


@own_assist_pending.sql
def _own_assist_pending_sql(principal: Principal) -> Any:
    if principal.is_system:
        return true()
    return _assignment(AssignmentRole.ASSIST, principal.departments_with("case.handle"), unreported=True)


# -- target choosers -----------------------------------------------------------------------------------


def after_failed_verification(case: Case, _category: Category) -> CaseState:
    """Rework goes back to the department; a self-resolved case has none and goes back to dispatch."""
    return S.HANDLING if case.main_department_id is not None else S.TO_DISPATCH


def after_self_resolution(_case: Case, category: Category) -> CaseState:
    """Straight to verification by someone else, or closed by rule when the category allows it
    (``Category.self_resolve_closes``)."""
    return S.CLOSED if category.self_resolve_closes else S.TO_VERIFY


# -- fields ---------------------------------------------------------------------------------------------

F = ActionField
DEPARTMENT = F("department_id", FieldType.INT, True, label_zh="主办部门", label_en="main department")
ASSISTING = F("assist_department_ids", FieldType.IDS, label_zh="协办部门", label_en="assisting departments")
HIGHER_DEPARTMENT = F("department_id", FieldType.INT, True, label_zh="上级部门", label_en="higher department")
CENTRE_ID = F("centre_id", FieldType.INT, True, label_zh="下级中心", label_en="lower centre")
INTO = F("into_case_id", FieldType.INT, True, label_zh="合并到案件", label_en="merge into case")
CATEGORY = F("category_id", FieldType.INT, label_zh="更正类别", label_en="corrected category")
URGENCY = F("urgency", FieldType.CHOICE, choices=("normal", "urgent", "critical"), label_zh="紧急程度",
            label_en="urgency")
AMOUNT = F("amount", FieldType.NUMBER, True, label_zh="延期时长", label_en="extension amount")
UNIT = F("unit", FieldType.CHOICE, True, ("working_hours", "working_days"), "单位", "unit")
RATING = F("rating", FieldType.CHOICE, True, tuple(r.value for r in Rating), "评价", "rating")
LISTED = F("listed", FieldType.BOOL, label_zh="挂牌督办", label_en="listed supervision")

CENTRE = Scope.CENTRE


def _r(permission: str | None, scope: Scope) -> Rule:
    return Rule(permission, scope)


TRANSITIONS: tuple[Transition, ...] = (
    Transition("register", (S.REPORTED,), (S.TO_DISPATCH,), (_r("case.register", CENTRE),), "立案", "register",
               fields=(CATEGORY, URGENCY)),
    Transition("reject", (S.REPORTED,), (S.REJECTED,), (_r("case.register", CENTRE),), "不予立案", "reject",
               note_required=True),
    Transition("merge", (S.REPORTED,), (S.MERGED,), (_r("case.register", CENTRE),), "合并重复案件",
               "merge as duplicate", fields=(INTO,)),
    Transition("self_resolve", (S.REPORTED,), (S.TO_VERIFY, S.CLOSED), (_r("case.report", Scope.AREA),),
               "自行处置", "resolve on the spot", note_required=True, evidence_required=True,
               guards=(reporter_in_the_field,), choose=after_self_resolution),
    Transition("dispatch", (S.TO_DISPATCH,), (S.TO_ACCEPT,), (_r("case.dispatch", CENTRE),), "派遣", "dispatch",
               fields=(DEPARTMENT, ASSISTING)),
    Transition("dispatch_to_centre", (S.TO_DISPATCH,), (S.TO_DISPATCH,), (_r("case.dispatch", CENTRE),),
               "派遣至下级中心", "dispatch to a lower centre", fields=(CENTRE_ID,), guards=(has_lower_level,),
               clock=Clock.RESTART),
    Transition("escalate", (S.TO_DISPATCH,), (S.TO_DISPATCH,), (_r("case.dispatch", CENTRE),), "上报上级",
               "escalate to the higher centre", guards=(not_top_level,), clock=Clock.RESTART),
    Transition("forward", (S.TO_DISPATCH,), (S.TO_DISPATCH,), (_r("case.dispatch", CENTRE),), "转派上级部门",
               "forward to a higher centre's department", fields=(HIGHER_DEPARTMENT,), guards=(not_top_level,),
               clock=Clock.RESTART),
    Transition("accept", (S.TO_ACCEPT,), (S.HANDLING,), (_r("case.handle", Scope.MAIN_DEPARTMENT),), "签收",
               "accept"),
    Transition("return", (S.TO_ACCEPT,), (S.TO_DISPATCH,), (_r("case.handle", Scope.MAIN_DEPARTMENT),), "退回",
               "return", note_required=True),
    Transition("report_result", (S.HANDLING,), (S.TO_VERIFY,), (_r("case.handle", Scope.MAIN_DEPARTMENT),),
               "处置反馈", "report the result", note_required=True, evidence_required=True,
               guards=(no_pending_request,)),
    Transition("assist_report", (S.HANDLING,), STAYS, (_r("case.handle", Scope.ASSIST_DEPARTMENT),),
               "协办反馈", "report the assisting part", note_required=True, guards=(own_assist_pending,)),
    Transition("request_extension", (S.HANDLING,), STAYS, (_r("case.handle", Scope.MAIN_DEPARTMENT),),
               "申请延期", "request an extension", fields=(AMOUNT, UNIT), note_required=True,
               guards=(no_pending_request,), public=False),
    Transition("approve_extension", (S.HANDLING,), STAYS, (_r("case.approve", CENTRE),), "批准延期",
               "approve the extension", guards=(pending_extension,)),
    Transition("deny_extension", (S.HANDLING,), STAYS, (_r("case.approve", CENTRE),), "驳回延期",
               "deny the extension", note_required=True, guards=(pending_extension,), public=False),
    Transition("request_suspension", (S.HANDLING,), STAYS, (_r("case.handle", Scope.MAIN_DEPARTMENT),),
               "申请挂账", "request suspension", note_required=True, guards=(no_pending_request,), public=False),
    Transition("approve_suspension", (S.HANDLING,), (S.SUSPENDED,), (_r("case.approve", CENTRE),), "批准挂账",
               "approve suspension", guards=(pending_suspension,), clock=Clock.PAUSE),
    Transition("deny_suspension", (S.HANDLING,), STAYS, (_r("case.approve", CENTRE),), "驳回挂账",
               "deny suspension", note_required=True, guards=(pending_suspension,), public=False),
    Transition("resume", (S.SUSPENDED,), (S.HANDLING,),
               (_r("case.handle", Scope.MAIN_DEPARTMENT), _r("case.approve", CENTRE)), "恢复办理", "resume",
               clock=Clock.RESUME),
    Transition("verify_pass", (S.TO_VERIFY,), (S.TO_CLOSE,), (_r("case.verify", Scope.AREA),), "核查通过",
               "verification passed", guards=(not_the_handler,), onsite_photo=True),
    Transition("verify_fail", (S.TO_VERIFY,), (S.HANDLING, S.TO_DISPATCH), (_r("case.verify", Scope.AREA),),
               "核查不通过（返工）", "verification failed (rework)", note_required=True, guards=(not_the_handler,),
               choose=after_failed_verification),
    Transition("close", (S.TO_CLOSE,), (S.CLOSED,), (_r("case.close", CENTRE),), "结案", "close"),
    Transition("evaluate", (S.CLOSED,), STAYS, (_r(None, Scope.REPORTER), _r("case.evaluate", Scope.AREA)),
               "回访评价", "follow-up evaluation", fields=(RATING,), guards=(not_evaluated,)),
    Transition("reopen", (S.CLOSED,), (S.TO_DISPATCH,), (_r("case.close", CENTRE),), "重新办理", "reopen",
               note_required=True, guards=(unsatisfied,)),
    Transition("supervise", OPEN_STATES, STAYS, (_r("case.supervise", Scope.ABOVE),), "督办", "supervise",
               fields=(LISTED,), note_required=True),
    Transition("urge", OPEN_STATES, STAYS, (_r("case.supervise", Scope.ABOVE), _r("case.dispatch", Scope.ABOVE)),
               "催办", "urge", public=False),
)

TABLE: dict[tuple[CaseState, str], Transition] = {(s, t.action): t for t in TRANSITIONS for s in t.sources}
ACTIONS: dict[str, Transition] = {t.action: t for t in TRANSITIONS}


# -- the meaning of the scope rules ----------------------------------------------------------------------


def holds_exactly_at(principal: Principal, permission: str, area_path: str) -> bool:
    """An area grant (not a department grant) for exactly this area carrying ``permission``."""
    if principal.is_system:
        return True
    perms: Callable[[str], frozenset[str]] = principal.permissions_of or (lambda _r: frozenset())
    return any(
        g.department_id is None and g.area_path == area_path and permission in perms(g.role)
        for g in principal.grants
    )


def exact_paths(principal: Principal, permission: str) -> tuple[str, ...]:
    """The areas where ``principal`` holds ``permission`` by an area grant (for the centre queues)."""
    perms: Callable[[str], frozenset[str]] = principal.permissions_of or (lambda _r: frozenset())
    return tuple(sorted({
        g.area_path for g in principal.grants
        if g.department_id is None and g.area_path and permission in perms(g.role)
    }))


def rule_allows(rule: Rule, principal: Principal, case: Case, *, with_token: bool = False) -> bool:
    """Does ``rule`` let ``principal`` act on ``case``? ``with_token``: the caller proved to be the reporter
    with the evaluation token, which satisfies the reporter rule and nothing else."""
    if with_token:
        return rule.scope is Scope.REPORTER
    if rule.scope is Scope.REPORTER:
        return principal.user_id is not None and principal.user_id == case.reporter_user_id
    assert rule.permission is not None
    if principal.is_system:
        return True
    if rule.scope is Scope.CENTRE:
        return holds_exactly_at(principal, rule.permission, case.centre_path)
    if rule.scope is Scope.ABOVE:
        return principal.can(rule.permission, case.centre_path)
    if rule.scope is Scope.AREA:
        return principal.can(rule.permission, case.area_path)
    departments = set(principal.departments_with(rule.permission))
    if rule.scope is Scope.MAIN_DEPARTMENT:
        return case.main_department_id is not None and case.main_department_id in departments
    return any(a.active and a.role == AssignmentRole.ASSIST and a.department_id in departments
               for a in case.assignments)


def _assignment(role: AssignmentRole, departments: tuple[int, ...], *, unreported: bool = False) -> Any:
    if not departments:
        return false()
    where = [CaseAssignment.case_id == Case.id, CaseAssignment.active.is_(True), CaseAssignment.role == role,
             CaseAssignment.department_id.in_(departments)]
    if unreported:
        where.append(CaseAssignment.reported_at.is_(None))
    return exists().where(*where)


def _under(column: Any, paths: tuple[str, ...]) -> Any:
    return or_(false(), *[column.startswith(p, autoescape=True) for p in paths])


def rule_clause(rule: Rule, principal: Principal) -> Any:
    """``rule_allows`` as SQL over ``Case``: the cases on which ``rule`` lets ``principal`` act."""
    if rule.scope is Scope.REPORTER:
        return Case.reporter_user_id == principal.user_id if principal.user_id is not None else false()
    assert rule.permission is not None
    if principal.is_system:
        return true()
    if rule.scope is Scope.CENTRE:
        paths = exact_paths(principal, rule.permission)
        return Case.centre_path.in_(paths) if paths else false()
    if rule.scope is Scope.ABOVE:
        return _under(Case.centre_path, principal.paths_with(rule.permission))
    if rule.scope is Scope.AREA:
        return _under(Case.area_path, principal.paths_with(rule.permission))
    departments = principal.departments_with(rule.permission)
    if rule.scope is Scope.MAIN_DEPARTMENT:
        return Case.main_department_id.in_(departments) if departments else false()
    return _assignment(AssignmentRole.ASSIST, departments)


def clause(transition: Transition, principal: Principal) -> Any:
    """The cases ``transition`` is available on for ``principal`` (state, rules, guards) — ``available`` as SQL.
    Only transitions whose guards all have an SQL form can back a queue."""
    missing = [g.__name__ for g in transition.guards if g.clause is None]
    if missing:
        raise ValueError(f"{transition.action}: guards without an SQL form: {missing}")
    return and_(Case.state.in_([s.value for s in transition.sources]),
                or_(*[rule_clause(r, principal) for r in transition.rules]),
                *[g.clause(principal) for g in transition.guards if g.clause is not None])


def permitted(transition: Transition, principal: Principal, case: Case, *, with_token: bool = False) -> bool:
    return any(rule_allows(r, principal, case, with_token=with_token) for r in transition.rules)


def failed_guard(transition: Transition, principal: Principal, case: Case) -> ShiyuError | None:
    for guard in transition.guards:
        error = guard(case, principal)
        if error is not None:
            return error
    return None


def available(principal: Principal, case: Case) -> list[Transition]:
    """Exactly the transitions this principal may apply to this case now (state, rule, scope, guards)."""
    return [
        t for t in TRANSITIONS
        if case.state_enum in t.sources and permitted(t, principal, case) and failed_guard(t, principal, case) is None
    ]


STATE_LABELS: dict[CaseState, tuple[str, str]] = {
    S.REPORTED: ("待立案", "to register"),
    S.REJECTED: ("不予立案", "rejected"),
    S.MERGED: ("已合并", "merged"),
    S.TO_DISPATCH: ("待派遣", "to dispatch"),
    S.TO_ACCEPT: ("待签收", "to accept"),
    S.HANDLING: ("处置中", "handling"),
    S.SUSPENDED: ("挂账中", "suspended"),
    S.TO_VERIFY: ("待核查", "to verify"),
    S.TO_CLOSE: ("待结案", "to close"),
    S.CLOSED: ("已结案", "closed"),
}
# Timeline entries that are not transitions: the report itself and the deadline scan's alerts.
EVENT_LABELS: dict[str, tuple[str, str]] = {
    "report": ("上报", "reported"),
    "overdue": ("超期", "overdue"),
    "auto_supervise": ("超期自动督办", "supervised automatically (overdue)"),
    **{t.action: (t.label_zh, t.label_en) for t in TRANSITIONS},
}
