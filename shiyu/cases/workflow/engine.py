"""The one engine that applies the transition table.

``apply`` does, in this order and in the caller's transaction:

1. check — the action exists, the caller can see the case, the version the caller saw is current, the
   table has a transition from this state, a rule of it allows this caller here, its guards hold, and the
   note, evidence and fields it requires are present and well-formed;
2. the per-action work (``shiyu.cases.workflow.effects``), the new state and the step clock;
3. flush the case: the UPDATE carries ``WHERE version = <read version>`` (SQLAlchemy ``version_id_col``),
   so of two people acting on the same case at once exactly one succeeds; the other gets ``conflict``;
4. the timeline entry and the outbox event, in the same transaction.

Nothing leaves the process here: notifications and webhooks are delivered from the outbox after commit
(``shiyu.cases.tasks``). The caller commits (the request's session does when the handler returns).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from shiyu.cases import attachments as uploads
from shiyu.cases.categories.models import Category
from shiyu.cases.models import Attachment, Case, CaseState
from shiyu.cases.workflow import deadlines, effects
from shiyu.cases.workflow.table import (
    ACTIONS,
    STEP_OF_STATE,
    TABLE,
    ActionField,
    Clock,
    FieldType,
    Transition,
    failed_guard,
    permitted,
)
from shiyu.cases.workflow.timeline import record_event
from shiyu.core import audit, outbox
from shiyu.core.db import among
from shiyu.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.calendar.service import load_calendar
from shiyu.org.calendar.worktime import WorkCalendar

MAX_NOTE = 2000


@dataclass
class ActionInput:
    expected_version: int
    note: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    attachment_ids: list[int] = field(default_factory=list)


@dataclass
class Context:
    """What an effect works with; effects put what the timeline should show into ``data``."""

    session: Session
    principal: Principal
    case: Case
    transition: Transition
    note: str
    fields: dict[str, Any]
    category: Category
    calendar: WorkCalendar
    now: datetime
    data: dict[str, Any] = field(default_factory=dict)
    receivers: effects.Receivers | None = None  # departments a batch's inputs name, read once for all


def load_case(session: Session, case_id: int) -> Case:
    case = session.scalar(
        select(Case).options(selectinload(Case.assignments), selectinload(Case.requests)).where(Case.id == case_id)
    )
    if case is None:
        raise NotFound(detail={"object": "case", "id": case_id})
    return case


def check(principal: Principal, case: Case, action: str, *, with_token: bool = False) -> Transition:
    """The transition ``principal`` may apply now, or the error saying why not (409 for the state and the
    guards, 403 for the role or scope)."""
    if action not in ACTIONS:
        raise NotFound("unknown_action", "没有这个操作", "No such action", detail={"action": action})
    transition = TABLE.get((case.state_enum, action))
    if transition is None:
        raise Conflict("action_not_allowed", "案件当前状态（{state}）下不能执行该操作",
                       "This action is not possible while the case is {state}",
                       detail={"action": action, "state": case.state}, state=case.state)
    if not permitted(transition, principal, case, with_token=with_token):
        raise Forbidden("action_forbidden", "您无权对该案件执行此操作", "You may not do this to this case",
                        detail={"action": action})
    error = failed_guard(transition, principal, case)
    if error is not None:
        raise error
    return transition


def apply(
    session: Session, principal: Principal, case_id: int, action: str, data: ActionInput, tz: ZoneInfo, *,
    now: datetime | None = None, with_token: bool = False,
) -> Case:
    step = _prepare(session, principal, load_case(session, case_id), action, data, load_calendar(session, tz),
                    now or utcnow(), with_token=with_token)
    _flush(session, data.expected_version)
    outbox.emit_rows(session, [_record(step)])
    session.flush()
    return step.ctx.case


def apply_each(
    session: Session, principal: Principal, action: str, inputs: dict[int, ActionInput], tz: ZoneInfo, *,
    now: datetime | None = None,
) -> list[Case]:
    """``apply`` of one action to many cases (``inputs`` by case id, in order) with the work of the batch done
    once: the cases are read in one query, the departments the inputs name in one, the changed cases are
    flushed together and the outbox events written in one statement. Every case goes through the same checks,
    effects, timeline entry, audit entries and event as with ``apply`` (``tests/cases/test_workflow_bulk.py``).
    The first refusal raises and leaves the batch half done: callers run it in a savepoint and, on an error,
    fall back to ``apply`` case by case."""
    if not inputs:
        return []
    now, calendar = now or utcnow(), load_calendar(session, tz)
    found = {c.id: c for c in session.scalars(
        select(Case).options(selectinload(Case.assignments), selectinload(Case.requests))
        .where(among(session, Case.id, inputs)))}
    receivers = effects.receivers_named(session, list(inputs.values()))
    _held = _named(session, found, inputs)
    steps = []
    for case_id, data in inputs.items():
        if case_id not in found:
            raise NotFound(detail={"object": "case", "id": case_id})
        steps.append(_prepare(session, principal, found[case_id], action, data, calendar, now, receivers=receivers))
    _flush(session, None)
    outbox.emit_rows(session, [_record(step) for step in steps])
    session.flush()
    return [step.ctx.case for step in steps]


def _named(session: Session, found: dict[int, Case], inputs: dict[int, ActionInput]) -> list[Any]:
    """What the batch's checks and effects will read, loaded at once and held by the caller for the loop:
    the cases' categories and the cases they are merged into. A read that misses the identity map flushes
    the cases changed so far — once per case instead of once per batch — and an object nobody holds leaves
    the identity map again at once (it keeps weak references)."""
    held: list[Any] = list(session.scalars(select(Category).where(
        among(session, Category.id, {c.category_id for c in found.values()}))))
    named = (d.fields.get("into_case_id") for d in inputs.values())
    targets = {i for i in named if type(i) is int} - set(found)  # a bad value is refused by the checks later
    if targets:
        held += session.scalars(select(Case).where(among(session, Case.id, targets))).all()
    return held


@dataclass
class _Step:
    """A transition applied to the case in memory and waiting for its flush, then for its records."""

    ctx: Context
    from_state: CaseState
    attachments: list[Attachment]


def _prepare(
    session: Session, principal: Principal, case: Case, action: str, data: ActionInput, calendar: WorkCalendar,
    now: datetime, *, with_token: bool = False, receivers: effects.Receivers | None = None,
) -> _Step:
    """Steps 1 and 2: the checks, then the effects, the new state and the clock, on the case in memory."""
    if case.version != data.expected_version:
        raise Conflict(detail={"expected_version": data.expected_version, "version": case.version})
    transition = check(principal, case, action, with_token=with_token)
    note = _check_note(transition, data.note)
    fields = _check_fields(transition, data.fields)
    attachments = attachments_for(session, principal, case.id, data.attachment_ids)
    if transition.evidence_required and not attachments:
        raise ValidationFailed("evidence_required", "请上传处置前后的照片等证据", "Attach evidence (e.g. photos)",
                               detail={"field": "attachment_ids"})
    category = session.get(Category, case.category_id)
    assert category is not None
    if transition.onsite_photo and category.verify_photo_required and not attachments:
        raise ValidationFailed("onsite_photo_required", "该类问题核查通过须上传现场照片",
                               "This kind of case needs an on-site photo to pass verification",
                               detail={"field": "attachment_ids"})
    ctx = Context(session, principal, case, transition, note, fields, category, calendar, now, receivers=receivers)
    from_state = case.state_enum
    try:  # effects may query, and autoflush then writes the case early: a lost race shows up there too
        effects.EFFECTS.get(action, effects.nothing)(ctx)
    except StaleDataError as exc:
        raise Conflict(detail={"expected_version": data.expected_version}) from exc
    target = transition.target_for(case, ctx.category)
    case.state = target.value
    _clock(ctx, from_state, target)
    case.last_action_at = now
    return _Step(ctx, from_state, attachments)


def _flush(session: Session, expected_version: int | None) -> None:
    """Step 3: the UPDATEs carry ``WHERE version = <read version>``; a lost race is a ``conflict``."""
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict(detail={"expected_version": expected_version}) from exc


def _record(step: _Step) -> dict[str, Any]:
    """Step 4: the uploads taken, the timeline entry, and the row of the outbox event (for ``emit_rows``)."""
    ctx, case = step.ctx, step.ctx.case
    action = ctx.transition.action
    linked = uploads.claim(ctx.session, step.attachments, case.area_path, case.id)
    if linked is None:
        raise uploads.unusable()
    audit.write(ctx.session, linked)
    record_event(ctx.session, case, action, step.from_state.value, ctx.note, ctx.data,
                 attachment_ids=[a.id for a in step.attachments], public=ctx.transition.public)
    return outbox.event_row(ctx.session, f"case.{action}", "case", case.id, case.area_path, {
        "case_id": case.id, "tracking_code": case.tracking_code, "action": action, "from": step.from_state.value,
        "to": case.state, "version": case.version, "centre_path": case.centre_path,
        "main_department_id": case.main_department_id, **ctx.data,
    })


def _clock(ctx: Context, from_state: CaseState, target: CaseState) -> None:
    case, clock = ctx.case, ctx.transition.clock
    if clock is Clock.PAUSE:
        deadlines.pause(case, ctx.calendar, ctx.now)
    elif clock is Clock.RESUME:
        deadlines.resume(case, ctx.calendar, ctx.now)
    elif clock is Clock.RESTART or target is not from_state:
        ended = deadlines.finish_step(case, ctx.now)
        if ended is not None:
            ctx.data.update(ended)
        step = STEP_OF_STATE.get(target)
        if step is None:
            deadlines.clear_step(case)
        else:
            deadlines.start_step(case, step, ctx.category, ctx.calendar, ctx.now)


def _check_note(transition: Transition, note: str) -> str:
    note = (note or "").strip()
    if transition.note_required and not note:
        raise ValidationFailed("note_required", "请填写说明（原因或处置情况）", "A note (reason or result) is required",
                               detail={"field": "note"})
    if len(note) > MAX_NOTE:
        raise ValidationFailed("note_too_long", "说明不能超过{n}个字", "The note is longer than {n} characters",
                               detail={"field": "note"}, n=MAX_NOTE)
    return note


def _field_ok(spec: ActionField, value: Any) -> bool:
    if spec.type is FieldType.INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if spec.type is FieldType.IDS:
        return isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    if spec.type is FieldType.NUMBER:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if spec.type is FieldType.BOOL:
        return isinstance(value, bool)
    return value in spec.choices


def _check_fields(transition: Transition, sent: dict[str, Any]) -> dict[str, Any]:
    specs = {f.name: f for f in transition.fields}
    unknown = sorted(set(sent) - set(specs))
    problems = [{"field": name, "problem": "unknown"} for name in unknown]
    out: dict[str, Any] = {}
    for name, spec in specs.items():
        value = sent.get(name)
        if value is None:
            if spec.required:
                problems.append({"field": name, "problem": "required"})
            continue
        if not _field_ok(spec, value):
            problems.append({"field": name, "problem": f"not_{spec.type.value}"})
            continue
        out[name] = value
    if problems:
        raise ValidationFailed("action_fields_invalid", "操作所需信息不完整或有误",
                               "Some details this action needs are missing or not valid", detail=problems)
    return out


def attachments_for(session: Session, principal: Principal, case_id: int | None, ids: list[int]) -> list[Attachment]:
    """Uploads the caller may attach: their own unused uploads (no case, no check-in took them), or ones
    already on this case. The rows are locked until the commit (where the database can), so the sweep of
    unused uploads (``attachments.sweep_unused``) cannot delete one this report is taking; taking them is
    ``attachments.claim``, which checks again in the same statement that writes."""
    if not ids:
        return []
    found = {a.id: a for a in session.scalars(select(Attachment).where(Attachment.id.in_(set(ids)))
                                              .with_for_update())}
    usable = [found[i] for i in dict.fromkeys(ids) if i in found and (
        uploads.unused_by(found[i], principal) or (case_id is not None and found[i].case_id == case_id)
    )]
    if len(usable) != len(set(ids)):
        raise uploads.unusable()
    return usable
