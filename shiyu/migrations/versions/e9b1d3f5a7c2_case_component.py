"""case component: the component (部件) a report names by the code on its plate (issue 15)

Revision ID: e9b1d3f5a7c2
Revises: d7f9b1c3e5a8
Create Date: 2026-12-07 12:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'e9b1d3f5a7c2'
down_revision = 'd7f9b1c3e5a8'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A nullable ADD COLUMN and an index: no copy of the case table on either database.
    op.add_column('case', sa.Column('component_id', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_case_component_id'), 'case', ['component_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_case_component_id'), table_name='case')
    if op.get_bind().dialect.name == "sqlite":
        op.execute('ALTER TABLE "case" DROP COLUMN component_id')
    else:
        op.drop_column('case', 'component_id')
