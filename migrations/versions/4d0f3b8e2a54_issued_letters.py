"""issued letters

Revision ID: 4d0f3b8e2a54
Revises: 3c9e2a7d1f43
Create Date: 2026-11-26 18:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '4d0f3b8e2a54'
down_revision = '3c9e2a7d1f43'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('issued_letters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('acknowledgement', 'information_request', 'extension_notice', 'completion_access',
                              'completion_rectification', 'completion_erasure', 'completion_objection',
                              'completion_portability', 'partial_refusal', 'refusal', name='letter_kind',
                              native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('language', sa.Enum('nl', 'en', 'fr', 'all', name='letter_language', native_enum=False,
                                  create_constraint=True, length=3), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=300), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('version >= 1', name=op.f('ck_issued_letters_version_positive')),
    sa.CheckConstraint('length(sha256) = 64', name=op.f('ck_issued_letters_sha256_length')),
    sa.CheckConstraint('size > 0 AND pages > 0', name=op.f('ck_issued_letters_not_empty')),
    sa.CheckConstraint("storage_key LIKE 'letters/%'", name=op.f('ck_issued_letters_stored_under_letters')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_issued_letters_case_id_cases')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_issued_letters_issued_by_id_users')),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_issued_letters_job_id_jobs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issued_letters')),
    sa.UniqueConstraint('case_id', 'kind', 'version', name=op.f('uq_issued_letters_case_id_kind_version')),
    sa.UniqueConstraint('job_id', name=op.f('uq_issued_letters_job_id')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_issued_letters_storage_key'))
    )
    with op.batch_alter_table('issued_letters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issued_letters_case_id'), ['case_id'], unique=False)


def downgrade():
    with op.batch_alter_table('issued_letters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issued_letters_case_id'))

    op.drop_table('issued_letters')
