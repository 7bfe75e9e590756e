"""exports for access and portability

Revision ID: 5e1a4c9f3b65
Revises: 4d0f3b8e2a54
Create Date: 2026-11-26 18:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1a4c9f3b65'
down_revision = '4d0f3b8e2a54'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('access', 'portability', name='export_kind', native_enum=False, create_constraint=True, length=11), nullable=False),
    sa.Column('schema_version', sa.String(length=20), nullable=False),
    sa.Column('language', sa.Enum('nl', 'en', 'fr', name='export_language', native_enum=False, create_constraint=True, length=2), nullable=False),
    sa.Column('lookup_id', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('record_count', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('size > 0', name=op.f('ck_exports_size_positive')),
    sa.CheckConstraint('length(sha256) = 64', name=op.f('ck_exports_sha256_hex')),
    sa.CheckConstraint('record_count >= 0', name=op.f('ck_exports_record_count_not_negative')),
    sa.CheckConstraint('expires_at > created_at', name=op.f('ck_exports_expires_after_created')),
    sa.CheckConstraint('deleted_at IS NULL OR deleted_at >= created_at', name=op.f('ck_exports_deleted_after_created')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_exports_case_id_cases')),
    sa.ForeignKeyConstraint(['lookup_id'], ['lookups.id'], name=op.f('fk_exports_lookup_id_lookups')),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_exports_job_id_jobs')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_exports_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exports')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_exports_storage_key')),
    sa.UniqueConstraint('job_id', name=op.f('uq_exports_job_id'))
    )
    with op.batch_alter_table('exports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exports_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exports_expires_at'), ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('exports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exports_expires_at'))
        batch_op.drop_index(batch_op.f('ix_exports_case_id'))

    op.drop_table('exports')
