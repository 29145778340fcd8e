"""Data scope, applied in one place: the ORM layer.

Every row that belongs to a place carries ``area_path`` — the codes of its area chain, e.g.
``/350200000000/350203000000/350203001000/`` — and every grant is a role over an area subtree (or over a
department). A session carries the caller as ``session.info["principal"]``; on every ORM SELECT (including
lazy loads of relationships) the listener below adds, for each scoped class, "area_path lies under one of
the caller's subtrees that grants this class's view permission". A session without a principal refuses to
query scoped data at all, so forgetting the scope is an error, not a leak. Writes are checked at flush
against the class's write permission. This is the idea of NetBox's restricted querysets, done with
SQLAlchemy's ``with_loader_criteria`` so that handlers and services cannot forget it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from sqlalchemy import String, and_, event, false, inspect, or_, select
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, with_loader_criteria

from shiyu.core.errors import Forbidden


@dataclass(frozen=True)
class GrantScope:
    """One grant as the scope layer sees it: a role over an area subtree and/or a department."""

    role: str
    area_path: str | None = None
    department_id: int | None = None


@dataclass
class Principal:
    """Who is acting. ``permissions_of`` maps a role name to its permission set (see org.identity.roles)."""

    user_id: int | None
    username: str
    grants: tuple[GrantScope, ...] = ()
    is_system: bool = False
    permissions_of: Any = None
    full_name: str | None = None  # the person's own name, for their own header and greeting only
    _paths_cache: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    @classmethod
    def system(cls, name: str = "system") -> Principal:
        """For migrations, the demo builder and periodic jobs: sees and writes everything."""
        return cls(user_id=None, username=name, is_system=True)

    @property
    def shown_name(self) -> str:
        """What the pages call this person: their name, the account name when none is on file."""
        return self.full_name or self.username

    def _perms(self, role: str) -> frozenset[str]:
        return self.permissions_of(role) if self.permissions_of else frozenset()

    def has_permission(self, permission: str) -> bool:
        return self.is_system or any(permission in self._perms(g.role) for g in self.grants)

    def paths_with(self, permission: str) -> tuple[str, ...]:
        """Area subtrees where this principal holds ``permission``, with nested subtrees folded away."""
        if permission not in self._paths_cache:
            paths = sorted(
                {g.area_path for g in self.grants if g.area_path and permission in self._perms(g.role)}
            )
            folded: list[str] = []
            for p in paths:
                if not any(p.startswith(q) for q in folded):
                    folded.append(p)
            self._paths_cache[permission] = tuple(folded)
        return self._paths_cache[permission]

    def departments_with(self, permission: str) -> tuple[int, ...]:
        return tuple(
            sorted(
                {
                    g.department_id
                    for g in self.grants
                    if g.department_id is not None and permission in self._perms(g.role)
                }
            )
        )

    def can(self, permission: str, area_path: str) -> bool:
        return self.is_system or any(area_path.startswith(p) for p in self.paths_with(permission))

    def require(self, permission: str, area_path: str | None = None) -> None:
        allowed = self.can(permission, area_path) if area_path is not None else self.has_permission(permission)
        if not allowed:
            raise Forbidden(detail={"permission": permission})


class ScopedMixin:
    """A row that belongs to an area subtree. Subclasses name the permissions that read and write it."""

    __view_permission__: ClassVar[str]
    __write_permission__: ClassVar[str]

    # C collation on PostgreSQL so that the prefix filter (LIKE 'path%') can use the b-tree index.
    area_path: Mapped[str] = mapped_column(
        String(160).with_variant(String(160, collation="C"), "postgresql"), index=True
    )


_SCOPED: list[type[ScopedMixin]] = []


def register_scoped(cls: type[ScopedMixin]) -> type[ScopedMixin]:
    """Class decorator: put a ScopedMixin model under the scope listener."""
    _SCOPED.append(cls)
    return cls


def scope_criteria(cls: Any, principal: Principal, permission: str) -> Any:
    """The rows ``principal`` sees: under a path where they hold ``permission``, or one of the model's own
    extra cases (``__extra_scope__``: a reporter's own link, a department's own facts) — and, when the model
    narrows its rows further (``__narrow_scope__``: a key person's work item among a grid's tasks), only
    those of them that the narrowing lets through."""
    paths = principal.paths_with(permission)
    extra = getattr(cls, "__extra_scope__", None)
    clauses = [cls.area_path.startswith(p, autoescape=True) for p in paths]
    if extra is not None:
        clauses.extend(extra(principal))
    criteria = or_(*clauses) if clauses else false()
    narrow = getattr(cls, "__narrow_scope__", None)
    return and_(criteria, narrow(principal)) if narrow is not None else criteria


class ScopedSession(Session):
    """A session whose ``get`` obeys scope too.

    ``Session.get`` answers from the identity map without a query when the object is already loaded —
    for instance by an unscoped read elsewhere in the same request — and so would skip the scope listener.
    For scoped classes this ``get`` confirms visibility with a one-column scoped query (which leaves the
    loaded object, and any unflushed change to it, untouched) — unless the caller asked for an unscoped read
    (``execution_options={"unscoped": True}``), which the scope listener would honour too."""

    def get(self, entity: Any, ident: Any, **kw: Any) -> Any:
        obj = super().get(entity, ident, **kw)
        principal: Principal | None = self.info.get("principal")
        unscoped = bool((kw.get("execution_options") or {}).get("unscoped", False))
        if obj is None or not isinstance(obj, ScopedMixin) or principal is None or principal.is_system or unscoped:
            return obj
        mapper = inspect(type(obj))
        # The mapped attribute, not the table's column: a select of a bare Column is a Core statement, which
        # the loader criteria of the scope listener do not reach.
        pk = getattr(type(obj), mapper.get_property_by_column(mapper.primary_key[0]).key)
        with self.no_autoflush:
            visible = self.execute(select(pk).where(pk == mapper.primary_key_from_instance(obj)[0])).first()
        return obj if visible is not None else None


class ScopeMissing(RuntimeError):
    """A session queried scoped data without saying who is asking: a programming error."""


@event.listens_for(Session, "do_orm_execute")
def _apply_scope(state: ORMExecuteState) -> None:
    if not state.is_select or state.execution_options.get("unscoped", False):
        return
    principal: Principal | None = state.session.info.get("principal")
    if principal is None:
        touched = {m.class_ for m in state.all_mappers}
        if any(issubclass(c, ScopedMixin) for c in touched):
            raise ScopeMissing("session has no principal; set session.info['principal']")
        return
    if principal.is_system:
        return
    state.statement = state.statement.options(*_scope_options(state.session, principal))


def _scope_options(session: Session, principal: Principal) -> tuple[Any, ...]:
    """The loader criteria for every scoped model, built once per session and principal.

    Building them walks every grant of every scoped model; a request runs a handful of queries with the
    same principal, so rebuilding them per query was a fifth of an intake's CPU time.
    """
    cached = session.info.get("_scope_options")
    if cached is not None and cached[0] is principal:
        cached_options: tuple[Any, ...] = cached[1]
        return cached_options
    options = tuple(
        with_loader_criteria(cls, scope_criteria(cls, principal, cls.__view_permission__), include_aliases=True)
        for cls in _SCOPED
    )
    session.info["_scope_options"] = (principal, options)
    return options


@event.listens_for(Session, "before_flush")
def _check_writes(session: Session, _ctx: Any, _instances: Any) -> None:
    principal: Principal | None = session.info.get("principal")
    changed: Iterable[Any] = list(session.new) + list(session.dirty) + list(session.deleted)
    for obj in changed:
        if not isinstance(obj, ScopedMixin):
            continue
        if principal is None:
            raise ScopeMissing("session has no principal; set session.info['principal']")
        if principal.is_system:
            continue
        allowed = principal.can(obj.__write_permission__, obj.area_path)
        extra_write = None if allowed else getattr(type(obj), "__extra_write__", None)
        if extra_write:
            allowed = extra_write(principal, obj)
        if not allowed:
            raise Forbidden(detail={"permission": obj.__write_permission__})


def require_citywide(principal: Principal, permission: str) -> None:
    """Who may change city-wide reference data (calendar, categories, routing rules, triage models).

    Such data changes every district's work, so holding the edit permission over a district or a community
    is not enough: the grant must cover a whole city (a top-level area, path ``/<city code>/``)."""
    if principal.is_system:
        return
    if not any(path.count("/") == 2 for path in principal.paths_with(permission)):
        raise Forbidden(detail={"permission": permission, "scope": "city"})
