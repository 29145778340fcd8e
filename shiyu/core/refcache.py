"""Reference data kept in memory: read on every report, changed a few times a year.

Intake needs the grid boundaries, the category tree, the centres and the working-time calendar for every
case. Reading them from the database each time cost more than writing the case itself, so each lives in a
``ReferenceCache``: one copy per database per process, tagged with a cheap *generation* (a revision
counter, a row count, a latest ``updated_at``) that any change moves. The generation is read at most once
per ``recheck_seconds``, so a change made in another process is seen within that time (one second by
default); in between, the copy is reused without touching the database.

Loaded values must be immutable snapshots (frozen dataclasses, tuples, read-only indexes), never ORM
objects: they are shared by every request thread of the process.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

T = TypeVar("T")

_ALL: weakref.WeakSet[ReferenceCache[Any]] = weakref.WeakSet()
_DEFAULT_RECHECK = [1.0]


class ReferenceCache(Generic[T]):
    """``get(session)`` answers the loaded value, reloading it when the generation has moved."""

    def __init__(self, name: str, generation: Callable[[Session], Hashable], load: Callable[[Session], T],
                 recheck_seconds: float | None = None) -> None:
        self.name = name
        self.recheck_seconds = _DEFAULT_RECHECK[0] if recheck_seconds is None else recheck_seconds
        self._generation = generation
        self._load = load
        self._lock = threading.Lock()
        # Per engine (one per database per process); an engine that is gone takes its copy with it.
        self._entries: weakref.WeakKeyDictionary[Any, tuple[Hashable, T, float]] = weakref.WeakKeyDictionary()
        _ALL.add(self)

    def get(self, session: Session) -> T:
        bind = session.get_bind()
        key = getattr(bind, "engine", bind)
        entry = self._entries.get(key)
        now = time.monotonic()
        if entry is not None and now - entry[2] < self.recheck_seconds:
            return entry[1]
        current = self._generation(session)
        if entry is not None and entry[0] == current:
            self._entries[key] = (current, entry[1], now)
            return entry[1]
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != current:
                entry = (current, self._load(session), now)
                self._entries[key] = entry
            return entry[1]


    def loaded_for(self, engine: Any) -> bool:
        """Whether a copy for ``engine`` is in memory (what a warm-up is for)."""
        return engine in self._entries


def recheck_every(seconds: float) -> None:
    """Set how stale every cache, present and future, may be. Tests that change reference data between
    requests use 0."""
    _DEFAULT_RECHECK[0] = seconds
    for cache in _ALL:
        cache.recheck_seconds = seconds


def load_all(session: Session) -> None:
    """Load every cache now (a server warming up before its first request)."""
    for cache in list(_ALL):
        cache.get(session)


def rows_generation(model: Any) -> Callable[[Session], Hashable]:
    """The generation of a table whose rows carry ``updated_at``: its row count and latest ``updated_at``
    (an insert, an edit or a delete moves one of them)."""

    def generation(session: Session) -> Hashable:
        return tuple(session.execute(select(func.count(model.id), func.max(model.updated_at)),
                                     execution_options={"unscoped": True}).one())

    return generation
