"""dispute mediation alert: what the mediation-limit scan has announced of the running month (issue 17)

Revision ID: d7f9b1c3e5a8
Revises: c5e7a9b1d3f6
Create Date: 2026-12-07 11:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'd7f9b1c3e5a8'
down_revision = 'c5e7a9b1d3f6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Disputes already past their month are announced once by the first scan (0: nothing announced yet).
    op.add_column('dispute', sa.Column('mediation_alert', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE dispute DROP COLUMN mediation_alert")
    else:
        op.drop_column('dispute', 'mediation_alert')
