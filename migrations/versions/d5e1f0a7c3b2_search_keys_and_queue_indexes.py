"""search keys for subjects and indexes for the queue's order at size

Revision ID: d5e1f0a7c3b2
Revises: c8cafa3cfd3a
Create Date: 2026-12-06 10:10:00

Data migration: the search keys of every existing subject are made from its current fields.
"""
from alembic import op
import sqlalchemy as sa


revision = 'd5e1f0a7c3b2'
down_revision = 'c8cafa3cfd3a'
branch_labels = None
depends_on = None

CLOSED = "state NOT IN ('closed', 'completed', 'refused', 'withdrawn')"
DUE = sa.text("coalesce(extended_due_on, legal_due_on)")


def upgrade():
    op.create_table('subject_search_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('name', 'customer_number', 'policy_number', 'email', 'phone', 'device', 'postcode', name='search_kind', native_enum=False, create_constraint=True, length=15), nullable=False),
    sa.Column('key', sa.String(length=254), nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['data_subjects.id'], name=op.f('fk_subject_search_keys_subject_id_data_subjects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subject_search_keys'))
    )
    with op.batch_alter_table('subject_search_keys', schema=None) as batch_op:
        batch_op.create_index('ix_subject_search_keys_key', ['key', 'kind', 'subject_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subject_search_keys_subject_id'), ['subject_id'], unique=False)

    op.create_index('ix_cases_due', 'cases', [DUE, 'id'], unique=False)
    op.create_index('ix_cases_state_due', 'cases', ['state', DUE, 'id'], unique=False)
    op.create_index('ix_cases_open_due', 'cases', [DUE, 'id'], unique=False,
                    postgresql_where=sa.text(CLOSED), sqlite_where=sa.text(CLOSED))
    op.create_index('ix_cases_closed_at', 'cases', ['closed_at'], unique=False,
                    postgresql_where=sa.text('closed_at IS NOT NULL'), sqlite_where=sa.text('closed_at IS NOT NULL'))

    from dsr.subjects.search import rebuild_search_keys

    rebuild_search_keys(op.get_bind())


def downgrade():
    op.drop_index('ix_cases_closed_at', table_name='cases')
    op.drop_index('ix_cases_open_due', table_name='cases')
    op.drop_index('ix_cases_state_due', table_name='cases')
    op.drop_index('ix_cases_due', table_name='cases')
    with op.batch_alter_table('subject_search_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subject_search_keys_subject_id'))
        batch_op.drop_index('ix_subject_search_keys_key')
    op.drop_table('subject_search_keys')
