"""French interface: users may choose fr as the language of the interface

Revision ID: d1f2a3b4c5e6
Revises: dd55eddddafc
Create Date: 2026-12-06 10:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd1f2a3b4c5e6'
down_revision = 'dd55eddddafc'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_locale'), type_='check')
        batch_op.create_check_constraint(op.f('ck_users_locale'), "locale IN ('en', 'nl', 'fr')")


def downgrade():
    op.execute("UPDATE users SET locale = 'en' WHERE locale = 'fr'")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_locale'), type_='check')
        batch_op.create_check_constraint(op.f('ck_users_locale'), "locale IN ('en', 'nl')")
