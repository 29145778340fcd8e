"""Editing routing rules and resolving the handler of a case.

How ``route`` decides, in order:

1. Candidate rules: active, covering the case's category (its minor class, its major class, its kind, or
   all), an area subtree containing the case's area, and conditions all equal to the case's attributes.
2. Ranking: first the basis the category's kind prefers — components go to the owner first (部件先属主后属地:
   owner rules beat territorial rules), incidents to the territory first (事件先属地后属主); then the more
   specific category (minor > major > kind > all), then the deeper area, then more conditions, then the
   higher ``priority``, then the older rule.
3. The best rule whose target can take the case wins: a department must have jurisdiction over the case's
   area and handle the category's kind; a territory rule needs a centre at its level above the area.
   Rules that cannot take it are skipped and named in the explanation.
4. Otherwise the territory takes it: the nearest centre up the area chain (a grid's community centre).

Departments, centres and areas are read unscoped here: routing is the system's decision, not the caller's
view, and a grid worker's report must reach a district bureau the worker cannot list. What the decision
reads is kept in memory (``routing.facts``) and reloaded when any of it changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pydantic
from sqlalchemy import ColumnElement, func, or_, select, true
from sqlalchemy.orm import Session

from shiyu.cases.categories.models import Category, CategoryKind
from shiyu.cases.models import Case
from shiyu.cases.routing.facts import FACTS, CentreRef, RoutingFacts, Rule
from shiyu.cases.routing.models import OWNER_KEY, Basis, RoutingRule
from shiyu.cases.routing.schemas import RuleIn, RulePatch
from shiyu.core.errors import NotFound, ShiyuError, ValidationFailed
from shiyu.core.paging import PageParams, paginate
from shiyu.core.scoping import Principal, require_citywide
from shiyu.org.areas.models import Area
from shiyu.org.areas.service import locate
from shiyu.org.units.models import Department, DepartmentJurisdiction

EDIT = "routing.edit"
UNSCOPED = {"unscoped": True}
PREFERRED = {CategoryKind.COMPONENT: Basis.OWNER, CategoryKind.INCIDENT: Basis.TERRITORY}
SKIP_REASONS = {
    "no_jurisdiction": ("部门不管辖该区域", "the department has no jurisdiction here"),
    "kind_not_handled": ("部门不处理该类别", "the department does not handle this kind"),
    "no_centre": ("该层级没有综治中心", "no centre at that level"),
}


class NoRoute(ShiyuError):
    status = 422
    code = "routing_no_target"
    zh = "找不到可处置该案件的部门或综治中心"
    en = "No department or centre can take this case"


@dataclass(frozen=True)
class RoutingDecision:
    department_id: int | None
    centre_id: int | None
    rule_id: int | None
    basis: Basis
    target_name: str
    explanation_zh: str
    explanation_en: str


# ---- editing ----------------------------------------------------------------------------------------


def _readable(principal: Principal) -> ColumnElement[bool]:
    """Rules a reader may list: those covering an area the reader sees, or an area above one (the whole
    city, their district …). Rules of a sibling subtree stay hidden, like the rest of that subtree."""
    if principal.is_system:
        return true()
    paths = principal.paths_with("area.view")
    above = {prefix for path in paths for prefix in _prefixes(path)} | {"/"}
    return or_(RoutingRule.area_prefix.in_(above), *(RoutingRule.area_prefix.startswith(p, autoescape=True)
                                                      for p in paths))


def list_rules(
    session: Session, principal: Principal, params: PageParams, *, category_id: int | None = None,
    department_id: int | None = None, active: bool | None = None,
) -> tuple[list[RoutingRule], int]:
    stmt = select(RoutingRule).where(_readable(principal)).order_by(RoutingRule.id)
    if category_id is not None:
        stmt = stmt.where(RoutingRule.category_id == category_id)
    if department_id is not None:
        stmt = stmt.where(RoutingRule.department_id == department_id)
    if active is not None:
        stmt = stmt.where(RoutingRule.active.is_(active))
    return paginate(session, stmt, params)


def get_rule(session: Session, principal: Principal, rule_id: int) -> RoutingRule:
    rule = session.scalar(select(RoutingRule).where(RoutingRule.id == rule_id, _readable(principal)))
    if rule is None:
        raise NotFound(detail={"object": "routing_rule", "id": rule_id})
    return rule


def create_rule(session: Session, principal: Principal, data: RuleIn) -> RoutingRule:
    require_citywide(principal, EDIT)
    rule = RoutingRule()
    _apply(session, rule, data)
    session.add(rule)
    session.flush()
    return rule


def update_rule(session: Session, principal: Principal, rule_id: int, data: RulePatch) -> RoutingRule:
    require_citywide(principal, EDIT)
    rule = get_rule(session, principal, rule_id)
    current = {name: getattr(rule, name) for name in RuleIn.model_fields}
    changes = data.model_dump(exclude_unset=True)
    if "category_id" in changes and "kind" not in changes:
        current["kind"] = None  # the kind follows the new category
    current.update(changes)
    try:
        merged = RuleIn.model_validate(current)
    except pydantic.ValidationError as exc:
        raise ValidationFailed(detail=[{"field": ".".join(map(str, e["loc"])), "message": e["msg"]}
                                       for e in exc.errors()]) from exc
    _apply(session, rule, merged)
    session.flush()
    return rule


def delete_rule(session: Session, principal: Principal, rule_id: int) -> None:
    require_citywide(principal, EDIT)
    session.delete(get_rule(session, principal, rule_id))
    session.flush()


def _apply(session: Session, rule: RoutingRule, data: RuleIn) -> None:
    """Check ``data`` against the database (under the editor's scope) and copy it onto ``rule``."""
    kind = data.kind
    if data.category_id is not None:
        category = session.get(Category, data.category_id)
        if category is None:
            raise ValidationFailed("routing_category_unknown", "类别不存在", "The category does not exist",
                                   detail={"field": "category_id"})
        if kind is not None and kind != category.kind:
            raise ValidationFailed("routing_kind_mismatch", "种类与类别不符", "The kind does not match the category",
                                   detail={"field": "kind"})
        kind = CategoryKind(category.kind)
    prefix = "/"
    if data.area_id is not None:
        area = session.scalar(select(Area).where(Area.id == data.area_id))
        if area is None:
            raise ValidationFailed("routing_area_unknown", "区域不存在或不在您的权限范围内",
                                   "The area does not exist or is outside your grants", detail={"field": "area_id"})
        prefix = area.area_path
    if data.department_id is not None:
        department = session.scalar(select(Department).where(Department.id == data.department_id))
        if department is None:
            raise ValidationFailed("routing_department_unknown", "部门不存在或不在您的权限范围内",
                                   "The department does not exist or is outside your grants",
                                   detail={"field": "department_id"})
        if kind is not None and kind.value not in department.category_kinds:
            raise ValidationFailed("routing_department_kind", "该部门不处理此种类（部件/事件）",
                                   "The department does not handle this kind (component/incident)",
                                   detail={"field": "department_id", "kind": kind.value})
    elif OWNER_KEY in data.conditions:
        raise ValidationFailed("routing_territory_owner", "按属地派给综治中心的规则不能设置权属条件",
                               "A rule that sends cases to a territory centre cannot name an owner",
                               detail={"field": "conditions"})
    rule.name = data.name
    rule.kind = kind.value if kind is not None else None
    rule.category_id = data.category_id
    rule.area_id = data.area_id
    rule.area_prefix = prefix
    rule.conditions = dict(data.conditions)
    rule.department_id = data.department_id
    rule.territory_level = data.territory_level
    rule.priority = data.priority
    rule.active = data.active


# ---- resolving --------------------------------------------------------------------------------------


def preview(session: Session, category_id: int, area_id: int, attributes: Mapping[str, Any]) -> RoutingDecision:
    """``route`` for an editor trying rules out; the area must be within the caller's grants."""
    category = session.get(Category, category_id)
    if category is None:
        raise NotFound(detail={"object": "category", "id": category_id})
    area = session.scalar(select(Area).where(Area.id == area_id))
    if area is None:
        raise NotFound(detail={"object": "area", "id": area_id})
    return route(session, category, area, attributes)


@dataclass(frozen=True)
class PlacedDecision:
    """A preview for a point: the grid it falls in (named down from the district) and the decision there."""

    area_id: int
    place: str
    decision: RoutingDecision


def preview_at(session: Session, principal: Principal, category_id: int, lon: float, lat: float,
               attributes: Mapping[str, Any]) -> PlacedDecision:
    """``preview`` for a point on the map: its grid is found with the index intake uses for a report's
    location, then ``route`` decides as it does when that report is registered. A point outside the
    caller's grants answers like a point outside the city."""
    record = locate(session, principal, lon, lat)
    place = " ".join(ref.name for ref in reversed(record.chain) if ref.level > 0)
    return PlacedDecision(record.ref.id, place, preview(session, category_id, record.ref.id, attributes))


def count_routed(session: Session) -> int:
    """Cases in the caller's scope that have been registered, so routed (registering asks ``route``)."""
    return session.scalar(select(func.count(Case.id)).where(Case.registered_at.is_not(None))) or 0


MEMO_KEY = "routing_memo"
Ask = tuple[Category, Area, Mapping[str, Any]]


def route(session: Session, category: Category, area: Area, attributes: Mapping[str, Any]) -> RoutingDecision:
    """Who handles a case of ``category`` in ``area`` (the case's grid) with ``attributes``; ``NoRoute`` when
    nobody can."""
    decision = route_many(session, [(category, area, attributes)])[0]
    if isinstance(decision, NoRoute):
        raise decision
    return decision


def route_many(session: Session, asks: list[Ask]) -> list[RoutingDecision | NoRoute]:
    """``route`` for many (category, grid, attributes) at once, on the routing facts kept in memory
    (``facts.FACTS``: no query unless a rule, centre, department or name changed). A caller routing many
    cases in one transaction (the outbox's auto-dispatch batch) puts a dict under ``session.info[MEMO_KEY]``:
    the same question is then answered once (auto-dispatch asks it, and registering asks it again)."""
    memo: dict[tuple[int, int, str], RoutingDecision | NoRoute] = session.info.get(MEMO_KEY, {})
    keys = [(c.id, a.id, repr(sorted(attrs.items()))) for c, a, attrs in asks]
    new = {k: ask for k, ask in zip(keys, asks, strict=True) if k not in memo}
    if new:
        known = FACTS.get(session)
        for key, (category, area, attributes) in new.items():
            try:
                memo[key] = _route(known, category, area, attributes)
            except NoRoute as exc:
                memo[key] = exc
    return [memo[k] for k in keys]


def _route(known: RoutingFacts, category: Category, area: Area, attributes: Mapping[str, Any]) -> RoutingDecision:
    kind = CategoryKind(category.kind)
    prefixes = _prefixes(area.area_path)
    ids = {category.id, category.parent_id}
    rules = [r for r in known.rules_of(prefixes) if _holds(r.conditions, attributes) and (
        r.category_id in ids if r.category_id is not None else r.kind is None or r.kind == kind.value)]
    rules.sort(key=lambda r: _rank(r, category, kind))
    centres = dict(known.centres[p] for p in prefixes if p in known.centres)
    skipped: list[tuple[int, str]] = []
    for rule in rules:
        if rule.department_id is not None:
            dept, juris = known.departments[rule.department_id]
            if not any(area.area_path.startswith(p) for p in juris):
                skipped.append((rule.id, "no_jurisdiction"))
                continue
            if kind.value not in dept.category_kinds:
                skipped.append((rule.id, "kind_not_handled"))
                continue
            return _decision(rule, known, dept.id, None, dept.name, skipped)
        centre = centres.get(rule.territory_level) if rule.territory_level is not None else None
        if centre is None:
            skipped.append((rule.id, "no_centre"))
            continue
        return _decision(rule, known, None, centre.id, centre.name, skipped)
    return _fallback(centres, skipped)


def _prefixes(path: str) -> list[str]:
    """``/a/b/`` → ``["/", "/a/", "/a/b/"]``: every subtree that contains the area."""
    codes = [c for c in path.split("/") if c]
    return ["/"] + ["/" + "/".join(codes[: i + 1]) + "/" for i in range(len(codes))]


def _holds(conditions: Mapping[str, Any], attributes: Mapping[str, Any]) -> bool:
    return all(k in attributes and str(attributes[k]) == str(v) for k, v in conditions.items())


def _rank(rule: Rule, category: Category, kind: CategoryKind) -> tuple[int, ...]:
    if rule.category_id == category.id:
        category_rank = 0
    elif rule.category_id is not None:
        category_rank = 1
    else:
        category_rank = 2 if rule.kind is not None else 3
    return (
        0 if rule.basis is PREFERRED[kind] else 1,
        category_rank,
        -rule.area_prefix.count("/"),
        -len(rule.conditions),
        -rule.priority,
        rule.id,
    )


def departments_with_jurisdiction(session: Session, ids: set[int]) -> dict[int, tuple[Department, list[str]]]:
    """The departments ``ids`` (those that exist) with the area paths of their jurisdiction, in two reads."""
    if not ids:
        return {}
    depts = session.scalars(select(Department).where(Department.id.in_(ids)), execution_options=UNSCOPED)
    out: dict[int, tuple[Department, list[str]]] = {d.id: (d, []) for d in depts}
    rows = session.execute(
        select(DepartmentJurisdiction.department_id, DepartmentJurisdiction.area_path).where(
            DepartmentJurisdiction.department_id.in_(ids)
        ),
        execution_options=UNSCOPED,
    )
    for dept_id, path in rows:
        out[dept_id][1].append(path)
    return out


def _decision(
    rule: Rule, known: RoutingFacts, department_id: int | None, centre_id: int | None, target: str,
    skipped: list[tuple[int, str]],
) -> RoutingDecision:
    if rule.category_id is not None:
        zh, en = known.category_names[rule.category_id]
        scope_zh, scope_en = f"“{zh}”问题", f"“{en}” problems"
    elif rule.kind is not None:
        zh, en = CategoryKind(rule.kind).label
        scope_zh, scope_en = f"{zh}类问题", f"{en} problems"
    else:
        scope_zh, scope_en = "各类问题", "problems of any category"
    if rule.area_id is not None:
        place = known.area_names[rule.area_id]
        scope_zh, scope_en = f"{place}的{scope_zh}", f"{scope_en} in {place}"
    if rule.basis is Basis.OWNER:
        owner = rule.conditions[OWNER_KEY]
        basis_zh, basis_en = f"按权属，设施属于{owner}", f"by ownership: the facility belongs to {owner}"
    else:
        basis_zh, basis_en = "按属地管理", "by territory"
    skip_zh, skip_en = _skip_notes(skipped)
    return RoutingDecision(
        department_id=department_id, centre_id=centre_id, rule_id=rule.id, basis=rule.basis, target_name=target,
        explanation_zh=f"{scope_zh}由{target}负责（{basis_zh}，派遣规则第{rule.id}号）{skip_zh}",
        explanation_en=f"{scope_en[0].upper()}{scope_en[1:]} go to {target} ({basis_en}, routing rule no. {rule.id})"
                       f"{skip_en}",
    )


def _fallback(centres: dict[int, CentreRef], skipped: list[tuple[int, str]]) -> RoutingDecision:
    if not centres:
        raise NoRoute()
    centre = centres[max(centres)]
    skip_zh, skip_en = _skip_notes(skipped)
    return RoutingDecision(
        department_id=None, centre_id=centre.id, rule_id=None, basis=Basis.TERRITORY, target_name=centre.name,
        explanation_zh=f"没有适用的派遣规则，按属地由{centre.name}处理{skip_zh}",
        explanation_en=f"No routing rule applies; {centre.name} takes it as the territory's centre{skip_en}",
    )


def _skip_notes(skipped: list[tuple[int, str]]) -> tuple[str, str]:
    if not skipped:
        return "", ""
    zh = "；".join(f"未用第{i}号规则：{SKIP_REASONS[r][0]}" for i, r in skipped)
    en = "; ".join(f"rule no. {i} not used: {SKIP_REASONS[r][1]}" for i, r in skipped)
    return f"。{zh}", f". {en[0].upper()}{en[1:]}"
