"""notices: 站内消息 to named users (a petition's limit about to pass, a warning raised) (issue 17)

Revision ID: c5e7a9b1d3f6
Revises: b3d5f7a9c1e4
Create Date: 2026-12-07 10:00:00
"""
import sqlalchemy as sa

import shiyu.core.db
from alembic import op

revision = 'c5e7a9b1d3f6'
down_revision = 'b3d5f7a9c1e4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'notice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=120), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('link', sa.String(length=300), nullable=False),
        sa.Column('urgent', sa.Boolean(), nullable=False),
        sa.Column('created_at', shiyu.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('read_at', shiyu.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'key', name='uq_notice_user_key'),
    )
    op.create_index('ix_notice_user_unread', 'notice', ['user_id', 'read_at', 'id'])


def downgrade() -> None:
    op.drop_index('ix_notice_user_unread', table_name='notice')
    op.drop_table('notice')
