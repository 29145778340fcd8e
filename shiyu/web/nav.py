"""The navigation of the page shell: the entries every domain declares (``Domain.nav``), each shown to the
principals it concerns. ``shiyu.domains.install`` registers them; a catalogue key ``nav.<key>`` (and
``nav.<key>.hint`` for the home tile) names each. Visibility is only a convenience: each page still checks
its own grants through the scoped session.
"""

from __future__ import annotations

from shiyu.core.domains import NavEntry
from shiyu.core.scoping import Principal

_ENTRIES: dict[str, NavEntry] = {}


def register(entry: NavEntry) -> None:
    _ENTRIES[entry.key] = entry


def entries_for(principal: Principal) -> dict[str, list[NavEntry]]:
    """Visible entries by section, in order; sections without entries are left out."""
    out: dict[str, list[NavEntry]] = {}
    for entry in sorted(_ENTRIES.values(), key=lambda e: (e.order, e.key)):
        if entry.visible_to(principal):
            out.setdefault(entry.section, []).append(entry)
    return out
