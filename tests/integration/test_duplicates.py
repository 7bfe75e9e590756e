"""Duplicates and repeats (issue 3, acceptance 5 and 6), on SQLite and PostgreSQL: an open case of the same
person for the same right is flagged, merged or linked; the person's earlier requests are listed."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest

from dsr.attachments.storage import check_upload, store_attachment
from dsr.auth.models import User
from dsr.cases import lifecycle
from dsr.cases.duplicates import (
    link_cases,
    linked_cases,
    merge_into,
    open_duplicates,
    previous_request,
    recent_requests,
)
from dsr.cases.errors import InvalidInput, RuleViolation
from dsr.cases.models import Case, CaseLink
from dsr.cases.operations import log_request
from dsr.domain.enums import AttachmentKind, CaseState, Channel, Language, LinkKind, Right, Role
from dsr.extensions import db
from tests.factories import make_case, make_user, subject_details
from tests.integration.conftest import audit_trail, row_count
from tests.storage_support import path_for

S = CaseState
R = Right
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 26)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class People:
    def __init__(self):
        self._ids = {"manager": make_user(Role.PRIVACY_MANAGER).id, "staff": make_user(Role.STAFF).id}

    manager = property(lambda self: db.session.get(User, self._ids["manager"]))
    staff = property(lambda self: db.session.get(User, self._ids["staff"]))


@pytest.fixture
def people(ctx) -> People:
    return People()


def again(first: Case, actor: User, rights=(R.ACCESS,), received_on: date = date(2026, 11, 24)) -> Case:
    """Another request of the same person, logged against the subject already known."""
    case = log_request(subject=subject_details(), rights=list(rights), channel=Channel.EMAIL,
                       received_on=received_on, language=Language.NL, notes="", actor=actor, now=NOW, today=TODAY,
                       link_subject=first.subject)
    db.session.commit()
    return case


def someone_else(actor: User, rights=(R.ACCESS,)) -> Case:
    return make_case(actor=actor, rights=rights, name="Jan de Vries", email="jan@example.nl",
                     customer_number="HC7654321", policy_number="HP-999999", date_of_birth=date(1970, 1, 1))


def get(case_id: int) -> Case:
    return db.session.get(Case, case_id)


# -- finding duplicates --------------------------------------------------------------------------------------------

def test_an_open_case_of_the_same_person_for_a_shared_right_is_flagged(people):
    first = make_case(actor=people.staff, rights=(R.ACCESS, R.ERASURE))
    second = again(first, people.staff, rights=(R.ERASURE,))
    assert [c.id for c in open_duplicates(second)] == [first.id]
    assert [c.id for c in open_duplicates(first)] == [second.id]


def test_different_rights_another_person_and_closed_cases_are_not_duplicates(people):
    first = make_case(actor=people.staff, rights=(R.ACCESS,))
    other_right = again(first, people.staff, rights=(R.RECTIFICATION, R.OBJECTION))
    other_person = someone_else(people.staff, rights=(R.ACCESS,))
    closed = again(first, people.staff, rights=(R.ACCESS,))
    lifecycle.withdraw(closed, how="Letter", actor=people.staff, now=NOW)
    db.session.commit()
    assert open_duplicates(first) == []
    assert open_duplicates(other_right) == []
    assert open_duplicates(other_person) == []
    assert open_duplicates(closed) == []


def test_several_duplicates_are_listed_oldest_first(people):
    first = make_case(actor=people.staff, received_on=date(2026, 11, 20))
    newest = again(first, people.staff, received_on=date(2026, 11, 25))
    middle = again(first, people.staff, received_on=date(2026, 11, 23))
    assert [c.id for c in open_duplicates(newest)] == [first.id, middle.id]


# -- merging -------------------------------------------------------------------------------------------------------

def test_merging_moves_rights_and_attachments_and_closes_the_duplicate(people, ctx):
    target = make_case(actor=people.staff, rights=(R.ACCESS,))
    duplicate = again(target, people.staff, rights=(R.ACCESS, R.ERASURE))
    scan = store_attachment(duplicate, check_upload("second-letter.pdf", io.BytesIO(PDF), max_bytes=1024),
                            actor=people.staff, now=NOW, kind=AttachmentKind.LETTER)
    db.session.commit()
    scan_id, scan_path = scan.id, path_for(scan)
    target_id, duplicate_id, target_ref = target.id, duplicate.id, target.reference

    merge_into(duplicate, target, actor=people.staff, now=NOW)
    db.session.commit()
    db.session.remove()

    target, duplicate = get(target_id), get(duplicate_id)
    assert target.right_values == [R.ACCESS, R.ERASURE]
    assert [a.id for a in target.attachments] == [scan_id]
    assert duplicate.attachments == []
    assert scan_path.read_bytes() == PDF
    assert duplicate.state is S.CLOSED
    assert duplicate.merged_into_id == target_id
    assert duplicate.decision == f"Merged into {target_ref}."
    assert duplicate.closed_at == NOW
    assert target.state is S.RECEIVED
    assert open_duplicates(target) == []
    merged, merged_from = audit_trail()[-2:]
    assert (merged.action, merged.case_id, merged.after) == (
        "case.merge", duplicate_id, {"state": "closed", "merged_into": target_ref})
    assert (merged_from.action, merged_from.case_id, merged_from.after) == (
        "case.merged_from", target_id,
        {"merged_case": duplicate.reference, "rights_added": ["erasure"], "attachments_moved": [scan_id]})


def _unchanged_after_refused_merge(case_id: int, target_id: int, attempt, error) -> None:
    case, target = get(case_id), get(target_id)
    before = ((case.state, case.right_values, case.merged_into_id), (target.state, target.right_values))
    with pytest.raises(error):
        attempt(case, target)
    # Nothing changed in the session either: an operation that refuses must not leave half its work behind.
    assert ((case.state, case.right_values, case.merged_into_id), (target.state, target.right_values)) == before
    db.session.commit()
    db.session.remove()
    case, target = get(case_id), get(target_id)
    assert ((case.state, case.right_values, case.merged_into_id), (target.state, target.right_values)) == before


def test_a_case_cannot_be_merged_into_itself(people):
    case = make_case(actor=people.staff)
    _unchanged_after_refused_merge(case.id, case.id,
                                   lambda c, t: merge_into(c, t, actor=people.staff, now=NOW), InvalidInput)


def test_a_case_cannot_be_merged_into_another_persons_case(people):
    case = make_case(actor=people.staff, rights=(R.ERASURE,))
    other = someone_else(people.staff)
    _unchanged_after_refused_merge(case.id, other.id,
                                   lambda c, t: merge_into(c, t, actor=people.staff, now=NOW), RuleViolation)


def test_a_case_cannot_be_merged_into_a_closed_case(people):
    target = make_case(actor=people.staff)
    lifecycle.withdraw(target, how="Phone", actor=people.staff, now=NOW)
    db.session.commit()
    case = again(target, people.staff, rights=(R.ERASURE,))
    with pytest.raises(RuleViolation, match="withdrawn"):
        merge_into(case, target, actor=people.staff, now=NOW)
    _unchanged_after_refused_merge(case.id, target.id,
                                   lambda c, t: merge_into(c, t, actor=people.staff, now=NOW), RuleViolation)


def test_a_closed_case_cannot_be_merged_and_nothing_moves(people):
    target = make_case(actor=people.staff, rights=(R.ACCESS,))
    decided = again(target, people.staff, rights=(R.ERASURE,))
    lifecycle.withdraw(decided, how="Phone", actor=people.staff, now=NOW)
    db.session.commit()
    _unchanged_after_refused_merge(decided.id, target.id,
                                   lambda c, t: merge_into(c, t, actor=people.staff, now=NOW), RuleViolation)


# -- linking -------------------------------------------------------------------------------------------------------

def test_linked_cases_see_each_other_and_a_second_link_is_refused(people):
    first = make_case(actor=people.staff, rights=(R.ACCESS,))
    second = again(first, people.staff, rights=(R.ERASURE,))
    link_cases(second, first, kind=LinkKind.RELATED, actor=people.staff, now=NOW)
    db.session.commit()
    assert [(k, c.id) for k, c in linked_cases(first)] == [(LinkKind.RELATED, second.id)]
    assert [(k, c.id) for k, c in linked_cases(second)] == [(LinkKind.RELATED, first.id)]
    events = audit_trail()[-2:]
    assert [(e.action, e.case_id, e.after) for e in events] == [
        ("case.linked", second.id, {"linked_case": first.reference, "kind": "related"}),
        ("case.linked", first.id, {"linked_case": second.reference, "kind": "related"})]
    for a, b in ((second, first), (first, second)):
        with pytest.raises(RuleViolation, match="already linked"):
            link_cases(a, b, kind=LinkKind.DUPLICATE, actor=people.staff, now=NOW)
    db.session.commit()
    assert row_count(CaseLink) == 1


def test_a_case_is_not_linked_to_itself_or_to_another_person(people):
    case = make_case(actor=people.staff)
    other = someone_else(people.staff)
    with pytest.raises(InvalidInput):
        link_cases(case, case, kind=LinkKind.DUPLICATE, actor=people.staff, now=NOW)
    with pytest.raises(RuleViolation):
        link_cases(case, other, kind=LinkKind.RELATED, actor=people.staff, now=NOW)
    db.session.commit()
    assert row_count(CaseLink) == 0


# -- earlier requests (a request a year after the last is never excessive, EDPB §185) ------------------------------

def test_recent_and_previous_requests_of_the_same_person(people):
    oldest = make_case(actor=people.staff, received_on=date(2025, 6, 2))
    earlier = again(oldest, people.staff, received_on=date(2026, 2, 10))
    later = again(oldest, people.staff, received_on=date(2026, 9, 1))
    current = again(oldest, people.staff, received_on=date(2026, 11, 20))
    someone_else(people.staff)
    # Since 26 November 2025: the February and September requests, newest first; not June 2025.
    assert [c.id for c in recent_requests(current, TODAY)] == [later.id, earlier.id]
    assert previous_request(current).id == later.id
    assert previous_request(earlier).id == oldest.id
    assert previous_request(oldest) is None
    # The other requests are listed from any of them, the case itself never.
    assert [c.id for c in recent_requests(oldest, TODAY)] == [current.id, later.id, earlier.id]


def test_the_previous_request_more_than_twelve_months_earlier(people):
    first = make_case(actor=people.staff, received_on=date(2025, 6, 2))
    current = again(first, people.staff, received_on=date(2026, 11, 20))
    previous = previous_request(current)
    assert previous.id == first.id
    assert (current.received_on - previous.received_on).days > 365
    assert recent_requests(current, TODAY) == []


def test_a_repeat_can_be_refused_with_a_justification_and_stays_on_record(people):
    first = make_case(actor=people.staff, received_on=date(2026, 10, 1))
    current = again(first, people.staff, received_on=date(2026, 11, 20))
    from dsr.domain.enums import RefusalGround

    lifecycle.refuse(current, ground=RefusalGround.EXCESSIVE,
                     justification="Third identical access request in two months; copies sent on 15 October.",
                     actor=people.manager, now=NOW, repeats=[first])
    db.session.commit()
    assert get(current.id).state is S.REFUSED
    assert [c.id for c in recent_requests(get(first.id), TODAY)] == [current.id]
