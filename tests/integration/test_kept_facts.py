"""The open cases' facts kept per process and brought up to date by the audit events since (issue 15, item 3),
against a real database (SQLite and PostgreSQL): after every kind of change they are the facts read afresh,
only the cases the events name (and the other cases of their subjects) are read again, and what cannot be
followed case by case has them read whole again.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from dsr.audit.operations import record
from dsr.cases import lifecycle, timing
from dsr.cases.deadlines import working_calendar
from dsr.cases.duplicates import merge_into
from dsr.domain.enums import RefusalGround, Right, Role
from dsr.extensions import db
from dsr.reports import data
from dsr.reports.data import kept_open_facts, open_facts
from dsr.reports.escalations import escalations
from dsr.reports.versions import forget
from dsr.tasks.operations import add_task, complete_task
from tests.conftest import NOW, TODAY
from tests.factories import make_case, make_user

LATER = NOW + timedelta(hours=1)


@pytest.fixture
def people(ctx):
    forget()
    return make_user(Role.PRIVACY_MANAGER), make_user(Role.STAFF)


def _case(staff, n: int, received_on: date = date(2026, 11, 2), link_subject=None):
    from dsr.cases.operations import log_request
    from dsr.domain.enums import Channel, Language
    from tests.factories import subject_details

    if link_subject is None:
        return make_case(actor=staff, received_on=received_on, name=f"Persoon {n}", email=f"p{n}@example.nl",
                         customer_number=f"HC{7100000 + n}", policy_number=None)
    case = log_request(subject=subject_details(name=f"Persoon {n}"), rights=[Right.ACCESS], channel=Channel.POST,
                       received_on=received_on, language=Language.NL, notes="", actor=staff, now=NOW, today=TODAY,
                       link_subject=link_subject)
    db.session.commit()
    return case


def _same_as_read_afresh() -> tuple:
    kept = kept_open_facts()
    assert kept == tuple(open_facts())
    return kept


def _by_id(facts) -> dict:
    return {f.id: f for f in facts}


def _only_read_again(before, after, *ids) -> None:
    """The facts of every case but ``ids`` are the very objects kept before (not read again)."""
    before, after = _by_id(before), _by_id(after)
    for case_id, facts in after.items():
        if case_id in ids or case_id not in before:
            continue
        assert facts is before[case_id], case_id


def test_the_kept_facts_follow_every_kind_of_change_reading_only_the_cases_named(people):
    manager, staff = people
    one, two, three = (_case(staff, n) for n in (1, 2, 3))
    facts = _same_as_read_afresh()
    assert len(facts) == 3

    steps = [
        ("assigned", lambda: lifecycle.assign(one, staff, actor=manager, now=LATER), lambda: (one,)),
        ("paused", lambda: timing.request_information(two, reason="Kopie polis", requested_on=TODAY,
                                                      actor=staff, now=LATER, today=TODAY), lambda: (two,)),
        ("resumed", lambda: timing.information_received(two, received_on=TODAY, actor=staff, now=LATER,
                                                        today=TODAY), lambda: (two,)),
        ("extended", lambda: timing.extend(three, reason="Veel systemen", actor=manager, now=LATER, today=TODAY),
         lambda: (three,)),
        ("task added", lambda: add_task(one, "Bel de klant", assignee=staff, due_on=TODAY + timedelta(days=3),
                                        actor=staff, now=LATER, today=TODAY), lambda: (one,)),
        ("task done", lambda: complete_task(_first_task(one), actor=staff, now=LATER), lambda: (one,)),
        ("unassigned", lambda: lifecycle.assign(one, None, actor=manager, now=LATER), lambda: (one,)),
        ("refused", lambda: lifecycle.refuse(three, ground=RefusalGround.MANIFESTLY_UNFOUNDED,
                                             justification="Herhaald verzoek.", actor=manager, now=LATER),
         lambda: (three,)),
    ]
    for what, change, named in steps:
        before = kept_open_facts()
        change()
        db.session.commit()
        after = _same_as_read_afresh()
        _only_read_again(before, after, *(c.id for c in named()))
        assert after != before, what
    assert {f.id for f in kept_open_facts()} == {one.id, two.id}  # the refused case dropped out

    # A new case comes in; the others are not read again.
    before = kept_open_facts()
    four = _case(staff, 4)
    after = _same_as_read_afresh()
    _only_read_again(before, after, four.id)
    assert four.id in _by_id(after)


def _first_task(case):
    from dsr.tasks.models import CaseTask

    return db.session.query(CaseTask).filter_by(case_id=case.id).order_by(CaseTask.id).first()


def test_a_merge_reads_both_cases_and_a_change_through_one_case_reaches_its_subjects_other_cases(people):
    manager, staff = people
    first = _case(staff, 5)
    duplicate = _case(staff, 5, received_on=date(2026, 11, 9), link_subject=first.subject)  # the same person
    other = _case(staff, 6)
    before = _same_as_read_afresh()
    merge_into(duplicate, first, actor=manager, now=LATER)
    db.session.commit()
    after = _same_as_read_afresh()
    _only_read_again(before, after, first.id, duplicate.id)
    assert duplicate.id not in _by_id(after) and _by_id(after)[first.id] is not _by_id(before)[first.id]

    # The person's name corrected through one of their cases: the event names that case only, and the
    # facts of the person's other open cases are read again with it.
    third = _case(staff, 5, received_on=date(2026, 11, 16), link_subject=first.subject)
    before = _same_as_read_afresh()
    first.subject.name = "Persoon Vijf-Jansen"
    record("rectification.subject_corrected", actor=manager, now=LATER, case=third,
           before={"name": "Persoon 5"}, after={"name": "Persoon Vijf-Jansen"})
    db.session.commit()
    after = _same_as_read_afresh()
    assert _by_id(after)[first.id].subject == "Persoon Vijf-Jansen"
    assert _by_id(after)[other.id] is _by_id(before)[other.id]


def test_an_event_without_a_case_reads_the_facts_whole_again_unless_it_changes_none(people):
    manager, staff = people
    _case(staff, 7), _case(staff, 8)
    kept = _same_as_read_afresh()
    record("user.logged_in", actor=staff, now=LATER)
    db.session.commit()
    assert kept_open_facts() is kept  # nothing read again
    record("calendar.deadlines_recomputed", actor=manager, now=LATER, after={"cases_moved": []})
    db.session.commit()
    again = _same_as_read_afresh()
    assert all(a is not b for a, b in zip(again, kept, strict=True))  # every case read again


def test_past_the_bound_of_events_the_facts_are_read_whole_again(people, monkeypatch):
    manager, staff = people
    one, two = _case(staff, 9), _case(staff, 10)
    kept = _same_as_read_afresh()
    monkeypatch.setattr(data, "EVENTS_AT_MOST", 2)
    for n in range(3):
        record("note.added", actor=staff, now=LATER, case=one, after={"n": n})
    db.session.commit()
    again = _same_as_read_afresh()
    assert _by_id(again)[two.id] is not _by_id(kept)[two.id]


def test_a_transactions_own_changes_are_read_but_not_kept(people):
    manager, staff = people
    case = _case(staff, 11)
    kept = _same_as_read_afresh()
    lifecycle.assign(case, staff, actor=manager, now=LATER)  # not committed
    pending = kept_open_facts()
    assert _by_id(pending)[case.id].assignee_id == staff.id
    db.session.rollback()
    assert kept_open_facts() is kept and _by_id(kept)[case.id].assignee_id is None


def test_a_report_takes_the_items_of_unchanged_cases_from_the_one_before(people):
    manager, staff = people
    late, other = _case(staff, 12, received_on=date(2026, 9, 1)), _case(staff, 13, received_on=date(2026, 10, 1))
    calendar = working_calendar()
    first = escalations(kept_open_facts(), TODAY, calendar)
    lifecycle.assign(other, staff, actor=manager, now=LATER)
    db.session.commit()
    facts = kept_open_facts()
    second = escalations(facts, TODAY, calendar, earlier=first)
    assert second == escalations(facts, TODAY, calendar)  # the same report as computed afresh
    assert second.by_case[late.id] is first.by_case[late.id]  # taken over
    assert second.by_case[other.id] is not first.by_case[other.id]
    # Another day, other thresholds or another calendar: nothing is taken over.
    tomorrow = escalations(facts, TODAY + timedelta(days=1), calendar, earlier=second)
    assert tomorrow.by_case[late.id] is not second.by_case[late.id]
    assert escalations(facts, TODAY, calendar, due_within=30, earlier=second).by_case[late.id] \
        is not second.by_case[late.id]
    from dsr.domain.calendar_nl import WorkingDayCalendar

    declared = WorkingDayCalendar({date(2026, 12, 28): "Test"})
    assert escalations(facts, TODAY, declared, earlier=second).by_case[late.id] is not second.by_case[late.id]


def test_the_case_order_and_rights_of_kept_facts_are_those_read_afresh(people):
    manager, staff = people
    cases = [_case(staff, 20 + n) for n in range(4)]
    _same_as_read_afresh()
    for case in reversed(cases):
        lifecycle.assign(case, staff, actor=manager, now=LATER)
        db.session.commit()
    kept = _same_as_read_afresh()
    assert [f.id for f in kept] == sorted(f.id for f in kept)
    newest = make_case(actor=staff, rights=(Right.ERASURE, Right.ACCESS), name="Persoon 30",
                       email="p30@example.nl", customer_number="HC7100030", policy_number=None)
    assert _by_id(_same_as_read_afresh())[newest.id].rights == (Right.ACCESS, Right.ERASURE)
