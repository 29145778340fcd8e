"""verify photo required: a category flag asking the verifier for an on-site photo to pass 核查

Revision ID: e5c1a7d3b9f2
Revises: d1e5a7c3b9f2
Create Date: 2026-12-05 21:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'e5c1a7d3b9f2'
down_revision = 'd1e5a7c3b9f2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('category') as batch:
        batch.add_column(sa.Column('verify_photo_required', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('category') as batch:
        batch.drop_column('verify_photo_required')
