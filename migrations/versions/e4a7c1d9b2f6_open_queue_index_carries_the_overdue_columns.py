"""the open queue's index carries what the overdue filter compares (issue 15, item 3)

On PostgreSQL, ``ix_cases_open_due`` (the open queue's order: the deadline in force, then id; partial, open
cases only) is made again with ``INCLUDE (paused_since, state, extended_due_on, legal_due_on)``: the overdue
filter's bounded count then reads the index alone, an index-only range over the open cases whose deadline is
before today, instead of every open case's row (bench/README.md, "The overdue filter's count"). SQLite has no
INCLUDE: its index stays as it is.

Revision ID: e4a7c1d9b2f6
Revises: 7c1d2e3f4a5b
Create Date: 2026-12-07 06:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4a7c1d9b2f6'
down_revision = '7c1d2e3f4a5b'
branch_labels = None
depends_on = None

CLOSED = "state NOT IN ('closed', 'completed', 'refused', 'withdrawn')"
DUE = sa.text("coalesce(extended_due_on, legal_due_on)")
INCLUDES = ['paused_since', 'state', 'extended_due_on', 'legal_due_on']


def _make(include):
    op.drop_index('ix_cases_open_due', table_name='cases')
    op.create_index('ix_cases_open_due', 'cases', [DUE, 'id'], unique=False, postgresql_include=include,
                    postgresql_where=sa.text(CLOSED))


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        _make(INCLUDES)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        _make([])
