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
    # A plain ADD COLUMN on both databases: a batch copy of category on SQLite would trip the foreign keys of the
    # cases that name their category.
    op.add_column('category', sa.Column('verify_photo_required', sa.Boolean(), server_default=sa.false(),
                                        nullable=False))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops the column itself (3.35+), without the batch copy (see upgrade).
        op.execute("ALTER TABLE category DROP COLUMN verify_photo_required")
    else:
        op.drop_column('category', 'verify_photo_required')
