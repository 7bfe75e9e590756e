"""found records: shared with another person (issue 13, item 2)

A found record that another person also reaches (a record not among the subject's refers to it, or holds
one of its identity values) is marked shared, with the reason, so an erasure never touches it on its own.
Records found before this revision were not checked: they stay unshared, and a new lookup checks them.

Revision ID: 8a3c6e1f2b97
Revises: 6f2b5d0a4c76
Create Date: 2026-12-06 10:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8a3c6e1f2b97'
down_revision = '6f2b5d0a4c76'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('found_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shared', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('shared_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('shared_with', sa.JSON(none_as_null=True), nullable=True))
        batch_op.create_check_constraint('shared_has_reason', 'shared = (shared_reason IS NOT NULL)')


def downgrade():
    with op.batch_alter_table('found_records', schema=None) as batch_op:
        batch_op.drop_constraint('shared_has_reason', type_='check')
        batch_op.drop_column('shared_with')
        batch_op.drop_column('shared_reason')
        batch_op.drop_column('shared')
