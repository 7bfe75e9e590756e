"""the days declared equal to public holidays by the Atw art. 3(3) decrees of 2023-2028

Data only. The government declares, by decree, days equal to the public holidays of the Algemene
termijnenwet (art. 3(3)); the decrees published so far cover 2023-2025 and 2026-2028 (LEGAL.md T3). They
move legal deadlines, so the stored deadlines of open cases are recomputed with them (and with the
configured way of counting an extended deadline, EXTENDED_DEADLINE_RULE).

Revision ID: 8a3c5e7f9b10
Revises: 8a3c6e1f2b97
Create Date: 2026-12-06 10:05:00

"""
from datetime import date

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8a3c5e7f9b10'
down_revision = '8a3c6e1f2b97'
branch_labels = None
depends_on = None

_DECREE_2023 = "Atw art. 3(3): Besluit gelijkstelling 2023-2025 (Staatscourant)"
_DECREE_2026 = "Atw art. 3(3): Besluit gelijkstelling 2026-2028 (Staatscourant)"

DECLARED = [
    (date(2023, 4, 28), "Friday after King's Day", _DECREE_2023),
    (date(2023, 5, 19), "Friday after Ascension Day", _DECREE_2023),
    (date(2024, 5, 10), "Friday after Ascension Day", _DECREE_2023),
    (date(2024, 12, 27), "Friday after Boxing Day", _DECREE_2023),
    (date(2025, 5, 30), "Friday after Ascension Day", _DECREE_2023),
    (date(2026, 1, 2), "Friday after New Year's Day", _DECREE_2026),
    (date(2026, 5, 15), "Friday after Ascension Day", _DECREE_2026),
    (date(2027, 5, 7), "Friday after Ascension Day", _DECREE_2026),
    (date(2028, 4, 28), "Friday after King's Day", _DECREE_2026),
    (date(2028, 5, 26), "Friday after Ascension Day", _DECREE_2026),
]

declared = sa.table('declared_holidays', sa.column('day', sa.Date), sa.column('name', sa.String),
                    sa.column('source', sa.String))
cases = sa.table('cases', sa.column('id', sa.Integer), sa.column('received_on', sa.Date),
                 sa.column('promised_on', sa.Date), sa.column('legal_due_on', sa.Date),
                 sa.column('extended_due_on', sa.Date), sa.column('paused_days', sa.Integer),
                 sa.column('closed_at', sa.DateTime), sa.column('version', sa.Integer))
pauses = sa.table('case_pauses', sa.column('case_id', sa.Integer), sa.column('requested_on', sa.Date),
                  sa.column('resumed_on', sa.Date), sa.column('counted', sa.Boolean))


def _rule():
    from dsr.domain.clock import ExtensionRule

    try:
        from flask import current_app

        return ExtensionRule(current_app.config.get("EXTENDED_DEADLINE_RULE", "earlier"))
    except RuntimeError:  # outside an application context
        return ExtensionRule.EARLIER


def _recompute_open_cases(bind) -> None:
    """The stored deadlines of open cases, as dsr.cases.deadlines.apply_deadlines computes them."""
    from dsr.domain import clock
    from dsr.domain.calendar_nl import WorkingDayCalendar
    from dsr.domain.pauses import PauseInterval, closed_paused_days

    calendar = WorkingDayCalendar({d: n for d, n in bind.execute(sa.select(declared.c.day, declared.c.name))})
    rule = _rule()
    by_case: dict[int, list[PauseInterval]] = {}
    for case_id, requested_on, resumed_on, counted in bind.execute(
            sa.select(pauses.c.case_id, pauses.c.requested_on, pauses.c.resumed_on, pauses.c.counted)):
        by_case.setdefault(case_id, []).append(PauseInterval(requested_on, resumed_on, bool(counted)))
    open_cases = bind.execute(sa.select(cases.c.id, cases.c.received_on, cases.c.promised_on, cases.c.legal_due_on,
                                        cases.c.extended_due_on).where(cases.c.closed_at.is_(None))).all()
    for case_id, received_on, promised, legal, extended in open_cases:
        paused = closed_paused_days(by_case.get(case_id, []))
        values = {"paused_days": paused, "promised_on": clock.promised_on(received_on, paused),
                  "legal_due_on": clock.legal_due_on(received_on, calendar, paused)}
        if extended is not None:
            values["extended_due_on"] = clock.extended_due_on(received_on, calendar, paused, rule)
        if (values["promised_on"], values["legal_due_on"], values.get("extended_due_on")) != (
                promised, legal, extended):
            bind.execute(sa.update(cases).where(cases.c.id == case_id)
                         .values(**values, version=cases.c.version + 1))


def upgrade():
    bind = op.get_bind()
    present = {row[0] for row in bind.execute(sa.select(declared.c.day))}
    rows = [{"day": d, "name": n, "source": s} for d, n, s in DECLARED if d not in present]
    if rows:
        op.bulk_insert(declared, rows)
    _recompute_open_cases(bind)


def downgrade():
    bind = op.get_bind()
    bind.execute(sa.delete(declared).where(declared.c.day.in_([d for d, _n, _s in DECLARED])))
    _recompute_open_cases(bind)
