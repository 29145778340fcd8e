"""Stale records become work: a person, house or unit nobody confirmed on site for
``SHIYU_REGISTRY_STALE_MONTHS`` months gets one "registry.stale_check" item in its grid (the task engine,
``shiyu.tasks``), and when the grid worker finishes it with "confirmed", the record's ``confirmed_at`` moves.

Idempotent on the item's ``source_ref`` — ``<kind>:<id>:<date it was last confirmed or created>`` — so a
record stale since the same day is checked once however often the job runs, and a record confirmed and
stale again a year later gets a new item.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shiyu.core import outbox
from shiyu.core.db import transaction
from shiyu.core.jobs import JobContext, periodic
from shiyu.core.outbox import OutboxEvent
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.registry import service
from shiyu.registry.models import Address, Person, PersonStatus, Unit
from shiyu.registry.places import address_label
from shiyu.tasks import service as tasks
from shiyu.tasks.models import WorkItem

log = logging.getLogger("shiyu.registry.stale")
TYPE_CODE = "registry.stale_check"
CHECK_DAYS = 30  # the worker has a month to visit
FORM: list[dict[str, Any]] = [
    {"name": "confirmed", "label": "信息是否准确无误", "label_en": "Are the details still right?", "type": "yesno",
     "required": True},
    {"name": "note", "label": "变化情况", "label_en": "What changed", "type": "textarea"},
    {"name": "photo", "label": "现场照片", "label_en": "Photo on site", "type": "photo"},
]
KIND_LABELS = {"person": "人员信息核实", "house": "房屋信息核实", "unit": "单位信息核实"}


def ensure_type(session: Session) -> None:
    tasks.ensure_system_type(session, TYPE_CODE, "基础信息定期核实", FORM, cycle_days=365,
                             legal_basis="GB/T 31000-2015 社会治安综合治理 基础数据规范")


def _stale(session: Session, kind: str, cutoff: datetime, limit: int) -> list[tuple[Any, datetime, str]]:
    """(record, date it counts from, label) of up to ``limit`` stale records of one kind, oldest first."""
    model = service.CONFIRMABLE[kind]
    since = func.coalesce(model.confirmed_at, model.created_at)
    stmt = select(model, since).where(since < cutoff).order_by(since, model.id).limit(limit)
    if kind == "person":
        stmt = stmt.where(Person.status == PersonStatus.ACTIVE.value)
    elif kind == "unit":
        stmt = stmt.where(Unit.status == "active")
    rows = list(session.execute(stmt))
    labels: dict[int, str] = {}
    if kind == "house":
        ids = [r.address_id for r, _ in rows]
        labels = {a.id: address_label(a) for a in session.scalars(select(Address).where(Address.id.in_(ids)))}
    out = []
    for record, counted_from in rows:
        if kind == "house":
            label = labels.get(record.address_id, "")
        elif kind == "unit":
            label = record.name
        else:  # a person's name is personal data: the label says what to check, the item links the record
            label = f"{KIND_LABELS[kind]} #{record.id}"
        out.append((record, counted_from, label[:200]))
    return out


def open_checks(session: Session, *, months: int, now: datetime | None = None, per_kind: int = 500) -> int:
    """Open the missing check items for stale records (at most ``per_kind`` of each kind per run)."""
    now = now or utcnow()
    ensure_type(session)
    cutoff = now - timedelta(days=round(months * 30.44))
    opened = 0
    for kind in service.CONFIRMABLE:
        stale = _stale(session, kind, cutoff, per_kind)
        refs = {f"{kind}:{r.id}:{since.date().isoformat()}": (r, label) for r, since, label in stale}
        have = set(session.scalars(select(WorkItem.source_ref).where(WorkItem.source_ref.in_(list(refs)))
                                   .execution_options(unscoped=True))) if refs else set()
        for ref, (record, label) in refs.items():
            if ref in have:
                continue
            tasks.open_item(session, type_code=TYPE_CODE, source_ref=ref, due_at=now + timedelta(days=CHECK_DAYS),
                            target=tasks.TargetRef(kind, record.id, record.grid_id, label),
                            title=KIND_LABELS[kind])
            opened += 1
    return opened


@periodic(hour="3", minute="20")
def open_stale_checks(ctx: JobContext) -> int:
    """Nightly: stale persons, houses and units become check items in their grids."""
    with transaction(ctx.session_factory, principal=Principal.system("registry")) as session:
        opened = open_checks(session, months=ctx.settings.registry_stale_months)
    if opened:
        log.info("stale records: %d check items opened", opened)
    return opened


@outbox.subscribe("task.item_done", name="registry.stale_confirmed")
def confirmed_on_site(session: Session, event: OutboxEvent) -> None:
    """A check done with "confirmed" moves the record's ``confirmed_at`` to when it was done."""
    payload = event.payload
    if payload.get("type_code") != TYPE_CODE or payload.get("data", {}).get("confirmed") is not True:
        return
    if payload.get("target_kind") in service.CONFIRMABLE and payload.get("target_id"):
        service.confirm_record(session, payload["target_kind"], payload["target_id"],
                               datetime.fromisoformat(payload["done_at"]))
