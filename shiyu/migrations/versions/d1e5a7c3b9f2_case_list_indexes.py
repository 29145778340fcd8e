"""case list indexes: state and department within an area, a category over time

They replace the single-column indexes on state, main_department_id and category_id (their first columns), and
the one on channel goes.

Revision ID: d1e5a7c3b9f2
Revises: c4a468d73cf0
Create Date: 2026-12-05 21:40:00
"""
from alembic import op


revision = 'd1e5a7c3b9f2'
down_revision = 'c4a468d73cf0'
branch_labels = None
depends_on = None

COMPOSITES = {
    'ix_case_state_area': ['state', 'area_path'],
    'ix_case_department_area': ['main_department_id', 'area_path'],
    'ix_case_category_reported': ['category_id', 'reported_at'],
}
# The first three are the composites' first columns; channel has a handful of values, and its index led the
# planner to AND a bitmap of a quarter of all cases into every list filtered by channel.
SINGLES = {'ix_case_state': 'state', 'ix_case_main_department_id': 'main_department_id',
           'ix_case_category_id': 'category_id', 'ix_case_channel': 'channel'}


def upgrade() -> None:
    with op.batch_alter_table('case', schema=None) as batch_op:
        for name, columns in COMPOSITES.items():
            batch_op.create_index(name, columns, unique=False)
        for name in SINGLES:
            batch_op.drop_index(name)


def downgrade() -> None:
    with op.batch_alter_table('case', schema=None) as batch_op:
        for name, column in SINGLES.items():
            batch_op.create_index(name, [column], unique=False)
        for name in COMPOSITES:
            batch_op.drop_index(name)
