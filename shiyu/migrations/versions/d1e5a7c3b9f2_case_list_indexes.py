"""case list indexes: state and department within an area

Revision ID: d1e5a7c3b9f2
Revises: c4a468d73cf0
Create Date: 2026-12-05 21:40:00
"""
from alembic import op


revision = 'd1e5a7c3b9f2'
down_revision = 'c4a468d73cf0'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.create_index('ix_case_state_area', ['state', 'area_path'], unique=False)
        batch_op.create_index('ix_case_department_area', ['main_department_id', 'area_path'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_index('ix_case_department_area')
        batch_op.drop_index('ix_case_state_area')
