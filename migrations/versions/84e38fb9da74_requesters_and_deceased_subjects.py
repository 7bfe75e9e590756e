"""requesters and deceased subjects

Only columns are added to cases (no constraint): on SQLite a constraint would rebuild the table and lose its
expression indexes. Who asks (issue 18, item 3): a requester who is not the subject, with mandate and identity checks; a request
about a deceased person, and its letter kind.

Revision ID: 84e38fb9da74
Revises: 30cfa0f72327
Create Date: 2026-12-06 10:34:07.027395

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '84e38fb9da74'
down_revision = '30cfa0f72327'
branch_labels = None
depends_on = None

KINDS = ("'acknowledgement', 'information_request', 'extension_notice', 'completion_access', 'completion_rectification', 'completion_erasure', 'completion_objection', 'completion_portability', 'partial_refusal', 'refusal'")


def upgrade():
    op.create_table('case_requesters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('representative', 'parent_guardian', 'curator', 'mentor', 'lawyer', 'relative', name='requester_role', native_enum=False, create_constraint=True, length=15), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('postcode', sa.String(length=20), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('mandate_attachment_id', sa.Integer(), nullable=True),
    sa.Column('mandate_scope', sa.Text(), nullable=True),
    sa.Column('mandate_expires_on', sa.Date(), nullable=True),
    sa.Column('mandate_checked_by_id', sa.Integer(), nullable=True),
    sa.Column('mandate_checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('identity_method', sa.Enum('policy_records', 'authenticated_channel', 'additional_information', 'id_document_seen', name='requester_verification_method', native_enum=False, create_constraint=True, length=22), nullable=True),
    sa.Column('identity_verified_by_id', sa.Integer(), nullable=True),
    sa.Column('identity_verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("mandate_checked_at IS NULL OR role IN ('parent_guardian', 'relative') OR (mandate_attachment_id IS NOT NULL AND mandate_scope IS NOT NULL)", name=op.f('ck_case_requesters_mandate_complete')),
    sa.CheckConstraint('(identity_verified_at IS NULL) = (identity_method IS NULL)', name=op.f('ck_case_requesters_identity_complete')),
    sa.CheckConstraint('(mandate_checked_at IS NULL) = (mandate_checked_by_id IS NULL)', name=op.f('ck_case_requesters_mandate_checked_by')),
    sa.CheckConstraint('length(trim(name)) > 0', name=op.f('ck_case_requesters_named')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_requesters_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['identity_verified_by_id'], ['users.id'], name=op.f('fk_case_requesters_identity_verified_by_id_users')),
    sa.ForeignKeyConstraint(['mandate_attachment_id'], ['attachments.id'], name=op.f('fk_case_requesters_mandate_attachment_id_attachments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['mandate_checked_by_id'], ['users.id'], name=op.f('fk_case_requesters_mandate_checked_by_id_users')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_case_requesters_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_requesters')),
    sa.UniqueConstraint('case_id', name=op.f('uq_case_requesters_case_id'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject_deceased_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('subject_deceased_recorded_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('issued_letters', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_issued_letters_letter_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_issued_letters_letter_kind'), f"kind IN ({KINDS}, 'deceased')")


def downgrade():
    with op.batch_alter_table('issued_letters', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_issued_letters_letter_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_issued_letters_letter_kind'), f"kind IN ({KINDS})")
    # Plain ALTER TABLE (SQLite 3.35+ too): a batch rebuild would lose the cases table's expression indexes.
    op.execute("ALTER TABLE cases DROP COLUMN subject_deceased_recorded_at")
    op.execute("ALTER TABLE cases DROP COLUMN subject_deceased_on")

    op.drop_table('case_requesters')
