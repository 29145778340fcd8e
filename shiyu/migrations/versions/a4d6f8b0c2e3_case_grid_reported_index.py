"""case (grid, reported at) index: the look-ups by grid read their time window from the index

Replaces the single-column ``ix_case_grid_id`` (the composite's leading column serves what it served).

Revision ID: a4d6f8b0c2e3
Revises: 9c3e5a7b1d20
Create Date: 2026-12-06 14:30:00
"""
from alembic import op

revision = 'a4d6f8b0c2e3'
down_revision = '9c3e5a7b1d20'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_case_grid_reported', 'case', ['grid_id', 'reported_at'])
    op.drop_index('ix_case_grid_id', table_name='case')


def downgrade() -> None:
    op.create_index('ix_case_grid_id', 'case', ['grid_id'])
    op.drop_index('ix_case_grid_reported', table_name='case')
