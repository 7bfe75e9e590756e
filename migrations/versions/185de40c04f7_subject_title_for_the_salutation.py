"""subject title for the salutation

Mr or Ms, for the letters' formal salutation ("Geachte heer Van der Laarse"); unknown stays NULL.

Revision ID: 185de40c04f7
Revises: ebcdf940d8a0
Create Date: 2026-12-06 10:40:25.669819

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '185de40c04f7'
down_revision = 'ebcdf940d8a0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('data_subjects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title', sa.String(length=2), nullable=True))
        batch_op.create_check_constraint(op.f('ck_data_subjects_subject_title'), "title IN ('mr', 'ms')")



def downgrade():
    with op.batch_alter_table('data_subjects', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_data_subjects_subject_title'), type_='check')
        batch_op.drop_column('title')

