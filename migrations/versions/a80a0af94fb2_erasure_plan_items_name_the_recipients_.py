"""Erasure plan items name the recipients of what they erased (issue 13, item 7: Art. 19 by name).

Revision ID: a80a0af94fb2
Revises: 84e38fb9da74
Create Date: 2026-12-06 11:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "a80a0af94fb2"
down_revision = "84e38fb9da74"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("erasure_plan_items") as batch:
        batch.add_column(sa.Column("recipients", sa.JSON(none_as_null=True), nullable=True))


def downgrade():
    with op.batch_alter_table("erasure_plan_items") as batch:
        batch.drop_column("recipients")
