"""The registers' data quality, per grid and per grid worker: what is missing (completeness), what nobody has
confirmed on site for a year (staleness) and which active persons share an ID number (possible duplicates).

Computed in the background, not per view: ``refresh`` (a periodic job every quarter of an hour, and after
the demo build) aggregates each register by grid in one set-based query and stores one ``QualityGrid`` row
per grid; ``report`` reads the rows of the caller's scope. Aggregating at every view took 3.7 s for a
street of 250,000 persons (``bench/registers.py`` at 1,000,000) and would grow with the city; reading the
stored rows costs the same at any size. The page says when the counts were made.

A personal-data column is tested for NULL on its ciphertext; nothing is decrypted. A possible duplicate is
counted only when its twin lies inside the viewer's scope (a grid worker is not told that their resident is
also registered in a grid they cannot see): each grid stores its duplicates by how deep the closest twin's
path meets the person's (``duplicates_by_depth``), and a viewer counts those that meet inside the path of
the grant that shows them the grid.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, exists, func, insert, select, text
from sqlalchemy.orm import Session

from shiyu.core.db import transaction
from shiyu.core.jobs import JobContext, periodic
from shiyu.core.pii import mask
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.areas.models import Area
from shiyu.org.identity.models import Grant, User
from shiyu.registry.models import (
    VIEW,
    House,
    HouseUse,
    Person,
    PersonStatus,
    QualityGrid,
    Residence,
    ResidenceType,
    Unit,
)

STALE_AFTER = timedelta(days=365)
UNSCOPED = {"unscoped": True}
WORKER_ROLES = ("grid_worker",)
# The counts of a grid row, in the order the page shows them.
PERSON_COUNTS = ("persons", "no_id_number", "no_phone", "no_ethnicity", "no_home", "floating_no_permit",
                 "persons_stale", "duplicates")
HOUSE_COUNTS = ("houses", "rented_no_landlord", "rented_not_filed", "houses_stale")
UNIT_COUNTS = ("units", "no_legal_rep", "units_stale")
COUNTS = PERSON_COUNTS + HOUSE_COUNTS + UNIT_COUNTS
# The gaps each register's completeness rate counts (of its rows × these checks).
GAPS = {"persons": ("no_id_number", "no_phone", "no_ethnicity", "no_home", "floating_no_permit"),
        "houses": ("rented_no_landlord", "rented_not_filed"), "units": ("no_legal_rep",)}
REFRESH_MINUTES = 15


def _n(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _stale(model: Any, before: datetime) -> Any:
    return func.coalesce(model.confirmed_at, model.created_at) < before


def _depth(path: str) -> int:
    """How many area codes a path names ("/35/3502/": 2)."""
    return path.count("/") - 1


def _shared_depth(a: str, b: str) -> int:
    """How many leading area codes two paths share."""
    n = 0
    for x, y in zip(a.strip("/").split("/"), b.strip("/").split("/"), strict=False):
        if x != y:
            break
        n += 1
    return n


def compute(session: Session, now: datetime | None = None) -> dict[int, tuple[str, dict[str, int], dict[str, int]]]:
    """Every grid's counts, city-wide: grid id → (grid path, counts, duplicates by depth)."""
    before = (now or utcnow()) - STALE_AFTER
    active = Person.status == PersonStatus.ACTIVE.value
    with_id = Person.residence_type.in_((ResidenceType.REGISTERED.value, ResidenceType.FLOATING.value))
    home = exists().where(Residence.person_id == Person.id, Residence.moved_out_on.is_(None))
    persons = (select(Person.grid_id, func.count(), _n(and_(with_id, Person.id_number.is_(None))),
                      _n(Person.phone.is_(None)), _n(Person.ethnicity == ""), _n(~home),
                      _n(and_(Person.residence_type == ResidenceType.FLOATING.value, Person.permit_no == "")),
                      _n(_stale(Person, before)))
               .where(active).group_by(Person.grid_id))
    rented = House.use.in_((HouseUse.RENTED.value, HouseUse.GROUP_RENTAL.value))
    houses = (select(House.grid_id, func.count(), _n(and_(rented, House.landlord_name.is_(None))),
                     _n(and_(rented, House.rental_filed_on.is_(None))), _n(_stale(House, before)))
              .group_by(House.grid_id))
    units = (select(Unit.grid_id, func.count(), _n(Unit.legal_rep_name.is_(None)), _n(_stale(Unit, before)))
             .where(Unit.status == "active").group_by(Unit.grid_id))
    counts: dict[int, dict[str, int]] = {}
    for stmt, names in ((persons, PERSON_COUNTS[:-1]), (houses, HOUSE_COUNTS), (units, UNIT_COUNTS)):
        for grid_id, *values in session.execute(stmt, execution_options=UNSCOPED):
            counts.setdefault(grid_id, {}).update(zip(names, map(int, values), strict=True))
    paths = {a.id: a.area_path for a in session.execute(
        select(Area.id, Area.area_path).where(Area.id.in_(list(counts))), execution_options=UNSCOPED)} \
        if counts else {}
    twins = _duplicates_by_depth(session)
    return {g: (paths[g], {k: c.get(k, 0) for k in COUNTS if k != "duplicates"}, twins.get(g, {}))
            for g, c in counts.items() if g in paths}


def _duplicates_by_depth(session: Session) -> dict[int, dict[str, int]]:
    """Per grid, its active persons whose ID number another active person shares, by the depth at which the
    closest such twin's path meets theirs. The shared numbers are found on the blind index (few rows), then
    compared in memory."""
    active = Person.status == PersonStatus.ACTIVE.value
    shared = (select(Person.id_number_hash).where(active, Person.id_number_hash.is_not(None))
              .group_by(Person.id_number_hash).having(func.count() > 1))
    groups: dict[str | None, list[tuple[int, str]]] = {}
    for number, grid_id, path in session.execute(
            select(Person.id_number_hash, Person.grid_id, Person.area_path)
            .where(active, Person.id_number_hash.in_(shared)), execution_options=UNSCOPED):
        groups.setdefault(number, []).append((grid_id, path))
    out: dict[int, dict[str, int]] = {}
    for members in groups.values():
        for i, (grid_id, path) in enumerate(members):
            closest = max(_shared_depth(path, other) for j, (_g, other) in enumerate(members) if j != i)
            by_depth = out.setdefault(grid_id, {})
            by_depth[str(closest)] = by_depth.get(str(closest), 0) + 1
    return out


def refresh(session: Session, now: datetime | None = None) -> int:
    """Recompute every grid's counts and replace the stored ones (derived data, like the indicator facts:
    not audited); answers how many grids have counts."""
    now = now or utcnow()
    if session.get_bind().dialect.name == "postgresql":
        # Two workers' ticks at once: the second waits for the first to commit, then replaces its rows,
        # instead of failing on their primary keys (SQLite has one writer at a time anyway).
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('shiyu.registry.quality.refresh'))"))
    found = compute(session, now)
    session.execute(delete(QualityGrid), execution_options=UNSCOPED)
    if found:
        session.execute(insert(QualityGrid.__table__), [
            {"grid_id": g, "area_path": path, "counts": counts, "duplicates_by_depth": twins, "computed_at": now}
            for g, (path, counts, twins) in found.items()])
    return len(found)


@periodic(minute=f"*/{REFRESH_MINUTES}")
def refresh_quality(ctx: JobContext) -> int:
    """Every quarter of an hour: the dashboard's counts, for the whole city in one transaction."""
    with transaction(ctx.session_factory, principal=Principal.system("registry")) as session:
        return refresh(session)


def _visible_duplicates(paths: Iterable[str], grid_path: str, by_depth: dict[str, int]) -> int:
    """The grid's duplicates whose closest twin lies under the widest path through which the viewer sees the
    grid (twins under another of their grants are not counted: the counts are per grid, not per pair)."""
    through = [p for p in paths if grid_path.startswith(p)]
    if not through:
        return 0
    inside = _depth(min(through, key=len))
    return sum(n for depth, n in by_depth.items() if int(depth) >= inside)


def report(session: Session, principal: Principal) -> dict[str, Any]:
    """Per grid (with its workers) and in total: each count, and each register's completeness in percent,
    as last computed (``computed_at``; None before the first ``refresh``)."""
    principal.require(VIEW)
    paths = principal.paths_with(VIEW)
    rows: dict[int, dict[str, int]] = {}
    computed_at: datetime | None = None
    for stored in session.scalars(select(QualityGrid)):  # the caller's grids (the scope applies)
        rows[stored.grid_id] = {**dict.fromkeys(COUNTS, 0), **stored.counts, "duplicates": _visible_duplicates(
            paths, stored.area_path, stored.duplicates_by_depth)}
        computed_at = stored.computed_at if computed_at is None else min(computed_at, stored.computed_at)
    grids = _grids(session, rows)
    workers = _workers(session, rows)
    out: list[dict[str, Any]] = [
        {"grid_id": g, "grid_code": grids[g].code, "grid_name": grids[g].name,
         "workers": [label for _id, label in workers.get(g, [])], **counts, **_rates(counts)}
        for g, counts in rows.items() if g in grids]
    out.sort(key=lambda r: str(r["grid_code"]))
    total = {k: sum(int(r[k]) for r in out) for k in COUNTS}
    by_worker: dict[tuple[str, int], dict[str, int]] = {}  # by label and id: two 王*明 stay two people
    for grid_id, counts in rows.items():
        for user_id, label in workers.get(grid_id, []) if grid_id in grids else []:
            agg = by_worker.setdefault((label, user_id), dict.fromkeys(COUNTS, 0))
            for k in COUNTS:
                agg[k] += counts[k]
    stale_before = (computed_at or utcnow()) - STALE_AFTER
    return {"grids": out, "total": {**total, **_rates(total)},
            "workers": [{"worker": label, **v, **_rates(v)} for (label, _id), v in sorted(by_worker.items())],
            "stale_before": stale_before, "computed_at": computed_at, "refresh_minutes": REFRESH_MINUTES}


def _rates(counts: dict[str, int]) -> dict[str, float | None]:
    """Completeness in percent: the share of (rows × checks) with nothing missing; None without rows."""
    out: dict[str, float | None] = {}
    for register, gaps in GAPS.items():
        checks = counts[register] * len(gaps)
        out[f"{register}_complete"] = round(100 * (1 - sum(counts[g] for g in gaps) / checks), 1) if checks else None
    return out


def _grids(session: Session, ids: Iterable[int]) -> dict[int, Area]:
    wanted = list(ids)
    return {a.id: a for a in session.scalars(select(Area).where(Area.id.in_(wanted)), execution_options=UNSCOPED)}


def _workers(session: Session, ids: Iterable[int]) -> dict[int, list[tuple[int, str]]]:
    """The grid workers of each grid (by their grants) as (user id, label), for the per-worker view: named as
    colleagues name them, the masked name (the account name only when none is on file)."""
    stmt = (select(Grant.area_id, User.id, User.full_name, User.username).join(User, User.id == Grant.user_id)
            .where(Grant.area_id.in_(list(ids)), Grant.role.in_(WORKER_ROLES), User.is_active.is_(True))
            .order_by(User.username))
    out: dict[int, list[tuple[int, str]]] = {}
    for area_id, user_id, full_name, username in session.execute(stmt, execution_options=UNSCOPED):
        if area_id is not None:
            out.setdefault(area_id, []).append((user_id, mask("name", full_name) or username))
    return out

