"""Days declared equal to public holidays (Algemene termijnenwet art. 3(3)): shipped by a migration, kept by the
privacy managers (operations and ``dsr declared-days``), and moving the deadlines of open cases (issue 14.7).

Worked by hand: a request received on Wednesday 7 April 2027 has a one-month deadline of Friday 7 May 2027,
which the 2026-2028 decree declares equal to a public holiday (the Friday after Ascension Day, 6 May), so the
deadline is Monday 10 May. Without the decree it would be 7 May: one working day early.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
import time_machine

from dsr.auth.models import User
from dsr.cases import lifecycle
from dsr.cases.deadlines import case_clock, working_calendar
from dsr.cases.errors import InvalidInput, NotAllowed, RuleViolation
from dsr.cases.models import Case, DeclaredHoliday
from dsr.declared_days.operations import add_declared_day, remove_declared_day, uncovered_year
from dsr.domain.enums import Role
from dsr.extensions import db
from tests.factories import make_case, make_user
from tests.integration.conftest import audit_trail

NOW = datetime(2027, 4, 8, 9, 0, tzinfo=UTC)
LEGAL_DECREE_DAYS = [date(2023, 4, 28), date(2023, 5, 19), date(2024, 5, 10), date(2024, 12, 27), date(2025, 5, 30),
                     date(2026, 1, 2), date(2026, 5, 15), date(2027, 5, 7), date(2028, 4, 28), date(2028, 5, 26)]


@pytest.fixture
def manager(ctx) -> User:
    return make_user(Role.PRIVACY_MANAGER)


def _case(actor, received: date = date(2027, 4, 7)) -> Case:
    return make_case(actor=actor, received_on=received, now=NOW, today=received)


def test_the_migration_ships_every_decree_day_of_2023_to_2028(ctx):
    """LEGAL.md T3 lists the days of the decrees for 2023-2025 and 2026-2028; each is in the calendar."""
    days = db.session.execute(sa.select(DeclaredHoliday).order_by(DeclaredHoliday.day)).scalars().all()
    assert [d.day for d in days] == LEGAL_DECREE_DAYS
    assert all(d.day.weekday() == 4 for d in days)  # bridge days: all Fridays
    assert all("Atw art. 3(3)" in d.source for d in days)
    calendar = working_calendar()
    assert all(not calendar.is_working_day(d) for d in LEGAL_DECREE_DAYS)
    assert calendar.holiday_name(date(2027, 5, 7)) == "Friday after Ascension Day"


def test_a_deadline_on_a_declared_day_moves_to_the_next_working_day(ctx, manager):
    case = _case(manager)
    assert case.legal_due_on == date(2027, 5, 10)
    clock = case_clock(case, working_calendar(), date(2027, 4, 8))
    assert clock.legal.rolled_over == ((date(2027, 5, 7), "Friday after Ascension Day"),
                                      (date(2027, 5, 8), "Saturday"), (date(2027, 5, 9), "Sunday"))


def test_adding_and_removing_a_day_moves_the_open_cases_deadlines_and_is_audited(ctx, manager):
    case = _case(manager, date(2029, 4, 11))  # one month: Friday 11 May 2029, the day after Ascension Day
    closed = _case(manager, date(2029, 4, 11))
    # A withdrawn (closed) case keeps the deadline it had.
    lifecycle.withdraw(closed, how="By telephone", actor=manager, now=NOW)
    db.session.commit()
    assert case.legal_due_on == date(2029, 5, 11)

    change = add_declared_day(date(2029, 5, 11), "Friday after Ascension Day", "Besluit 2029-2031",
                              actor=manager, now=NOW)
    db.session.commit()
    assert change.moved == (case.reference,)
    assert db.session.get(Case, case.id).legal_due_on == date(2029, 5, 14)
    assert db.session.get(Case, closed.id).legal_due_on == date(2029, 5, 11)
    event = audit_trail()[-1]
    assert event.action == "calendar.declared_day_added"
    assert event.after == {"day": "2029-05-11", "name": "Friday after Ascension Day", "source": "Besluit 2029-2031",
                           "cases_moved": [case.reference]}

    change = remove_declared_day(date(2029, 5, 11), actor=manager, now=NOW)
    db.session.commit()
    assert change.moved == (case.reference,)
    assert db.session.get(Case, case.id).legal_due_on == date(2029, 5, 11)
    actions = [e.action for e in audit_trail()]
    assert actions[-2:] == ["calendar.declared_day_added", "calendar.declared_day_removed"]


@pytest.mark.parametrize(("day", "name", "field", "words"), [
    (date(2029, 5, 12), "Saturday", "day", "Saturday or Sunday"),
    (date(2029, 12, 25), "Christmas", "day", r"already a public holiday \(Christmas Day\)"),
    (date(2029, 5, 11), "  ", "name", "Give the day a name"),
    (date(2029, 5, 11), "x" * 201, "name", "at most 200"),
])
def test_a_day_that_cannot_be_declared_is_refused_and_nothing_is_written(ctx, manager, day, name, field, words):
    before = db.session.execute(sa.select(sa.func.count()).select_from(DeclaredHoliday)).scalar_one()
    with pytest.raises(InvalidInput, match=words) as refused:
        add_declared_day(day, name, actor=manager, now=NOW)
    db.session.rollback()
    assert refused.value.field == field
    assert db.session.execute(sa.select(sa.func.count()).select_from(DeclaredHoliday)).scalar_one() == before


def test_a_day_already_declared_and_a_role_other_than_manager_are_refused(ctx, manager):
    with pytest.raises(RuleViolation, match="already recorded"):
        add_declared_day(date(2027, 5, 7), "again", actor=manager, now=NOW)
    db.session.rollback()
    with pytest.raises(NotAllowed):
        add_declared_day(date(2029, 5, 11), "Friday after Ascension Day", actor=make_user(Role.STAFF), now=NOW)
    db.session.rollback()
    with pytest.raises(NotAllowed):
        remove_declared_day(date(2027, 5, 7), actor=make_user(Role.AUDITOR), now=NOW)
    db.session.rollback()
    with pytest.raises(InvalidInput, match="not recorded"):
        remove_declared_day(date(2029, 5, 11), actor=manager, now=NOW)


def test_the_next_year_is_uncovered_once_no_decree_day_is_recorded_for_it(ctx, manager):
    assert uncovered_year(date(2026, 12, 6)) is None  # 2027: 7 May
    assert uncovered_year(date(2027, 12, 31)) is None  # 2028: 28 April, 26 May
    assert uncovered_year(date(2028, 1, 1)) == 2029
    add_declared_day(date(2029, 5, 11), "Friday after Ascension Day", actor=manager, now=NOW)
    assert uncovered_year(date(2028, 1, 1)) is None


def test_the_command_lists_adds_removes_and_checks(ctx):
    runner = ctx.test_cli_runner()
    listed = runner.invoke(args=["dsr", "declared-days", "list"])
    assert listed.exit_code == 0
    assert "2027-05-07\tFriday after Ascension Day\tAtw art. 3(3)" in listed.output

    with time_machine.travel(datetime(2028, 6, 1, 9, tzinfo=UTC), tick=False):
        check = runner.invoke(args=["dsr", "declared-days", "check"])
        assert check.exit_code == 3
        assert "2029" in check.output
        added = runner.invoke(args=["dsr", "declared-days", "add", "2029-05-11", "Friday after Ascension Day",
                                    "--source", "Stcrt. 2028"])
        assert added.exit_code == 0, added.output
        assert "Added 2029-05-11" in added.output
        assert runner.invoke(args=["dsr", "declared-days", "check"]).exit_code == 0

    refused = runner.invoke(args=["dsr", "declared-days", "add", "2029-05-12", "A Saturday"])
    assert refused.exit_code == 1
    assert "Saturday or Sunday" in refused.output
    bad = runner.invoke(args=["dsr", "declared-days", "add", "11-05-2029", "x"])
    assert bad.exit_code == 2
    removed = runner.invoke(args=["dsr", "declared-days", "remove", "2029-05-11"])
    assert removed.exit_code == 0
    db.session.remove()
    assert db.session.get(DeclaredHoliday, date(2029, 5, 11)) is None


def test_recompute_follows_a_changed_extended_deadline_rule(ctx, manager):
    """Received 31 January 2025, extended: 28 April by default, 30 April with receipt + 3 months."""
    case = make_case(actor=manager, received_on=date(2025, 1, 31), now=datetime(2025, 2, 3, 9, tzinfo=UTC),
                     today=date(2025, 2, 3))
    from dsr.cases import timing

    timing.extend(case, reason="Eleven years of claims", actor=manager, now=datetime(2025, 2, 3, 9, tzinfo=UTC),
                  today=date(2025, 2, 3))
    db.session.commit()
    assert case.extended_due_on == date(2025, 4, 28)
    runner = ctx.test_cli_runner()
    ctx.config["EXTENDED_DEADLINE_RULE"] = "three_months"
    try:
        assert case_clock(case, working_calendar(), date(2025, 2, 3)).due_on == date(2025, 4, 30)
        result = runner.invoke(args=["dsr", "declared-days", "recompute"])
        assert result.exit_code == 0 and case.reference in result.output
        db.session.remove()
        assert db.session.get(Case, case.id).extended_due_on == date(2025, 4, 30)
        assert audit_trail()[-1].action == "calendar.deadlines_recomputed"
    finally:
        ctx.config["EXTENDED_DEADLINE_RULE"] = "earlier"
