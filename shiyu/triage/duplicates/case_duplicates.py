"""Duplicates, exact repeats and repeat complaints (重复诉求) of the city's cases, found right after intake.

``on_reported`` runs once per new case, from the intake's ``case.reported`` outbox event (``shiyu.triage.tasks``,
delivered by the worker's delivery loops seconds after commit), before auto-dispatch looks at the case. Not
inside intake: it doubled the CPU of the hot path (two look-ups and a text comparison per report). Every
look-up is bounded in SQL first and capped, and only then compared by text (character 3-gram TF-IDF cosine,
``shiyu.triage.duplicates.similarity``) in memory:

**Duplicate candidates** — OPEN cases (not closed, rejected or merged) reported in the last
``duplicate_window_days`` (default 7) in the same community as the new case's grid, or within
``RADIUS_M`` (300 m) of its point: a bounding box in SQL over the grids that touch it (the in-memory grid
index names them, whatever their community or street), the exact distance in Python. This catches the other
side of a community or street boundary without a geometry query. At most ``CAP`` rows, newest first. Score::

    score = cosine + 0.2·same reporter + 0.1·same address + 0.05·same grid   (capped at 1)

kept when the cosine is at least ``MIN_SIMILARITY`` and the score at least ``MIN_SCORE``; the best ``KEEP``
are stored as ``DuplicateCandidate`` rows. "Same reporter" is the same phone blind-index hash, or the same
logged-in citizen; "same address" compares normalised non-empty addresses.

**Exact repeats** — the same reporter (phone hash, or the user id of a logged-in citizen) sending the same
normalised text (or cosine ≥ ``EXACT_SIMILARITY``) within ``repeat_merge_hours`` (default 24) of an open
case: the new case is merged into it automatically, by the system principal through the workflow engine (so
the timeline, the outbox event and the reporter link are the same as for a person's merge). Anonymous
reports are never auto-merged: without an identity, "the same reporter" cannot be known.

**Repeat complaints** — earlier cases (any state but merged, closed ones included) of the last
``repeat_complaint_weeks`` (default 8) about a similar matter from the same place or person: the same grid
with a text cosine ≥ ``REPEAT_SIMILARITY``, or the same address or the same phone hash with a cosine ≥
``REPEAT_SIMILARITY_PERSONAL`` or the same category. Stored as one ``RepeatComplaint`` row per case.

The look-ups read cases the reporter cannot see (a citizen sees no one else's case), so they run as the
system principal for the duration of the call; what they write is scoped by the new case's area path, so
only people who see the case see its findings.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, cast
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    CompoundSelect,
    Select,
    and_,
    any_,
    bindparam,
    insert,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from shiyu.cases.models import OPEN_STATES, Case, CaseState
from shiyu.cases.workflow import engine
from shiyu.core.config import Settings
from shiyu.core.db import among, custom_plans
from shiyu.core.errors import ShiyuError
from shiyu.core.pii import mask_text
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.areas.lookup import INDEXES
from shiyu.triage.duplicates import recent_cases
from shiyu.triage.duplicates.models import DuplicateCandidate, RepeatComplaint
from shiyu.triage.duplicates.recent_cases import CaseRow
from shiyu.triage.duplicates.similarity import HashedCounts, cosines_with_first
from shiyu.triage.text import normalize

RADIUS_M = 300.0
CAP = 200
ARMS = 8  # grids read by one look-up statement
KEEP = 5
MIN_SIMILARITY = 0.2
MIN_SCORE = 0.4
EXACT_SIMILARITY = 0.95
REPEAT_SIMILARITY = 0.5
REPEAT_SIMILARITY_PERSONAL = 0.3
BOOSTS = {"same_reporter": 0.2, "same_address": 0.1, "same_grid": 0.05}
METRES_PER_DEGREE = 111_320.0
# A hash space of 2^16 for at most 2·CAP short texts: a few thousand distinct 3-grams, rare collisions, and an
# IDF fit 64 times cheaper than the 2^22 of the corpus-wide default (it dominated the intake's cost).
HASH_FEATURES = 2**16
# The recent cases of a community are compared with each of its new reports: their texts are hashed once.
COUNTS = HashedCounts(20_000, n_features=HASH_FEATURES)
AUTO_MERGE_NOTE = "同一上报人在时限内重复上报相同内容，系统自动合并 / the same reporter sent the same report again " \
                  "within the window; merged automatically"


@dataclass(frozen=True)
class Windows:
    duplicate_days: int = 7
    merge_hours: int = 24
    repeat_weeks: int = 8
    timezone: str = "Asia/Shanghai"


_WINDOWS: dict[str, Windows] = {"current": Windows()}


def configure(settings: Settings) -> None:
    """Take the windows from the settings (``create_app`` and the job worker call this, like ``pii.configure``)."""
    _WINDOWS["current"] = Windows(settings.duplicate_window_days, settings.repeat_merge_hours,
                                  settings.repeat_complaint_weeks, settings.timezone)


def windows() -> Windows:
    return _WINDOWS["current"]


@dataclass(frozen=True)
class Candidate:
    """One ``duplicate_candidate`` row as found (the columns it is written with)."""

    case_id: int
    candidate_id: int
    score: float
    similarity: float
    reasons: list[str]
    found_at: datetime
    area_path: str


@dataclass(frozen=True)
class Repeat:
    """The ``repeat_complaint`` row of a case as found."""

    case_id: int
    earlier: list[dict[str, Any]]
    earlier_count: int
    flagged_at: datetime
    area_path: str


@dataclass
class Findings:
    candidates: list[Candidate] = field(default_factory=list)
    merged_into: int | None = None
    repeat: Repeat | None = None


def _store(session: Session, found: Collection[Findings]) -> None:
    """Write the findings as two multi-row inserts. Not ORM objects: their flush (a RETURNING insert
    psycopg re-parses for every batch, and an audit entry per row) cost 15 % of the delivery's CPU. They are
    the system's derived findings, rebuilt from the cases, like the indicator facts: not audited. The rows are
    the findings' fields as they are (``vars``): ``asdict`` deep-copied every reason list, 3 % of the
    delivery."""
    candidates = [dict(vars(c)) for f in found for c in f.candidates]
    repeats = [dict(vars(f.repeat)) for f in found if f.repeat is not None]
    if candidates:
        session.execute(insert(DuplicateCandidate.__table__), candidates)
    if repeats:
        session.execute(insert(RepeatComplaint.__table__), repeats)




@contextmanager
def _as_system(session: Session) -> Iterator[Principal]:
    """Act as the system for the look-ups and the automatic merge, then give the caller's principal back."""
    caller = session.info.get("principal")
    system = Principal.system("triage")
    session.info["principal"] = system
    try:
        yield system
    finally:
        session.info["principal"] = caller


def community_path(area_path: str) -> str:
    """A grid's community: its path without the last code (every grid belongs to exactly one community)."""
    return area_path[: area_path.rstrip("/").rfind("/") + 1]


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Equirectangular distance: exact enough below a few kilometres, and cheap."""
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot(x, math.radians(lat2 - lat1)) * 6_371_000.0


def _box(case: Case) -> tuple[float, float, float, float]:
    """The bounding box around the case's point that the near-by look-up reads: lat and lon from, to."""
    dlat = RADIUS_M / METRES_PER_DEGREE
    dlon = RADIUS_M / (METRES_PER_DEGREE * max(math.cos(math.radians(case.lat)), 0.01))
    return case.lat - dlat, case.lat + dlat, case.lon - dlon, case.lon + dlon


def _inside(box: tuple[float, float, float, float], row: CaseRow) -> bool:
    """The look-up's box test on a row already read (the same bounds, both ends included, as ``BETWEEN``)."""
    return bool(box[0] <= row.lat <= box[1] and box[2] <= row.lon <= box[3])


def _similarities(text: str, others: list[str]) -> np.ndarray:
    return cosines_with_first([text, *others], COUNTS)


@dataclass(frozen=True, slots=True)
class _Examined:
    """What the comparisons read of the case being examined, taken from the ORM object once: each is read
    for every one of the few hundred rows it is compared with, and an instrumented attribute costs as much
    as a ``Row``'s (``recent_cases.CaseRow``)."""

    grid_id: int
    lon: float
    lat: float
    category_id: int | None
    channel: str
    reporter_user_id: int | None
    phone: str | None  # the phone's blind-index hash; None when anonymous
    address: str  # normalised
    anonymous: bool

    @classmethod
    def of(cls, case: Case) -> _Examined:
        phone = case.reporter_phone_hash if case.reporter_phone_hash and not case.anonymous else None
        return cls(case.grid_id, case.lon, case.lat, case.category_id, case.channel, case.reporter_user_id, phone,
                   _address_key(case.address), bool(case.anonymous))


@lru_cache(maxsize=65_536)
def _address_key(address: str | None) -> str:
    """A normalised address, made once per address: every row compared reads its own."""
    return normalize(address)


def _same_reporter(me: _Examined, row: CaseRow) -> bool:
    if me.anonymous:
        return False
    if me.phone is not None and me.phone == row.reporter_phone_hash:
        return True
    # A logged-in citizen is one person; a grid worker's user id is not a reporter in this sense: staff file
    # many similar reports (boilerplate text, two broken covers in one street), each a case of its own.
    return me.channel == row.channel == "citizen" and me.reporter_user_id is not None \
        and me.reporter_user_id == row.reporter_user_id


def _same_address(me: _Examined, row: CaseRow) -> bool:
    return bool(me.address) and me.address == _address_key(row.address)


def score(similarity: float, reasons: list[str]) -> float:
    return min(1.0, similarity + sum(BOOSTS.get(r, 0.0) for r in reasons))


def _near_grids(session: Session, box: tuple[float, float, float, float]) -> list[int]:
    """The grids that touch a look-up box (lat and lon from, to), from the process's grid index."""
    return INDEXES.get(session).grid_ids_near(box[2], box[0], box[3], box[1])


def _recent_open(session: Session, case: Case, since: datetime, merged: Collection[int] = ()) -> list[CaseRow]:
    """Open cases of the same community, or in the box around the point. Both branches of the OR are index
    range scans: the community's paths with the window on (area path, reported at), and the box's grids with
    the window on (grid, reported at). Bounding the box by the street instead read every open case of the
    street, of any date, for every report (2–150 ms on a busy street; docs/adr/0006-outbox-delivery.md)."""
    return _without(_look_up(session, "recent", [case], since, CAP + 1 + len(merged)), {case.id, *merged})


def _earlier(session: Session, case: Case, since: datetime, merged: Collection[int] = ()) -> list[CaseRow]:
    """Earlier cases (merged ones aside) of the same grid, address or reporter's phone."""
    return _without(_look_up(session, "earlier", [case], since, CAP + 1 + len(merged)), {case.id, *merged})


def _without(rows: list[CaseRow], ids: set[int]) -> list[CaseRow]:
    """The newest ``CAP`` of ``rows`` that are not ``ids`` (read with room for them, so none is missing)."""
    return [r for r in rows if r.id not in ids][:CAP]


def _look_up(session: Session, kind: str, cases: list[Case], since: datetime, cap: int) -> list[CaseRow]:
    """The newest ``cap`` rows that any of ``cases`` (of one grid) may be compared with: ``recent``, open
    cases of their community or within a box around all their points; ``earlier``, cases of their grid,
    addresses or phones. Each case then keeps its own among them (``GridLookups``)."""
    return _look_up_grids(session, kind, [(cases, since, cap)])[0]


def _look_up_grids(session: Session, kind: str, asks: list[tuple[list[Case], datetime, int]],
                   until: datetime | None = None) -> list[list[CaseRow]]:
    """``_look_up`` for several grids' cases, up to ``ARMS`` grids a statement (a UNION ALL of one capped read
    per grid, each row tagged with its read): a batch of fifty reports made a hundred statements, and each
    cost more to send and take apart than the database took to answer it. Not all in one: each number of
    arms is a statement SQLAlchemy compiles anew, and its expanding lists are rendered per run at a cost
    that grows with the statement. The answers, in the order of ``asks``; ``until`` bounds an earlier read's
    report time instead of its cases' latest."""
    answers: list[list[CaseRow]] = []
    for start in range(0, len(asks), ARMS):
        chunk = asks[start:start + ARMS]
        params: dict[str, Any] = {}
        for arm, (cases, since, cap) in enumerate(chunk):
            bounds = {"since": since, "cap": cap, **({"until": until} if until is not None else {})}
            params.update({f"{name}_{arm}": value for name, value in {
                **_look_up_params(session, kind, cases), **bounds}.items()})
        rows: list[list[CaseRow]] = [[] for _ in chunk]
        connection = session.connection()
        for row in connection.execute(_read_statement(kind, len(chunk), connection.dialect.name), params):
            rows[row[0]].append(CaseRow._make(row[1:]))
        answers += rows
    return answers


def _look_up_params(session: Session, kind: str, cases: list[Case]) -> dict[str, Any]:
    if kind == "recent":
        boxes = [_box(c) for c in cases]
        around = (min(b[0] for b in boxes), max(b[1] for b in boxes),
                  min(b[2] for b in boxes), max(b[3] for b in boxes))
        return {"community": _prefix(community_path(cases[0].area_path)), "near": _near_grids(session, around),
                "lat0": around[0], "lat1": around[1], "lon0": around[2], "lon1": around[3]}
    return {"until": max(c.reported_at for c in cases), "grid": cases[0].grid_id,
            "addresses": sorted({c.address for c in cases if normalize(c.address)}),
            "phones": sorted({c.reporter_phone_hash for c in cases if c.reporter_phone_hash and not c.anonymous})}


def _candidates(me: _Examined, rows: list[CaseRow], sims: np.ndarray
                ) -> list[tuple[CaseRow, float, float, list[str]]]:
    found = []
    for row, sim in zip(rows, sims.tolist(), strict=True):
        if sim < MIN_SIMILARITY:
            continue
        reasons = ["similar_text"]
        if _same_reporter(me, row):
            reasons.append("same_reporter")
        if _same_address(me, row):
            reasons.append("same_address")
        if row.grid_id == me.grid_id:
            reasons.append("same_grid")
        elif distance_m(me.lon, me.lat, row.lon, row.lat) <= RADIUS_M:
            reasons.append("nearby")
        total = score(sim, reasons)
        if total >= MIN_SCORE:
            found.append((row, total, sim, reasons))
    found.sort(key=lambda f: (-f[1], f[0].reported_at))
    return found


def _exact_repeat(case: Case, found: list[tuple[CaseRow, float, float, list[str]]], since: datetime) -> int | None:
    """The open case this one repeats exactly (same reporter, same text, within the merge window), if any."""
    if case.anonymous:
        return None
    text = normalize(case.description)
    for row, _total, sim, reasons in found:
        if "same_reporter" in reasons and row.reported_at >= since and (
                sim >= EXACT_SIMILARITY or normalize(row.description) == text):
            return int(row.id)
    return None


def _repeats(me: _Examined, rows: list[CaseRow], sims: np.ndarray) -> list[dict[str, Any]]:
    earlier = []
    for row, sim in zip(rows, sims.tolist(), strict=True):
        reasons = []
        if row.grid_id == me.grid_id and sim >= REPEAT_SIMILARITY:
            reasons.append("same_grid")
        personal_match = sim >= REPEAT_SIMILARITY_PERSONAL or row.category_id == me.category_id
        if personal_match and _same_address(me, row):
            reasons.append("same_address")
        if personal_match and me.phone is not None and me.phone == row.reporter_phone_hash:
            reasons.append("same_person")
        if reasons:
            earlier.append({"id": int(row.id), "similarity": round(sim, 3), "reasons": reasons,
                            "state": row.state})
    earlier.sort(key=lambda e: -e["similarity"])
    return earlier


def on_reported(session: Session, case_id: int) -> Findings | None:
    """The ``case.reported`` outbox subscriber's work for one case; see ``on_reported_batch``."""
    return on_reported_batch(session, [case_id]).get(case_id)


def on_reported_batch(session: Session, case_ids: list[int]) -> dict[int, Findings]:
    """Examine newly reported cases once each (the outbox hands a whole delivery batch): the cases and which
    of them were examined already are read with one query each for the batch, not three per case, and the
    two look-ups are made once per grid of the batch (``GridLookups``). A redelivered event finds the stored
    findings (or the merge) and does nothing."""
    with _as_system(session):
        cases = list(session.scalars(select(Case).where(among(session, Case.id, case_ids),
                                                        Case.state != CaseState.MERGED.value).order_by(Case.id)))
        ids = [c.id for c in cases]
        done = set(session.scalars(select(DuplicateCandidate.case_id)
                                   .where(among(session, DuplicateCandidate.case_id, ids)))) \
            | set(session.scalars(select(RepeatComplaint.case_id).where(among(session, RepeatComplaint.case_id, ids))))
    tz = ZoneInfo(windows().timezone)
    todo = [c for c in cases if c.id not in done]
    memory = recent_cases.refreshed(session, timedelta(days=windows().duplicate_days)) if todo else None
    lookups = GridLookups(session, todo, memory)
    # The look-ups read cases only, and the batch changes no case until its merges: the findings wait and
    # go in two inserts for the batch, instead of a write (and its audit pass) before every query.
    with session.no_autoflush, custom_plans(session):
        found = {c.id: examine(session, c, tz, now=c.reported_at, lookups=lookups) for c in todo}
    _store(session, found.values())
    _merge_repeats(session, lookups.merges, tz)
    return found


def _merge_repeats(session: Session, merges: dict[int, tuple[Case, int]], tz: ZoneInfo) -> None:
    """Merge the batch's exact repeats (case → the case it repeats) with the engine's batch path, timed at
    the latest of their reports, in one savepoint; if the engine refuses any, each is merged on its own, and
    one that is still refused (its target was closed meanwhile, say) stays a case of its own, findings kept.
    A merge through the engine one case at a time cost 40 ms, more than the rest of the finding."""
    if not merges:
        return
    now = max(case.reported_at for case, _target in merges.values())
    with _as_system(session) as system:
        # The targets in one read, held here: the merge effect then finds each in the identity map instead of
        # loading it on its own (a flush and a query per merge).
        _held = list(session.scalars(select(Case).where(among(session, Case.id, {t for _c, t in merges.values()}))))
        try:
            with session.begin_nested():
                engine.apply_each(session, system, "merge", {
                    case_id: _merge_input(case, target) for case_id, (case, target) in merges.items()}, tz, now=now)
            return
        except ShiyuError:
            pass
        for case_id, (case, target) in merges.items():
            try:
                with session.begin_nested():
                    engine.apply(session, system, case_id, "merge", _merge_input(case, target), tz, now=now)
            except ShiyuError:
                session.expire(case)


def _merge_input(case: Case, target: int) -> engine.ActionInput:
    return engine.ActionInput(expected_version=case.version, note=AUTO_MERGE_NOTE, fields={"into_case_id": target})


class GridLookups:
    """The two look-ups of ``examine`` made once per grid for the cases of a batch (the batch's grids in one
    statement per look-up), then filtered per case in Python with the very conditions of the statements they
    read with (``_look_up``).

    Why it gives each case the same rows: a grid's query reads the union of its cases' conditions, newest
    first, capped at ``CAP`` plus one row per case (each case's own row may take a place). The rows of one
    case among them are the newest of its own; when fewer than ``CAP`` are left for a case and the grid's
    query was cut by its cap, older rows of that case may be missing, so that case asks its own query.

    An exact repeat found in the batch is merged after the whole batch was examined (``merges``, then
    ``_merge_repeats``); until then the look-ups leave it out (``merged``), in memory and in the queries a
    case asks alone, so every later case sees what it would see had the merge been made at once: a merged
    case is neither open nor an earlier case (nothing else a merge changes is read here)."""

    def __init__(self, session: Session, cases: list[Case], memory: recent_cases.RecentCases | None = None) -> None:
        self.session = session
        self.memory = memory
        self.grids: dict[int, list[Case]] = {}
        for case in cases:
            self.grids.setdefault(case.grid_id, []).append(case)
        self.read: dict[str, dict[int, tuple[datetime, list[CaseRow], bool]]] = {}
        self.merges: dict[int, tuple[Case, int]] = {}
        self.merged: set[int] = set()

    def merge_later(self, case: Case, target: int) -> None:
        self.merges[case.id] = (case, target)
        self.merged.add(case.id)

    def recent(self, case: Case, since: datetime) -> list[CaseRow]:
        community, box = community_path(case.area_path), _box(case)
        near = set(_near_grids(self.session, box))
        if self.memory is not None and self.memory.covers(since):
            return self.memory.recent(community, near, box, since, {case.id, *self.merged}, CAP)
        return self._mine("recent", case, since, _recent_open, lambda r: r.reported_at >= since and (
            r.area_path.startswith(community) or (r.grid_id in near and _inside(box, r))))

    def earlier(self, case: Case, since: datetime) -> list[CaseRow]:
        """With a worker's memory, the cases since its horizon come from there and only the older ones from
        the database (``_older``)."""
        address = case.address if normalize(case.address) else None
        phone = case.reporter_phone_hash if case.reporter_phone_hash and not case.anonymous else None

        def keep(r: CaseRow) -> bool:
            return r.state != CaseState.MERGED.value and since <= r.reported_at <= case.reported_at and (
                r.grid_id == case.grid_id or (address is not None and r.address == address)
                or (phone is not None and r.reporter_phone_hash == phone))

        horizon = self.memory.horizon if self.memory is not None else None
        if self.memory is None or horizon is None or case.reported_at < horizon:
            return self._mine("earlier", case, since, _earlier, keep)
        held = self.memory.earlier(case.grid_id, address, phone, max(since, horizon), case.reported_at,
                                   {case.id, *self.merged}, CAP)
        if len(held) == CAP or since >= horizon:
            return held
        return held + self._older(case, since, horizon, CAP - len(held), keep)

    def _older(self, case: Case, since: datetime, horizon: datetime, wanted: int,
               keep: Callable[[CaseRow], bool]) -> list[CaseRow]:
        """The newest ``wanted`` earlier cases reported before the memory's ``horizon``: read for every grid of
        the batch in one statement (``_read`` up to the horizon), or alone when the grid's read cannot tell."""
        before = horizon - timedelta(microseconds=1)
        if case.grid_id in self.grids:
            if "older" not in self.read:
                self.read["older"] = self._read("earlier", until=before)
            read_since, rows, cut = self.read["older"][case.grid_id]
            mine = [r for r in rows if r.id not in self.merged and keep(r)][:wanted]
            if since >= read_since and not (cut and len(mine) < wanted):
                return mine
        alone = _look_up_grids(self.session, "earlier", [([case], since, wanted + len(self.merged))], until=before)[0]
        return _without(alone, self.merged)[:wanted]

    def _mine(self, kind: str, case: Case, since: datetime,
              alone: Callable[[Session, Case, datetime, Collection[int]], list[CaseRow]],
              keep: Callable[[CaseRow], bool]) -> list[CaseRow]:
        if case.grid_id not in self.grids:
            return alone(self.session, case, since, self.merged)
        if kind not in self.read:
            self.read[kind] = self._read(kind)
        read_since, rows, cut = self.read[kind][case.grid_id]
        if since < read_since:
            mine = []
        elif len(self.grids[case.grid_id]) == 1:  # the grid's read was this case's own: nothing to filter
            mine = _without(rows, {case.id, *self.merged})
        else:
            mine = [r for r in rows if r.id != case.id and r.id not in self.merged and keep(r)][:CAP]
        if since < read_since or (cut and len(mine) < CAP):
            return alone(self.session, case, since, self.merged)
        return mine

    def _read(self, kind: str, until: datetime | None = None) -> dict[int, tuple[datetime, list[CaseRow], bool]]:
        """The reads of every grid of the batch, in one statement (``_look_up_grids``): since when, the rows,
        and whether the cap cut them. ``until``: an earlier read's latest report time, for all grids."""
        w = windows()
        window = timedelta(days=w.duplicate_days) if kind == "recent" else timedelta(weeks=w.repeat_weeks)
        asks = [(cases, min(c.reported_at for c in cases) - window, CAP + len(cases)) for cases in self.grids.values()]
        answers = _look_up_grids(self.session, kind, asks, until=until)
        return {grid_id: (since, rows, len(rows) == cap)
                for grid_id, (_cases, since, cap), rows in zip(self.grids, asks, answers, strict=True)}


def _prefix(path: str) -> str:
    """A LIKE pattern for the paths under ``path`` (what ``startswith(autoescape=True)`` would send)."""
    return path.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


# The two reads, built once per number of grids read together: their shape never changes, only their
# parameters (building them per grid cost as much as running them). Core statements, run on the session's
# connection: the look-ups read as the system, and nothing the batch holds unflushed is a case.
_C = Case.__table__.c


def _read_arm(kind: str, arm: int, dialect: str) -> Select[Any]:
    """One grid's read, its parameters suffixed with ``_{arm}``, its rows tagged ``arm``. Its lists (the grids
    near by, the addresses, the phones) are arrays on PostgreSQL (``among``): one statement whatever their
    lengths, not one per combination of lengths."""
    def p(name: str, **kw: Any) -> Any:
        return bindparam(f"{name}_{arm}", **kw)

    def one_of(column: Any, name: str) -> ColumnElement[bool]:
        if dialect == "postgresql":
            return cast("ColumnElement[bool]", column == any_(p(name, type_=ARRAY(column.type))))
        return cast("ColumnElement[bool]", column.in_(p(name, expanding=True)))

    where: tuple[ColumnElement[bool], ...]
    if kind == "recent":
        where = (_C.reported_at >= p("since"), _C.state.in_([s.value for s in OPEN_STATES]),
                 or_(_C.area_path.like(p("community"), escape="/"),
                     and_(one_of(_C.grid_id, "near"),
                          _C.lat.between(p("lat0"), p("lat1")), _C.lon.between(p("lon0"), p("lon1")))))
    else:
        where = (_C.reported_at >= p("since"), _C.state != CaseState.MERGED.value, _C.reported_at <= p("until"),
                 or_(_C.grid_id == p("grid"), one_of(_C.address, "addresses"),
                     one_of(_C.reporter_phone_hash, "phones")))
    return (select(literal(arm).label("arm"), *recent_cases.COLUMNS).where(*where)
            .order_by(_C.reported_at.desc()).limit(p("cap")))


@lru_cache(maxsize=4 * ARMS)
def _read_statement(kind: str, arms: int, dialect: str) -> Select[Any] | CompoundSelect[Any]:
    if arms == 1:
        return _read_arm(kind, 0, dialect)
    return union_all(*(select(_read_arm(kind, arm, dialect).subquery()) for arm in range(arms)))


def examine(session: Session, case: Case, tz: ZoneInfo, *, now: datetime | None = None,
            lookups: GridLookups | None = None) -> Findings:
    """Find and store what ``case`` duplicates or repeats, and merge it when it is an exact repeat; the
    windows count back from ``now`` (the case's report time when run after intake). ``lookups``: the
    batch's look-ups per grid, instead of two queries for this case; an exact repeat is then merged with the
    rest of the batch's (``_merge_repeats``) instead of at once, and the findings are written by the caller."""
    now = now or utcnow()
    w = windows()
    findings = Findings()
    with _as_system(session) as system:
        if lookups is not None:
            recent = lookups.recent(case, now - timedelta(days=w.duplicate_days))
            earlier = lookups.earlier(case, now - timedelta(weeks=w.repeat_weeks))
        else:
            session.flush()  # the look-ups read on the connection: what the caller changed is written first
            with custom_plans(session):
                recent = _recent_open(session, case, now - timedelta(days=w.duplicate_days))
                earlier = _earlier(session, case, now - timedelta(weeks=w.repeat_weeks))
        texts = {row.id: row.description for row in (*recent, *earlier)}
        ids = list(texts)
        by_id = dict(zip(ids, _similarities(case.description, [texts[i] for i in ids]).tolist(), strict=True))
        me = _Examined.of(case)
        found = _candidates(me, recent, np.array([by_id[r.id] for r in recent]))
        findings.candidates = [Candidate(case.id, int(row.id), round(total, 4), round(sim, 4), reasons, now,
                                         case.area_path) for row, total, sim, reasons in found[:KEEP]]
        repeats = _repeats(me, earlier, np.array([by_id[r.id] for r in earlier]))
        target = _exact_repeat(case, found, now - timedelta(hours=w.merge_hours)) \
            if case.state == CaseState.REPORTED else None
        if target is not None:
            findings.merged_into = target
            if lookups is None:
                engine.apply(session, system, case.id, "merge", _merge_input(case, target), tz, now=now)
            else:
                lookups.merge_later(case, target)
        elif repeats:
            findings.repeat = Repeat(case.id, repeats, len(repeats), now, case.area_path)
        if lookups is None:
            _store(session, [findings])
    return findings


# -- reads for the desk and the API (the caller's scope applies) ------------------------------------------


def candidates_for(session: Session, case_id: int) -> list[dict[str, Any]]:
    """The stored duplicate candidates of a case that the caller can see, best first, with the candidate's
    state and description (a candidate outside the caller's scope is left out, like any other case)."""
    rows = session.execute(
        select(DuplicateCandidate, Case).join(Case, Case.id == DuplicateCandidate.candidate_id)
        .where(DuplicateCandidate.case_id == case_id).order_by(DuplicateCandidate.score.desc())
    )
    return [{"case_id": c.id, "tracking_code": c.tracking_code, "state": c.state,
             "description": mask_text(c.description), "reported_at": c.reported_at, "address": mask_text(c.address),
             "score": d.score, "similarity": d.similarity, "reasons": d.reasons} for d, c in rows]


def repeat_of(session: Session, case_id: int) -> dict[str, Any] | None:
    """The repeat-complaint flag of a case with the earlier cases the caller can see."""
    flag = session.scalar(select(RepeatComplaint).where(RepeatComplaint.case_id == case_id))
    if flag is None:
        return None
    visible = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_([e["id"] for e in flag.earlier])))}
    return {"count": flag.earlier_count, "flagged_at": flag.flagged_at,
            "earlier": [{**e, "tracking_code": visible[e["id"]].tracking_code,
                         "reported_at": visible[e["id"]].reported_at,
                         "description": mask_text(visible[e["id"]].description)}
                        for e in flag.earlier if e["id"] in visible]}


def repeat_ids(session: Session, case_ids: list[int]) -> set[int]:
    """Which of these cases are flagged as repeat complaints (for the queue badges)."""
    if not case_ids:
        return set()
    return set(session.scalars(select(RepeatComplaint.case_id).where(RepeatComplaint.case_id.in_(case_ids))))
