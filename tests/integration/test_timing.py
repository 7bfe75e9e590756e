"""The case clock through the operations, on SQLite and PostgreSQL (issue 3, acceptance 3 and 4).

Every deadline below is worked out by hand. The case is received on Thursday 5 March 2026:
* promise: 5 March + 28 days = Thursday 2 April;
* legal deadline: 5 April is Easter Sunday and 6 April Easter Monday, so Tuesday 7 April;
* extended deadline: 5 June 2026 is a Friday, so 5 June;
* the last day a request for information pauses the clock: 5 working days after receipt, Fri 6 (1),
  Mon 9 (2), Tue 10 (3), Wed 11 (4), Thu 12 March (5).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from dsr.auth.models import User
from dsr.cases import lifecycle, timing
from dsr.cases.deadlines import case_clock, working_calendar
from dsr.cases.errors import InvalidInput, NotAllowed, RuleViolation
from dsr.cases.models import Case
from dsr.domain.enums import Role
from dsr.extensions import db
from tests.factories import make_case, make_user
from tests.integration.conftest import audit_trail

RECEIVED = date(2026, 3, 5)


def d(month: int, day: int, year: int = 2026) -> date:
    return date(year, month, day)


def on(day: date) -> datetime:
    return datetime.combine(day, time(10, 0), tzinfo=UTC)


class People:
    def __init__(self):
        self._ids = {"manager": make_user(Role.PRIVACY_MANAGER).id, "staff": make_user(Role.STAFF).id}

    manager = property(lambda self: db.session.get(User, self._ids["manager"]))
    staff = property(lambda self: db.session.get(User, self._ids["staff"]))


@pytest.fixture
def people(ctx) -> People:
    return People()


def new_case(people: People, received_on: date = RECEIVED) -> Case:
    return make_case(actor=people.staff, received_on=received_on, now=on(received_on), today=received_on)


def reload(case: Case) -> Case:
    case_id = case.id
    db.session.remove()
    return db.session.get(Case, case_id)


def stored(case: Case) -> tuple:
    case = reload(case)
    return (case.promised_on, case.legal_due_on, case.extended_due_on, case.paused_days)


def pause(case, people, asked: date, *, today: date | None = None, reason: str = "Which policy is meant?"):
    return timing.request_information(case, reason=reason, requested_on=asked, actor=people.staff, now=on(today or asked),
                                      today=today or asked)


def resume(case, people, arrived: date, *, today: date | None = None):
    return timing.information_received(case, received_on=arrived, actor=people.staff, now=on(today or arrived),
                                       today=today or arrived)


def test_a_new_case_has_the_hand_computed_deadlines(people):
    case = new_case(people)
    assert stored(case) == (d(4, 2), d(4, 7), None, 0)


# -- pauses --------------------------------------------------------------------------------------------------------

def test_a_pause_asked_in_time_moves_both_deadlines_by_the_paused_days(people):
    case = new_case(people)
    asked = pause(case, people, d(3, 6))
    db.session.commit()
    assert asked.counted is True
    case = reload(case)
    assert case.paused_since == d(3, 6)
    # While the pause runs, the stored deadlines include only ended pauses.
    assert (case.promised_on, case.legal_due_on, case.paused_days) == (d(4, 2), d(4, 7), 0)
    assert audit_trail()[-1].action == "case.paused"

    resume(case, people, d(3, 13))
    db.session.commit()
    case = reload(case)
    # 6 → 13 March: 7 days. Promise 2 April + 7 = 9 April. Legal: 5 April + 7 = Sunday 12 April → Monday 13 April.
    assert (case.promised_on, case.legal_due_on, case.extended_due_on, case.paused_days) == (
        d(4, 9), d(4, 13), None, 7)
    assert case.paused_since is None
    [p] = case.pauses
    assert (p.requested_on, p.resumed_on, p.counted, p.days) == (d(3, 6), d(3, 13), True, 7)
    event = audit_trail()[-1]
    assert event.action == "case.resumed"
    assert event.before == {"promised_on": "2026-04-02", "legal_due_on": "2026-04-07", "extended_due_on": None,
                            "paused_days": 0}
    assert event.after == {"promised_on": "2026-04-09", "legal_due_on": "2026-04-13", "extended_due_on": None,
                           "paused_days": 7, "information_received_on": "2026-03-13", "requested_on": "2026-03-06",
                           "counted": True, "days": 7}


def test_a_pause_on_the_last_day_of_the_ask_period_still_counts(people):
    case = new_case(people)
    assert pause(case, people, d(3, 12)).counted is True
    resume(case, people, d(3, 16))
    db.session.commit()
    # 4 days: promise 6 April; legal 5 April + 4 = Thursday 9 April.
    assert stored(case) == (d(4, 6), d(4, 9), None, 4)


def test_information_arriving_the_same_day_suspends_nothing(people):
    case = new_case(people)
    pause(case, people, d(3, 6))
    resume(case, people, d(3, 6))
    db.session.commit()
    assert stored(case) == (d(4, 2), d(4, 7), None, 0)


def test_a_late_ask_is_recorded_and_flagged_but_does_not_move_the_deadlines(people):
    case = new_case(people)
    late = pause(case, people, d(3, 13), reason="Please send your policy number")
    db.session.commit()
    assert late.counted is False
    case = reload(case)
    assert (case.late_pause_requests, case.paused_since) == (1, None)
    event = audit_trail()[-1]
    assert event.action == "case.pause_requested_late"
    assert event.after["counted"] is False
    assert event.after["requested_on"] == "2026-03-13"

    resume(case, people, d(3, 20))
    db.session.commit()
    case = reload(case)
    assert (case.promised_on, case.legal_due_on, case.paused_days, case.late_pause_requests) == (
        d(4, 2), d(4, 7), 0, 1)
    assert audit_trail()[-1].after["days"] == 0
    clock = case_clock(case, working_calendar(), d(3, 25))
    assert (clock.paused_days, clock.legal.due_on, clock.promised_on) == (0, d(4, 7), d(4, 2))


def test_the_ask_period_is_configurable(people):
    case = new_case(people)
    # With 6 working days the last day to ask is Friday 13 March, so an ask that day still counts.
    asked = timing.request_information(case, reason="Which policy?", requested_on=d(3, 13), actor=people.staff,
                                       now=on(d(3, 13)), today=d(3, 13), ask_working_days=6)
    db.session.commit()
    assert asked.counted is True
    assert audit_trail()[-1].after["ask_working_days"] == 6


def test_a_second_pause_after_the_ask_period_counts_late_and_adds_nothing(people):
    case = new_case(people)
    pause(case, people, d(3, 6))
    resume(case, people, d(3, 13))
    second = pause(case, people, d(3, 16))
    resume(case, people, d(3, 19))
    db.session.commit()
    assert second.counted is False
    case = reload(case)
    assert (case.paused_days, case.late_pause_requests, case.legal_due_on) == (7, 1, d(4, 13))


def test_only_one_open_pause_at_a_time(people):
    case = new_case(people)
    pause(case, people, d(3, 6))
    db.session.commit()
    with pytest.raises(RuleViolation, match="asked on 6 Mar 2026"):
        pause(case, people, d(3, 9))
    db.session.commit()
    assert len(reload(case).pauses) == 1


def test_only_one_open_pause_even_when_the_open_one_was_late(people):
    case = new_case(people)
    pause(case, people, d(3, 16))
    with pytest.raises(RuleViolation):
        pause(case, people, d(3, 17))


@pytest.mark.parametrize(("asked", "today", "field"), [
    (d(3, 10), d(3, 9), "requested_on"),   # in the future
    (d(3, 4), d(3, 9), "requested_on"),    # before the request arrived
], ids=["future", "before-receipt"])
def test_a_pause_is_refused_on_an_impossible_day(people, asked, today, field):
    case = new_case(people)
    with pytest.raises(InvalidInput) as caught:
        pause(case, people, asked, today=today)
    assert caught.value.field == field
    db.session.commit()
    case = reload(case)
    assert (case.pauses, case.paused_since, case.late_pause_requests) == ([], None, 0)


def test_a_pause_needs_a_reason(people):
    case = new_case(people)
    with pytest.raises(InvalidInput):
        pause(case, people, d(3, 6), reason="  ")


@pytest.mark.parametrize(("arrived", "today"), [
    (d(3, 9), d(3, 10)),   # before the information was asked for (10 March)
    (d(3, 12), d(3, 11)),  # in the future
], ids=["before-the-ask", "future"])
def test_a_resume_is_refused_on_an_impossible_day(people, arrived, today):
    case = new_case(people)
    pause(case, people, d(3, 10))
    db.session.commit()
    with pytest.raises(InvalidInput) as caught:
        resume(case, people, arrived, today=today)
    assert caught.value.field == "received_on"
    db.session.commit()
    case = reload(case)
    assert case.pauses[0].resumed_on is None
    assert case.paused_since == d(3, 10)
    assert case.paused_days == 0


def test_resume_without_an_open_pause_is_refused(people):
    case = new_case(people)
    with pytest.raises(RuleViolation, match="not waiting"):
        resume(case, people, d(3, 9))


def test_a_closed_case_cannot_be_paused(people):
    case = new_case(people)
    lifecycle.withdraw(case, how="Letter", actor=people.staff, now=on(d(3, 6)))
    db.session.commit()
    with pytest.raises(RuleViolation, match="withdrawn"):
        pause(case, people, d(3, 6))


def test_days_left_stand_still_during_an_open_pause(people):
    case = new_case(people)
    pause(case, people, d(3, 6))
    db.session.commit()
    case = reload(case)
    calendar = working_calendar()
    monday, wednesday = case_clock(case, calendar, d(3, 9)), case_clock(case, calendar, d(3, 11))
    # 9 March: 3 days paused, legal 5 April + 3 = Wednesday 8 April, promise 5 April.
    assert (monday.paused_days, monday.legal.due_on, monday.promised_on) == (3, d(4, 8), d(4, 5))
    # 11 March: 5 days paused, legal 5 April + 5 = Friday 10 April, promise 7 April.
    assert (wednesday.paused_days, wednesday.legal.due_on, wednesday.promised_on) == (5, d(4, 10), d(4, 7))
    assert monday.paused and wednesday.paused
    assert monday.days_left == wednesday.days_left == 30
    # The promise is stated as the last working day on or before it: 5 April is Easter Sunday and 3 April
    # Good Friday, so on Monday the answer goes out by Thursday 2 April; on Wednesday 7 April is a Tuesday.
    assert (monday.promise_answer_by, monday.promise_not_working) == (d(4, 2), "Sunday")
    assert (wednesday.promise_answer_by, wednesday.promise_not_working) == (d(4, 7), None)
    assert (monday.promise_days_left, wednesday.promise_days_left) == (24, 27)
    # Once the information arrives, the clock runs again.
    resume(case, people, d(3, 13))
    db.session.commit()
    case = reload(case)
    after = case_clock(case, calendar, d(3, 16)), case_clock(case, calendar, d(3, 17))
    assert [c.legal.due_on for c in after] == [d(4, 13), d(4, 13)]
    assert [c.days_left for c in after] == [28, 27]
    assert not after[0].paused


# -- extension (Art. 12(3)) ----------------------------------------------------------------------------------------

def extend(case, people, today: date, reason: str = "Eight years of call recordings to review"):
    timing.extend(case, reason=reason, actor=people.manager, now=on(today), today=today)


def test_an_extension_gives_three_months_and_owes_a_notice_before_the_original_deadline(people):
    case = new_case(people)
    extend(case, people, d(3, 20))
    db.session.commit()
    case = reload(case)
    assert case.extended_due_on == d(6, 5)
    assert case.extension_notice_due_on == d(4, 7)
    assert case.extension_reason == "Eight years of call recordings to review"
    assert case.extended_at == on(d(3, 20))
    assert case.due_on == d(6, 5)
    assert case.legal_due_on == d(4, 7)
    assert case.extension_notice_owed
    event = audit_trail()[-1]
    assert (event.action, event.before, event.after) == (
        "case.extended", {"due_on": "2026-04-07"},
        {"reason": "Eight years of call recordings to review", "extended_due_on": "2026-06-05",
         "extension_notice_due_on": "2026-04-07"})


def test_the_extended_deadline_rolls_over_to_a_working_day(people):
    # Received Monday 30 November 2026: three months later is Sunday 28 February 2027 → Monday 1 March.
    case = new_case(people, d(11, 30))
    extend(case, people, d(12, 1))
    db.session.commit()
    case = reload(case)
    assert (case.legal_due_on, case.extended_due_on, case.extension_notice_due_on) == (
        d(12, 30), d(3, 1, 2027), d(12, 30))


def test_an_extension_is_allowed_on_the_deadline_day(people):
    case = new_case(people)
    extend(case, people, d(4, 7))
    db.session.commit()
    assert reload(case).extended_due_on == d(6, 5)


def test_an_extension_is_refused_the_day_after_the_original_deadline(people):
    case = new_case(people)
    with pytest.raises(RuleViolation, match="deadline was 7 Apr 2026"):
        extend(case, people, d(4, 8))
    db.session.commit()
    case = reload(case)
    assert (case.extended_due_on, case.extension_reason, case.extension_notice_due_on) == (None, None, None)


def test_paused_days_count_towards_the_original_deadline_for_an_extension(people):
    refused, allowed = new_case(people), new_case(people)
    for case in (refused, allowed):
        pause(case, people, d(3, 6))
        resume(case, people, d(3, 13))
    db.session.commit()
    # The legal deadline moved to 13 April: an extension on that day (after 7 April) is in time ...
    extend(allowed, people, d(4, 13))
    # ... and one on 14 April is too late.
    with pytest.raises(RuleViolation, match="deadline was 13 Apr 2026"):
        extend(refused, people, d(4, 14))
    db.session.commit()
    allowed = reload(allowed)
    # 5 June + 7 = Friday 12 June.
    assert (allowed.extended_due_on, allowed.extension_notice_due_on) == (d(6, 12), d(4, 13))


def test_an_open_pause_counts_towards_the_original_deadline_for_an_extension(people):
    case = new_case(people)
    pause(case, people, d(3, 6))
    db.session.commit()
    # On 9 April the pause has lasted 34 days: the deadline is 5 April + 34 = Saturday 9 May → Monday 11 May.
    extend(case, people, d(4, 9))
    db.session.commit()
    case = reload(case)
    assert case.extension_notice_due_on == d(5, 11)
    assert case.extended_due_on == d(6, 5)  # only ended pauses are stored; this one has not ended yet


def test_a_pause_after_an_extension_moves_the_extended_deadline_too(people):
    case = new_case(people)
    extend(case, people, d(3, 6))
    pause(case, people, d(3, 6), today=d(3, 6))
    resume(case, people, d(3, 14))
    db.session.commit()
    case = reload(case)
    # 8 days. Promise 10 April; legal 5 April + 8 = Monday 13 April; extended 5 June + 8 = Saturday 13 June →
    # Monday 15 June. The notice stays due on the deadline as it was when the case was extended.
    assert (case.promised_on, case.legal_due_on, case.extended_due_on, case.paused_days) == (
        d(4, 10), d(4, 13), d(6, 15), 8)
    assert case.extension_notice_due_on == d(4, 7)
    assert audit_trail()[-1].after["extended_due_on"] == "2026-06-15"


def test_a_case_is_extended_only_once(people):
    case = new_case(people)
    extend(case, people, d(3, 20))
    db.session.commit()
    with pytest.raises(RuleViolation, match="already been extended"):
        extend(case, people, d(3, 21), reason="Even more recordings")
    db.session.commit()
    case = reload(case)
    assert (case.extension_reason, case.extended_at) == ("Eight years of call recordings to review",
                                                         on(d(3, 20)))


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_extension_needs_a_reason(people, reason):
    case = new_case(people)
    with pytest.raises(InvalidInput) as caught:
        extend(case, people, d(3, 20), reason=reason)
    assert caught.value.field == "reason"
    db.session.commit()
    assert reload(case).extended_due_on is None


def test_staff_cannot_extend(people):
    case = new_case(people)
    with pytest.raises(NotAllowed):
        timing.extend(case, reason="Volume", actor=people.staff, now=on(d(3, 20)), today=d(3, 20))
    db.session.commit()
    assert reload(case).extended_due_on is None


def test_a_closed_case_cannot_be_extended(people):
    case = new_case(people)
    lifecycle.withdraw(case, how="Letter", actor=people.staff, now=on(d(3, 6)))
    db.session.commit()
    with pytest.raises(RuleViolation, match="withdrawn"):
        extend(case, people, d(3, 20))


# -- the extension notice ------------------------------------------------------------------------------------------

def notice(case, people, sent_on: date, today: date | None = None):
    timing.record_extension_notice(case, sent_on=sent_on, actor=people.staff, now=on(today or sent_on),
                                   today=today or sent_on)


def test_recording_the_notice_fulfils_the_obligation_once(people):
    case = new_case(people)
    extend(case, people, d(3, 20))
    notice(case, people, d(3, 23))
    db.session.commit()
    case = reload(case)
    assert case.extension_notice_sent_on == d(3, 23)
    assert not case.extension_notice_owed
    event = audit_trail()[-1]
    assert (event.action, event.after) == ("case.extension_notice_sent",
                                           {"sent_on": "2026-03-23", "due_on": "2026-04-07", "late": False})
    with pytest.raises(RuleViolation, match="sent on 23 Mar 2026"):
        notice(case, people, d(3, 24))
    db.session.commit()
    assert reload(case).extension_notice_sent_on == d(3, 23)


def test_a_notice_sent_on_the_due_date_is_in_time(people):
    case = new_case(people)
    extend(case, people, d(3, 20))
    notice(case, people, d(4, 7))
    db.session.commit()
    assert audit_trail()[-1].after["late"] is False


def test_a_notice_sent_after_the_due_date_is_recorded_as_late(people):
    case = new_case(people)
    extend(case, people, d(4, 7))
    notice(case, people, d(4, 8))
    db.session.commit()
    assert reload(case).extension_notice_sent_on == d(4, 8)
    event = audit_trail()[-1]
    assert event.after == {"sent_on": "2026-04-08", "due_on": "2026-04-07", "late": True}


def test_a_notice_cannot_be_sent_in_the_future(people):
    case = new_case(people)
    extend(case, people, d(3, 20))
    with pytest.raises(InvalidInput):
        notice(case, people, d(3, 21), today=d(3, 20))


def test_no_notice_without_an_extension(people):
    case = new_case(people)
    with pytest.raises(RuleViolation, match="not been extended"):
        notice(case, people, d(3, 20))
