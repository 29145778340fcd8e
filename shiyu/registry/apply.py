"""Writing an accepted change into the register (``changes.decide`` calls these, in its transaction).

Each function takes the checked ``after`` of a change record and answers the register rows it wrote as
``"<entity>:<id>"``. A new member whose ID number is already registered to an active person the reviewer
may edit is that person (moved here, the old residence closed: history kept), not a second record; one
registered where the reviewer cannot edit stays a duplicate for ``dedupe.merge`` at a level above both.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shiyu.core.errors import Conflict
from shiyu.core.pii import blind_hash
from shiyu.core.scoping import Principal
from shiyu.org.areas.models import Area
from shiyu.registry import places
from shiyu.registry.models import (
    EDIT,
    Component,
    House,
    Household,
    Person,
    PersonStatus,
    Residence,
    Unit,
)

UNSCOPED = {"unscoped": True}
# The columns a change may set, per entity (everything else is the register's own bookkeeping).
EDITABLE: dict[type[Any], tuple[str, ...]] = {
    Person: ("name", "id_number", "phone", "sex", "birth_date", "ethnicity", "residence_type", "hukou_address",
             "arrival_date", "permit_no", "permit_expires_on", "occupation", "relation", "police_note"),
    House: ("use", "area_m2", "landlord_name", "landlord_phone", "tenant_count", "rental_filed_on",
            "last_inspected_on"),
    Unit: ("credit_code", "name", "kind", "address_text", "legal_rep_name", "legal_rep_phone", "staff_count",
           "place_type", "risk_tags", "red_property"),
    Component: ("class_code", "name", "lon", "lat", "owner_name", "status"),
}
_DATES = {"birth_date", "arrival_date", "permit_expires_on", "rental_filed_on", "last_inspected_on"}


def snapshot(obj: Any) -> dict[str, Any]:
    """The editable fields of a register row as plain data (dates as ISO text): a change record's 'before'."""
    out = {}
    for key in EDITABLE[type(obj)]:
        value = getattr(obj, key)
        out[key] = value.isoformat() if isinstance(value, date) else value
    return out


def _set(obj: Any, values: dict[str, Any]) -> None:
    for key in EDITABLE[type(obj)]:
        if key in values:
            value = values[key]
            setattr(obj, key, date.fromisoformat(value) if key in _DATES and isinstance(value, str) else value)


def _house_at(session: Session, grid: Area, parts: dict[str, Any]) -> House:
    address = places.ensure_address(session, grid, parts)
    building = places.ensure_building(session, grid, places.community_of(session, grid), parts)
    session.flush()
    house = session.scalar(select(House).where(House.address_id == address.id))
    if house is None:
        house = House(address_id=address.id, building_id=building.id if building else None, grid_id=grid.id,
                      area_path=grid.area_path)
        session.add(house)
    return house


def _end_residences(session: Session, person_id: int, on: date) -> None:
    session.execute(update(Residence).where(Residence.person_id == person_id, Residence.moved_out_on.is_(None))
                    .values(moved_out_on=on))


def _existing(session: Session, principal: Principal, id_number: str | None) -> Person | None:
    if not id_number:
        return None
    person: Person | None = session.scalar(
        select(Person).where(Person.id_number_hash == blind_hash("id_number", id_number),
                             Person.status == PersonStatus.ACTIVE.value).order_by(Person.id).limit(1))
    return person if person is not None and principal.can(EDIT, person.area_path) else None


def household(session: Session, principal: Principal, grid: Area, _action: str, after: dict[str, Any],
              _target: Any) -> list[str]:
    house = _house_at(session, grid, after["address"])
    _set(house, {k: v for k, v in after["house"].items() if v not in (None, "")})
    session.flush()
    home = Household(house_id=house.id, grid_id=grid.id, area_path=grid.area_path)
    session.add(home)
    session.flush()
    written = [f"house:{house.id}", f"household:{home.id}"]
    for member in after["members"]:
        person = _existing(session, principal, member.get("id_number"))
        if person is None:
            person = Person(grid_id=grid.id, area_path=grid.area_path)
            session.add(person)
        else:
            _end_residences(session, person.id, date.today())
            person.grid_id, person.area_path = grid.id, grid.area_path
        _set(person, member)
        person.household_id = home.id
        session.flush()
        moved_in = member.get("arrival_date")
        session.add(Residence(person_id=person.id, house_id=house.id, grid_id=grid.id, area_path=grid.area_path,
                              moved_in_on=date.fromisoformat(moved_in) if moved_in else date.today()))
        written.append(f"person:{person.id}")
    return written


def person(session: Session, _principal: Principal, _grid: Area, action: str, after: dict[str, Any],
           target: Any) -> list[str]:
    if action == "update":
        _set(target, after)
    else:
        _end_residences(session, target.id, date.fromisoformat(after["on"]))
        target.status = (PersonStatus.MOVED_OUT if action == "move_out" else PersonStatus.DECEASED).value
    return [f"person:{target.id}"]


def house(session: Session, _principal: Principal, grid: Area, action: str, after: dict[str, Any],
          target: Any) -> list[str]:
    row = _house_at(session, grid, after["address"]) if action == "create" else target
    _set(row, after)
    session.flush()
    return [f"house:{row.id}"]


def unit(session: Session, _principal: Principal, grid: Area, action: str, after: dict[str, Any],
         target: Any) -> list[str]:
    code = after.get("credit_code")
    if code:
        holder = session.scalar(select(Unit.id).where(Unit.credit_code == code), execution_options=UNSCOPED)
        if holder is not None and (target is None or holder != target.id):
            raise Conflict("credit_code_taken", "该统一社会信用代码已登记", "This credit code is already registered",
                           detail={"field": "credit_code"})
    row = target or Unit(grid_id=grid.id, area_path=grid.area_path)
    _set(row, after)
    session.add(row)
    session.flush()
    return [f"unit:{row.id}"]


def component_code(session: Session, grid: Area, class_code: str) -> str:
    """Grid code + class code + a 6-digit serial within both (GB/T 30428.2: place, class, serial)."""
    prefix = grid.code + class_code
    count = session.scalar(select(func.count(Component.id)).where(Component.code.startswith(prefix)),
                           execution_options=UNSCOPED) or 0
    return f"{prefix}{count + 1:06d}"


def component(session: Session, _principal: Principal, grid: Area, action: str, after: dict[str, Any],
              target: Any) -> list[str]:
    row = target
    if row is None:
        row = Component(grid_id=grid.id, area_path=grid.area_path,
                        code=component_code(session, grid, after["class_code"]))
        session.add(row)
    _set(row, after)
    session.flush()
    return [f"component:{row.id}"]


APPLY: dict[str, Callable[[Session, Principal, Area, str, dict[str, Any], Any], list[str]]] = {
    "household": household, "person": person, "house": house, "unit": unit, "component": component,
}
