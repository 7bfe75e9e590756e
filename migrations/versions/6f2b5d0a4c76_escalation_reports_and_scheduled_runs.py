"""escalation reports and scheduled runs

Revision ID: 6f2b5d0a4c76
Revises: 5e1a4c9f3b65
Create Date: 2026-11-26 18:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6f2b5d0a4c76'
down_revision = '5e1a4c9f3b65'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=50), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('run_on', sa.Date(), nullable=False),
    sa.Column('schedule_day', sa.Date(), nullable=True),
    sa.Column('outcome', sa.Enum('sent', 'skipped', 'not_sent', 'done', name='report_run_outcome', native_enum=False, create_constraint=True, length=8), nullable=False),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("outcome <> 'sent' OR pdf_sha256 IS NOT NULL", name=op.f('ck_report_runs_sent_has_pdf')),
    sa.CheckConstraint("outcome <> 'skipped' OR note IS NOT NULL", name=op.f('ck_report_runs_skipped_has_reason')),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_report_runs_job_id_jobs'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_runs')),
    sa.UniqueConstraint('job_id', name=op.f('uq_report_runs_job_id')),
    sa.UniqueConstraint('kind', 'schedule_day', name=op.f('uq_report_runs_kind_schedule_day'))
    )
    with op.batch_alter_table('report_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_runs_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_runs_run_on'), ['run_on'], unique=False)


def downgrade():
    with op.batch_alter_table('report_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_runs_run_on'))
        batch_op.drop_index(batch_op.f('ix_report_runs_kind'))

    op.drop_table('report_runs')
