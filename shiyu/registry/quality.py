"""The registers' data quality, per grid and per grid worker: what is missing (completeness), what nobody has
confirmed on site for a year (staleness) and which active persons share an ID number (possible duplicates).

Set-based: one aggregate query per register, grouped by grid, in the caller's scope (a grid worker sees
their grids, a street its subtree) — never a loop over rows, because a district holds millions of them.
A personal-data column is tested for NULL on its ciphertext; nothing is decrypted.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import Session, aliased

from shiyu.core.pii import mask
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.areas.models import Area
from shiyu.org.identity.models import Grant, User
from shiyu.registry.models import VIEW, House, HouseUse, Person, PersonStatus, Residence, ResidenceType, Unit

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


def _n(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _stale(model: Any, before: datetime) -> Any:
    return func.coalesce(model.confirmed_at, model.created_at) < before


def report(session: Session, principal: Principal, now: datetime | None = None) -> dict[str, Any]:
    """Per grid (with its workers) and in total: each count, and each register's completeness in percent."""
    principal.require(VIEW)
    before = (now or utcnow()) - STALE_AFTER
    active = Person.status == PersonStatus.ACTIVE.value
    with_id = Person.residence_type.in_((ResidenceType.REGISTERED.value, ResidenceType.FLOATING.value))
    home = exists().where(Residence.person_id == Person.id, Residence.moved_out_on.is_(None))
    twin = aliased(Person)
    shared = exists().where(twin.id_number_hash == Person.id_number_hash, twin.id != Person.id,
                            twin.status == PersonStatus.ACTIVE.value)
    rows: dict[int, dict[str, int]] = {}
    persons = (select(Person.grid_id, func.count(), _n(and_(with_id, Person.id_number.is_(None))),
                      _n(Person.phone.is_(None)), _n(Person.ethnicity == ""), _n(~home),
                      _n(and_(Person.residence_type == ResidenceType.FLOATING.value, Person.permit_no == "")),
                      _n(_stale(Person, before)), _n(and_(Person.id_number_hash.is_not(None), shared)))
               .where(active).group_by(Person.grid_id))
    rented = House.use.in_((HouseUse.RENTED.value, HouseUse.GROUP_RENTAL.value))
    houses = (select(House.grid_id, func.count(), _n(and_(rented, House.landlord_name.is_(None))),
                     _n(and_(rented, House.rental_filed_on.is_(None))), _n(_stale(House, before)))
              .group_by(House.grid_id))
    units = (select(Unit.grid_id, func.count(), _n(Unit.legal_rep_name.is_(None)), _n(_stale(Unit, before)))
             .where(Unit.status == "active").group_by(Unit.grid_id))
    for stmt, names in ((persons, PERSON_COUNTS), (houses, HOUSE_COUNTS), (units, UNIT_COUNTS)):
        for grid_id, *values in session.execute(stmt):
            rows.setdefault(grid_id, dict.fromkeys(COUNTS, 0)).update(zip(names, map(int, values), strict=True))
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
    return {"grids": out, "total": {**total, **_rates(total)},
            "workers": [{"worker": label, **v, **_rates(v)} for (label, _id), v in sorted(by_worker.items())],
            "stale_before": before}


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

