"""The task engine's published service: the admitted list (propose, admit or refuse, exit; the domains' own
system types), assignments that fan out to the grids, items opened one at a time by a domain, the one
``act`` that applies the transition table, the worker's list, progress by area, and the warning sweep.

Every function works in the caller's transaction and session (whose principal is the scope); events go to
the outbox in that same transaction, so a subscriber learns of a done item only if it was really done.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from shiyu.cases import attachments as uploads
from shiyu.cases.workflow.engine import attachments_for
from shiyu.core import audit, outbox
from shiyu.core.db import get_or_not_found
from shiyu.core.domains import TodoItem
from shiyu.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.areas.models import Area, AreaLevel
from shiyu.org.units.models import Department
from shiyu.tasks import forms
from shiyu.tasks.models import (
    ADMIT,
    ASSIGN,
    OPEN_STATES,
    PROPOSE,
    REVIEW,
    VIEW,
    WORK,
    Assignment,
    ItemState,
    Priority,
    Submission,
    TaskType,
    TypeStatus,
    WarningLevel,
    WorkItem,
)
from shiyu.tasks.table import ACTIONS, TABLE

MAX_TITLE = 200
MAX_TEXT = 2000
MAX_TARGETS = 5000
_CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass(frozen=True)
class TargetRef:
    """What one item is about: a record of a domain (``kind``, ``id``) in a grid (``area_id``), with a label
    to show (never personal data in clear), and optionally the worker it is for (``assignee_id``: a domain that
    knows whose record it is — a key person's grid worker — names them; none is every worker of the grid)."""

    kind: str
    id: int | None
    area_id: int
    label: str = ""
    assignee_id: int | None = None


# -- the admitted list ------------------------------------------------------------------------------------

def _text(value: str, field: str, limit: int, *, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed("task_field_required", "请填写{field}", "{field} is required",
                               detail={"field": field}, field=field)
    if len(value) > limit:
        raise ValidationFailed("task_field_too_long", "{field}不能超过{n}个字", "{field} is longer than {n}",
                               detail={"field": field}, field=field, n=limit)
    return value


def _check_code(code: str) -> str:
    if not isinstance(code, str) or not _CODE.match(code) or len(code) > 60:
        raise ValidationFailed("task_code_invalid", "事项编码只能由小写字母、数字、下划线和点组成",
                               "A task code is lower-case letters, digits, underscores and dots",
                               detail={"field": "code"})
    return code


def type_by_code(db: Session, code: str) -> TaskType:
    found = db.scalar(select(TaskType).where(TaskType.code == code))
    if found is None:
        raise NotFound("task_type_not_found", "没有这个事项", "No such task type", detail={"code": code})
    return found


def ensure_system_type(db: Session, code: str, name: str, form: list[dict[str, Any]], *,
                       cycle_days: int | None = None, legal_basis: str = "") -> TaskType:
    """A domain's built-in type, admitted on creation (the domain's own work is admitted with the domain).
    Idempotent: calling it again brings the stored name, form, cycle and basis to what the code declares."""
    checked = forms.check_form(form)
    found = db.scalar(select(TaskType).where(TaskType.code == _check_code(code)))
    if found is None:
        found = TaskType(code=code, name=name, form=checked, cycle_days=cycle_days, legal_basis=legal_basis,
                         status=TypeStatus.ADMITTED.value, admitted_at=utcnow(), system=True)
        try:
            with db.begin_nested():
                db.add(found)
                db.flush()
        except IntegrityError:  # another process declared it at the same moment
            return type_by_code(db, code)
        return found
    for attr, value in (("name", name), ("form", checked), ("cycle_days", cycle_days),
                        ("legal_basis", legal_basis)):
        if getattr(found, attr) != value:
            setattr(found, attr, value)
    return found


def propose_type(db: Session, principal: Principal, *, code: str, name: str, department_id: int,
                 form: list[dict[str, Any]], legal_basis: str = "", cycle_days: int | None = None,
                 funding_note: str = "") -> TaskType:
    """A department applies for a type of work to be admitted to the grids (事项准入申请): its staff
    (``task.propose`` through the department) or a centre over the department's area propose it."""
    department = db.get(Department, department_id)
    if department is None:
        raise NotFound(detail={"object": "department", "id": department_id})
    if not (department.id in principal.departments_with(PROPOSE) or principal.can(PROPOSE, department.area_path)):
        raise Forbidden("task_propose_forbidden", "您不能以该部门名义申请事项准入",
                        "You may not propose task types for this department", detail={"department_id": department_id})
    if cycle_days is not None and not 1 <= cycle_days <= 3660:
        raise ValidationFailed("task_cycle_invalid", "周期应在1到3660天之间", "The cycle is 1 to 3660 days",
                               detail={"field": "cycle_days"})
    if db.scalar(select(TaskType.id).where(TaskType.code == _check_code(code))) is not None:
        raise Conflict("task_code_taken", "事项编码已存在", "This task code exists already", detail={"code": code})
    task_type = TaskType(
        code=code, name=_text(name, "name", 100, required=True), owner_department_id=department.id,
        area_id=department.area_id, legal_basis=_text(legal_basis, "legal_basis", MAX_TEXT, required=True),
        form=forms.check_form(form), cycle_days=cycle_days, funding_note=_text(funding_note, "funding_note", MAX_TEXT),
        status=TypeStatus.PROPOSED.value, proposed_by_id=principal.user_id,
    )
    db.add(task_type)
    db.flush()
    return task_type


def _same_level(db: Session, principal: Principal, task_type: TaskType) -> Area:
    """The area whose centre decides on the type: the one it was proposed at. The decider holds
    ``task.admit`` there exactly (the same-level centre, not one above or below) and did not propose it."""
    if task_type.area_id is None:
        raise Conflict("task_type_is_system", "系统事项随功能模块准入，不能在此处理",
                       "Built-in task types come with their module and are not decided here")
    area = db.scalar(select(Area).where(Area.id == task_type.area_id).execution_options(unscoped=True))
    assert area is not None
    if principal.is_system:
        return area
    perms = principal.permissions_of
    if not any(g.area_path == area.area_path and perms is not None and ADMIT in perms(g.role)
               for g in principal.grants):
        raise Forbidden("task_admit_forbidden", "只有同级综治中心可以决定事项准入",
                        "Only the centre of the same level decides on admission", detail={"area_id": area.id})
    if task_type.proposed_by_id is not None and task_type.proposed_by_id == principal.user_id:
        raise Forbidden("task_admit_own", "不能审批自己提出的事项", "You cannot decide on a type you proposed")
    return area


def may_decide(db: Session, principal: Principal, task_type: TaskType) -> bool:
    """Whether the caller could admit or refuse this type now (what a page offers)."""
    if task_type.status != TypeStatus.PROPOSED.value or not principal.has_permission(ADMIT):
        return False
    try:
        _same_level(db, principal, task_type)
    except (Forbidden, Conflict):
        return False
    return True


def decide_type(db: Session, principal: Principal, type_id: int, decision: str, note: str = "") -> TaskType:
    """Admit (准入) or refuse (不予准入) a proposed type; refusing needs a reason."""
    task_type = get_type(db, principal, type_id)
    if decision not in ("admit", "refuse"):
        raise ValidationFailed("task_decision_invalid", "请选择准入或不予准入", "Choose admit or refuse",
                               detail={"field": "decision"})
    if task_type.status != TypeStatus.PROPOSED.value:
        raise Conflict("task_type_decided", "该事项已处理（{current}）", "This type was decided already ({current})",
                       detail={"status": task_type.status}, current=task_type.status)
    area = _same_level(db, principal, task_type)
    note = _text(note, "note", MAX_TEXT, required=decision == "refuse")
    task_type.status = (TypeStatus.ADMITTED if decision == "admit" else TypeStatus.REFUSED).value
    task_type.decided_by_id = principal.user_id
    task_type.decision_note = note
    task_type.admitted_by_area_id = area.id
    if decision == "admit":
        task_type.admitted_at = utcnow()
    db.flush()
    return task_type


def exit_type(db: Session, principal: Principal, type_id: int, note: str) -> TaskType:
    """Take an admitted type off the list (退出): no new assignments; open items stay to be finished."""
    task_type = get_type(db, principal, type_id)
    if task_type.status != TypeStatus.ADMITTED.value:
        raise Conflict("task_type_not_admitted", "只有已准入的事项可以退出", "Only an admitted type can exit",
                       detail={"status": task_type.status})
    _same_level(db, principal, task_type)
    task_type.decision_note = _text(note, "note", MAX_TEXT, required=True)
    task_type.status = TypeStatus.EXITED.value
    task_type.exit_at = utcnow()
    db.flush()
    return task_type


def _type_visible(principal: Principal, task_type: TaskType, area_path: str | None) -> bool:
    """System types concern everyone; a department's type concerns the areas at, above (who admit and
    supervise) and below (who do the work) the level it was proposed at, and the department's own staff."""
    if principal.is_system or area_path is None:
        return True
    if task_type.owner_department_id in principal.departments_with(PROPOSE):
        return True
    paths = {*principal.paths_with(VIEW), *principal.paths_with(PROPOSE)}
    return any(area_path.startswith(p) or p.startswith(area_path) for p in paths)


def list_types(db: Session, principal: Principal, *, status: str | None = None) -> list[TaskType]:
    """The admitted list as the caller concerns it (see ``_type_visible``), system types last."""
    stmt = (select(TaskType, Area.area_path).outerjoin(Area, Area.id == TaskType.area_id)
            .order_by(TaskType.system, TaskType.name, TaskType.id).execution_options(unscoped=True))
    if status is not None:
        stmt = stmt.where(TaskType.status == status)
    return [t for t, path in db.execute(stmt) if _type_visible(principal, t, path)]


def get_type(db: Session, principal: Principal, type_id: int) -> TaskType:
    task_type = db.get(TaskType, type_id)
    path = None
    if task_type is not None and task_type.area_id is not None:
        path = db.scalar(select(Area.area_path).where(Area.id == task_type.area_id).execution_options(unscoped=True))
    if task_type is None or not _type_visible(principal, task_type, path):
        raise NotFound(detail={"object": "task_type", "id": type_id})
    return task_type


def _admitted(db: Session, type_code: str) -> TaskType:
    task_type = type_by_code(db, type_code)
    if task_type.status != TypeStatus.ADMITTED.value:
        raise Conflict("task_type_not_admitted", "该事项未准入，不能派发", "This task type is not admitted",
                       detail={"code": type_code, "status": task_type.status})
    return task_type


# -- assignments and items --------------------------------------------------------------------------------

def _areas(db: Session, ids: Iterable[int]) -> dict[int, Area]:
    """The areas named, as the caller sees them: one out of sight answers like one that does not exist."""
    wanted = set(ids)
    found = {a.id: a for a in db.scalars(select(Area).where(Area.id.in_(wanted)))}
    missing = sorted(wanted - set(found))
    if missing:
        raise NotFound("task_area_unknown", "所选区域不存在", "An area chosen does not exist",
                       detail={"area_ids": missing})
    return found


def _grids_under(db: Session, areas: Iterable[Area]) -> list[Area]:
    """The grids of the chosen areas: a grid itself, every grid below a community or a street."""
    grids: dict[int, Area] = {}
    for area in areas:
        if area.level == AreaLevel.GRID:
            grids[area.id] = area
            continue
        for grid in db.scalars(select(Area).where(Area.level == int(AreaLevel.GRID),
                                                  Area.area_path.startswith(area.area_path, autoescape=True))):
            grids[grid.id] = grid
    return sorted(grids.values(), key=lambda g: g.area_path)


def _issuer(db: Session, principal: Principal, grids: Sequence[Area]) -> Area:
    """The caller's deepest ``task.assign`` area that covers every target grid: the centre that issues."""
    candidates = [p for p in principal.paths_with(ASSIGN) if all(g.area_path.startswith(p) for g in grids)]
    if principal.is_system and not candidates:
        common = grids[0].area_path
        for g in grids[1:]:
            while not g.area_path.startswith(common):
                common = common[: common.rstrip("/").rfind("/") + 1]
        candidates = [common]
    if not candidates:
        raise Forbidden("task_assign_forbidden", "只能向本中心辖区内的网格派发任务",
                        "You may only assign work to grids of your own area",
                        detail={"grid_ids": [g.id for g in grids if not principal.can(ASSIGN, g.area_path)]})
    path = max(candidates, key=len)
    issuer = db.scalar(select(Area).where(Area.area_path == path).execution_options(unscoped=True))
    if issuer is None:  # a system assignment across the whole tree
        raise ValidationFailed("task_targets_unrelated", "所选网格不属于同一区域", "The grids share no area")
    return issuer


def assign(db: Session, principal: Principal, *, type_code: str, title: str, due_at: datetime,
           grid_ids: Sequence[int] = (), targets: Sequence[TargetRef] = (), instructions: str = "",
           priority: str = "normal", now: datetime | None = None) -> Assignment:
    """Send an admitted type down: one item per target grid (areas above a grid stand for all their grids)
    and one per target record, for the target's ``assignee_id`` when the domain names one (the API does not
    take it: only a domain knows whose record a target is). The issuer is the caller's own centre over all
    targets."""
    now = now or utcnow()
    if not principal.has_permission(ASSIGN):
        raise Forbidden(detail={"permission": ASSIGN})
    task_type = _admitted(db, type_code)
    title = _text(title, "title", MAX_TITLE, required=True)
    instructions = _text(instructions, "instructions", MAX_TEXT)
    if priority not in {p.value for p in Priority}:
        raise ValidationFailed("task_priority_invalid", "优先级无效", "Unknown priority", detail={"field": "priority"})
    if due_at.tzinfo is None or due_at <= now:
        raise ValidationFailed("task_due_invalid", "截止时间须晚于现在", "The due time must be in the future",
                               detail={"field": "due_at"})
    if len(grid_ids) + len(targets) > MAX_TARGETS:
        raise ValidationFailed("task_too_many_targets", "一次最多派发{n}个对象", "At most {n} targets at once",
                               detail={"field": "targets"}, n=MAX_TARGETS)
    areas = _areas(db, [*grid_ids, *(t.area_id for t in targets)])
    grids = _grids_under(db, [areas[i] for i in dict.fromkeys(grid_ids)])
    for t in targets:
        if areas[t.area_id].level != AreaLevel.GRID:
            raise ValidationFailed("task_target_not_in_grid", "派发对象须属于某个网格", "A target must lie in a grid",
                                   detail={"target": t.kind, "area_id": t.area_id})
        _text(t.kind, "kind", 30, required=True)
    if not grids and not targets:
        raise ValidationFailed("task_no_targets", "请选择派发的网格或对象", "Choose the grids or targets",
                               detail={"field": "grid_ids"})
    issuer = _issuer(db, principal, [*grids, *(areas[t.area_id] for t in targets)])
    assignment = Assignment(
        type_id=task_type.id, issuer_area_id=issuer.id, issuer_id=principal.user_id, area_path=issuer.area_path,
        title=title, instructions=instructions, due_at=due_at, priority=priority,
        targets=[{"kind": "grid", "id": g.id, "area_id": g.id, "label": g.name} for g in grids]
        + [{"kind": t.kind, "id": t.id, "area_id": t.area_id, "label": t.label} for t in targets],
    )
    db.add(assignment)
    db.flush()
    items = [WorkItem(assignment_id=assignment.id, type_id=task_type.id, title=title, target_kind="grid",
                      target_id=g.id, target_label=g.name, grid_id=g.id, area_path=g.area_path, due_at=due_at)
             for g in grids]
    items += [WorkItem(assignment_id=assignment.id, type_id=task_type.id, title=title, target_kind=t.kind,
                       target_id=t.id, target_label=_text(t.label, "label", 200), grid_id=t.area_id,
                       area_path=areas[t.area_id].area_path, assignee_id=t.assignee_id, due_at=due_at)
               for t in targets]
    db.add_all(items)
    db.flush()
    return assignment


def open_item(db: Session, *, type_code: str, target: TargetRef, due_at: datetime, source_ref: str,
              assignee_id: int | None = None, title: str = "") -> WorkItem:
    """One item opened by a domain (one visit, one stale-record check). Idempotent on (type, source_ref):
    opening it again answers the item already there, in whatever state, even one the caller cannot see.
    The session's principal writes it (the system, or a centre holding ``task.assign`` over the grid)."""
    task_type = _admitted(db, type_code)
    source_ref = _text(source_ref, "source_ref", 120, required=True)
    existing = _item_by_ref(db, task_type.id, source_ref)
    if existing is not None:
        return existing
    if due_at.tzinfo is None:
        raise ValidationFailed("task_due_invalid", "截止时间须带时区", "The due time needs a time zone",
                               detail={"field": "due_at"})
    grid = _areas(db, [target.area_id])[target.area_id]
    if grid.level != AreaLevel.GRID:
        raise ValidationFailed("task_target_not_in_grid", "派发对象须属于某个网格", "A target must lie in a grid",
                               detail={"area_id": target.area_id})
    item = WorkItem(type_id=task_type.id, title=_text(title, "title", MAX_TITLE) or task_type.name,
                    target_kind=_text(target.kind, "kind", 30, required=True), target_id=target.id,
                    target_label=_text(target.label, "label", 200), grid_id=grid.id, area_path=grid.area_path,
                    assignee_id=assignee_id, due_at=due_at, source_ref=source_ref)
    try:
        with db.begin_nested():
            db.add(item)
            db.flush()
    except IntegrityError:
        again = _item_by_ref(db, task_type.id, source_ref)
        if again is None:
            raise
        return again
    return item


def _item_by_ref(db: Session, type_id: int, source_ref: str) -> WorkItem | None:
    return db.scalar(select(WorkItem).where(WorkItem.type_id == type_id, WorkItem.source_ref == source_ref)
                     .execution_options(unscoped=True))


def item_by_ref(db: Session, type_code: str, source_ref: str) -> WorkItem | None:
    """The item a domain opened under ``source_ref``, if the caller may see it."""
    return db.scalar(select(WorkItem).join(TaskType, TaskType.id == WorkItem.type_id)
                     .where(TaskType.code == type_code, WorkItem.source_ref == source_ref))


def get_item(db: Session, item_id: int) -> WorkItem:
    return get_or_not_found(db, WorkItem, item_id, "task_item")


# -- acting on an item ------------------------------------------------------------------------------------

def _replay(db: Session, item_id: int, action: str, client_uuid: str) -> WorkItem | None:
    """The item as it stands when ``client_uuid`` was already used for this very action on this item (an
    offline queue sending again): the first result stands and nothing is written twice."""
    prior = db.scalar(select(Submission).where(Submission.client_uuid == client_uuid)
                      .execution_options(unscoped=True))
    if prior is None:
        return None
    if prior.item_id != item_id or prior.action != action:
        raise Conflict("task_uuid_reused", "该提交编号已用于其他事项", "This client_uuid was used for something else",
                       detail={"client_uuid": client_uuid})
    return get_item(db, item_id)


def act(db: Session, principal: Principal, item_id: int, action: str, *, data: dict[str, Any] | None = None,
        reason: str | None = None, client_uuid: str | None = None, now: datetime | None = None) -> WorkItem:
    """Apply one action of the transition table (``shiyu.tasks.table``) to one item, in the caller's
    transaction: the checks (409 for the state, 403 for the permission or assignee, 422 for the input), the
    new state, the submission, the outbox event. ``client_uuid`` makes submit and unable idempotent."""
    now = now or utcnow()
    transition = ACTIONS.get(action)
    if transition is None:
        raise NotFound("task_unknown_action", "没有这个操作", "No such action", detail={"action": action})
    if client_uuid is not None:
        if not isinstance(client_uuid, str) or not _UUID.match(client_uuid):
            raise ValidationFailed("task_uuid_invalid", "提交编号格式有误", "client_uuid is not a UUID",
                                   detail={"field": "client_uuid"})
        client_uuid = client_uuid.lower()
        replayed = _replay(db, item_id, action, client_uuid)
        if replayed is not None:
            return replayed
    item = get_item(db, item_id)
    state = ItemState(item.state)
    if TABLE.get((state, action)) is None:
        raise Conflict("task_action_not_allowed", "事项当前状态（{state}）下不能执行该操作",
                       "This action is not possible while the item is {state}",
                       detail={"action": action, "state": item.state}, state=item.state)
    if not principal.can(transition.permission, item.area_path):
        raise Forbidden("task_action_forbidden", "您无权对该事项执行此操作", "You may not do this to this item",
                        detail={"action": action})
    if (transition.worker_action and item.assignee_id is not None and item.assignee_id != principal.user_id
            and not principal.can(REVIEW, item.area_path)):
        raise Forbidden("task_not_assignee", "该事项已指派给其他网格员", "This item is assigned to someone else",
                        detail={"action": action})
    reason_text = _text(reason or "", "reason", MAX_TEXT, required=transition.reason_required)
    if data is not None and not transition.data_required:
        raise ValidationFailed("task_data_not_expected", "该操作不需要填报内容", "This action takes no form data",
                               detail={"field": "data"})
    task_type = db.get(TaskType, item.type_id)
    assert task_type is not None
    filled = forms.fill(task_type.form, data or {}) if transition.data_required else forms.Filled({})
    _take_photos(db, principal, item, filled.photos)
    item.state = transition.target.value
    if action in ("submit", "unable"):
        item.outcome = "done" if action == "submit" else "unable"
        item.data = filled.data if action == "submit" else None
        item.unable_reason = reason_text if action == "unable" else ""
        item.done_at, item.done_by_id = now, principal.user_id
        db.add(Submission(item_id=item.id, action=action, data=filled.data, photos=filled.photos,
                          lon=filled.point[0] if filled.point else None,
                          lat=filled.point[1] if filled.point else None, client_uuid=client_uuid,
                          submitted_by_id=principal.user_id, submitted_at=now, area_path=item.area_path))
    elif action in ("review", "return"):
        item.review_note = reason_text
        item.reviewed_at, item.reviewed_by_id = now, principal.user_id
    try:
        db.flush()
    except StaleDataError as exc:
        raise Conflict(detail={"item_id": item.id}) from exc
    except IntegrityError as exc:  # the same client_uuid sent twice at the same moment
        raise Conflict("task_uuid_reused", "该提交正在处理，请稍后刷新", "This submission is being stored already",
                       detail={"client_uuid": client_uuid}) from exc
    _emit(db, item, task_type, action, principal, reason_text, now)
    return item


def _take_photos(db: Session, principal: Principal, item: WorkItem, ids: list[int]) -> None:
    """The photos of a submission: the caller's own unused uploads, linked to the item's grid like a check-in's
    (all or none)."""
    if not ids:
        return
    taken = attachments_for(db, principal, None, ids)
    linked = uploads.claim(db, taken, item.area_path)
    if linked is None:
        raise uploads.unusable()
    audit.write(db, linked)


_TOPICS = {"submit": "task.item_done", "unable": "task.item_unable", "review": "task.item_reviewed",
           "return": "task.item_returned"}


def _emit(db: Session, item: WorkItem, task_type: TaskType, action: str, principal: Principal, reason: str,
          now: datetime) -> None:
    topic = _TOPICS.get(action)
    if topic is None:
        return
    payload: dict[str, Any] = {"item_id": item.id, "type_code": task_type.code, "target_kind": item.target_kind,
                               "target_id": item.target_id, "source_ref": item.source_ref, "by": principal.user_id}
    if action in ("submit", "unable"):
        payload.update(data=item.data or {}, done_at=now.isoformat())
    if action == "unable":
        payload["reason"] = reason
    if action in ("review", "return"):
        payload.update(outcome=item.outcome, note=reason, reviewed_at=now.isoformat())
    outbox.emit(db, topic, "task_item", item.id, item.area_path, payload)


# -- lists, progress, warnings ----------------------------------------------------------------------------

def sent_items(db: Session, type_code: str, since: datetime | None = None,
               until: datetime | None = None) -> list[Any] | None:
    """The conditions selecting the items of one type sent by assignments created in ``[since, until)`` — what
    a domain's completion rate counts (排查率, 清查完成率). None when the type was never declared: nothing of
    it was ever sent."""
    type_id = db.scalar(select(TaskType.id).where(TaskType.code == type_code))
    if type_id is None:
        return None
    where: list[Any] = [WorkItem.type_id == type_id]
    if since is not None or until is not None:
        sent = select(Assignment.id)
        if since is not None:
            sent = sent.where(Assignment.created_at >= since)
        if until is not None:
            sent = sent.where(Assignment.created_at < until)
        where.append(WorkItem.assignment_id.in_(sent))
    return where


def items_for_worker(db: Session, principal: Principal, *, states: Sequence[str] = OPEN_STATES,
                     limit: int = 500) -> list[WorkItem]:
    """The items a grid worker works on: in the grids where they hold ``task.work``, either for nobody in
    particular or for them, soonest due first."""
    stmt = select(WorkItem).where(WorkItem.state.in_(list(states)))
    if not principal.is_system:
        paths = principal.paths_with(WORK)
        if not paths:
            return []
        stmt = stmt.where(or_(*(WorkItem.area_path.startswith(p, autoescape=True) for p in paths)),
                          or_(WorkItem.assignee_id.is_(None), WorkItem.assignee_id == principal.user_id))
    return list(db.scalars(stmt.order_by(WorkItem.due_at, WorkItem.id).limit(limit)))


def allowed_actions(principal: Principal, item: WorkItem) -> list[str]:
    """What the caller may do to the item now (what a page offers): the table's transitions from its state
    whose permission the caller holds over its grid, worker actions only for the assignee when there is one."""
    out = []
    for (state, action), t in TABLE.items():
        if state.value != item.state or not principal.can(t.permission, item.area_path):
            continue
        if (t.worker_action and item.assignee_id is not None and item.assignee_id != principal.user_id
                and not principal.can(REVIEW, item.area_path)):
            continue
        out.append(action)
    return out


@dataclass(frozen=True)
class ItemFilter:
    assignment_id: int | None = None
    type_code: str | None = None
    state: str | None = None
    area_id: int | None = None
    warning: str | None = None


def items_statement(db: Session, filters: ItemFilter) -> Any:
    """Items in the caller's scope matching ``filters``, soonest due first (for a paged list)."""
    stmt = select(WorkItem).order_by(WorkItem.due_at, WorkItem.id)
    if filters.assignment_id is not None:
        stmt = stmt.where(WorkItem.assignment_id == filters.assignment_id)
    if filters.type_code is not None:
        stmt = stmt.where(WorkItem.type_id == type_by_code(db, filters.type_code).id)
    if filters.state is not None:
        stmt = stmt.where(WorkItem.state == filters.state)
    if filters.warning is not None:
        stmt = stmt.where(WorkItem.warning == filters.warning)
    if filters.area_id is not None:
        area = get_or_not_found(db, Area, filters.area_id, "area")
        stmt = stmt.where(WorkItem.area_path.startswith(area.area_path, autoescape=True))
    return stmt


def types_of(db: Session, items: Iterable[WorkItem]) -> dict[int, TaskType]:
    ids = {i.type_id for i in items}
    return {t.id: t for t in db.scalars(select(TaskType).where(TaskType.id.in_(ids)))} if ids else {}


def assignments_statement() -> Any:
    return select(Assignment).order_by(Assignment.created_at.desc(), Assignment.id.desc())


def item_counts(db: Session, assignment_ids: Sequence[int]) -> dict[int, int]:
    """How many items of each assignment the caller sees."""
    if not assignment_ids:
        return {}
    rows = db.execute(select(WorkItem.assignment_id, func.count()).where(WorkItem.assignment_id.in_(assignment_ids))
                      .group_by(WorkItem.assignment_id))
    return {a: n for a, n in rows if a is not None}


@dataclass
class ProgressRow:
    """One area's figures for a campaign: its items, how many are finished each way, overdue, % complete."""

    area_id: int
    name: str
    level: int
    area_path: str
    items: int = 0
    open: int = 0
    in_progress: int = 0
    done: int = 0
    unable: int = 0
    reviewed: int = 0
    overdue: int = 0

    @property
    def finished(self) -> int:
        return self.done + self.unable

    @property
    def percent(self) -> int:
        return round(100 * self.finished / self.items) if self.items else 0


def progress(db: Session, principal: Principal, assignment_id: int | None = None, *, type_code: str | None = None,
             under_area_id: int | None = None, by: str = "area", now: datetime | None = None) -> list[ProgressRow]:
    """A campaign's (or a type's) items counted per area one level below ``under_area_id`` — by default the
    assignment's issuer area or the caller's own top area — so a page drills street → community → grid.
    Counts only what the caller may see."""
    now = now or utcnow()
    if by != "area":
        raise ValidationFailed("task_progress_by_invalid", "只能按区域统计", "Progress is counted by area",
                               detail={"field": "by"})
    stmt = select(WorkItem.area_path, WorkItem.state, WorkItem.outcome, WorkItem.due_at)
    parent_id = under_area_id
    if assignment_id is not None:
        assignment = get_or_not_found(db, Assignment, assignment_id, "task_assignment")
        stmt = stmt.where(WorkItem.assignment_id == assignment.id)
        parent_id = parent_id or assignment.issuer_area_id
    elif type_code is not None:
        stmt = stmt.where(WorkItem.type_id == type_by_code(db, type_code).id)
    else:
        raise ValidationFailed("task_progress_needs_subject", "请指定任务或事项", "Name an assignment or a type",
                               detail={"field": "assignment_id"})
    parent = _progress_parent(db, principal, parent_id)
    stmt = stmt.where(WorkItem.area_path.startswith(parent.area_path, autoescape=True))
    children = {a.code: a for a in db.scalars(select(Area).where(Area.parent_id == parent.id).order_by(Area.code))}
    rows = {a.code: ProgressRow(a.id, a.name, a.level, a.area_path) for a in children.values()}
    for path, state, outcome, due_at in db.execute(stmt):
        rest = path[len(parent.area_path):].split("/", 1)[0]
        row = rows.get(rest) if rest else None
        if row is None:  # an item on the parent itself (a grid's own), or a child the caller cannot see
            row = rows.setdefault("", ProgressRow(parent.id, parent.name, parent.level, parent.area_path))
        _count(row, state, outcome, due_at, now)
    return [r for r in rows.values() if r.items]


def _progress_parent(db: Session, principal: Principal, area_id: int | None) -> Area:
    if area_id is not None:
        return get_or_not_found(db, Area, area_id, "area")
    paths = principal.paths_with("task.view")
    area = db.scalar(select(Area).where(Area.area_path == min(paths, key=len))) if paths else None
    if area is None:
        raise NotFound(detail={"object": "area"})
    return area


def _count(row: ProgressRow, state: str, outcome: str | None, due_at: datetime, now: datetime) -> None:
    row.items += 1
    if state == ItemState.OPEN.value:
        row.open += 1
    elif state == ItemState.IN_PROGRESS.value:
        row.in_progress += 1
    elif state == ItemState.REVIEWED.value:
        row.reviewed += 1
    if outcome == "done":
        row.done += 1
    elif outcome == "unable":
        row.unable += 1
    if state in OPEN_STATES and due_at <= now:
        row.overdue += 1


def warning_level(due_at: datetime, now: datetime, near: timedelta) -> WarningLevel:
    if due_at <= now:
        return WarningLevel.RED
    if due_at <= now + near:
        return WarningLevel.YELLOW
    return WarningLevel.NONE


def raise_warnings(db: Session, *, now: datetime | None = None, near: timedelta = timedelta(hours=24),
                   batch: int = 1000) -> int:
    """Yellow for items due within ``near``, red for overdue ones, each level once per item (an item never
    goes back down, and a red one is never yellowed): the level and its event in the caller's transaction."""
    now = now or utcnow()
    rank = {WarningLevel.NONE.value: 0, WarningLevel.YELLOW.value: 1, WarningLevel.RED.value: 2}
    raised = 0
    stmt = (select(WorkItem).where(WorkItem.state.in_(OPEN_STATES), WorkItem.warning != WarningLevel.RED.value,
                                   WorkItem.due_at <= now + near)
            .order_by(WorkItem.due_at, WorkItem.id).limit(batch))
    items = list(db.scalars(stmt))
    codes = {t.id: t.code for t in db.scalars(select(TaskType).where(TaskType.id.in_({i.type_id for i in items})))}
    for item in items:
        level = warning_level(item.due_at, now, near)
        if rank[level.value] <= rank[item.warning]:
            continue
        item.warning = level.value
        outbox.emit(db, "task.item_warning", "task_item", item.id, item.area_path,
                    {"item_id": item.id, "type_code": codes[item.type_id], "source_ref": item.source_ref,
                     "level": level.value})
        raised += 1
    db.flush()
    return raised


def todo(db: Session, principal: Principal) -> list[TodoItem]:
    """The home page's lines (``Domain.todo``): a grid worker's open items (red ones first), and for a centre
    the items done or marked unable in its area that wait for review (销号)."""
    out = []
    if principal.paths_with(WORK):
        items, now = items_for_worker(db, principal), utcnow()
        red = sum(1 for i in items if i.due_at <= now)
        if red:
            out.append(TodoItem("已超期的任务", "overdue tasks", red, "/field/tasks", urgent=True))
        out.append(TodoItem("待办任务", "tasks to do", len(items) - red, "/field/tasks"))
    if principal.paths_with(REVIEW):
        waiting = db.scalar(select(func.count(WorkItem.id)).where(
            WorkItem.state.in_([ItemState.DONE.value, ItemState.UNABLE.value])))
        out.append(TodoItem("待审核的任务", "tasks to review", int(waiting or 0), "/tasks"))
    return out
