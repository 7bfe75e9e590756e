"""Refusing as excessive needs the evidence (issue 14, item 10; EDPB Guidelines 01/2022 §§175–193): the earlier
requests of the same person it repeats are linked, the most recent within the twelve months before it
(calendar months, as the refusal panel counts them), and the letter names them; nothing is written when a
link is refused. The web form and the API take the references."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from dsr.cases import lifecycle
from dsr.cases.errors import InvalidInput, RuleViolation
from dsr.cases.models import Case, RepeatedRequest
from dsr.domain.enums import CaseState, RefusalGround
from dsr.extensions import db
from tests.factories import make_case
from tests.integration.conftest import audit_trail, row_count
from tests.integration.test_duplicates import NOW, People, again, someone_else

EXCESSIVE = RefusalGround.EXCESSIVE


@pytest.fixture
def people(ctx) -> People:
    return People()


def test_excessive_without_the_earlier_request_is_refused_and_nothing_changes(people):
    first = make_case(actor=people.staff, received_on=date(2026, 10, 1))
    current = again(first, people.staff, received_on=date(2026, 11, 20))
    events = len(audit_trail())
    with pytest.raises(InvalidInput, match="earlier request") as refused:
        lifecycle.refuse(current, ground=EXCESSIVE, justification="Again", actor=people.manager, now=NOW)
    assert refused.value.field == "repeats"
    db.session.rollback()
    assert db.session.get(Case, current.id).state is not CaseState.REFUSED
    assert len(audit_trail()) == events and row_count(RepeatedRequest) == 0


def test_the_most_recent_linked_request_must_be_within_a_year(people):
    old = make_case(actor=people.staff, received_on=date(2025, 11, 19))
    current = again(old, people.staff, received_on=date(2026, 11, 20))
    with pytest.raises(RuleViolation, match="more than a year before this one") as refused:
        lifecycle.refuse(current, ground=EXCESSIVE, justification="Again", actor=people.manager, now=NOW,
                         repeats=[old])
    assert old.reference in str(refused.value) and "§185" in str(refused.value)
    db.session.rollback()
    # Twelve months to the day is within the year; the older one may be linked beside a recent one.
    exact = again(old, people.staff, received_on=date(2025, 11, 20))
    lifecycle.refuse(current, ground=EXCESSIVE, justification="Again", actor=people.manager, now=NOW,
                     repeats=[old, exact])
    db.session.commit()
    assert [c.reference for c in lifecycle.repeated_requests(current)] == [old.reference, exact.reference]
    [event] = [e for e in audit_trail() if e.action == "case.refuse"]
    assert event.after["repeats"] == [old.reference, exact.reference]


def test_only_earlier_requests_of_the_same_person_and_only_for_excessive(people):
    first = make_case(actor=people.staff, received_on=date(2026, 10, 1))
    current = again(first, people.staff, received_on=date(2026, 11, 20))
    later = again(first, people.staff, received_on=date(2026, 11, 24))
    stranger = someone_else(people.staff)
    for repeats, words in (([stranger], "not an earlier request of this person"), ([current], "not an earlier"),
                           ([later], "received after this request")):
        with pytest.raises(InvalidInput, match=words):
            lifecycle.refuse(current, ground=EXCESSIVE, justification="Again", actor=people.manager, now=NOW,
                             repeats=repeats)
        db.session.rollback()
    with pytest.raises(InvalidInput, match="only to a refusal as excessive"):
        lifecycle.refuse(current, ground=RefusalGround.MANIFESTLY_UNFOUNDED, justification="No", actor=people.manager,
                         now=NOW, repeats=[first])
    db.session.rollback()
    with pytest.raises(InvalidInput, match="not an earlier request"):
        lifecycle.earlier_cases(current, ["DSR-2099-99999"])
    assert row_count(RepeatedRequest) == 0


def test_staff_are_refused_before_the_links_are_looked_at(people):
    from dsr.cases.errors import NotAllowed

    current = make_case(actor=people.staff)
    with pytest.raises(NotAllowed):
        lifecycle.refuse(current, ground=EXCESSIVE, justification="Again", actor=people.staff, now=NOW)


def test_the_refusal_page_and_the_api_link_by_reference(people, ctx):
    first = make_case(actor=people.staff, received_on=date(2026, 10, 1))
    current = again(first, people.staff, received_on=date(2026, 11, 20))
    assert lifecycle.earlier_cases(current, [first.reference, " "]) == [first]
    with pytest.raises(InvalidInput, match="list of case references"):
        lifecycle.earlier_cases(current, first.reference)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RepeatedRequest)) == 0
