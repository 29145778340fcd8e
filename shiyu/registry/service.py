"""Reading the registers: lists and profiles as every API and page shows them — personal data masked, the
police's fields absent for everyone else, every read of a person in the audit log — and the audited
reveal of one field with a reason.

Searching by ID number or by full name goes through the blind indexes (an exact match, nothing decrypted);
a name search within an area is the name's index and the area path's prefix together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.core import audit
from shiyu.core.db import get_or_not_found
from shiyu.core.errors import ValidationFailed
from shiyu.core.paging import PageParams, paginate
from shiyu.core.pii import blind_hash, mask, reveal_reason
from shiyu.core.scoping import Principal
from shiyu.registry.models import (
    Address,
    Building,
    Component,
    House,
    Household,
    Person,
    Residence,
    Unit,
)
from shiyu.registry.places import address_label

REVEAL = "registry.reveal"
POLICE = "registry.police_view"
PERSON_PII = {"name": "name", "id_number": "id_number", "phone": "phone", "hukou_address": "address"}
UNIT_PII = {"legal_rep_name": "name", "legal_rep_phone": "phone"}
HOUSE_PII = {"landlord_name": "name", "landlord_phone": "phone"}


def _masked(row: Any, kinds: dict[str, str]) -> dict[str, Any]:
    return {attr: mask(kind, getattr(row, attr)) for attr, kind in kinds.items()}


def person_out(person: Person, principal: Principal) -> dict[str, Any]:
    """A person as shown: masked; ``police_note`` only for those who hold the police's view there."""
    out: dict[str, Any] = {
        "id": person.id, "grid_id": person.grid_id, "area_path": person.area_path, "sex": person.sex,
        "birth_date": person.birth_date, "ethnicity": person.ethnicity, "residence_type": person.residence_type,
        "arrival_date": person.arrival_date, "permit_no": person.permit_no,
        "permit_expires_on": person.permit_expires_on, "occupation": person.occupation,
        "household_id": person.household_id, "relation": person.relation, "status": person.status,
        "merged_into_id": person.merged_into_id, **_masked(person, PERSON_PII),
    }
    if principal.can(POLICE, person.area_path):
        out["police_note"] = mask("text", person.police_note)
    return out


@dataclass(frozen=True)
class PersonFilter:
    grid_id: int | None = None
    area_path: str | None = None
    id_number: str | None = None
    name: str | None = None
    status: str | None = None


def list_persons(session: Session, filters: PersonFilter, params: PageParams) -> tuple[list[Person], int]:
    """One page of persons in the caller's scope; the read is audited (who listed which persons)."""
    stmt = select(Person).order_by(Person.id)
    if filters.grid_id is not None:
        stmt = stmt.where(Person.grid_id == filters.grid_id)
    if filters.area_path:
        stmt = stmt.where(Person.area_path.startswith(filters.area_path, autoescape=True))
    if filters.id_number:
        stmt = stmt.where(Person.id_number_hash == blind_hash("id_number", filters.id_number))
    if filters.name:
        stmt = stmt.where(Person.name_hash == blind_hash("name", filters.name))
    if filters.status:
        stmt = stmt.where(Person.status == filters.status)
    rows, total = paginate(session, stmt, params)
    if rows:
        audit.record(session, "read", "registry_person", None, area_path=audit.common_path([p.area_path for p in rows]),
                     after={"ids": [p.id for p in rows]})
    return rows, total


def get_person(session: Session, person_id: int) -> Person:
    return get_or_not_found(session, Person, person_id, "person")


def active_person_with(session: Session, id_hash: str | None) -> int | None:
    """The register's active person with this ID-number blind index, to link a petitioner or a dispute party
    to (read unscoped: the link is made without showing the person; the oldest record wins)."""
    if id_hash is None:
        return None
    return session.scalar(select(Person.id).where(Person.id_number_hash == id_hash, Person.status == "active")
                          .order_by(Person.id).limit(1).execution_options(unscoped=True))


def profile(session: Session, principal: Principal, person_id: int) -> dict[str, Any]:
    """A person's profile with their residences (history included) and household; the read is audited."""
    person = get_person(session, person_id)
    audit.record(session, "read", "registry_person", person.id, area_path=person.area_path)
    residences = list(session.scalars(select(Residence).where(Residence.person_id == person.id)
                                      .order_by(Residence.moved_in_on.desc(), Residence.id.desc())))
    houses = {h.id: h for h in session.scalars(select(House).where(House.id.in_({r.house_id for r in residences})))}
    labels = _address_labels(session, [h.address_id for h in houses.values()])
    members: list[Person] = []
    if person.household_id is not None:
        members = list(session.scalars(select(Person).where(Person.household_id == person.household_id,
                                                            Person.id != person.id).order_by(Person.id)))
    return {
        **person_out(person, principal),
        "residences": [{"id": r.id, "house_id": r.house_id, "moved_in_on": r.moved_in_on,
                        "moved_out_on": r.moved_out_on,
                        "address": labels.get(houses[r.house_id].address_id, "") if r.house_id in houses else ""}
                       for r in residences],
        "household": [{"id": m.id, "name": mask("name", m.name), "relation": m.relation} for m in members],
    }


def reveal_person(session: Session, principal: Principal, person_id: int, field: str, reason: str) -> str | None:
    """One personal-data field of a person in the clear, for a caller who may reveal it there and says why."""
    if field not in (*PERSON_PII, "police_note"):
        raise ValidationFailed("unknown_field", "该字段不可查看", "No such personal-data field",
                               detail={"field": field[:40]})
    reason = reveal_reason(reason)
    person = get_person(session, person_id)
    principal.require(POLICE if field == "police_note" else REVEAL, person.area_path)
    audit.record(session, "reveal", "registry_person", person.id, area_path=person.area_path, reason=reason,
                 after={"field": field})
    value: str | None = getattr(person, field)
    return value


def _address_labels(session: Session, ids: Any) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {a.id: address_label(a) for a in session.scalars(select(Address).where(Address.id.in_(wanted)))}


def house_out(house: House, label: str) -> dict[str, Any]:
    return {"id": house.id, "grid_id": house.grid_id, "building_id": house.building_id, "address": label,
            "address_id": house.address_id, "use": house.use, "area_m2": house.area_m2,
            "tenant_count": house.tenant_count, "rental_filed_on": house.rental_filed_on,
            "last_inspected_on": house.last_inspected_on, **_masked(house, HOUSE_PII)}


def list_buildings(session: Session, grid_id: int | None, params: PageParams) -> tuple[list[Building], int]:
    stmt = select(Building).order_by(Building.road, Building.building_no, Building.id)
    if grid_id is not None:
        stmt = stmt.where(Building.grid_id == grid_id)
    return paginate(session, stmt, params)


def get_building(session: Session, building_id: int) -> Building:
    return get_or_not_found(session, Building, building_id, "building")


def list_houses(session: Session, params: PageParams, *, grid_id: int | None = None,
                building_id: int | None = None) -> tuple[list[dict[str, Any]], int]:
    stmt = select(House).order_by(House.id)
    if grid_id is not None:
        stmt = stmt.where(House.grid_id == grid_id)
    if building_id is not None:
        stmt = stmt.where(House.building_id == building_id)
    rows, total = paginate(session, stmt, params)
    labels = _address_labels(session, [h.address_id for h in rows])
    return [house_out(h, labels.get(h.address_id, "")) for h in rows], total


def house_detail(session: Session, principal: Principal, house_id: int) -> dict[str, Any]:
    """A house with the people living there now (masked; the read audited) and the units at its address."""
    house = get_or_not_found(session, House, house_id, "house")
    residents = list(session.scalars(
        select(Person).join(Residence, Residence.person_id == Person.id)
        .where(Residence.house_id == house.id, Residence.moved_out_on.is_(None)).order_by(Person.id)))
    if residents:
        audit.record(session, "read", "registry_person", None, area_path=house.area_path,
                     after={"ids": [p.id for p in residents]})
    units = list(session.scalars(select(Unit).where(Unit.address_id == house.address_id).order_by(Unit.id)))
    households = list(session.scalars(select(Household).where(Household.house_id == house.id)))
    return {**house_out(house, _address_labels(session, [house.address_id]).get(house.address_id, "")),
            "residents": [person_out(p, principal) for p in residents],
            "households": [h.id for h in households], "units": [unit_out(u) for u in units]}


def unit_out(unit: Unit) -> dict[str, Any]:
    return {"id": unit.id, "grid_id": unit.grid_id, "credit_code": unit.credit_code, "name": unit.name,
            "kind": unit.kind, "address_text": unit.address_text, "staff_count": unit.staff_count,
            "place_type": unit.place_type, "risk_tags": unit.risk_tags, "red_property": unit.red_property,
            "status": unit.status, **_masked(unit, UNIT_PII)}


def list_units(session: Session, params: PageParams, grid_id: int | None = None,
               place_type: str | None = None) -> tuple[list[Unit], int]:
    stmt = select(Unit).order_by(Unit.id)
    if grid_id is not None:
        stmt = stmt.where(Unit.grid_id == grid_id)
    if place_type:
        stmt = stmt.where(Unit.place_type == place_type)
    return paginate(session, stmt, params)


def get_unit(session: Session, unit_id: int) -> Unit:
    return get_or_not_found(session, Unit, unit_id, "unit")


def list_components(session: Session, params: PageParams, grid_id: int | None = None,
                    class_code: str | None = None) -> tuple[list[Component], int]:
    stmt = select(Component).order_by(Component.id)
    if grid_id is not None:
        stmt = stmt.where(Component.grid_id == grid_id)
    if class_code:
        stmt = stmt.where(Component.class_code.startswith(class_code, autoescape=True))
    return paginate(session, stmt, params)


CONFIRMABLE: dict[str, Any] = {"person": Person, "house": House, "unit": Unit}


def confirm_record(session: Session, kind: str, record_id: int, at: datetime) -> bool:
    """A person, house or unit confirmed on site at ``at`` (a stale-record check done with "confirmed"):
    its ``confirmed_at`` moves to ``at``, never back. False when the record is gone or was confirmed later."""
    model = CONFIRMABLE.get(kind)
    if model is None:
        raise ValidationFailed("registry_kind_unknown", "无法核实该类记录", "Records of this kind are not confirmed",
                               detail={"kind": kind})
    record = session.get(model, record_id)
    if record is None or (record.confirmed_at is not None and record.confirmed_at >= at):
        return False
    record.confirmed_at = at
    session.flush()
    return True
