"""Area queries, point lookup and boundary changes (proposal → approval by someone else → new version).

Reads go through the caller's scoped session, so areas outside the caller's grants do not exist for them.
Rule checks at proposal and approval read the parent, siblings and children unscoped, because a boundary
must fit its real neighbours, not just the ones the caller can see; neighbours the caller cannot see are
named ``***`` in the issues.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shiyu.core.errors import Conflict, Forbidden, NotFound, ShiyuError, ValidationFailed
from shiyu.core.paging import PageParams, paginate
from shiyu.core.refcache import ReferenceCache
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.areas import rules
from shiyu.org.areas.geometry import GeometryProblem, parse_boundary, to_geojson
from shiyu.org.areas.lookup import INDEXES, AreaRef, GridIndex, GridRecord, bump_generation
from shiyu.org.areas.models import Area, AreaBoundary, AreaLevel, BoundaryStatus

UNSCOPED = {"unscoped": True}
HIDDEN = "***"


class OutsideCity(ShiyuError):
    status = 404
    code = "outside_city"
    zh = "该位置不在本市任何网格内"
    en = "This location is not inside any grid of the city"


def get_area(session: Session, area_id: int) -> Area:
    """By query, not ``session.get``: an object already in the identity map must still pass the scope."""
    area = session.scalar(select(Area).where(Area.id == area_id))
    if area is None:
        raise NotFound(detail={"object": "area", "id": area_id})
    return area


def list_areas(
    session: Session, params: PageParams, *, level: int | None = None, parent_id: int | None = None,
    q: str | None = None, code: str | None = None,
) -> tuple[list[Area], int]:
    stmt = select(Area).order_by(Area.level, Area.code)
    if level is not None:
        stmt = stmt.where(Area.level == level)
    if parent_id is not None:
        stmt = stmt.where(Area.parent_id == parent_id)
    if q:
        stmt = stmt.where(or_(Area.name.contains(q, autoescape=True), Area.code.contains(q, autoescape=True)))
    if code:
        stmt = stmt.where(Area.code == code)
    return paginate(session, stmt, params)


def children(session: Session, area_id: int) -> list[Area]:
    parent = get_area(session, area_id)
    return list(session.scalars(select(Area).where(Area.parent_id == parent.id).order_by(Area.code)))


def roots(session: Session, principal: Principal) -> list[Area]:
    """Where the caller's area tree starts: the area of each ``area.view`` grant (the city's top areas for
    the system)."""
    if principal.is_system:
        return list(session.scalars(select(Area).where(Area.parent_id.is_(None)).order_by(Area.code)))
    codes = [p.rstrip("/").rsplit("/", 1)[-1] for p in principal.paths_with("area.view")]
    return list(session.scalars(select(Area).where(Area.code.in_(codes)).order_by(Area.code))) if codes else []


def own_and_below(session: Session, principal: Principal, permissions: Iterable[str],
                  max_level: int = int(AreaLevel.GRID)) -> list[Area]:
    """The caller's own areas and those one level below, down to ``max_level``, where the caller holds every
    permission named: what a page offers to send a campaign to (a 排查 round, a census)."""
    wanted = tuple(permissions)
    if not all(principal.has_permission(p) for p in wanted):
        return []
    found = [a for root in roots(session, principal) for a in (root, *children(session, root.id))]
    return [a for a in found if a.level <= max_level and all(principal.can(p, a.area_path) for p in wanted)]


def children_with_flags(session: Session, area_id: int) -> list[tuple[Area, bool]]:
    """The children of an area, each with whether it has children of its own in scope, so that a tree can
    show which nodes open without loading the next level."""
    kids = children(session, area_id)
    ids = [k.id for k in kids]
    parents = set(session.scalars(select(Area.parent_id).where(Area.parent_id.in_(ids)).distinct())) if ids else set()
    return [(k, k.id in parents) for k in kids]


def search_areas(session: Session, q: str, max_level: int, limit: int = 20) -> list[AreaRef]:
    """Areas in scope down to ``max_level`` whose name contains ``q`` or whose code starts with it (codes are
    typed from the left), coarse levels first; an empty ``q`` lists the first ones."""
    stmt = select(Area.id, Area.code, Area.name, Area.level).where(Area.level <= max_level)
    if q.strip():
        stmt = stmt.where(or_(Area.name.contains(q.strip(), autoescape=True),
                              Area.code.startswith(q.strip(), autoescape=True)))
    rows = session.execute(stmt.order_by(Area.level, Area.code).limit(limit))
    return [AreaRef(r.id, r.code, r.name, r.level) for r in rows]


@dataclass(frozen=True)
class Place:
    """A named place a citizen can pick instead of pointing at the map: an area's label from the district
    down, and a point inside it."""

    label: str
    lon: float
    lat: float


def places(session: Session, q: str, limit: int = 8) -> list[Place]:
    """Streets, communities and grids whose name contains ``q``, for the citizen portal's place search (so a
    location can be set without a pointer or geolocation). Read unscoped: area names and outlines are the
    city's public map, shown to every reporter. The point is inside the area (not its centroid, which may
    fall outside a concave one)."""
    q = q.strip()
    if not q:
        return []
    stmt = (select(Area).where(Area.level >= AreaLevel.STREET, Area.name.contains(q, autoescape=True))
            .order_by(Area.level, Area.code).limit(limit))
    found = [a for a in session.scalars(stmt, execution_options=UNSCOPED) if a.geometry]
    names = refs_by_code(session, sorted({c for a in found for c in a.area_path.split("/") if c}))
    out = []
    for area in found:
        codes = [c for c in area.area_path.split("/") if c][1:]  # the city is the same for every place
        point = shape(area.geometry).representative_point()
        out.append(Place(" · ".join(names[c].name for c in codes if c in names), round(point.x, 6), round(point.y, 6)))
    return out


def count_grids(session: Session) -> int:
    """Grids in the caller's scope."""
    return session.scalar(select(func.count(Area.id)).where(Area.level == AreaLevel.GRID)) or 0


def count_levels(session: Session) -> dict[int, int]:
    """Areas in the caller's scope, by level (city 0 … grid 4)."""
    rows = session.execute(select(Area.level, func.count(Area.id)).group_by(Area.level))
    return {int(level): int(n) for level, n in rows}


def refs_by_code(session: Session, codes: list[str]) -> dict[str, AreaRef]:
    """Areas named by code, read unscoped: only for codes the caller already holds in a path (an area's
    ancestors, the caller's own grants), so it names places without revealing any new ones."""
    if not codes:
        return {}
    rows = session.execute(
        select(Area.id, Area.code, Area.name, Area.level).where(Area.code.in_(codes)), execution_options=UNSCOPED
    )
    return {r.code: AreaRef(r.id, r.code, r.name, r.level) for r in rows}


def areas_by_id(session: Session, ids: Iterable[int | None]) -> dict[int, Area]:
    """Areas by id, read unscoped, for labelling rows the caller may see that point at areas they may not
    (a routing rule's area, another user's grant): only ids taken from such rows come here."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return {a.id: a for a in session.scalars(select(Area).where(Area.id.in_(wanted)), execution_options=UNSCOPED)}


def chain(session: Session, area: Area) -> list[AreaRef]:
    """The area and its ancestors up to the city. Ancestors of an area the caller may see are named even
    outside the caller's grants: their codes are already in the area's path."""
    codes = [c for c in area.area_path.split("/") if c]
    return sorted(refs_by_code(session, codes).values(), key=lambda r: -r.level)


def locate(session: Session, principal: Principal, lon: float, lat: float,
           cache: ReferenceCache[GridIndex] = INDEXES) -> GridRecord:
    """The grid containing a point. A grid outside the caller's grants answers exactly like no area."""
    record = cache.get(session).locate(lon, lat)
    if record is None:
        raise OutsideCity(detail={"lon": lon, "lat": lat})
    if not principal.can("area.view", record.area_path):
        raise NotFound(detail={"object": "area"})
    return record


# -- boundaries ----------------------------------------------------------------------------------------


def list_boundaries(session: Session, area_id: int) -> list[AreaBoundary]:
    area = get_area(session, area_id)
    stmt = select(AreaBoundary).where(AreaBoundary.area_id == area.id).order_by(AreaBoundary.version)
    return list(session.scalars(stmt))


def list_proposals(session: Session, status: str, limit: int = 200) -> list[tuple[AreaBoundary, Area]]:
    """The latest boundary changes in ``status`` with their areas, newest proposal first."""
    stmt = (select(AreaBoundary, Area).join(Area, Area.id == AreaBoundary.area_id)
            .where(AreaBoundary.status == status).order_by(AreaBoundary.proposed_at.desc()).limit(limit))
    return [(b, a) for b, a in session.execute(stmt)]


def open_proposals(session: Session, area_ids: list[int]) -> list[AreaBoundary]:
    """The proposals of these areas still awaiting a decision (at most one each)."""
    return list(session.scalars(select(AreaBoundary).where(AreaBoundary.area_id.in_(area_ids),
                                                           AreaBoundary.status == BoundaryStatus.PROPOSED)))


def count_open_proposals(session: Session) -> int:
    """Proposals in the caller's scope awaiting a decision."""
    return session.scalar(select(func.count(AreaBoundary.id))
                          .where(AreaBoundary.status == BoundaryStatus.PROPOSED)) or 0


def get_proposal(session: Session, proposal_id: int) -> AreaBoundary:
    boundary = session.scalar(select(AreaBoundary).where(AreaBoundary.id == proposal_id))
    if boundary is None:
        raise NotFound(detail={"object": "boundary", "id": proposal_id})
    return boundary


def boundary_at(session: Session, area_id: int, when: datetime) -> AreaBoundary | None:
    """The approved version in force at ``when`` (so a case keeps the grid it was filed in)."""
    stmt = (
        select(AreaBoundary)
        .where(
            AreaBoundary.area_id == area_id,
            AreaBoundary.status.in_([BoundaryStatus.APPROVED, BoundaryStatus.SUPERSEDED]),
            AreaBoundary.effective_from <= when,
            or_(AreaBoundary.effective_to.is_(None), AreaBoundary.effective_to > when),
        )
        .order_by(AreaBoundary.version.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def _parse(geometry: Any, subject: str) -> BaseGeometry:
    try:
        return parse_boundary(geometry)
    except GeometryProblem as exc:
        raise rules.AreaRuleError([rules.issue("invalid_geometry", subject, reason=str(exc))]) from exc


def _subject(area: Area) -> str:
    return f"{area.code} {area.name}"


def _neighbours(session: Session, principal: Principal, area: Area) -> tuple[Any, list[Any], list[Any]]:
    """(parent, siblings, children) of ``area`` as (label, shape) pairs, read unscoped."""

    def pairs(stmt: Any) -> list[tuple[str, BaseGeometry]]:
        rows = session.execute(stmt.where(Area.geometry.is_not(None)), execution_options=UNSCOPED)
        return [(r.code if principal.can("area.view", r.area_path) else HIDDEN, shape(r.geometry)) for r in rows]

    cols = select(Area.code, Area.area_path, Area.geometry)
    parent = pairs(cols.where(Area.id == area.parent_id)) if area.parent_id else []
    siblings = pairs(cols.where(Area.parent_id == area.parent_id, Area.id != area.id)) if area.parent_id else []
    kids = pairs(cols.where(Area.parent_id == area.id))
    return (parent[0] if parent else None), siblings, kids


def _check_fit(session: Session, principal: Principal, area: Area, geom: BaseGeometry) -> None:
    parent, siblings, kids = _neighbours(session, principal, area)
    problems = rules.errors_only(rules.check_boundary(_subject(area), geom, parent, siblings, kids))
    if problems:
        raise rules.AreaRuleError(problems)


def propose_boundary(
    session: Session, principal: Principal, area_id: int, geometry: Any, note: str = ""
) -> AreaBoundary:
    """A new boundary version awaiting approval; checked now for early feedback and again at approval."""
    area = get_area(session, area_id)
    principal.require("area.propose", area.area_path)
    geom = _parse(geometry, _subject(area))
    versions = session.execute(
        select(func.max(AreaBoundary.version), func.count(AreaBoundary.id).filter(
            AreaBoundary.status == BoundaryStatus.PROPOSED)).where(AreaBoundary.area_id == area.id),
        execution_options=UNSCOPED,
    ).one()
    if versions[1]:
        raise Conflict("proposal_pending", "该区域已有待审批的边界变更申请",
                       "This area already has a boundary proposal awaiting a decision")
    _check_fit(session, principal, area, geom)
    now = utcnow()
    latest = versions[0] or 0
    if latest == 0 and area.geometry is not None:
        # Areas created before versioning (fixtures, early data) get their boundary kept as version 1.
        session.add(AreaBoundary(area_id=area.id, version=1, geometry=area.geometry, area_path=area.area_path,
                                 status=BoundaryStatus.APPROVED, effective_from=area.created_at,
                                 proposed_at=area.created_at, note="基线 / baseline"))
        latest = 1
    proposal = AreaBoundary(area_id=area.id, version=latest + 1, geometry=to_geojson(geom),
                            area_path=area.area_path, status=BoundaryStatus.PROPOSED,
                            proposed_by_id=principal.user_id, proposed_at=now, note=note.strip()[:500])
    session.add(proposal)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict() from exc
    return proposal


# Where a child's own serial sits in its 12- or 15-digit code (the digits after its parent's prefix).
_SERIAL = {AreaLevel.DISTRICT: (4, 6), AreaLevel.STREET: (6, 9), AreaLevel.COMMUNITY: (9, 12),
           AreaLevel.GRID: (12, 15)}


def suggest_child_code(session: Session, parent: Area) -> str | None:
    """The next free code for a new child of ``parent``: its prefix, the highest serial in use plus one, the
    rest zeros (GB/T 2260 style; a grid is the community code plus a 3-digit serial). None under a grid."""
    if parent.level >= AreaLevel.GRID:
        return None
    level = AreaLevel(parent.level + 1)
    start, end = _SERIAL[level]
    codes = session.scalars(select(Area.code).where(Area.parent_id == parent.id), execution_options=UNSCOPED)
    serials = [int(c[start:end]) for c in codes if c[start:end].isdigit()]
    serial = max(serials, default=0) + 1
    if serial >= 10 ** (end - start):
        return None
    tail = "" if level == AreaLevel.GRID else "0" * (12 - end)
    return parent.code[:start] + str(serial).zfill(end - start) + tail


def propose_new_area(session: Session, principal: Principal, parent_id: int, code: str, name: str,
                     geometry: Any, note: str = "") -> AreaBoundary:
    """A street, community or grid drawn on the map inside its parent (no public file has them). The area is
    created without a boundary — so no lookup, route or map uses it yet — and the drawn outline becomes its
    first boundary proposal, checked now and approved by someone else like any other change."""
    parent = get_area(session, parent_id)
    principal.require("area.edit", parent.area_path)
    if parent.level >= AreaLevel.GRID:
        raise ValidationFailed("grid_has_no_children", "网格下不能再划分区域", "A grid has no smaller areas")
    level = AreaLevel(parent.level + 1)
    code, name = code.strip(), name.strip()
    if not name or len(name) > 100:
        raise ValidationFailed("name_required", "请填写名称（不超过100个字）", "Give a name (at most 100 characters)",
                               detail={"field": "name"})
    subject = f"{name}（{code}）"
    taken = session.scalar(select(Area.id).where(Area.code == code), execution_options=UNSCOPED) is not None
    problems = [p for p in (rules.check_code(code, level, subject),
                            rules.check_code_prefix(code, level, parent.code, subject),
                            rules.issue("code_in_use", subject) if taken else None) if p]
    if problems:
        raise rules.AreaRuleError(problems)
    _parse(geometry, subject)
    # No geometry given at all, so the column is SQL NULL (a JSON null would pass "geometry IS NOT NULL").
    area = Area(code=code, name=name, level=int(level), parent_id=parent.id, area_path=f"{parent.area_path}{code}/")
    session.add(area)
    session.flush()
    return propose_boundary(session, principal, area.id, geometry, note)


def _open_proposal(session: Session, principal: Principal, proposal_id: int) -> AreaBoundary:
    proposal = get_proposal(session, proposal_id)
    principal.require("area.approve", proposal.area_path)
    if proposal.status != BoundaryStatus.PROPOSED:
        raise Conflict("proposal_decided", "该申请已处理（{state}）", "This proposal was already decided ({state})",
                       state=str(proposal.status), detail={"status": str(proposal.status)})
    return proposal


def _append_note(proposal: AreaBoundary, status: str, note: str) -> None:
    if note.strip():
        proposal.note = f"{proposal.note}\n[{status}] {note.strip()}".strip()[:500]


def approve(session: Session, principal: Principal, proposal_id: int, note: str = "") -> AreaBoundary:
    """Approve: the rules are re-checked against today's neighbours, the previous version ends now, the
    new one starts now and becomes the area's geometry, and every process's lookup index goes stale."""
    proposal = _open_proposal(session, principal, proposal_id)
    if proposal.proposed_by_id is not None and proposal.proposed_by_id == principal.user_id:
        raise Forbidden("self_approval", "不能批准自己提交的边界变更申请",
                        "A boundary proposal must be approved by someone other than its proposer")
    area = get_area(session, proposal.area_id)
    # Serialise approvals among siblings (PostgreSQL row lock; SQLite serialises writers anyway).
    session.execute(select(Area.id).where(Area.id == (area.parent_id or area.id)).with_for_update(),
                    execution_options=UNSCOPED)
    _check_fit(session, principal, area, shape(proposal.geometry))
    now = utcnow()
    current = session.scalars(select(AreaBoundary).where(
        AreaBoundary.area_id == area.id, AreaBoundary.status == BoundaryStatus.APPROVED)).all()
    for old in current:
        old.status = BoundaryStatus.SUPERSEDED
        old.effective_to = now
    proposal.status = BoundaryStatus.APPROVED
    proposal.effective_from = now
    proposal.decided_by_id = principal.user_id
    proposal.decided_at = now
    _append_note(proposal, "approved", note)
    area.geometry = proposal.geometry
    bump_generation(session)
    session.flush()
    return proposal


def reject(session: Session, principal: Principal, proposal_id: int, note: str) -> AreaBoundary:
    if len(note.strip()) < 2:
        raise ValidationFailed("note_required", "驳回须填写理由", "Give a reason for the rejection",
                               detail={"field": "note"})
    proposal = _open_proposal(session, principal, proposal_id)
    proposal.status = BoundaryStatus.REJECTED
    proposal.decided_by_id = principal.user_id
    proposal.decided_at = utcnow()
    _append_note(proposal, "rejected", note)
    session.flush()
    return proposal
