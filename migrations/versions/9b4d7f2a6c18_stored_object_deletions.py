"""stored object deletions: an erased record's files, deleted and verified (issue 13, item 5)

Revision ID: 9b4d7f2a6c18
Revises: 553e96ec9e17
Create Date: 2026-12-06 10:25:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9b4d7f2a6c18'
down_revision = '553e96ec9e17'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stored_object_deletions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=100), nullable=False),
    sa.Column('uri', sa.Text(), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_stored_object_deletions_attempts_counted')),
    sa.CheckConstraint('deleted_at IS NULL OR error IS NULL', name=op.f('ck_stored_object_deletions_deleted_has_no_error')),
    sa.ForeignKeyConstraint(['item_id'], ['erasure_plan_items.id'], name=op.f('fk_stored_object_deletions_item_id_erasure_plan_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_object_deletions')),
    sa.UniqueConstraint('item_id', 'field', 'uri', name=op.f('uq_stored_object_deletions_item_id_field_uri'))
    )
    with op.batch_alter_table('stored_object_deletions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stored_object_deletions_item_id'), ['item_id'], unique=False)


def downgrade():
    with op.batch_alter_table('stored_object_deletions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stored_object_deletions_item_id'))
    op.drop_table('stored_object_deletions')
