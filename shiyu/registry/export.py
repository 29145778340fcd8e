"""A list of residents as an XLSX file, for the community's own work (a door-to-door round, a vaccination
list). What leaves the system on a file is the riskiest read there is, so:

- only the persons the exporter may see (their scoped session; a grid they cannot see is a 404);
- masked, unless the exporter holds ``registry.reveal`` where the person lies *and* says why — a person
  outside the reach of the reveal stays masked even then;
- one audit entry per export with the reason, the count, how many were in the clear and every person's id
  (the read of each person), seen by those who see all the persons listed.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.core import audit
from shiyu.core.errors import Forbidden, NotFound, ValidationFailed
from shiyu.core.pii import mask, reveal_reason
from shiyu.core.scoping import Principal
from shiyu.core.tabular import Table
from shiyu.org.areas.models import Area
from shiyu.registry.fields import LABELS
from shiyu.registry.models import VIEW, Address, House, Person, PersonStatus, Residence
from shiyu.registry.places import address_label
from shiyu.registry.service import PERSON_PII, REVEAL

MAX_ROWS = 50_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COLUMNS = ["姓名", "身份证号", "手机", "性别", "出生日期", "民族", "人员类型", "与户主关系", "户籍地址", "现住址",
           "网格编码"]
SEX = {"M": "男", "F": "女"}
RESIDENCE_TYPES = {str(k): v for k, v in LABELS["residence_type"].items()}


def export_persons(session: Session, principal: Principal, grid_id: int | None, reason: str = "") -> Table:
    """The active persons of one grid (or all the caller sees), masked unless a reason is given by someone
    who may reveal them."""
    principal.require(VIEW)
    reveal = bool(reason.strip())
    if reveal:
        reason = reveal_reason(reason)
        if not principal.has_permission(REVEAL):
            raise Forbidden(detail={"permission": REVEAL})
    grids: dict[int, Area] = {}
    stmt = select(Person).where(Person.status == PersonStatus.ACTIVE.value).order_by(Person.grid_id, Person.id)
    if grid_id is not None:
        grid = session.get(Area, grid_id)
        if grid is None or not principal.can(VIEW, grid.area_path):
            raise NotFound(detail={"object": "grid", "id": grid_id})
        grids[grid.id] = grid
        stmt = stmt.where(Person.grid_id == grid_id)
    persons = list(session.scalars(stmt.limit(MAX_ROWS + 1)))
    if len(persons) > MAX_ROWS:
        raise ValidationFailed("export_too_large", f"一次最多导出 {MAX_ROWS} 人，请按网格导出",
                               f"At most {MAX_ROWS} persons per export; export grid by grid")
    missing = {p.grid_id for p in persons} - grids.keys()
    if missing:
        grids.update((a.id, a) for a in session.scalars(select(Area).where(Area.id.in_(missing)),
                                                        execution_options={"unscoped": True}))
    homes = current_addresses(session, [p.id for p in persons])
    rows, clear = [], 0
    for p in persons:
        shown = reveal and principal.can(REVEAL, p.area_path)
        clear += shown
        pii = {attr: getattr(p, attr) if shown else mask(kind, getattr(p, attr)) for attr, kind in PERSON_PII.items()}
        rows.append([pii["name"] or "", pii["id_number"] or "", pii["phone"] or "", SEX.get(p.sex, ""),
                     p.birth_date.isoformat() if p.birth_date else "", p.ethnicity,
                     RESIDENCE_TYPES.get(p.residence_type, p.residence_type),
                     p.relation, pii["hukou_address"] or "", homes.get(p.id, ""),
                     grids[p.grid_id].code if p.grid_id in grids else ""])
    where = grids[grid_id].area_path if grid_id else "/"
    audit.record(session, "export", "registry_person", None,
                 area_path=audit.common_path([p.area_path for p in persons]) if persons else where,
                 reason=reason.strip() if reveal else None,
                 after={"grid_id": grid_id, "count": len(persons), "in_clear": clear, "ids": [p.id for p in persons]})
    return Table(list(COLUMNS), rows)


def current_addresses(session: Session, person_ids: list[int]) -> dict[int, str]:
    """Where each person lives now (their open residence), as an address label."""
    out: dict[int, str] = {}
    for start in range(0, len(person_ids), 5000):
        part = person_ids[start:start + 5000]
        stmt = (select(Residence.person_id, Address).join(House, House.id == Residence.house_id)
                .join(Address, Address.id == House.address_id)
                .where(Residence.person_id.in_(part), Residence.moved_out_on.is_(None)))
        out.update((pid, address_label(address)) for pid, address in session.execute(stmt))
    return out
