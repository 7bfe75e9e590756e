"""objections and the marketing suppression list (Art. 21)

Revision ID: 2b8d1f6c0e32
Revises: 1a7c0e5b9d21
Create Date: 2026-11-26 18:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2b8d1f6c0e32'
down_revision = '1a7c0e5b9d21'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('suppression_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('email', 'phone', 'customer_number', name='suppression_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Enum('objection', 'erasure', name='suppression_reason', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('length(digest) = 64', name=op.f('ck_suppression_entries_digest_is_sha256')),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_suppression_entries_added_by_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_suppression_entries_case_id_cases'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suppression_entries')),
    sa.UniqueConstraint('kind', 'digest', name=op.f('uq_suppression_entries_kind_digest'))
    )
    with op.batch_alter_table('suppression_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_suppression_entries_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_suppression_entries_key_id'), ['key_id'], unique=False)

    op.create_table('marketing_stops',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('lookup_id', sa.Integer(), nullable=True),
    sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stopped_by_id', sa.Integer(), nullable=False),
    sa.Column('removed', sa.JSON(), nullable=False),
    sa.Column('failed', sa.JSON(), nullable=False),
    sa.Column('identifiers_added', sa.Integer(), nullable=False),
    sa.Column('identifiers_listed', sa.Integer(), nullable=False),
    sa.Column('kinds', sa.JSON(), nullable=False),
    sa.CheckConstraint('identifiers_added >= 0 AND identifiers_listed >= identifiers_added', name=op.f('ck_marketing_stops_identifier_counts')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_marketing_stops_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lookup_id'], ['lookups.id'], name=op.f('fk_marketing_stops_lookup_id_lookups')),
    sa.ForeignKeyConstraint(['stopped_by_id'], ['users.id'], name=op.f('fk_marketing_stops_stopped_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_marketing_stops'))
    )
    with op.batch_alter_table('marketing_stops', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_marketing_stops_case_id'), ['case_id'], unique=False)

    op.create_table('objection_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('processing', sa.String(length=201), nullable=False),
    sa.Column('processing_name', sa.String(length=300), nullable=False),
    sa.Column('legal_basis', sa.String(length=40), nullable=False),
    sa.Column('purposes', sa.JSON(), nullable=False),
    sa.Column('subject_grounds', sa.Text(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'decided', name='objection_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('outcome', sa.Enum('upheld', 'rejected', name='objection_outcome', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('compelling_grounds', sa.Text(), nullable=True),
    sa.Column('reasons', sa.Text(), nullable=True),
    sa.Column('effect', sa.Enum('stop', 'erase', 'restrict', name='objection_effect', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('length(trim(subject_grounds)) > 0', name=op.f('ck_objection_decisions_grounds_given')),
    sa.CheckConstraint("(status = 'decided') = (decided_at IS NOT NULL) AND (decided_at IS NULL) = (decided_by_id IS NULL) AND (decided_at IS NULL) = (outcome IS NULL) AND (decided_at IS NULL) = (reasons IS NULL)", name=op.f('ck_objection_decisions_decided_complete')),
    sa.CheckConstraint('reasons IS NULL OR length(trim(reasons)) > 0', name=op.f('ck_objection_decisions_reasons_given')),
    sa.CheckConstraint("(effect IS NOT NULL) = (outcome IS NOT NULL AND outcome = 'upheld')", name=op.f('ck_objection_decisions_effect_when_upheld')),
    sa.CheckConstraint("outcome IS NULL OR outcome = 'upheld' OR (compelling_grounds IS NOT NULL AND length(trim(compelling_grounds)) > 0)", name=op.f('ck_objection_decisions_rejection_has_grounds')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_objection_decisions_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_objection_decisions_decided_by_id_users')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_objection_decisions_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objection_decisions'))
    )
    with op.batch_alter_table('objection_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objection_decisions_case_id'), ['case_id'], unique=False)


def downgrade():
    with op.batch_alter_table('objection_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_objection_decisions_case_id'))

    op.drop_table('objection_decisions')
    with op.batch_alter_table('marketing_stops', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_marketing_stops_case_id'))

    op.drop_table('marketing_stops')
    with op.batch_alter_table('suppression_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suppression_entries_key_id'))
        batch_op.drop_index(batch_op.f('ix_suppression_entries_case_id'))

    op.drop_table('suppression_entries')
