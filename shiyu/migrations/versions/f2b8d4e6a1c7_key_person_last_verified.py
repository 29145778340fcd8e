"""key person last verified: the day a census (集中清查) last confirmed the person is here (issue 16)

Revision ID: f2b8d4e6a1c7
Revises: a4d6f8b0c2e3
Create Date: 2026-12-07 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'f2b8d4e6a1c7'
down_revision = 'a4d6f8b0c2e3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain nullable ADD COLUMN on both databases: no batch copy of kp_record (its rows are referenced by
    # visits, events and hand-overs).
    op.add_column('kp_record', sa.Column('last_verified_on', sa.Date(), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE kp_record DROP COLUMN last_verified_on")
    else:
        op.drop_column('kp_record', 'last_verified_on')
