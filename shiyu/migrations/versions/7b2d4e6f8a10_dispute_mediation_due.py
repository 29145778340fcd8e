"""dispute mediation due: the one-month mediation limit (人民调解工作若干规定 第三十三条) as a due instant

Revision ID: 7b2d4e6f8a10
Revises: 3eaf34a51dbf
Create Date: 2026-12-06 05:30:00
"""
import sqlalchemy as sa
from alembic import op

import shiyu.core.db

revision = '7b2d4e6f8a10'
down_revision = '3eaf34a51dbf'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases (a batch copy of dispute on SQLite would trip its foreign keys).
    op.add_column('dispute', sa.Column('mediation_due_at', shiyu.core.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE dispute DROP COLUMN mediation_due_at")
    else:
        op.drop_column('dispute', 'mediation_due_at')
