"""信访转入: a petition officer asks that a petition be mediated ("转为矛盾纠纷"); the petitions domain emits
``petition.spawn_dispute`` (docs/adr/0012) and this subscriber opens the dispute.

The petitions domain sits above this one, so the dispute is built from the event alone: the petition's id,
number, area, demands and the officer's reason, the register persons its petitioners were matched to, and
the dispute type the officer chose (``other`` when none or an unknown one was sent — the centre corrects it
on accepting). The dispute is placed inside the petition's area (a point inside its outline, in the grid
there) and its applicants are the petitioners found in the register, with their names, ID numbers and phones
from the register; petitioners not in the register are counted in the description for the centre to add.

One dispute per petition (a unique ``petition_id``): a second event for the same petition — the officer
pressing twice, a redelivery — opens nothing. The dispute answers back with ``dispute.from_petition``
(its id and code), which the petitions domain writes on the petition's timeline.
"""

from __future__ import annotations

from typing import Any

from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.core import outbox
from shiyu.core.scoping import Principal
from shiyu.disputes import service
from shiyu.disputes.models import Dispute, PartyRole, Source
from shiyu.org.areas.models import Area
from shiyu.registry.models import Person

SYSTEM = Principal.system("disputes.from_petition")
FALLBACK_TYPE = "other"


def _place(session: Session, area_id: int) -> tuple[float, float, str] | None:
    """A point inside the petition's area and the area's name (the dispute's place until the centre knows
    better), or None when the area has no outline to place it in."""
    area = session.get(Area, area_id)
    if area is None or not area.geometry:
        return None
    point = shape(area.geometry).representative_point()
    return round(point.x, 6), round(point.y, 6), area.name


def _description(p: dict[str, Any], missing: int) -> str:
    lines = [f"信访件 {p['number']} 转入。", f"诉求：{p.get('demands') or '—'}", f"转办理由：{p.get('reason') or '—'}"]
    if missing:
        lines.append(f"另有 {missing} 名信访人未在实有人口中登记，请补录为当事人。")
    return "\n".join(lines)


@outbox.subscribe("petition.spawn_dispute", name="disputes.from_petition")
def from_petition(session: Session, event: outbox.OutboxEvent) -> None:
    caller = session.info.get("principal")
    session.info["principal"] = SYSTEM
    try:
        _open(session, event.payload)
    finally:
        session.info["principal"] = caller


def _open(session: Session, p: dict[str, Any]) -> None:
    petition_id = int(p["petition_id"])
    if session.scalar(select(Dispute.id).where(Dispute.petition_id == petition_id)) is not None:
        return
    place = _place(session, int(p["area_id"]))
    if place is None:
        raise LookupError(f"petition {p['number']}: area {p['area_id']} has no outline to place the dispute in")
    type_code = p.get("type_code") or FALLBACK_TYPE
    if type_code not in {t.code for t in service.types(session)}:
        type_code = FALLBACK_TYPE
    person_ids = [int(i) for i in p.get("person_ids", [])]
    people = {row.id: row for row in session.scalars(select(Person).where(Person.id.in_(person_ids)))}
    parties = tuple(service.PartyIn(role=PartyRole.APPLICANT.value, name=person.name or "", person_id=person.id,
                                    id_number=person.id_number, phone=person.phone)
                    for person in (people[i] for i in dict.fromkeys(person_ids) if i in people))
    missing = len(p.get("petitioner_ids", [])) - len(parties)
    data = service.DisputeIn(title=f"信访转入：{str(p.get('demands') or p['number'])[:40]}", type_code=type_code,
                             lon=place[0], lat=place[1], address=place[2], description=_description(p, missing),
                             source=Source.PETITION.value, people_count=max(2, int(p.get("group_size") or 1)),
                             is_group=bool(p.get("collective")), parties=parties)
    dispute = service.open_from_petition(session, SYSTEM, data, petition_id)
    outbox.emit(session, "dispute.from_petition", "dispute", dispute.id, dispute.area_path,
                {"dispute_id": dispute.id, "code": dispute.code, "petition_id": petition_id,
                 "number": p["number"]})
