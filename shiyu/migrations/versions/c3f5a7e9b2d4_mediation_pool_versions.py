"""mediation pool versions: organisations and mediators are edited from pages now; a version column lets two
administrators editing the same one at once find out (409 conflict) instead of overwriting each other

Revision ID: c3f5a7e9b2d4
Revises: e9b1d3f5a7c2
Create Date: 2026-12-08 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'c3f5a7e9b2d4'
down_revision = 'e9b1d3f5a7c2'
branch_labels = None
depends_on = None

TABLES = ('dispute_org', 'dispute_mediator')


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: a batch copy on SQLite would trip the foreign keys of the disputes
    # and mediators that name these rows. Existing rows start at version 1, as new ones do.
    for table in TABLES:
        op.add_column(table, sa.Column('version', sa.Integer(), server_default='1', nullable=False))


def downgrade() -> None:
    for table in TABLES:
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE {table} DROP COLUMN version")
        else:
            op.drop_column(table, 'version')
