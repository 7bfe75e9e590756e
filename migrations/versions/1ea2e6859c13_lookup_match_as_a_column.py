"""lookup match as a column with a CHECK constraint

Staff's verdict on a lookup's match (none, pending, confirmed, rejected) was derived in Python from
confirmed_at/rejected_at/status and compared as a string in some fifteen places. It is now a stored enum
whose CHECK keeps it in step with those columns; existing rows get the value the old property gave.

Revision ID: 1ea2e6859c13
Revises: d5e1f0a7c3b2
Create Date: 2026-12-06 10:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1ea2e6859c13'
down_revision = 'd5e1f0a7c3b2'
branch_labels = None
depends_on = None

def upgrade():
    with op.batch_alter_table('lookups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('match', sa.String(length=9), nullable=True))
    op.execute("UPDATE lookups SET match = CASE "
               "WHEN confirmed_at IS NOT NULL THEN 'confirmed' "
               "WHEN rejected_at IS NOT NULL THEN 'rejected' "
               "WHEN status = 'found' THEN 'pending' ELSE 'none' END")
    with op.batch_alter_table('lookups', schema=None) as batch_op:
        batch_op.alter_column('match', existing_type=sa.String(length=9), nullable=False)
        batch_op.create_check_constraint(
            op.f('ck_lookups_lookup_match'), "match IN ('none', 'pending', 'confirmed', 'rejected')")
        batch_op.create_check_constraint(
            op.f('ck_lookups_verdict_agrees'),
            "(match = 'confirmed') = (confirmed_at IS NOT NULL) AND "
            "(match = 'rejected') = (rejected_at IS NOT NULL) AND "
            "(match = 'none') = (status <> 'found')")


def downgrade():
    with op.batch_alter_table('lookups', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_lookups_verdict_agrees'), type_='check')
        batch_op.drop_constraint(op.f('ck_lookups_lookup_match'), type_='check')
        batch_op.drop_column('match')
