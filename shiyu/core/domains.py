"""What a domain declares about itself, once: the platform iterates over these declarations instead of keeping
a list per concern (routers, tables, jobs, subscribers, commands, navigation, catalogues…).

A domain package (``shiyu.cases``, ``shiyu.triage``…) has a ``declaration`` module with one ``DOMAIN``; the
app's list of them is ``shiyu.domains.DOMAINS``. Everything here is plain data or a function, so this module
depends on no domain: the layers above read it, the domains fill it in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from sqlalchemy.orm import Session, sessionmaker

from shiyu.core.config import Settings
from shiyu.core.scoping import Principal

NAV_SECTIONS = ("work", "admin")


@dataclass(frozen=True)
class NavEntry:
    """One entry of the page shell's navigation, shown to the principals it concerns. Visibility is only a
    convenience: each page still checks its own grants through the scoped session."""

    key: str  # catalogue key suffix: nav.<key>, nav.<key>.hint
    href: str
    section: str  # "work" (daily tasks) or "admin" (administration)
    icon: str  # name of an inline SVG symbol in templates/partials/icons.html
    permissions: frozenset[str] = frozenset()  # any of these …
    roles: frozenset[str] = frozenset()  # … or any of these roles shows the entry; both empty = everyone
    order: int = 100

    def __post_init__(self) -> None:
        if self.section not in NAV_SECTIONS:
            raise ValueError(f"unknown navigation section {self.section!r}")

    def visible_to(self, principal: Principal) -> bool:
        if not self.permissions and not self.roles:
            return True
        if principal.is_system:
            return True
        if any(principal.has_permission(p) for p in self.permissions):
            return True
        return any(g.role in self.roles for g in principal.grants)


@dataclass(frozen=True)
class TodoItem:
    """One line of a person's to-do list on the home page (待办): what waits for them, how many, where to do
    it. ``urgent`` lines (overdue, 特急) come first and are marked."""

    label_zh: str
    label_en: str
    count: int
    href: str
    urgent: bool = False


# What waits for the caller in one domain: lines with a count above zero, in the caller's scope.
TodoSource = Callable[[Session, Principal], list[TodoItem]]


# A step of the demo city run after the shared base (areas, units, people, case history) is committed: it
# adds the domain's own demo records and answers the line to print, or None.
DemoStep = Callable[[sessionmaker[Session], ZoneInfo, datetime], tuple[str, str] | None]


@dataclass(frozen=True)
class Domain:
    """One domain's declaration. Every field is optional: a domain declares what it has.

    - ``api_routers`` are mounted under ``/api/v1`` in the order of the domain list, then of this tuple;
      ``page_routers`` at the root.
    - ``models`` are the modules that define its tables (imported, so ``Base.metadata`` is complete for
      migrations and tests); ``worker`` the modules whose import declares its jobs, periodic jobs and outbox
      subscribers; ``commands`` the modules with a ``register(subparsers)`` for ``shiyu <command>``.
    - ``install`` registers what needs no settings (hooks into another domain's published interfaces);
      ``configure`` takes the process's settings. Both run in the app, the worker and the commands, and
      must be safe to run more than once. ``warm_up`` loads, before a server's first request, what a
      request would otherwise load on first use (a model file, a tokenizer's dictionary); ``warm_up_worker``
      the same for a worker before its first delivery (libraries its subscribers import where used).
    - ``permissions``: each permission the domain's code checks, with what it allows (zh); a generated test
      holds the role table to exactly the declared permissions. ``role_permissions`` gives roles more
      permissions (a new domain adds its own without editing the role table).
    - ``translations``: a directory of ``zh.*.json`` / ``en.*.json`` page catalogues.
    - ``todo``: what waits for the caller in this domain, for the home page's to-do list (``TodoSource``).
    """

    name: str
    api_routers: Sequence[APIRouter] = ()
    page_routers: Sequence[APIRouter] = ()
    models: Sequence[ModuleType] = ()
    worker: Sequence[ModuleType] = ()
    commands: Sequence[ModuleType] = ()
    nav: Sequence[NavEntry] = ()
    permissions: Mapping[str, str] = field(default_factory=dict)
    role_permissions: Mapping[str, frozenset[str]] = field(default_factory=dict)
    translations: Path | None = None
    install: Callable[[], None] | None = None
    configure: Callable[[Settings], None] | None = None
    warm_up: Callable[[Session], None] | None = None
    warm_up_worker: Callable[[], None] | None = None
    demo: DemoStep | None = None
    todo: Sequence[TodoSource] = ()
