"""automated decisions (Art. 22)

A request about a decision based solely on automated processing (human intervention, the subject's view,
contesting it) is a right of its own, ``automated_decision`` (issue 18, item 2): the rights' CHECK constraint
lists it and the column widens to hold it. The request, the decision it concerns and the human review are
recorded per case; the answer is a letter kind of its own, ``completion_automated``.

It comes after the restriction revision (19bd528986ff), which added ``restriction`` and its two letter kinds
(and widened the kind column to 26): RIGHTS and KINDS below are the lists before this revision, so the
constraints list both rights.

Revision ID: db77f8c9a63d
Revises: 5d2f8a1c7e40
Create Date: 2026-12-06 12:53:38.712986

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'db77f8c9a63d'
down_revision = '5d2f8a1c7e40'
branch_labels = None
depends_on = None

RIGHTS = "'access', 'rectification', 'erasure', 'objection', 'portability', 'restriction'"
KINDS = ("'acknowledgement', 'information_request', 'extension_notice', 'completion_access', "
         "'completion_rectification', 'completion_erasure', 'completion_objection', 'completion_portability', "
         "'partial_refusal', 'refusal', 'deceased', 'fee_warning', 'completion_restriction', "
         "'restriction_lifting_notice'")


def upgrade():
    with op.batch_alter_table('case_rights', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_case_rights_case_right'), type_='check')
        batch_op.alter_column('right', existing_type=sa.String(length=13), type_=sa.String(length=18),
                              existing_nullable=False)
        batch_op.create_check_constraint(op.f('ck_case_rights_case_right'),
                                         f"\"right\" IN ({RIGHTS}, 'automated_decision')")
    with op.batch_alter_table('issued_letters', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_issued_letters_letter_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_issued_letters_letter_kind'),
                                         f"kind IN ({KINDS}, 'completion_automated')")
    op.create_table('automated_decision_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('decision_id', sa.String(length=60), nullable=True),
    sa.Column('decision_described', sa.Text(), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('human_intervention', sa.Boolean(), nullable=False),
    sa.Column('express_view', sa.Boolean(), nullable=False),
    sa.Column('contest', sa.Boolean(), nullable=False),
    sa.Column('subject_view', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewer', sa.String(length=200), nullable=True),
    sa.Column('reviewed_on', sa.Date(), nullable=True),
    sa.Column('outcome', sa.Enum('upheld', 'changed', name='review_outcome', native_enum=False, create_constraint=True, length=7), nullable=True),
    sa.Column('outcome_text', sa.Text(), nullable=True),
    sa.Column('view_considered', sa.Boolean(), nullable=True),
    sa.Column('review_recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('review_recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('human_intervention OR express_view OR contest', name=op.f('ck_automated_decision_requests_something_asked')),
    sa.CheckConstraint('length(trim(decision_described)) > 0', name=op.f('ck_automated_decision_requests_decision_described')),
    sa.CheckConstraint('outcome IS NULL OR (reviewer IS NOT NULL AND reviewed_on IS NOT NULL AND outcome_text IS NOT NULL AND review_recorded_at IS NOT NULL)', name=op.f('ck_automated_decision_requests_review_complete')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_automated_decision_requests_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_automated_decision_requests_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['review_recorded_by_id'], ['users.id'], name=op.f('fk_automated_decision_requests_review_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_automated_decision_requests')),
    sa.UniqueConstraint('case_id', name=op.f('uq_automated_decision_requests_case_id'))
    )


def downgrade():
    op.drop_table('automated_decision_requests')
    with op.batch_alter_table('issued_letters', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_issued_letters_letter_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_issued_letters_letter_kind'), f"kind IN ({KINDS})")
    with op.batch_alter_table('case_rights', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_case_rights_case_right'), type_='check')
        batch_op.alter_column('right', existing_type=sa.String(length=18), type_=sa.String(length=13),
                              existing_nullable=False)
        batch_op.create_check_constraint(op.f('ck_case_rights_case_right'), f"\"right\" IN ({RIGHTS})")
