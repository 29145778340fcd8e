"""registry quality grid: the data-quality counts per grid, computed in the background (issue 15)

Revision ID: d7e9f1a3b5c8
Revises: c3f5a7e9b2d4
Create Date: 2026-12-07 09:45:00
"""
import sqlalchemy as sa
from alembic import op

import shiyu.core.db

revision = 'd7e9f1a3b5c8'
down_revision = 'c3f5a7e9b2d4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'registry_quality_grid',
        sa.Column('grid_id', sa.Integer(), nullable=False),
        sa.Column('counts', sa.JSON(), nullable=False),
        sa.Column('duplicates_by_depth', sa.JSON(), nullable=False),
        sa.Column('computed_at', shiyu.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('area_path', sa.String(length=160).with_variant(sa.String(length=160, collation='C'), 'postgresql'),
                  nullable=False),
        sa.ForeignKeyConstraint(['grid_id'], ['area.id'], name=op.f('fk_registry_quality_grid_grid_id_area'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('grid_id', name=op.f('pk_registry_quality_grid')),
    )
    op.create_index(op.f('ix_registry_quality_grid_area_path'), 'registry_quality_grid', ['area_path'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_registry_quality_grid_area_path'), table_name='registry_quality_grid')
    op.drop_table('registry_quality_grid')
