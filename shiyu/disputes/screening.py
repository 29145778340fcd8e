"""矛盾纠纷排查 rounds as task assignments (``shiyu.tasks``): a centre sends the type "dispute.screening" to
every grid under an area; each grid answers with the form below — 零报告 (nothing found this round) yes/no, how
many disputes were found, a note — through the field app's task tab. 排查率 is the share of the grids sent a
round that reported (done, or reviewed after done) — 002·A3's target is above 95 %.

The disputes a grid finds are registered as disputes (``/disputes/new``); the round's answer is the grid's
statement that it looked, which is what the rate measures."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shiyu.core.errors import NotFound
from shiyu.core.scoping import Principal
from shiyu.disputes.models import visible
from shiyu.org.areas.models import Area
from shiyu.tasks import service as tasks
from shiyu.tasks.models import Assignment, ItemState, TaskType, WorkItem

TYPE_CODE = "dispute.screening"
ASSIGN = "task.assign"
NAME = "矛盾纠纷排查"
FORM: list[dict[str, Any]] = [
    {"name": "zero_report", "label": "零报告（本轮未发现矛盾纠纷）",
     "label_en": "Zero report (nothing found this round)", "type": "yesno", "required": True},
    {"name": "found", "label": "发现矛盾纠纷件数", "label_en": "Disputes found", "type": "number", "required": False},
    {"name": "note", "label": "排查情况", "label_en": "What was checked", "type": "textarea", "required": False},
]
LEGAL_BASIS = "《人民调解法》第八条；GB/T 31000-2015 矛盾纠纷排查化解"
REPORTED = (ItemState.DONE.value, ItemState.REVIEWED.value)


def ensure_type(db: Session) -> TaskType:
    return tasks.ensure_system_type(db, TYPE_CODE, NAME, FORM, cycle_days=30, legal_basis=LEGAL_BASIS)


def start_round(db: Session, principal: Principal, *, area_id: int, due_at: datetime, title: str = "",
                instructions: str = "") -> Assignment:
    """One round to every grid under ``area_id`` (the caller's centre area or one below it). The area and the
    caller's right to assign there are checked before the type is declared, so a refused round writes nothing."""
    area = visible(db, Area, area_id)
    if area is None:
        raise NotFound(detail={"object": "area", "id": area_id})
    principal.require(ASSIGN, area.area_path)
    ensure_type(db)
    return tasks.assign(db, principal, type_code=TYPE_CODE, title=title or NAME, due_at=due_at,
                        grid_ids=[area_id], instructions=instructions)


def rate(db: Session, since: datetime | None = None, until: datetime | None = None) -> dict[str, Any]:
    """排查率 over the rounds sent in the period that the caller sees: grids reported ÷ grids sent a round, and
    how many of the reports were 零报告."""
    where = tasks.sent_items(db, TYPE_CODE, since, until)
    if where is None:
        return {"grids": 0, "reported": 0, "zero_reports": 0, "rate": None}
    total = db.scalar(select(func.count()).select_from(WorkItem).where(*where)) or 0
    reported = list(db.scalars(select(WorkItem.data).where(*where, WorkItem.state.in_(REPORTED))))
    zero = sum(1 for data in reported if (data or {}).get("zero_report") is True)
    return {"grids": total, "reported": len(reported), "zero_reports": zero,
            "rate": round(len(reported) / total, 4) if total else None}
