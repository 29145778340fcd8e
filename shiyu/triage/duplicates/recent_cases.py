"""The recent cases of the city, kept in a worker's memory for duplicate finding.

Every new report is compared with the open cases of its community (and of the grids within 300 m) of the
last ``duplicate_window_days``: up to 200 rows read from the database per report — in a sampling profile of
the outbox delivery the largest part of the database's work and a sixth of the worker's
(docs/adr/0006-outbox-delivery.md). The same rows come round for every report of the community, so a worker
keeps them: the cases reported in the window (and a day more), read once, then kept current by what
changed since the last batch.

**What changed** is read at the start of each delivery batch, on a connection of its own (so a batch that
rolls back leaves nothing of its own writes here), in three small statements:

- new cases: ids above the highest one held, and the *gaps* below it — ids a concurrent transaction had
  taken but not committed when last read (a sequence hands out ids before commit, so a lower id may
  appear after a higher one). A gap is asked for again until it appears or ``GAP_SECONDS`` pass (the id
  was rolled back: intake's transactions last well under a second);
- changed cases: every change of a case goes through the workflow engine, which writes an outbox event
  for it (``aggregate = 'case'``) in the change's transaction, so the events after the last one seen (with
  their gaps, the same way) name the cases to read again;
- the cases those events name, read again whole.

So a batch sees every case committed before it started, as a database read would; what a read at the
moment of the look-up would add is what commits during the batch — which a read in the middle of it may or
may not see either.

A worker turns this on (``enable``, from the triage domain's worker warm-up); anywhere else — the web
server, commands, tests that call the finder directly — duplicate finding reads the database as before.
The look-up answers exactly what ``case_duplicates._recent_open`` reads (test:
``tests/triage/test_recent_memory.py`` compares them on both databases).

The repeat-complaint look-up ("earlier": eight weeks of cases of any state but merged, by grid, address or
phone) takes from here the part since the memory's horizon (``earlier``) and reads only the older part from
the database: at a full window the database read of every report's grid — ~200 rows on ~200 scattered heap
pages — was PostgreSQL's largest statement. Holding the eight weeks here instead would keep a city's two
months of cases in every worker; these are the rows the memory holds anyway, indexed three more ways.
"""

from __future__ import annotations

import bisect
import heapq
import threading
import time
from collections.abc import Collection, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from sqlalchemy import ARRAY, ColumnElement, Connection, Integer, any_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from shiyu.cases.models import OPEN_STATES, Case, CaseState
from shiyu.core.outbox import OutboxEvent
from shiyu.core.timeutil import utcnow

GAP_SECONDS = 120.0
MAX_GAPS = 5000  # a rolled-back import leaves thousands of ids that never come: ask for the newest ones only
MARGIN = timedelta(days=1)  # held beyond the window, so a report delivered a little late is still covered
OPEN = frozenset(s.value for s in OPEN_STATES)
MERGED = CaseState.MERGED.value
MAX_ID = 2**63  # above every id: a key (at, MAX_ID) sorts after every case reported at ``at``
_C = Case.__table__.c
_E = OutboxEvent.__table__.c
# The columns duplicate finding reads of a case, from the database or from here.
COLUMNS = (_C.id, _C.description, _C.grid_id, _C.address, _C.reporter_phone_hash, _C.reporter_user_id,
           _C.channel, _C.category_id, _C.state, _C.lon, _C.lat, _C.reported_at, _C.area_path)


class CaseRow(NamedTuple):
    """A case as duplicate finding reads it (``COLUMNS``, in order). A plain named tuple, not SQLAlchemy's
    ``Row``: a report is compared with a few hundred cases and every comparison reads several of their
    columns, and a ``Row``'s attribute costs ten times a named tuple's (0.7 against 0.06 µs) — at a full
    window, a tenth of the worker's CPU."""

    id: int
    description: str
    grid_id: int
    address: str
    reporter_phone_hash: str | None
    reporter_user_id: int | None
    channel: str
    category_id: int | None
    state: str
    lon: float
    lat: float
    reported_at: datetime
    area_path: str


def read(connection: Connection, statement: Any, params: dict[str, Any] | None = None) -> list[CaseRow]:
    """The rows of a statement selecting ``COLUMNS``, as ``CaseRow``."""
    return [CaseRow._make(r) for r in connection.execute(statement, params or {})]

_MEMORIES: dict[str, RecentCases] = {}
_ENABLED = {"on": False}
_LOCK = threading.Lock()


def enable(on: bool = True) -> None:
    """Keep recent cases in this process's memory (a worker); ``enable(False)`` forgets them."""
    with _LOCK:
        _ENABLED["on"] = on
        _MEMORIES.clear()


def refreshed(session: Session, window: timedelta) -> RecentCases | None:
    """This database's memory brought up to date for a batch, or None when memory is off (the caller reads
    the database)."""
    if not _ENABLED["on"]:
        return None
    engine = session.get_bind().engine
    key = engine.url.render_as_string(hide_password=True)
    with _LOCK:
        memory = _MEMORIES.get(key)
        if memory is None or memory.window != window:
            memory = _MEMORIES[key] = RecentCases(window)
    with engine.connect() as connection:
        memory.refresh(connection)
    return memory


def _one_of(connection: Connection, column: Any, name: str) -> ColumnElement[bool]:
    if connection.dialect.name == "postgresql":
        return cast("ColumnElement[bool]", column == any_(bindparam(name, type_=ARRAY(Integer))))
    return cast("ColumnElement[bool]", column.in_(bindparam(name, expanding=True)))


class _Tail:
    """The ids of a table read so far: the highest, and the gaps below it with the time they were seen."""

    def __init__(self, top: int) -> None:
        self.top = top
        self.gaps: dict[int, float] = {}

    def took(self, ids: Iterable[int], now: float) -> None:
        """Record the ids a read returned: gaps filled, new gaps between the old top and the new."""
        got = set(ids)
        for i in got:
            self.gaps.pop(i, None)
        new_top = max(got, default=self.top)
        if new_top > self.top:
            self.gaps.update((i, now) for i in range(max(self.top + 1, new_top - MAX_GAPS), new_top) if i not in got)
            self.top = new_top
        expired = [i for i, seen in self.gaps.items() if now - seen > GAP_SECONDS]
        for i in expired + sorted(self.gaps)[:max(0, len(self.gaps) - len(expired) - MAX_GAPS)]:
            self.gaps.pop(i, None)


class RecentCases:
    """The cases of one database reported within ``window`` (plus ``MARGIN``) of the first read: by id; the
    open ones' ids in order of report time by every area above them (a community's list answers "its
    cases") and by grid (the grids near a point); and those not merged by grid, address and phone hash (the
    repeat-complaint look-up)."""

    def __init__(self, window: timedelta) -> None:
        self.window = window
        self.rows: dict[int, CaseRow] = {}
        self.by_area: dict[str, list[tuple[datetime, int]]] = {}
        self.by_grid: dict[int, list[tuple[datetime, int]]] = {}
        self.any_by_grid: dict[int, list[tuple[datetime, int]]] = {}
        self.any_by_address: dict[str, list[tuple[datetime, int]]] = {}
        self.any_by_phone: dict[str, list[tuple[datetime, int]]] = {}
        self.grid_paths: dict[int, str] = {}  # a grid's area path, as its cases carry it
        self.horizon: datetime | None = None
        self.cases: _Tail | None = None
        self.events: _Tail | None = None
        self._lock = threading.Lock()

    def covers(self, since: datetime) -> bool:
        """Whether a look-up back to ``since`` can be answered here (older cases were never read)."""
        return self.horizon is not None and since >= self.horizon

    def refresh(self, connection: Connection) -> None:
        with self._lock:
            if self.cases is None or self.events is None:
                self._load(connection)
            else:
                self._catch_up(connection, self.cases, self.events)

    def _load(self, connection: Connection) -> None:
        """The first read: the window's cases, and where the two tails start. Ids taken by transactions still
        open now are below the top and would never be read: the ids missing among the last minutes' cases
        become gaps, asked for until they appear or expire."""
        now = utcnow()
        self.horizon = now - self.window - MARGIN
        events_top = connection.scalar(select(func.coalesce(func.max(_E.id), 0))) or 0
        rows = read(connection, select(*COLUMNS).where(_C.reported_at >= self.horizon)
                    .order_by(_C.reported_at, _C.id))
        for row in rows:
            self._put(row)
        top = max(self.rows, default=0)
        self.cases = _Tail(top)
        lately = [r.id for r in rows if r.reported_at >= now - timedelta(seconds=GAP_SECONDS)]
        if lately:
            self.cases.top = min(lately) - 1
            self.cases.took(lately, time.monotonic())
        self.events = _Tail(events_top)
        self._catch_up(connection, self.cases, self.events)

    def _catch_up(self, connection: Connection, cases: _Tail, events: _Tail) -> None:
        now = time.monotonic()
        changes = connection.execute(
            select(_E.id, _E.aggregate, _E.aggregate_id, _E.topic)
            .where(or_(_E.id > events.top, _one_of(connection, _E.id, "gaps")) if events.gaps else _E.id > events.top),
            {"gaps": list(events.gaps)} if events.gaps else {}).all()
        events.took((e.id for e in changes), now)
        changed = {e.aggregate_id for e in changes if e.aggregate == "case" and e.topic != "case.reported"}
        new = select(*COLUMNS).where(or_(_C.id > cases.top, _one_of(connection, _C.id, "gaps"))) if cases.gaps \
            else select(*COLUMNS).where(_C.id > cases.top)
        fresh = read(connection, new, {"gaps": list(cases.gaps)} if cases.gaps else {})
        cases.took((r.id for r in fresh), now)
        if changed:
            again = select(*COLUMNS).where(_one_of(connection, _C.id, "ids"))
            fresh += read(connection, again, {"ids": sorted(changed)})
        for row in fresh:
            self._put(row)
        self._prune()

    def _put(self, row: CaseRow) -> None:
        """Hold ``row`` (a case read anew replaces what was held, and is listed anew)."""
        assert self.horizon is not None
        if row.reported_at < self.horizon:
            return
        known = self.rows.get(row.id)
        self.rows[row.id] = row
        if known is not None:
            self._unlist(known)
        key = (row.reported_at, row.id)
        for listed in self._lists(row, create=True):
            bisect.insort(listed, key)
        if row.state in OPEN:
            self.grid_paths[row.grid_id] = row.area_path

    def _lists(self, row: CaseRow, *, create: bool = False) -> list[list[tuple[datetime, int]]]:
        """The lists ``row`` belongs in: only open cases are looked up as duplicates, any but merged ones as
        earlier cases."""
        wanted: list[tuple[dict[Any, list[tuple[datetime, int]]], Any]] = []
        if row.state in OPEN:
            wanted += [(self.by_area, area) for area in _areas_of(row.area_path)] + [(self.by_grid, row.grid_id)]
        if row.state != MERGED:
            wanted.append((self.any_by_grid, row.grid_id))
            if row.address:
                wanted.append((self.any_by_address, row.address))
            if row.reporter_phone_hash:
                wanted.append((self.any_by_phone, row.reporter_phone_hash))
        if create:
            return [index.setdefault(key, []) for index, key in wanted]
        return [listed for index, key in wanted if (listed := index.get(key)) is not None]

    def _unlist(self, row: CaseRow) -> None:
        key = (row.reported_at, row.id)
        for listed in self._lists(row):
            at = bisect.bisect_left(listed, key)
            if at < len(listed) and listed[at] == key:
                del listed[at]

    def _prune(self) -> None:
        """Forget cases older than the window needs, a day's worth at a time."""
        assert self.horizon is not None
        horizon = utcnow() - self.window - MARGIN
        if horizon - self.horizon < timedelta(days=1):
            return
        self.horizon = horizon
        for row in [r for r in self.rows.values() if r.reported_at < horizon]:
            self._unlist(row)
            del self.rows[row.id]

    def recent(self, community: str, near: Collection[int], box: tuple[float, float, float, float],
               since: datetime, leave_out: Collection[int], cap: int) -> list[CaseRow]:
        """The newest ``cap`` open cases reported since ``since`` in ``community`` (an area path) or in the
        ``near`` grids inside ``box`` (lat and lon from, to), ``leave_out`` aside: the rows
        ``case_duplicates._recent_open`` reads, newest first."""
        with self._lock:
            found = [self._newest_of_area(self.by_area.get(community, []), since, leave_out, cap)]
            for grid in near:
                if not self.grid_paths.get(grid, "").startswith(community):  # else its cases are in the above
                    found.append(self._newest_in_box(self.by_grid.get(grid, []), since, leave_out, cap, box))
            if not any(found[1:]):  # mostly: the community's list alone, newest first already
                return [self.rows[case_id] for _at, case_id in found[0]]
            rows, seen = [], set()
            for _at, case_id in heapq.merge(*found, reverse=True):
                if case_id not in seen:
                    seen.add(case_id)
                    rows.append(self.rows[case_id])
                    if len(rows) == cap:
                        break
            return rows

    @staticmethod
    def _newest_of_area(listed: list[tuple[datetime, int]], since: datetime, leave_out: Collection[int],
                        cap: int) -> list[tuple[datetime, int]]:
        """The newest ``cap`` keys since ``since``, ``leave_out`` aside: from the last ``cap`` + its length
        (a slice, not a walk: a community's list is the one every report of it reads)."""
        start = max(bisect.bisect_left(listed, (since, -1)), len(listed) - cap - len(leave_out))
        return [key for key in reversed(listed[start:]) if key[1] not in leave_out][:cap]

    def _newest_in_box(self, listed: list[tuple[datetime, int]], since: datetime, leave_out: Collection[int],
                       cap: int, box: tuple[float, float, float, float]) -> list[tuple[datetime, int]]:
        out: list[tuple[datetime, int]] = []
        for key in reversed(listed):
            if key[0] < since:
                break
            if key[1] in leave_out:
                continue
            row = self.rows[key[1]]
            if box[0] <= row.lat <= box[1] and box[2] <= row.lon <= box[3]:
                out.append(key)
                if len(out) == cap:
                    break
        return out

    def earlier(self, grid_id: int, address: str | None, phone: str | None, since: datetime, until: datetime,
                leave_out: Collection[int], cap: int) -> list[CaseRow]:
        """The newest ``cap`` cases (any state but merged) reported from ``since`` to ``until`` in the grid, at
        the address or by the phone hash (None: not asked), ``leave_out`` aside: what
        ``case_duplicates._earlier`` reads, for the time since ``since`` — the caller gives the horizon or later."""
        with self._lock:
            lists = [self.any_by_grid.get(grid_id, [])]
            if address is not None:
                lists.append(self.any_by_address.get(address, []))
            if phone is not None:
                lists.append(self.any_by_phone.get(phone, []))
            rows: list[CaseRow] = []
            seen: set[int] = set()
            for at, case_id in heapq.merge(*(_newest_first(listed, until) for listed in lists), reverse=True):
                if at < since:
                    break
                if case_id in seen or case_id in leave_out:
                    continue
                seen.add(case_id)
                rows.append(self.rows[case_id])
                if len(rows) == cap:
                    break
            return rows

def _newest_first(listed: list[tuple[datetime, int]], until: datetime) -> Iterator[tuple[datetime, int]]:
    """The keys of ``listed`` (ascending) reported at or before ``until``, newest first."""
    for at in range(bisect.bisect_right(listed, (until, MAX_ID)) - 1, -1, -1):
        yield listed[at]


def _areas_of(path: str) -> list[str]:
    """Every area path a case's path lies under, itself and the root included: "/a/b/" → ["/", "/a/",
    "/a/b/"]."""
    parts = [p for p in path.split("/") if p]
    return ["/", *("/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1))]
