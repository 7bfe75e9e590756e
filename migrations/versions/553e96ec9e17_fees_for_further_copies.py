"""fees for further copies

A further copy of the data may carry a reasonable fee, the subject warned first (Art. 15(3); issue 18, item 5);
the warning is a letter kind of its own.

Revision ID: 553e96ec9e17
Revises: a80a0af94fb2
Create Date: 2026-12-06 10:52:18.367693

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '553e96ec9e17'
down_revision = 'a80a0af94fb2'
branch_labels = None
depends_on = None

KINDS = ("'acknowledgement', 'information_request', 'extension_notice', 'completion_access', "
         "'completion_rectification', 'completion_erasure', 'completion_objection', 'completion_portability', "
         "'partial_refusal', 'refusal', 'deceased'")


def upgrade():
    with op.batch_alter_table('issued_letters', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_issued_letters_letter_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_issued_letters_letter_kind'), f"kind IN ({KINDS}, 'fee_warning')")
    op.create_table('copy_fees',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('basis', sa.Text(), nullable=False),
    sa.Column('earlier_reference', sa.String(length=20), nullable=False),
    sa.Column('earlier_on', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('warned', 'agreed', 'withdrawn', name='fee_status', native_enum=False, create_constraint=True, length=9), nullable=False),
    sa.Column('pause_id', sa.Integer(), nullable=True),
    sa.Column('warned_on', sa.Date(), nullable=False),
    sa.Column('answered_on', sa.Date(), nullable=True),
    sa.Column('proposed_by_id', sa.Integer(), nullable=True),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(status = 'warned') = (answered_on IS NULL)", name=op.f('ck_copy_fees_answered_unless_warned')),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_copy_fees_amount_positive')),
    sa.CheckConstraint('length(trim(basis)) > 0', name=op.f('ck_copy_fees_basis_given')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_copy_fees_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pause_id'], ['case_pauses.id'], name=op.f('fk_copy_fees_pause_id_case_pauses'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['users.id'], name=op.f('fk_copy_fees_proposed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_copy_fees')),
    sa.UniqueConstraint('case_id', name=op.f('uq_copy_fees_case_id'))
    )


def downgrade():
    with op.batch_alter_table('issued_letters', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_issued_letters_letter_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_issued_letters_letter_kind'), f"kind IN ({KINDS})")
    op.drop_table('copy_fees')
