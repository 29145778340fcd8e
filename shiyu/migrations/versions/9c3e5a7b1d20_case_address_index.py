"""case address index: the repeat finder's look-up by address reads an index, not every case of its window

Revision ID: 9c3e5a7b1d20
Revises: 7b2d4e6f8a10
Create Date: 2026-12-06 12:00:00
"""
from alembic import op

revision = '9c3e5a7b1d20'
down_revision = '7b2d4e6f8a10'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_case_address_reported', 'case', ['address', 'reported_at'])


def downgrade() -> None:
    op.drop_index('ix_case_address_reported', table_name='case')
