"""natural time limits: a case step's time basis, and the 突发事件 classes on natural time

A running step now counts working or natural time (``case.step_basis``; every step running today was
started on working time, hence the server default). Category limits may name natural units, and natural
time is the default for emergencies: the minor classes under a 突发事件 major class move to natural units.
Downgrading turns natural units back into working ones of the same size (the older code knows only those).

Revision ID: b7d2e4a91c03
Revises: b7d41c9e2a05
Create Date: 2026-12-05 04:00:00
"""
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = 'b7d2e4a91c03'
down_revision = 'b7d41c9e2a05'
branch_labels = None
depends_on = None

EMERGENCY_ZH = "突发事件"
TO_NATURAL = {"working_hours": "natural_hours", "working_days": "natural_days"}
TO_WORKING = {v: k for k, v in TO_NATURAL.items()}
category = sa.table("category", sa.column("id", sa.Integer), sa.column("parent_id", sa.Integer),
                    sa.column("name_zh", sa.String), sa.column("time_limits", sa.JSON))


def _convert(limits: Any, units: dict[str, str], drop: str = "") -> Any:
    """The limits with every unit mapped through ``units`` (and the key ``drop`` left out)."""
    if isinstance(limits, dict):
        return {k: (units.get(v, v) if k == "unit" else _convert(v, units)) for k, v in limits.items() if k != drop}
    return limits


def _rewrite(where: Any, units: dict[str, str], drop: str = "") -> None:
    bind = op.get_bind()
    for row in bind.execute(sa.select(category.c.id, category.c.time_limits).where(where)).all():
        if row.time_limits:
            bind.execute(category.update().where(category.c.id == row.id)
                         .values(time_limits=_convert(row.time_limits, units, drop)))


def upgrade() -> None:
    op.add_column('case', sa.Column('step_basis', sa.String(length=8), server_default='working', nullable=False))
    majors = sa.select(category.c.id).where(category.c.parent_id.is_(None), category.c.name_zh == EMERGENCY_ZH)
    _rewrite(category.c.parent_id.in_(majors), TO_NATURAL)


def downgrade() -> None:
    _rewrite(category.c.parent_id.is_not(None), TO_WORKING, drop="critical_natural")
    op.drop_column('case', 'step_basis')
