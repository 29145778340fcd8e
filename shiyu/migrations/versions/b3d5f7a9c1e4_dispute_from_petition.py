"""dispute from petition: the petition a dispute was opened from (信访转入), at most one dispute each (issue 17)

Revision ID: b3d5f7a9c1e4
Revises: f2b8d4e6a1c7
Create Date: 2026-12-07 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'b3d5f7a9c1e4'
down_revision = 'f2b8d4e6a1c7'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No foreign key: the petitions domain sits above disputes and may be absent (docs/adr/0012).
    op.add_column('dispute', sa.Column('petition_id', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_dispute_petition_id'), 'dispute', ['petition_id'], unique=True)


def downgrade() -> None:
    op.drop_index(op.f('ix_dispute_petition_id'), table_name='dispute')
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE dispute DROP COLUMN petition_id")
    else:
        op.drop_column('dispute', 'petition_id')
