"""restriction of processing (Art. 18)

Restriction is a sixth right (issue 18, item 1): the CHECK constraint on case_rights.right takes
'restriction', and issued_letters.kind the restriction's completion letter and the notice that tells the
subject before a restriction is lifted (18(3)). The grounds invoked, the records restricted (per record) and
the decision to lift get tables of their own.

Revision ID: 19bd528986ff
Revises: 72b017019b32
Create Date: 2026-12-06 12:44:53.583895

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '19bd528986ff'
down_revision = '72b017019b32'
branch_labels = None
depends_on = None

RIGHTS = "'access', 'rectification', 'erasure', 'objection', 'portability'"
KINDS = ("'acknowledgement', 'information_request', 'extension_notice', 'completion_access', "
         "'completion_rectification', 'completion_erasure', 'completion_objection', 'completion_portability', "
         "'partial_refusal', 'refusal', 'deceased', 'fee_warning'")
NEW_KINDS = "'completion_restriction', 'restriction_lifting_notice'"


def upgrade():
    # SQLite cannot alter a CHECK constraint: batch mode copies the table (as earlier revisions did).
    with op.batch_alter_table('case_rights', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_case_rights_case_right'), type_='check')
        batch_op.create_check_constraint(op.f('ck_case_rights_case_right'), f"\"right\" IN ({RIGHTS}, 'restriction')")
    with op.batch_alter_table('issued_letters', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_issued_letters_letter_kind'), type_='check')
        # 'restriction_lifting_notice' is the longest kind: the column grows from 24 to 26 characters.
        batch_op.alter_column('kind', existing_type=sa.String(length=24), type_=sa.String(length=26),
                              existing_nullable=False)
        batch_op.create_check_constraint(op.f('ck_issued_letters_letter_kind'), f"kind IN ({KINDS}, {NEW_KINDS})")
    op.create_table('restriction_grounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('ground', sa.Enum('accuracy_contested', 'unlawful_processing', 'legal_claims', 'objection_pending', name='restriction_ground', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('linked_case_id', sa.Integer(), nullable=True),
    sa.Column('explanation', sa.Text(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("ground IN ('accuracy_contested', 'objection_pending') OR linked_case_id IS NULL", name=op.f('ck_restriction_grounds_link_only_for_a_and_d')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_restriction_grounds_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['linked_case_id'], ['cases.id'], name=op.f('fk_restriction_grounds_linked_case_id_cases'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_restriction_grounds_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_restriction_grounds')),
    sa.UniqueConstraint('case_id', 'ground', name=op.f('uq_restriction_grounds_case_id_ground'))
    )
    with op.batch_alter_table('restriction_grounds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_restriction_grounds_case_id'), ['case_id'], unique=False)

    op.create_table('restriction_lifts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('lifted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lifted_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('length(trim(reason)) > 0', name=op.f('ck_restriction_lifts_reason_given')),
    sa.CheckConstraint('lifted_at IS NULL OR lifted_at >= decided_at', name=op.f('ck_restriction_lifts_lifted_after_decided')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_restriction_lifts_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_restriction_lifts_decided_by_id_users')),
    sa.ForeignKeyConstraint(['lifted_by_id'], ['users.id'], name=op.f('fk_restriction_lifts_lifted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_restriction_lifts')),
    sa.UniqueConstraint('case_id', name=op.f('uq_restriction_lifts_case_id'))
    )
    op.create_table('restricted_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.Enum('marker', 'person', name='restrict_method', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('found_record_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('collection', sa.String(length=100), nullable=False),
    sa.Column('primary_key', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('marker_field', sa.String(length=100), nullable=True),
    sa.Column('status', sa.Enum('pending', 'restricted', 'lift_pending', 'lifted', name='restricted_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('restricted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('restricted_by_id', sa.Integer(), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('lift_task_id', sa.Integer(), nullable=True),
    sa.Column('lifted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lifted_by_id', sa.Integer(), nullable=True),
    sa.Column('lift_result', sa.Text(), nullable=True),
    sa.Column('recipients', sa.JSON(none_as_null=True), nullable=True),
    sa.CheckConstraint("(method = 'marker' AND marker_field IS NOT NULL AND primary_key IS NOT NULL AND task_id IS NULL) OR (method = 'person' AND marker_field IS NULL AND task_id IS NOT NULL)", name=op.f('ck_restricted_records_method_complete')),
    sa.CheckConstraint("(status = 'lifted') = (lifted_at IS NOT NULL)", name=op.f('ck_restricted_records_lifted_when')),
    sa.CheckConstraint("(status = 'pending') = (restricted_at IS NULL)", name=op.f('ck_restricted_records_restricted_when')),
    sa.CheckConstraint('lifted_at IS NULL OR (lift_result IS NOT NULL AND length(trim(lift_result)) > 0)', name=op.f('ck_restricted_records_lifted_has_result')),
    sa.CheckConstraint('restricted_at IS NULL OR (result IS NOT NULL AND length(trim(result)) > 0)', name=op.f('ck_restricted_records_restricted_has_result')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_restricted_records_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['found_record_id'], ['found_records.id'], name=op.f('fk_restricted_records_found_record_id_found_records'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lift_task_id'], ['case_tasks.id'], name=op.f('fk_restricted_records_lift_task_id_case_tasks')),
    sa.ForeignKeyConstraint(['lifted_by_id'], ['users.id'], name=op.f('fk_restricted_records_lifted_by_id_users')),
    sa.ForeignKeyConstraint(['restricted_by_id'], ['users.id'], name=op.f('fk_restricted_records_restricted_by_id_users')),
    sa.ForeignKeyConstraint(['task_id'], ['case_tasks.id'], name=op.f('fk_restricted_records_task_id_case_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_restricted_records'))
    )
    with op.batch_alter_table('restricted_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_restricted_records_case_id'), ['case_id'], unique=False)



def downgrade():
    with op.batch_alter_table('restricted_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_restricted_records_case_id'))

    op.drop_table('restricted_records')
    op.drop_table('restriction_lifts')
    with op.batch_alter_table('restriction_grounds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_restriction_grounds_case_id'))

    op.drop_table('restriction_grounds')
    with op.batch_alter_table('issued_letters', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_issued_letters_letter_kind'), type_='check')
        batch_op.alter_column('kind', existing_type=sa.String(length=26), type_=sa.String(length=24),
                              existing_nullable=False)
        batch_op.create_check_constraint(op.f('ck_issued_letters_letter_kind'), f"kind IN ({KINDS})")
    with op.batch_alter_table('case_rights', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_case_rights_case_right'), type_='check')
        batch_op.create_check_constraint(op.f('ck_case_rights_case_right'), f"\"right\" IN ({RIGHTS})")
