"""petitions: petition records, petitioners, timeline, reception days and time limits (shiyu.petitions)

Revision ID: 3eaf34a51dbf
Revises: 47d1865db7ff
Create Date: 2026-12-06 00:39:14.102939
"""
from alembic import op
import sqlalchemy as sa
import shiyu.core.db
import shiyu.core.pii


revision = '3eaf34a51dbf'
down_revision = '28c0183b9724'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('petition_time_limit',
    sa.Column('key', sa.String(length=24), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('updated_at', shiyu.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_petition_time_limit'))
    )

    op.create_table('petition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('received_at', shiyu.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('group_size', sa.Integer(), nullable=False),
    sa.Column('collective', sa.Boolean(), nullable=False),
    sa.Column('demands', sa.Text(), nullable=False),
    sa.Column('complained_unit', sa.String(length=200), nullable=False),
    sa.Column('first_time', sa.Boolean(), nullable=False),
    sa.Column('earlier_count', sa.Integer(), nullable=False),
    sa.Column('skip_level', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('notice', sa.Text(), nullable=False),
    sa.Column('assigned_unit', sa.String(length=200), nullable=False),
    sa.Column('leader_id', sa.Integer(), nullable=True),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('satisfied', sa.Boolean(), nullable=True),
    sa.Column('review_answer', sa.Text(), nullable=False),
    sa.Column('re_review_answer', sa.Text(), nullable=False),
    sa.Column('extended', sa.Boolean(), nullable=False),
    sa.Column('step_started_at', shiyu.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('due_at', shiyu.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('warn_at', shiyu.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('alert', sa.Integer(), nullable=False),
    sa.Column('accept_due_at', shiyu.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_at', shiyu.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('handle_due_at', shiyu.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_at', shiyu.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', shiyu.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('registered_by', sa.Integer(), nullable=True),
    sa.Column('area_path', sa.String(length=160).with_variant(sa.String(length=160, collation='C'), 'postgresql'), nullable=False),
    sa.Column('created_at', shiyu.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shiyu.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['area.id'], name=op.f('fk_petition_area_id_area'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['leader_id'], ['user_account.id'], name=op.f('fk_petition_leader_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['registered_by'], ['user_account.id'], name=op.f('fk_petition_registered_by_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_petition')),
    sa.UniqueConstraint('number', name=op.f('uq_petition_number'))
    )
    op.create_index(op.f('ix_petition_area_id'), 'petition', ['area_id'], unique=False)
    op.create_index(op.f('ix_petition_area_path'), 'petition', ['area_path'], unique=False)
    op.create_index(op.f('ix_petition_leader_id'), 'petition', ['leader_id'], unique=False)
    op.create_index('ix_petition_state_path', 'petition', ['state', 'area_path'], unique=False)
    op.create_table('petition_reception',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('leader_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('petition_ids', sa.JSON(), nullable=False),
    sa.Column('area_path', sa.String(length=160).with_variant(sa.String(length=160, collation='C'), 'postgresql'), nullable=False),
    sa.Column('created_at', shiyu.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shiyu.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['area.id'], name=op.f('fk_petition_reception_area_id_area'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['leader_id'], ['user_account.id'], name=op.f('fk_petition_reception_leader_id_user_account'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_petition_reception'))
    )
    op.create_index(op.f('ix_petition_reception_area_id'), 'petition_reception', ['area_id'], unique=False)
    op.create_index(op.f('ix_petition_reception_area_path'), 'petition_reception', ['area_path'], unique=False)
    op.create_index(op.f('ix_petition_reception_leader_id'), 'petition_reception', ['leader_id'], unique=False)
    op.create_table('petition_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('at', shiyu.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=80), nullable=False),
    sa.Column('action', sa.String(length=24), nullable=False),
    sa.Column('from_state', sa.String(length=16), nullable=False),
    sa.Column('to_state', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('area_path', sa.String(length=160).with_variant(sa.String(length=160, collation='C'), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_petition_event_actor_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['petition_id'], ['petition.id'], name=op.f('fk_petition_event_petition_id_petition'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_petition_event'))
    )
    op.create_index(op.f('ix_petition_event_area_path'), 'petition_event', ['area_path'], unique=False)
    op.create_index(op.f('ix_petition_event_petition_id'), 'petition_event', ['petition_id'], unique=False)
    op.create_table('petition_petitioner',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('name', shiyu.core.pii.PersonalData('name'), nullable=True),
    sa.Column('id_number', shiyu.core.pii.PersonalData('id_number'), nullable=True),
    sa.Column('id_number_hash', sa.String(length=64), nullable=True),
    sa.Column('phone', shiyu.core.pii.PersonalData('phone'), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('area_path', sa.String(length=160).with_variant(sa.String(length=160, collation='C'), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['registry_person.id'], name=op.f('fk_petition_petitioner_person_id_registry_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['petition_id'], ['petition.id'], name=op.f('fk_petition_petitioner_petition_id_petition'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_petition_petitioner'))
    )
    op.create_index(op.f('ix_petition_petitioner_area_path'), 'petition_petitioner', ['area_path'], unique=False)
    op.create_index(op.f('ix_petition_petitioner_id_number_hash'), 'petition_petitioner', ['id_number_hash'], unique=False)
    op.create_index(op.f('ix_petition_petitioner_petition_id'), 'petition_petitioner', ['petition_id'], unique=False)


def downgrade() -> None:
    # Dropping a table drops its indexes.
    op.drop_table('petition_petitioner')
    op.drop_table('petition_event')
    op.drop_table('petition_reception')
    op.drop_table('petition')
    op.drop_table('petition_time_limit')
