"""The escalation report's thresholds, day by day (no database, no clock: ``today`` is an argument).

Each test walks a case across a threshold and checks the exact day it changes, including across weekends
and the Dutch public holidays of the Algemene termijnenwet (King's Day, Ascension Day).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from dsr.domain.calendar_nl import WorkingDayCalendar
from dsr.domain.enums import CaseState, Right
from dsr.domain.pauses import PauseInterval
from dsr.reports.dashboard import Answered, month_starts, percentile
from dsr.reports.escalations import CaseFacts, Kind, TaskFacts, case_items, escalations, sort_items
from tests.dashboard_support import monthly

CAL = WorkingDayCalendar()


def kinds(case: CaseFacts, today: date, **options) -> dict[Kind, int]:
    """Kind -> days overdue of each item on ``case`` on ``today``."""
    return {i.kind: i.days for i in case_items(case, today, CAL, **options)}


def days(start: date, end: date):
    d = start
    while d <= end:
        yield d
        d += timedelta(days=1)


def assigned(**kw) -> CaseFacts:
    return CaseFacts(**{"reference": "DSR-2026-00001", "assignee_id": 1, "assignee": "Sam Staff", **kw})


# -- the legal deadline, Harmony's promise and "due soon" ------------------------------------------------

def test_kings_day_moves_the_legal_deadline_and_the_report_follows_day_by_day():
    # Received Friday 27 March 2026: one month ends on Monday 27 April, King's Day, so the deadline is
    # Tuesday 28 April. Harmony's 4 weeks end on Friday 24 April.
    case = assigned(received_on=date(2026, 3, 27))
    assert CAL.holiday_name(date(2026, 4, 27)) == "King's Day"
    seen = {d: kinds(case, d) for d in days(date(2026, 4, 19), date(2026, 4, 30))}

    assert seen[date(2026, 4, 20)] == {}  # 8 days left: not yet due soon
    assert seen[date(2026, 4, 21)] == {Kind.DUE_SOON: -7}  # 7 days left
    assert seen[date(2026, 4, 24)] == {Kind.DUE_SOON: -4}  # the promise's last day: still kept
    assert seen[date(2026, 4, 25)] == {Kind.DUE_SOON: -3, Kind.PROMISE_MISSED: 1}  # a Saturday
    assert seen[date(2026, 4, 27)] == {Kind.DUE_SOON: -1, Kind.PROMISE_MISSED: 3}  # King's Day: not overdue
    assert seen[date(2026, 4, 28)] == {Kind.DUE_SOON: 0, Kind.PROMISE_MISSED: 4}  # due today, still in time
    # Overdue from the day after: the promise is no longer listed separately, the legal breach is the news.
    assert seen[date(2026, 4, 29)] == {Kind.LEGAL_OVERDUE: 1}
    assert seen[date(2026, 4, 30)] == {Kind.LEGAL_OVERDUE: 2}


def test_a_deadline_on_a_saturday_rolls_to_monday_and_is_not_overdue_over_the_weekend():
    case = assigned(received_on=date(2026, 9, 24))  # + 1 month = Saturday 24 October
    assert kinds(case, date(2026, 10, 24))[Kind.DUE_SOON] == -2
    assert kinds(case, date(2026, 10, 25))[Kind.DUE_SOON] == -1
    assert kinds(case, date(2026, 10, 26))[Kind.DUE_SOON] == 0
    assert kinds(case, date(2026, 10, 27)) == {Kind.LEGAL_OVERDUE: 1}


def test_ascension_day_moves_the_deadline_to_the_friday():
    case = assigned(received_on=date(2026, 4, 14))  # + 1 month = Thursday 14 May 2026, Ascension Day
    assert CAL.holiday_name(date(2026, 5, 14)) == "Ascension Day"
    assert Kind.LEGAL_OVERDUE not in kinds(case, date(2026, 5, 15))
    assert kinds(case, date(2026, 5, 16)) == {Kind.LEGAL_OVERDUE: 1}


def test_due_within_is_the_window_of_due_soon():
    case = assigned(received_on=date(2026, 3, 27))  # due 28 April
    assert Kind.DUE_SOON not in kinds(case, date(2026, 4, 13), due_within=14)
    assert kinds(case, date(2026, 4, 14), due_within=14)[Kind.DUE_SOON] == -14
    assert Kind.DUE_SOON not in kinds(case, date(2026, 4, 27), due_within=0)
    assert kinds(case, date(2026, 4, 28), due_within=0) == {Kind.DUE_SOON: 0, Kind.PROMISE_MISSED: 4}


def test_an_extended_case_is_measured_against_the_extended_deadline():
    # Extended: three months from 27 March is Saturday 27 June, so Monday 29 June.
    case = assigned(received_on=date(2026, 3, 27), extended_due_on=date(2026, 6, 29),
                    extension_notice_due_on=date(2026, 4, 28), extension_notice_sent_on=date(2026, 4, 20))
    assert Kind.LEGAL_OVERDUE not in kinds(case, date(2026, 5, 20))
    assert kinds(case, date(2026, 6, 29))[Kind.DUE_SOON] == 0
    assert kinds(case, date(2026, 6, 30)) == {Kind.LEGAL_OVERDUE: 1}


def test_a_paused_case_is_not_due_soon_and_its_deadline_moves_with_the_pause():
    # Asked in time (within 5 working days), still waiting: the clock stands still.
    pause = PauseInterval(date(2026, 3, 30), None, True)
    case = assigned(received_on=date(2026, 3, 27), pauses=(pause,), paused_since=date(2026, 3, 30))
    for d in days(date(2026, 4, 20), date(2026, 5, 10)):
        assert Kind.DUE_SOON not in kinds(case, d) and Kind.LEGAL_OVERDUE not in kinds(case, d)


# -- the obligations ---------------------------------------------------------------------------------------

def test_extension_notice_owed_until_sent_and_overdue_after_the_original_deadline():
    case = assigned(received_on=date(2026, 3, 27), extended_due_on=date(2026, 6, 29),
                    extension_notice_due_on=date(2026, 4, 28))
    items = {i.kind: i for i in case_items(case, date(2026, 4, 28), CAL)}
    assert items[Kind.NOTICE_OWED].days == 0 and not items[Kind.NOTICE_OWED].overdue
    items = {i.kind: i for i in case_items(case, date(2026, 4, 29), CAL)}
    assert items[Kind.NOTICE_OWED].days == 1 and items[Kind.NOTICE_OWED].overdue
    sent = assigned(received_on=date(2026, 3, 27), extended_due_on=date(2026, 6, 29),
                    extension_notice_due_on=date(2026, 4, 28), extension_notice_sent_on=date(2026, 4, 27))
    assert Kind.NOTICE_OWED not in kinds(sent, date(2026, 4, 29))


def test_a_late_pause_is_listed_with_how_late_it_was_asked():
    # Received Thursday 23 April: five working days skip King's Day, so asking was allowed until 1 May.
    late = PauseInterval(date(2026, 5, 4), date(2026, 5, 6), False)
    case = assigned(received_on=date(2026, 4, 23), pauses=(late,))
    [item] = [i for i in case_items(case, date(2026, 5, 7), CAL) if i.kind is Kind.LATE_PAUSE]
    assert item.due_on == date(2026, 5, 1) and item.days == 3 and not item.overdue
    assert item.detail["asked_on"] == date(2026, 5, 4)


def test_unassigned_counts_working_days_and_skips_kings_day():
    case = CaseFacts(reference="DSR-2026-00002", received_on=date(2026, 4, 23))  # Thursday
    # Friday 24 (1), weekend, King's Day, Tuesday 28 (2): flagged only on Wednesday 29 (3 > 2).
    assert Kind.UNASSIGNED not in kinds(case, date(2026, 4, 28))
    assert kinds(case, date(2026, 4, 29))[Kind.UNASSIGNED] == 1
    assert Kind.UNASSIGNED not in kinds(assigned(received_on=date(2026, 4, 23)), date(2026, 4, 29))


def test_unassigned_since_an_unassignment_counts_from_that_day():
    case = CaseFacts(reference="DSR-2026-00003", received_on=date(2026, 11, 2), unassigned_since=date(2026, 11, 23))
    assert Kind.UNASSIGNED not in kinds(case, date(2026, 11, 25))
    assert Kind.UNASSIGNED in kinds(case, date(2026, 11, 26))


def test_open_tasks_are_overdue_the_day_after_their_due_date():
    case = assigned(received_on=date(2026, 11, 20), open_tasks=(
        TaskFacts("Ask Focus Feedback", date(2026, 11, 25), "Sanne"), TaskFacts("No date", None)))
    assert Kind.TASK_OVERDUE not in kinds(case, date(2026, 11, 25))
    [item] = [i for i in case_items(case, date(2026, 11, 26), CAL) if i.kind is Kind.TASK_OVERDUE]
    assert (item.task, item.days, item.assignee) == ("Ask Focus Feedback", 1, "Sanne")


def test_closed_cases_are_not_reported():
    case = assigned(received_on=date(2026, 1, 5), state=CaseState.COMPLETED)
    assert case_items(case, date(2026, 11, 26), CAL) == []
    assert escalations([case], date(2026, 11, 26), CAL).open_cases == 0


# -- the report as a whole ----------------------------------------------------------------------------------

def _report():
    today = date(2026, 11, 26)
    cases = [
        assigned(reference="DSR-2026-00010", received_on=date(2026, 10, 1), rights=(Right.ERASURE,)),  # overdue
        assigned(reference="DSR-2026-00011", received_on=date(2026, 9, 28), assignee="Mira", assignee_id=2,
                 rights=(Right.ACCESS, Right.ERASURE)),  # longer overdue
        CaseFacts(reference="DSR-2026-00012", received_on=date(2026, 11, 2)),  # unassigned, due soon
        assigned(reference="DSR-2026-00013", received_on=date(2026, 11, 20)),  # on track
    ]
    return escalations(cases, today, CAL)


def test_the_report_orders_by_severity_then_days_and_names_the_first_thing_to_do():
    report = _report()
    assert [(i.case.reference, i.kind) for i in report.of_kind(Kind.LEGAL_OVERDUE)] == [
        ("DSR-2026-00011", Kind.LEGAL_OVERDUE), ("DSR-2026-00010", Kind.LEGAL_OVERDUE)]
    assert report.first.case.reference == "DSR-2026-00011"
    assert report.open_cases == 4 and len(report.overdue) == 3  # two overdue cases and one unassigned
    assert report.counts()[Kind.DUE_SOON] == 1


def test_grouping_by_assignee_and_by_right():
    report = _report()
    assert list(report.by_assignee()) == ["Mira", "Sam Staff", ""]
    by_right = report.by_right()
    assert {i.case.reference for i in by_right[Right.ERASURE]} == {"DSR-2026-00010", "DSR-2026-00011"}
    assert "DSR-2026-00011" in {i.case.reference for i in by_right[Right.ACCESS]}


def test_sorting_by_each_key():
    items = _report().items
    assert [i.days for i in sort_items(items, "days")] == sorted((i.days for i in items), reverse=True)
    assert [i.case.reference for i in sort_items(items, "reference")] == sorted(i.case.reference for i in items)
    assert sort_items(items, "assignee")[-1].assignee is None
    assert sort_items(items, "days", descending=True)[0].days == min(i.days for i in items)
    with pytest.raises(ValueError):
        sort_items(items, "subject")


def test_a_quiet_day_has_nothing_overdue():
    report = escalations([assigned(received_on=date(2026, 11, 20))], date(2026, 11, 26), CAL)
    assert report.items == () and report.overdue == () and report.first is None


def _varied_cases(n: int, seed: int) -> list[CaseFacts]:
    """Open cases that share days of receipt, pauses and extensions in every combination, as thousands of open
    cases do: received on one of 40 days, some paused (running, ended, asked late), some extended with or
    without a notice, some unassigned (since receipt or since an unassignment), some with open tasks."""
    import random

    rng = random.Random(seed)
    first = date(2026, 8, 3)
    cases = []
    for k in range(n):
        received = first + timedelta(days=rng.randrange(40) * 2)
        pauses, paused_since = (), None
        roll = rng.random()
        if roll < 0.2:  # an ended pause, counted or asked late
            start = received + timedelta(days=rng.randrange(1, 12))
            pauses = (PauseInterval(start, start + timedelta(days=rng.randrange(1, 9)), rng.random() < 0.7),)
        elif roll < 0.3:  # a running pause
            start = received + timedelta(days=rng.randrange(1, 6))
            pauses, paused_since = (PauseInterval(start, None, True),), start
        extended = rng.random() < 0.2
        unassigned = rng.random() < 0.3
        tasks = tuple(TaskFacts(f"task {k}.{t}", received + timedelta(days=rng.randrange(5, 60)),
                                rng.choice((None, "Tara"))) for t in range(rng.choice((0, 0, 0, 1, 2))))
        cases.append(CaseFacts(
            id=k + 1, reference=f"DSR-2026-{k + 1:05d}", received_on=received,
            rights=rng.choice(((Right.ACCESS,), (Right.ERASURE,), (Right.ACCESS, Right.OBJECTION))),
            state=rng.choice((CaseState.RECEIVED, CaseState.IN_PROGRESS, CaseState.IDENTITY_CHECK)),
            assignee_id=None if unassigned else 1 + k % 3, assignee=None if unassigned else f"Staff {k % 3}",
            pauses=pauses, paused_since=paused_since,
            extended_due_on=received + timedelta(days=90) if extended else None,
            extension_notice_due_on=received + timedelta(days=30) if extended else None,
            extension_notice_sent_on=received + timedelta(days=20) if extended and rng.random() < 0.5 else None,
            unassigned_since=(received + timedelta(days=rng.randrange(1, 20))
                              if unassigned and rng.random() < 0.5 else None),
            open_tasks=tasks))
    return cases


@pytest.mark.parametrize("today", [date(2026, 9, 14), date(2026, 10, 30), date(2026, 11, 26), date(2026, 12, 24)])
def test_the_report_shares_clocks_and_gives_each_case_what_case_items_gives_it(today):
    # The report computes each distinct clock once and counts unassigned working days once per start day; what
    # it lists must be, case by case, exactly what case_items (one clock per case) lists, in the same order.
    cases = _varied_cases(400, seed=today.toordinal())
    for options in ({}, {"due_within": 0}, {"due_within": 30, "unassigned_working_days": 5, "ask_working_days": 3}):
        report = escalations(cases, today, CAL, **options)
        one_by_one = [item for case in cases for item in case_items(case, today, CAL, **options)]
        assert report.items == tuple(sort_items(one_by_one, "severity"))
        assert len({i.kind for i in report.items}) >= 5  # varied enough to mean something
        assert report.open_cases == len(cases)


def test_what_a_report_works_out_once_is_what_its_items_give():
    report = escalations(_varied_cases(200, seed=7), date(2026, 11, 26), CAL)
    for kind in Kind:
        assert report.of_kind(kind) is report.of_kind(kind)  # worked out once
        assert report.of_kind(kind) == tuple(i for i in report.items if i.kind is kind)
    assert report.overdue == tuple(i for i in report.items if i.overdue)
    assert report.derived("x", lambda: [1]) is report.derived("x", lambda: [2])
    assert report == escalations(_varied_cases(200, seed=7), date(2026, 11, 26), CAL)  # not compared


# -- the dashboard's monthly figures ------------------------------------------------------------------------

def test_month_starts_are_the_last_twelve_months_oldest_first():
    months = month_starts(date(2026, 11, 26))
    assert months[0] == date(2025, 12, 1) and months[-1] == date(2026, 11, 1) and len(months) == 12


def test_percentile_interpolates_and_handles_one_value():
    assert percentile([], 90) is None
    assert percentile([10], 90) == 10.0
    assert percentile(list(range(1, 11)), 90) == 9.1


def test_monthly_shares_median_p90_and_extensions():
    def answered(received, answered_on, extended=False):
        r = date.fromisoformat(received)
        return Answered(r, date.fromisoformat(answered_on), r + timedelta(days=28), r + timedelta(days=31), extended)

    stats = monthly([
        answered("2026-10-01", "2026-10-20"),  # 19 days: within both
        answered("2026-09-20", "2026-10-19"),  # 29 days: past the promise, within the law
        answered("2026-09-01", "2026-10-15", extended=True),  # 44 days: past both
        answered("2026-11-02", "2026-11-10"),
    ], date(2026, 11, 26))
    october = next(s for s in stats if s.month == date(2026, 10, 1))
    assert (october.answered, october.within_promise, october.within_legal, october.extensions) == (3, 1, 2, 1)
    assert october.median_days == 29.0 and october.promise_share == 33.3 and october.legal_share == 66.7
    assert october.p90_days == 41.0
    assert next(s for s in stats if s.month == date(2026, 6, 1)).answered == 0
