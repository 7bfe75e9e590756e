"""Recipient notices by the name a record gave (issue 13, item 7: Art. 19 for erasure, by name)

Revision ID: ebcdf940d8a0
Revises: 1b10491dda73
Create Date: 2026-12-06 11:06:18.626026

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'ebcdf940d8a0'
down_revision = '1b10491dda73'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("recipient_notices") as batch:
        batch.add_column(sa.Column("named", sa.String(length=200), server_default="", nullable=False))
        batch.drop_constraint(batch.f("uq_recipient_notices_case_id_recipient_id"), type_="unique")
        batch.create_unique_constraint(batch.f("uq_recipient_notices_case_id_recipient_id_named"),
                                       ["case_id", "recipient_id", "named"])


def downgrade():
    # A recipient listed under several names keeps one notice: the one ticked first, else the oldest.
    conn = op.get_bind()
    conn.execute(sa.text("DELETE FROM recipient_notices WHERE id NOT IN (SELECT min(id) FROM recipient_notices "
                         "GROUP BY case_id, recipient_id)"))
    with op.batch_alter_table("recipient_notices") as batch:
        batch.drop_constraint(batch.f("uq_recipient_notices_case_id_recipient_id_named"), type_="unique")
        batch.create_unique_constraint(batch.f("uq_recipient_notices_case_id_recipient_id"),
                                       ["case_id", "recipient_id"])
        batch.drop_column("named")
