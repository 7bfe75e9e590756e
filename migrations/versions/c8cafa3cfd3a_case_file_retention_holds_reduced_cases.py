"""case file retention: holds, reduced cases

dsr's own retention (issue 18, item 8): a hold or an open complaint keeps a case file; a reduced case keeps
its reference, rights, dates and outcome and loses its subject. A downgrade after files were reduced fails
on the NOT NULL subject: reduction cannot be undone.

Revision ID: c8cafa3cfd3a
Revises: 8a4c6e0b2d17
Create Date: 2026-12-06 09:52:51.226467

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c8cafa3cfd3a'
down_revision = '8a4c6e0b2d17'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_file_holds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('legal_hold', 'complaint', name='file_hold_kind', native_enum=False, create_constraint=True, length=10), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('placed_by_id', sa.Integer(), nullable=True),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('released_by_id', sa.Integer(), nullable=True),
    sa.Column('release_reason', sa.Text(), nullable=True),
    sa.CheckConstraint('(released_at IS NULL) = (release_reason IS NULL)', name=op.f('ck_case_file_holds_release_has_reason')),
    sa.CheckConstraint('length(trim(reason)) > 0', name=op.f('ck_case_file_holds_reason_given')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_file_holds_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['placed_by_id'], ['users.id'], name=op.f('fk_case_file_holds_placed_by_id_users')),
    sa.ForeignKeyConstraint(['released_by_id'], ['users.id'], name=op.f('fk_case_file_holds_released_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_file_holds'))
    )
    with op.batch_alter_table('case_file_holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_file_holds_case_id'), ['case_id'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reduced_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('subject_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_cases_reduced_at'), ['reduced_at'], unique=False)
        batch_op.create_check_constraint(batch_op.f('ck_cases_reduced_is_closed'),
                                         'reduced_at IS NULL OR closed_at IS NOT NULL')
        batch_op.create_check_constraint(batch_op.f('ck_cases_subject_unless_reduced'),
                                         'subject_id IS NOT NULL OR reduced_at IS NOT NULL')



def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_cases_subject_unless_reduced'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_cases_reduced_is_closed'), type_='check')
        batch_op.drop_index(batch_op.f('ix_cases_reduced_at'))
        batch_op.alter_column('subject_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('reduced_at')

    with op.batch_alter_table('case_file_holds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_file_holds_case_id'))

    op.drop_table('case_file_holds')
