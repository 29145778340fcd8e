"""case search: normalised text with character grams, a blind index of the phone's last four digits, and
saved filters of the desk's case list

Revision ID: b7d41c9e2a05
Revises: bcb0c67f6b0c
Create Date: 2026-12-05 03:50:00.000000
"""
from alembic import op
import sqlalchemy as sa
import shiyu.core.db
import shiyu.core.pii
import shiyu.core.textsearch


revision = 'b7d41c9e2a05'
down_revision = 'bcb0c67f6b0c'
branch_labels = None
depends_on = None

BATCH = 2000


def _keyring():
    """The personal-data keys, to fill the phone-tail index of existing rows; None when they cannot be
    loaded here (the rows then keep an empty index until their phone is written again)."""
    try:
        return shiyu.core.pii.keyring()
    except RuntimeError:
        try:
            from shiyu.core.config import Settings
            settings = Settings()
            return shiyu.core.pii.configure(settings.pii_keys, settings.pii_hash_key, settings.secret_key)
        except Exception as exc:  # noqa: BLE001 — a migration must not fail for want of the keys
            print(f"case search: phone-tail index not filled for existing cases ({exc})")
            return None


def _backfill() -> None:
    """Existing cases get the columns the model's attribute listeners fill for new ones."""
    from shiyu.core.textsearch import grams, normalise

    conn = op.get_bind()
    case = sa.table('case', sa.column('id', sa.Integer), sa.column('tracking_code', sa.String),
                    sa.column('description', sa.Text), sa.column('address', sa.String),
                    sa.column('reporter_phone', sa.Text), sa.column('search_text', sa.Text),
                    sa.column('search_grams', shiyu.core.textsearch.Grams()),
                    sa.column('reporter_phone_tail_hash', sa.String))
    keys, looked = None, False
    last = 0
    while True:
        rows = conn.execute(sa.select(case.c.id, case.c.tracking_code, case.c.description, case.c.address,
                                      case.c.reporter_phone).where(case.c.id > last).order_by(case.c.id)
                            .limit(BATCH)).all()
        if not rows:
            return
        for row in rows:
            text = normalise(" ".join(v or "" for v in (row.tracking_code, row.description, row.address)))
            values = {"search_text": text, "search_grams": grams(text)}
            if row.reporter_phone and not looked:
                keys, looked = _keyring(), True
            if keys is not None and row.reporter_phone:
                digits = "".join(ch for ch in keys.decrypt(row.reporter_phone) if ch.isdigit())
                if len(digits) >= 4:
                    values["reporter_phone_tail_hash"] = keys.hash("phone_tail", digits[-4:])
            conn.execute(case.update().where(case.c.id == row.id).values(**values))
        last = rows[-1].id


def upgrade() -> None:
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reporter_phone_tail_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('search_grams', shiyu.core.textsearch.Grams(), nullable=True))
    _backfill()
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_reporter_phone_tail_hash'), ['reporter_phone_tail_hash'],
                              unique=False)
        batch_op.create_index('ix_case_search_grams', ['search_grams'], unique=False, postgresql_using='gin')
    op.create_table('saved_case_filter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=30), nullable=False),
    sa.Column('query', sa.String(length=1000), nullable=False),
    sa.Column('created_at', shiyu.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_saved_case_filter_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_case_filter')),
    sa.UniqueConstraint('user_id', 'name', name=op.f('uq_saved_case_filter_user_id'))
    )
    with op.batch_alter_table('saved_case_filter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_case_filter_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('saved_case_filter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_case_filter_user_id'))
    op.drop_table('saved_case_filter')
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_index('ix_case_search_grams', postgresql_using='gin')
        batch_op.drop_index(batch_op.f('ix_case_reporter_phone_tail_hash'))
        batch_op.drop_column('search_grams')
        batch_op.drop_column('search_text')
        batch_op.drop_column('reporter_phone_tail_hash')
