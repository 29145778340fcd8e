"""Category reads and writes, the deadline of a step, and checking a report's attributes against the
fields its category asks for."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased, selectinload

from shiyu.cases.categories.models import Category, CategoryKind, Step, Urgency
from shiyu.cases.categories.schemas import (
    CategoryIn,
    CategoryOut,
    CategoryPatch,
    FieldSpec,
    FieldType,
    TimeLimit,
    TimeLimits,
)
from shiyu.cases.categories.selectable import SelectableCategory
from shiyu.core.errors import NotFound, ValidationFailed
from shiyu.core.scoping import Principal, require_citywide
from shiyu.org.calendar.worktime import WorkCalendar

EDIT = "category.edit"


def category_out(category: Category, include_inactive: bool = True) -> CategoryOut:
    children = [] if category.is_minor else [
        category_out(c) for c in category.children if include_inactive or c.active
    ]
    return CategoryOut(
        id=category.id, kind=CategoryKind(category.kind), parent_id=category.parent_id, code=category.code,
        name_zh=category.name_zh, name_en=category.name_en, active=category.active,
        sort_order=category.sort_order, time_limits=category.time_limits, fields=category.fields,
        default_urgency=Urgency(category.default_urgency), verify_photo_required=category.verify_photo_required,
        children=children,
    )


def tree(session: Session, kind: CategoryKind | None = None, include_inactive: bool = False) -> list[CategoryOut]:
    """Major classes with their minor classes, ordered by ``sort_order`` then code."""
    stmt = (
        select(Category)
        .options(selectinload(Category.children))
        .where(Category.parent_id.is_(None))
        .order_by(Category.kind, Category.sort_order, Category.code)
    )
    if kind is not None:
        stmt = stmt.where(Category.kind == kind)
    if not include_inactive:
        stmt = stmt.where(Category.active.is_(True))
    return [category_out(c, include_inactive) for c in session.scalars(stmt)]


def count_selectable(session: Session) -> int:
    """Minor classes a report can be filed under (active, under an active major class)."""
    parent = aliased(Category)
    stmt = select(func.count(Category.id)).join(parent, Category.parent_id == parent.id).where(
        Category.active.is_(True), parent.active.is_(True))
    return session.scalar(stmt) or 0


def get_category(session: Session, category_id: int) -> Category:
    category = session.get(Category, category_id)
    if category is None:
        raise NotFound(detail={"object": "category", "id": category_id})
    return category


def field_labels(session: Session, category_id: int, lang: str) -> dict[str, str]:
    """The labels of a category's fields by field name, in ``lang``, for showing a case's attributes."""
    category = session.get(Category, category_id)
    key = "label_en" if lang == "en" else "label_zh"
    return {f["name"]: f.get(key) or f["name"] for f in (category.fields if category else [])}


def create_category(session: Session, principal: Principal, data: CategoryIn) -> Category:
    require_citywide(principal, EDIT)
    _check_code_free(session, data.code)
    parent = _check_parent(session, data.parent_id, data.kind) if data.parent_id is not None else None
    _check_level_content(data.parent_id is not None, data.time_limits, data.fields)
    category = Category(
        kind=data.kind.value, parent=parent, code=data.code, name_zh=data.name_zh,
        name_en=data.name_en, active=data.active, sort_order=data.sort_order,
        time_limits=data.time_limits.model_dump(mode="json") if data.time_limits else None,
        fields=[f.model_dump(mode="json") for f in data.fields], default_urgency=data.default_urgency.value,
        verify_photo_required=data.verify_photo_required,
    )
    session.add(category)
    session.flush()
    return category


def update_category(session: Session, principal: Principal, category_id: int, data: CategoryPatch) -> Category:
    require_citywide(principal, EDIT)
    category = get_category(session, category_id)
    sent = data.model_fields_set
    if "parent_id" in sent:
        if (data.parent_id is None) != (category.parent_id is None):
            raise ValidationFailed(
                "category_level_fixed", "大类与小类不能互相转换", "A major class cannot become a minor class or "
                "the reverse", detail={"field": "parent_id"},
            )
        if data.parent_id is not None and data.parent_id != category.parent_id:
            category.parent = _check_parent(session, data.parent_id, CategoryKind(category.kind))
    if data.code is not None and data.code != category.code:
        _check_code_free(session, data.code)
        category.code = data.code
    for attr in ("name_zh", "name_en", "active", "sort_order", "verify_photo_required"):
        value = getattr(data, attr)
        if value is not None:
            setattr(category, attr, value)
    if data.default_urgency is not None:
        category.default_urgency = data.default_urgency.value
    limits = data.time_limits if "time_limits" in sent else _limits_or_none(category)
    fields = data.fields if data.fields is not None else [FieldSpec(**f) for f in category.fields]
    _check_level_content(category.is_minor, limits, fields)
    category.time_limits = limits.model_dump(mode="json") if limits else None
    category.fields = [f.model_dump(mode="json") for f in fields]
    session.flush()
    return category


def suggest_code(session: Session, kind: CategoryKind, parent_id: int | None) -> str:
    """The next free code in the scheme the new class's siblings follow: the seed's (``I01`` majors, ``I0101``
    minors under ``I01``) when any sibling uses it, else the prefix most siblings share (a city's own
    ``SQ-7``); one more than the highest number after that prefix, as wide as theirs. Without siblings: the
    major's code (or the kind's letter) and ``01``."""
    if parent_id is not None:
        siblings = list(session.scalars(select(Category.code).where(Category.parent_id == parent_id)))
        fallback = get_category(session, parent_id).code
    else:
        siblings = list(session.scalars(select(Category.code).where(Category.parent_id.is_(None),
                                                                   Category.kind == kind.value)))
        fallback = kind.value[0].upper()
    digits = [c[len(fallback):] for c in siblings if c.startswith(fallback) and c[len(fallback):].isdigit()]
    prefix = fallback
    if not digits:
        numbered = [m.groups() for m in (re.fullmatch(r"(.*?)(\d+)", code) for code in siblings) if m]
        if numbered:
            prefix = Counter(p for p, _ in numbered).most_common(1)[0][0]
            digits = [d for p, d in numbered if p == prefix]
    width = max((len(d) for d in digits), default=2)
    number = max((int(d) for d in digits), default=0) + 1
    taken = set(session.scalars(select(Category.code).where(Category.code.startswith(prefix, autoescape=True))))
    while f"{prefix}{number:0{width}d}" in taken:
        number += 1
    return f"{prefix}{number:0{width}d}"[:20]


def copy_limits(session: Session, principal: Principal, category_id: int, source_id: int) -> Category:
    """Give a minor class the time limits of a sibling (a minor class of the same major class)."""
    require_citywide(principal, EDIT)
    target, source = get_category(session, category_id), session.get(Category, source_id)
    if source is None or not target.is_minor or source.parent_id != target.parent_id or source.id == target.id:
        raise ValidationFailed("category_copy_not_sibling", "只能复制同一大类下其他小类的时限",
                               "Time limits are copied from another minor class of the same major class",
                               detail={"field": "source_id"})
    return update_category(session, principal, category_id, CategoryPatch(time_limits=_limits_or_none(source)))


def _limits_or_none(category: Category | SelectableCategory) -> TimeLimits | None:
    return TimeLimits(**category.time_limits) if category.time_limits else None


def _check_code_free(session: Session, code: str) -> None:
    if session.scalar(select(Category.id).where(Category.code == code)) is not None:
        raise ValidationFailed(
            "category_code_taken", "类别代码 {value} 已被使用", "The category code {value} is already in use",
            detail={"field": "code"}, value=code,
        )


def _check_parent(session: Session, parent_id: int, kind: CategoryKind) -> Category:
    parent = session.get(Category, parent_id)
    if parent is None:
        raise ValidationFailed("category_parent_missing", "所选大类不存在", "The major class does not exist",
                               detail={"field": "parent_id"})
    if parent.parent_id is not None:
        raise ValidationFailed("category_parent_not_major", "小类的上级必须是大类",
                               "A minor class must sit under a major class", detail={"field": "parent_id"})
    if parent.kind != kind:
        raise ValidationFailed(
            "category_kind_mismatch", "小类须与其大类属于同一种类（部件/事件）",
            "A minor class must be of the same kind (component/incident) as its major class",
            detail={"field": "parent_id", "parent_kind": parent.kind},
        )
    return parent


def _check_level_content(is_minor: bool, limits: TimeLimits | None, fields: list[FieldSpec]) -> None:
    if is_minor and limits is None:
        raise ValidationFailed("category_limits_required", "小类必须设置各环节时限",
                               "A minor class needs time limits for every step", detail={"field": "time_limits"})
    if not is_minor and (limits is not None or fields):
        raise ValidationFailed(
            "category_major_has_limits", "大类不设时限和上报字段，请在小类中设置",
            "Time limits and fields belong to minor classes, not to a major class",
            detail={"field": "time_limits" if limits is not None else "fields"},
        )
    names = [f.name for f in fields]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValidationFailed("category_field_repeated", "字段名重复：{names}", "Repeated field names: {names}",
                               detail={"field": "fields", "names": repeated}, names=", ".join(repeated))


def time_limit(
    category: Category | SelectableCategory, step: Step | str, urgency: Urgency | str = Urgency.NORMAL
) -> TimeLimit:
    """The limit of ``step``; the handle step's limit depends on ``urgency``."""
    limits = _limits_or_none(category)
    if limits is None:
        raise ValidationFailed("category_not_minor", "只有小类设有时限", "Only minor classes have time limits",
                               detail={"category_id": category.id})
    return limits.of(Step(step), Urgency(urgency))


def deadline_for(
    category: Category, step: Step | str, urgency: Urgency | str, start: datetime, calendar: WorkCalendar
) -> datetime:
    """When ``step`` of a case of ``category`` that started at ``start`` is due (see shiyu.org.calendar.worktime)."""
    limit = time_limit(category, step, urgency)
    return calendar.add(start, limit.amount, limit.unit)


def check_attributes(category: Category | SelectableCategory, attributes: dict[str, Any],
                     partial: bool = False) -> None:
    """The attributes of a report, checked against the category's fields (its attribute form): only the
    fields it declares, required ones present, numbers numeric, choices among the choices. An unknown key is
    refused (named in the answer) rather than stored unchecked. ``partial``: required fields may be missing
    (a citizen's report, completed at 立案)."""
    specs = [FieldSpec(**f) for f in category.fields]
    known = {spec.name for spec in specs}
    problems: list[dict[str, str]] = [{"field": str(key)[:64], "problem": "unknown"}
                                      for key in sorted(attributes) if key not in known]
    for spec in specs:
        value = attributes.get(spec.name)
        if value is None or value == "":
            if spec.required and not partial:
                problems.append({"field": spec.name, "problem": "required"})
            continue
        if spec.type is FieldType.NUMBER:
            if isinstance(value, bool) or not isinstance(value, int | float):
                problems.append({"field": spec.name, "problem": "not_a_number"})
        elif spec.type is FieldType.BOOL:
            if not isinstance(value, bool):
                problems.append({"field": spec.name, "problem": "not_a_bool"})
        elif spec.type is FieldType.CHOICE:
            if value not in spec.choices:
                problems.append({"field": spec.name, "problem": "not_a_choice"})
        elif not isinstance(value, str):
            problems.append({"field": spec.name, "problem": "not_text"})
    if problems:
        raise ValidationFailed("case_attributes_invalid", "上报信息不完整或有误", "Some report details are missing "
                               "or not valid", detail=problems)
