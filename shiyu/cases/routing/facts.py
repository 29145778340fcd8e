"""What routing decides from, kept in memory (``shiyu.core.refcache``).

Every registration routes its case, and auto-dispatch routes a whole delivery batch. Reading the rules,
centres, departments and names for each batch cost a tenth of the outbox worker's time (six queries, the
rules' with an ``IN`` list of every area prefix of the batch — a statement psycopg cannot cache). They
change a few times a year, so a process keeps one snapshot per database and reloads it when any of them
changed (a rule, centre, department, jurisdiction, category or area edited, added or removed), seen within
a second in every other process.

The snapshot holds frozen copies, never ORM objects: it is shared by every thread of the process.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shiyu.cases.categories.models import Category
from shiyu.cases.routing.models import OWNER_KEY, Basis, RoutingRule
from shiyu.core.refcache import ReferenceCache, rows_generation
from shiyu.org.areas.models import Area
from shiyu.org.units.models import Centre, Department, DepartmentJurisdiction

UNSCOPED = {"unscoped": True}


@dataclass(frozen=True)
class Rule:
    """An active routing rule, as the resolver reads it."""

    id: int
    kind: str | None
    category_id: int | None
    area_id: int | None
    area_prefix: str
    conditions: Mapping[str, Any]
    department_id: int | None
    territory_level: int | None
    priority: int

    @property
    def basis(self) -> Basis:
        return Basis.OWNER if OWNER_KEY in self.conditions else Basis.TERRITORY


@dataclass(frozen=True)
class CentreRef:
    id: int
    name: str


@dataclass(frozen=True)
class DepartmentRef:
    id: int
    name: str
    area_path: str
    category_kinds: frozenset[str]


@dataclass(frozen=True)
class RoutingFacts:
    """Rules by the area subtree they cover; centres by their area's path, with the area's level; the
    departments the rules name, with the area paths of their jurisdiction; the names explanations quote."""

    rules: Mapping[str, tuple[Rule, ...]]
    centres: Mapping[str, tuple[int, CentreRef]]
    departments: Mapping[int, tuple[DepartmentRef, tuple[str, ...]]]
    category_names: Mapping[int, tuple[str, str]]
    area_names: Mapping[int, str]

    def rules_of(self, prefixes: list[str]) -> list[Rule]:
        return [rule for prefix in prefixes for rule in self.rules.get(prefix, ())]


def _load(session: Session) -> RoutingFacts:
    by_prefix: dict[str, list[Rule]] = {}
    for r in session.scalars(select(RoutingRule).where(RoutingRule.active.is_(True)).order_by(RoutingRule.id)):
        by_prefix.setdefault(r.area_prefix, []).append(Rule(
            r.id, r.kind, r.category_id, r.area_id, r.area_prefix, MappingProxyType(dict(r.conditions or {})),
            r.department_id, r.territory_level, r.priority))
    rules = [rule for group in by_prefix.values() for rule in group]
    centres = {path: (level, CentreRef(cid, name)) for cid, name, level, path in session.execute(
        select(Centre.id, Centre.name, Area.level, Area.area_path).join(Area, Centre.area_id == Area.id),
        execution_options=UNSCOPED)}
    named = {r.department_id for r in rules if r.department_id is not None}
    jurisdiction: dict[int, list[str]] = {d: [] for d in named}
    departments: dict[int, tuple[DepartmentRef, tuple[str, ...]]] = {}
    if named:
        for dept_id, path in session.execute(
                select(DepartmentJurisdiction.department_id, DepartmentJurisdiction.area_path)
                .where(DepartmentJurisdiction.department_id.in_(named)).order_by(DepartmentJurisdiction.id),
                execution_options=UNSCOPED):
            jurisdiction[dept_id].append(path)
        departments = {d.id: (DepartmentRef(d.id, d.name, d.area_path, frozenset(d.category_kinds or ())),
                              tuple(jurisdiction[d.id]))
                       for d in session.execute(select(Department.id, Department.name, Department.area_path,
                                                       Department.category_kinds).where(Department.id.in_(named)),
                                                execution_options=UNSCOPED)}
    category_ids = {r.category_id for r in rules if r.category_id is not None}
    area_ids = {r.area_id for r in rules if r.area_id is not None}
    names = {i: (zh, en or zh) for i, zh, en in session.execute(
        select(Category.id, Category.name_zh, Category.name_en).where(Category.id.in_(category_ids)))
    } if category_ids else {}
    area_names = {i: name for i, name in session.execute(
        select(Area.id, Area.name).where(Area.id.in_(area_ids)), execution_options=UNSCOPED)} if area_ids else {}
    return RoutingFacts(MappingProxyType({p: tuple(g) for p, g in by_prefix.items()}), MappingProxyType(centres),
                        MappingProxyType(departments), MappingProxyType(names), MappingProxyType(area_names))


_TABLES = [rows_generation(m) for m in (RoutingRule, Centre, Department, Category, Area)]


def _generation(session: Session) -> Hashable:
    """Any rule, centre, department, category or area added, edited or removed, or a jurisdiction added or
    removed (its rows are never edited in place), moves one of these."""
    jurisdictions = session.execute(select(func.count(DepartmentJurisdiction.id), func.max(DepartmentJurisdiction.id)),
                                    execution_options=UNSCOPED).one()
    return (*(each(session) for each in _TABLES), tuple(jurisdictions))


FACTS: ReferenceCache[RoutingFacts] = ReferenceCache("routing facts", _generation, _load)
