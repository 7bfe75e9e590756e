"""rectifications and recipient notices (Art. 16, 19)

Revision ID: 1a7c0e5b9d21
Revises: 0ff787591015
Create Date: 2026-11-26 18:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1a7c0e5b9d21'
down_revision = '0ff787591015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('corrections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('source_kind', sa.Enum('sql', 'manual', name='correction_source_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('found_record_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('collection', sa.String(length=100), nullable=False),
    sa.Column('primary_key', sa.JSON(), nullable=True),
    sa.Column('field', sa.String(length=100), nullable=False),
    sa.Column('before_value', sa.JSON(), nullable=True),
    sa.Column('after_value', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('status', sa.Enum('pending', 'applied', 'refused', name='correction_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(source_kind = 'sql' AND found_record_id IS NOT NULL AND primary_key IS NOT NULL AND task_id IS NULL) OR (source_kind = 'manual' AND found_record_id IS NULL AND primary_key IS NULL)", name=op.f('ck_corrections_target_complete')),
    sa.CheckConstraint("(decided_at IS NULL) = (status = 'pending')", name=op.f('ck_corrections_decided_unless_pending')),
    sa.CheckConstraint('decided_at IS NULL OR decided_at >= proposed_at', name=op.f('ck_corrections_decided_after_proposed')),
    sa.CheckConstraint("status <> 'refused' OR (reason IS NOT NULL AND length(trim(reason)) > 0)", name=op.f('ck_corrections_refused_has_reason')),
    sa.CheckConstraint("status <> 'applied' OR (result IS NOT NULL AND length(trim(result)) > 0)", name=op.f('ck_corrections_applied_has_result')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_corrections_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['found_record_id'], ['found_records.id'], name=op.f('fk_corrections_found_record_id_found_records'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['users.id'], name=op.f('fk_corrections_proposed_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_corrections_decided_by_id_users')),
    sa.ForeignKeyConstraint(['task_id'], ['case_tasks.id'], name=op.f('fk_corrections_task_id_case_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_corrections'))
    )
    with op.batch_alter_table('corrections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_corrections_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_corrections_found_record_id'), ['found_record_id'], unique=False)

    op.create_table('recipient_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.String(length=100), nullable=False),
    sa.Column('status', sa.Enum('pending', 'notified', 'not_notifiable', name='notice_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('listed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('listed_by_id', sa.Integer(), nullable=True),
    sa.Column('notified_on', sa.Date(), nullable=True),
    sa.Column('method', sa.Enum('email', 'post', 'phone', 'portal', 'other', name='notice_method', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(decided_at IS NULL) = (status = 'pending')", name=op.f('ck_recipient_notices_decided_unless_pending')),
    sa.CheckConstraint("(status = 'notified') = (notified_on IS NOT NULL AND method IS NOT NULL)", name=op.f('ck_recipient_notices_notified_complete')),
    sa.CheckConstraint("(status = 'not_notifiable') = (reason IS NOT NULL AND length(trim(reason)) > 0)", name=op.f('ck_recipient_notices_not_notifiable_has_reason')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_recipient_notices_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['listed_by_id'], ['users.id'], name=op.f('fk_recipient_notices_listed_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_recipient_notices_decided_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recipient_notices')),
    sa.UniqueConstraint('case_id', 'recipient_id', name=op.f('uq_recipient_notices_case_id_recipient_id'))
    )
    with op.batch_alter_table('recipient_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recipient_notices_case_id'), ['case_id'], unique=False)


def downgrade():
    with op.batch_alter_table('recipient_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recipient_notices_case_id'))

    op.drop_table('recipient_notices')
    with op.batch_alter_table('corrections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_corrections_found_record_id'))
        batch_op.drop_index(batch_op.f('ix_corrections_case_id'))

    op.drop_table('corrections')
