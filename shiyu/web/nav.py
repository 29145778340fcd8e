"""The navigation of the page shell: one registry of entries, each shown to the principals it concerns.

A later page (case desk, command view, field app, citizen portal) slots in with one ``register(...)`` call
at import of its router module: a catalogue key ``nav.<key>`` (and ``nav.<key>.hint`` for the home tile),
its URL, the section it belongs to, and the permissions or roles that make it visible. Visibility is only
a convenience: each page still checks its own grants through the scoped session.
"""

from __future__ import annotations

from dataclasses import dataclass

from shiyu.core.scoping import Principal

SECTIONS = ("work", "admin")


@dataclass(frozen=True)
class NavEntry:
    key: str  # catalogue key suffix: nav.<key>, nav.<key>.hint
    href: str
    section: str  # "work" (daily tasks) or "admin" (administration)
    icon: str  # name of an inline SVG symbol in templates/partials/icons.html
    permissions: frozenset[str] = frozenset()  # any of these …
    roles: frozenset[str] = frozenset()  # … or any of these roles shows the entry; both empty = everyone
    order: int = 100

    def visible_to(self, principal: Principal) -> bool:
        if not self.permissions and not self.roles:
            return True
        if principal.is_system:
            return True
        if any(principal.has_permission(p) for p in self.permissions):
            return True
        return any(g.role in self.roles for g in principal.grants)


_ENTRIES: dict[str, NavEntry] = {}


def register(entry: NavEntry) -> None:
    if entry.section not in SECTIONS:
        raise ValueError(f"unknown navigation section {entry.section!r}")
    _ENTRIES[entry.key] = entry


def entries_for(principal: Principal) -> dict[str, list[NavEntry]]:
    """Visible entries by section, in order; sections without entries are left out."""
    out: dict[str, list[NavEntry]] = {}
    for entry in sorted(_ENTRIES.values(), key=lambda e: (e.order, e.key)):
        if entry.visible_to(principal):
            out.setdefault(entry.section, []).append(entry)
    return out


def _p(*names: str) -> frozenset[str]:
    return frozenset(names)


for _entry in (
    NavEntry("home", "/", "work", "home", order=0),
    NavEntry("areas", "/admin/areas", "admin", "map",
             _p("area.edit", "area.import", "area.propose", "area.approve"), order=10),
    NavEntry("proposals", "/admin/areas/proposals", "admin", "check", _p("area.approve", "area.propose"), order=11),
    NavEntry("units", "/admin/units", "admin", "building", _p("centre.edit", "department.edit"), order=20),
    NavEntry("categories", "/admin/categories", "admin", "tree", _p("category.edit"), order=30),
    NavEntry("routing", "/admin/routing", "admin", "route", _p("routing.edit"), order=40),
    NavEntry("calendar", "/admin/calendar", "admin", "calendar", _p("calendar.edit"), order=50),
    NavEntry("users", "/admin/users", "admin", "users", _p("user.manage"), order=60),
    NavEntry("audit", "/admin/audit", "admin", "search", _p("audit.view"), order=70),
    NavEntry("outbox", "/admin/outbox", "admin", "route", _p("outbox.manage"), order=80),
):
    register(_entry)
