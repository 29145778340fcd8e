"""Cases about a component (部件): a report names the component by the code on its plate (a street lamp, a
manhole cover, a hydrant — GB/T 30428.2) and the case keeps the component's id, so the case's page shows
which thing it is, where it stands and who owns it.

The resolver is registered with the intake (``shiyu.cases.intake.hooks``). It reads the component unscoped:
the person reporting (a citizen, the hotline, a sensor's system) need not see the registers, and the plate's
code is printed on the street. It refuses a code it does not know and a component outside the grid the
report's point lies in — a wrong code or a point that does not match are both worth telling the reporter."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.cases.models import Case
from shiyu.core.errors import ValidationFailed
from shiyu.registry.models import Component

UNSCOPED = {"unscoped": True}


def resolve(session: Session, case: Case, code: str) -> int:
    found = session.execute(select(Component.id, Component.grid_id).where(Component.code == code.strip()),
                            execution_options=UNSCOPED).first()
    if found is None:
        raise ValidationFailed("unknown_component", "没有该编码的部件，请核对部件标牌上的编码",
                               "No component has this code: check the code on its plate",
                               detail={"field": "component_code"})
    if found.grid_id != case.grid_id:
        raise ValidationFailed("component_elsewhere", "该部件不在上报位置所在的网格，请核对位置或部件编码",
                               "This component is not in the grid of the reported location: check either",
                               detail={"field": "component_code"})
    return int(found.id)


def of_case(session: Session, case: Case) -> Component | None:
    """The component a case names, for the case's page: read unscoped like ``resolve`` — a component's code,
    class, name and owner are what its plate shows on the street, not personal data, and the department
    mending it needs them without seeing the registers."""
    if case.component_id is None:
        return None
    return session.scalar(select(Component).where(Component.id == case.component_id), execution_options=UNSCOPED)
