"""A case's life through the operations, on SQLite and PostgreSQL (issue 3, acceptance 1, 2 (roles), 5).

Real users of each role act; every change is committed and read back from the database. The database's own
CHECK constraints are tried with raw SQL on a separate connection, bypassing the application.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsr.attachments.storage import check_upload, store_attachment
from dsr.audit.models import AuditEvent
from dsr.auth.models import User
from dsr.auth.operations import set_active
from dsr.cases import duplicates, lifecycle, timing
from dsr.cases.errors import InvalidInput, NotAllowed, RuleViolation
from dsr.cases.models import Case
from dsr.domain.enums import (
    CLOSED_STATES,
    AttachmentKind,
    CaseState,
    LinkKind,
    Priority,
    RefusalGround,
    Role,
    VerificationMethod,
    VerificationOutcome,
)
from dsr.domain.workflow import TRANSITIONS, Action
from dsr.extensions import db
from dsr.identity.operations import confirm_id_document, record_verification
from dsr.tasks import operations as tasks
from dsr.tasks.models import CaseTask
from tests.conftest import NOW
from tests.factories import make_case, make_user
from tests.integration.conftest import audit_trail, row_count

S = CaseState
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"


def at(day: int, hour: int = 10) -> datetime:
    """A moment in November 2026 (the default case is received on Friday 20 November)."""
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


class People:
    """One user of each role (and a second staff member), fetched into whichever session is current."""

    def __init__(self):
        self._ids = {
            "manager": make_user(Role.PRIVACY_MANAGER).id,
            "staff": make_user(Role.STAFF).id,
            "colleague": make_user(Role.STAFF, "colleague@harmony.test").id,
            "auditor": make_user(Role.AUDITOR).id,
        }

    def _get(self, name: str) -> User:
        return db.session.get(User, self._ids[name])

    manager = property(lambda self: self._get("manager"))
    staff = property(lambda self: self._get("staff"))
    colleague = property(lambda self: self._get("colleague"))
    auditor = property(lambda self: self._get("auditor"))


@pytest.fixture
def people(ctx) -> People:
    return People()


def reload(case: Case) -> Case:
    """The case as stored: a new session, so nothing comes from the identity map."""
    case_id = case.id
    db.session.remove()
    return db.session.get(Case, case_id)


def user(u: User) -> User:
    """The same user in the current session (after :func:`reload` removed the old one)."""
    return db.session.get(User, u.id)


def events() -> int:
    return row_count(AuditEvent)


def bring_to(case: Case, state: CaseState, p: People) -> Case:
    """Walk a received case to ``state`` through the operations, committing each step."""
    m = user(p.manager)
    steps = {
        S.RECEIVED: [],
        S.IDENTITY_CHECK: [lambda c: lifecycle.start_identity_check(c, actor=m, now=at(23))],
        S.IN_PROGRESS: [lambda c: lifecycle.start_work(c, actor=m, now=at(23))],
        S.AWAITING_APPROVAL: [lambda c: lifecycle.start_work(c, actor=m, now=at(23)),
                              lambda c: lifecycle.submit_for_approval(c, actor=m, now=at(24))],
        S.COMPLETED: [lambda c: lifecycle.start_work(c, actor=m, now=at(23)),
                      lambda c: lifecycle.submit_for_approval(c, actor=m, now=at(24)),
                      lambda c: lifecycle.complete(c, decision="Copy sent", actor=m, now=at(25), override_reason="The work is not what this test is about")],
        S.REFUSED: [lambda c: lifecycle.refuse(c, ground=RefusalGround.MANIFESTLY_UNFOUNDED,
                                               justification="Not a request about personal data", actor=m,
                                               now=at(24))],
        S.WITHDRAWN: [lambda c: lifecycle.withdraw(c, how="Phone call", actor=m, now=at(24))],
        S.CLOSED: [lambda c: lifecycle.withdraw(c, how="Phone call", actor=m, now=at(24)),
                   lambda c: lifecycle.close(c, actor=m, now=at(25))],
    }[state]
    for step in steps:
        step(case)
        db.session.commit()
    assert case.state is state
    return case


# -- the whole life ------------------------------------------------------------------------------------------------

def test_the_full_life_from_received_to_closed(people):
    case = make_case(actor=people.staff)
    assert (case.state, case.closed_at) == (S.RECEIVED, None)

    lifecycle.start_identity_check(case, actor=people.staff, now=at(23))
    db.session.commit()
    case = reload(case)
    assert (case.state, case.closed_at) == (S.IDENTITY_CHECK, None)

    record_verification(case, method=VerificationMethod.POLICY_RECORDS, outcome=VerificationOutcome.VERIFIED,
                        note="Policy number and date of birth match", actor=user(people.staff), now=at(23, 11))
    db.session.commit()
    case = reload(case)
    assert (case.state, case.closed_at) == (S.IN_PROGRESS, None)

    lifecycle.submit_for_approval(case, actor=user(people.staff), now=at(24))
    db.session.commit()
    case = reload(case)
    assert (case.state, case.closed_at) == (S.AWAITING_APPROVAL, None)

    lifecycle.complete(case, decision="Copy of the data sent by post", actor=user(people.manager), now=at(25), override_reason="The work is not what this test is about")
    db.session.commit()
    case = reload(case)
    assert case.state is S.COMPLETED
    assert case.decision == "Copy of the data sent by post"
    assert case.closed_at == at(25), "closed_at is set when the case is decided"

    lifecycle.close(case, actor=user(people.manager), now=at(27))
    db.session.commit()
    case = reload(case)
    assert case.state is S.CLOSED
    assert case.closed_at == at(25), "archiving keeps the day it was decided"
    assert case.updated_at == at(27)

    trail = [(e.action, e.before, e.after) for e in audit_trail() if e.case_id == case.id]
    # Staff who started the identity check on the unassigned case became its assignee.
    assert [a for a, _b, _a in trail] == [
        "case.created", "case.start_identity_check", "case.assigned", "identity.verified", "case.start_work",
        "case.submit_for_approval", "case.complete", "case.close"]
    transitions = [(b["state"], a["state"]) for act, b, a in trail if b is not None and "state" in b]
    assert transitions == [("received", "identity_check"), ("identity_check", "in_progress"),
                           ("in_progress", "awaiting_approval"), ("awaiting_approval", "completed"),
                           ("completed", "closed")]
    complete_event = next(e for e in audit_trail() if e.action == "case.complete")
    assert complete_event.actor_label == "privacy_manager@harmony.test"
    assert complete_event.after["decision"] == "Copy of the data sent by post"


def test_closed_at_is_empty_in_every_open_state_and_set_in_every_closed_one(people):
    for state in CaseState:
        case = bring_to(make_case(actor=people.staff), state, people)
        stored = reload(case)
        assert (stored.closed_at is not None) == (state in CLOSED_STATES), state


def test_send_back_returns_the_work_with_a_reason(people):
    case = bring_to(make_case(actor=people.staff), S.AWAITING_APPROVAL, people)
    with pytest.raises(InvalidInput):
        lifecycle.send_back(case, reason="  ", actor=user(people.manager), now=at(25))
    lifecycle.send_back(case, reason="The call recordings are missing", actor=user(people.manager), now=at(25))
    db.session.commit()
    case = reload(case)
    assert (case.state, case.closed_at) == (S.IN_PROGRESS, None)
    last = audit_trail()[-1]
    assert (last.action, last.after) == ("case.send_back",
                                         {"state": "in_progress", "reason": "The call recordings are missing"})


def test_complete_needs_a_decision(people):
    case = bring_to(make_case(actor=people.staff), S.AWAITING_APPROVAL, people)
    with pytest.raises(InvalidInput):
        lifecycle.complete(case, decision="", actor=user(people.manager), now=at(25))
    assert reload(case).state is S.AWAITING_APPROVAL


# -- illegal transitions -------------------------------------------------------------------------------------------

ILLEGAL = [
    (S.RECEIVED, "complete", "received"),
    (S.RECEIVED, "submit_for_approval", "received"),
    (S.RECEIVED, "close", "received"),
    (S.IDENTITY_CHECK, "send_back", "identity check"),
    (S.IN_PROGRESS, "complete", "in progress"),
    (S.AWAITING_APPROVAL, "start_identity_check", "awaiting approval"),
    (S.COMPLETED, "start_work", "completed"),
    (S.COMPLETED, "refuse", "completed"),
    (S.REFUSED, "withdraw", "refused"),
    (S.WITHDRAWN, "complete", "withdrawn"),
    (S.CLOSED, "close", "closed"),
    (S.CLOSED, "start_work", "closed"),
    (S.CLOSED, "withdraw", "closed"),
]


def _operation(name: str, case: Case, actor: User, now: datetime) -> None:
    calls = {
        "start_identity_check": lambda: lifecycle.start_identity_check(case, actor=actor, now=now),
        "start_work": lambda: lifecycle.start_work(case, actor=actor, now=now),
        "submit_for_approval": lambda: lifecycle.submit_for_approval(case, actor=actor, now=now),
        "send_back": lambda: lifecycle.send_back(case, reason="More work", actor=actor, now=now),
        "complete": lambda: lifecycle.complete(case, decision="Done", actor=actor, now=now, override_reason="The work is not what this test is about"),
        "refuse": lambda: lifecycle.refuse(case, ground=RefusalGround.MANIFESTLY_UNFOUNDED, justification="Not his data",
                                           actor=actor, now=now),
        "withdraw": lambda: lifecycle.withdraw(case, how="E-mail", actor=actor, now=now),
        "close": lambda: lifecycle.close(case, actor=actor, now=now),
    }
    calls[name]()


@pytest.mark.parametrize(("state", "operation", "label"), ILLEGAL,
                         ids=[f"{s.value}-{o}" for s, o, _l in ILLEGAL])
def test_an_illegal_transition_is_refused_naming_the_state_and_changes_nothing(people, state, operation, label):
    case = bring_to(make_case(actor=people.staff), state, people)
    case = reload(case)
    before = (case.state, case.version, case.closed_at, case.decision, case.updated_at)
    count = events()
    with pytest.raises(RuleViolation) as caught:
        _operation(operation, case, user(people.manager), at(26))
    assert f"in state '{label}'" in str(caught.value)
    # Nothing changed in the session, and nothing reaches the database when the caller commits anyway.
    assert (case.state, case.version, case.closed_at, case.decision, case.updated_at) == before
    db.session.commit()
    case = reload(case)
    assert (case.state, case.version, case.closed_at, case.decision, case.updated_at) == before
    assert events() == count


# -- who may do what -----------------------------------------------------------------------------------------------

MANAGER_ONLY = ["complete", "send_back", "refuse", "extend", "set_priority", "assign_to_colleague",
                "unassign_colleague"]


def _manager_only(name: str, case: Case, actor: User, p: People) -> None:
    colleague = user(p.colleague)
    calls = {
        "complete": lambda: lifecycle.complete(case, decision="Done", actor=actor, now=at(25), override_reason="The work is not what this test is about"),
        "send_back": lambda: lifecycle.send_back(case, reason="More work", actor=actor, now=at(25)),
        "refuse": lambda: lifecycle.refuse(case, ground=RefusalGround.IDENTITY_NOT_ESTABLISHED,
                                           justification="No reply to our question", actor=actor, now=at(25)),
        "extend": lambda: timing.extend(case, reason="Three years of call recordings", actor=actor, now=at(25),
                                        today=date(2026, 11, 25)),
        "set_priority": lambda: lifecycle.set_priority(case, Priority.HIGH, actor=actor, now=at(25)),
        "assign_to_colleague": lambda: lifecycle.assign(case, colleague, actor=actor, now=at(25)),
        "unassign_colleague": lambda: lifecycle.assign(case, None, actor=actor, now=at(25)),
    }
    calls[name]()


@pytest.mark.parametrize("role", [Role.STAFF, Role.AUDITOR])
@pytest.mark.parametrize("operation", MANAGER_ONLY)
def test_manager_only_operations_are_not_allowed_to_staff_or_the_auditor(people, role, operation):
    case = bring_to(make_case(actor=people.staff), S.AWAITING_APPROVAL, people)
    lifecycle.assign(case, user(people.colleague), actor=user(people.manager), now=at(24))
    db.session.commit()
    case = reload(case)
    actor = user(people.staff if role is Role.STAFF else people.auditor)
    before = (case.state, case.version, case.priority, case.assignee_id, case.extended_due_on)
    count = events()
    with pytest.raises(NotAllowed):
        _manager_only(operation, case, actor, people)
    db.session.commit()
    case = reload(case)
    assert (case.state, case.version, case.priority, case.assignee_id, case.extended_due_on) == before
    assert events() == count


@pytest.mark.parametrize("operation", MANAGER_ONLY)
def test_the_manager_may_do_each_of_them(people, operation):
    case = bring_to(make_case(actor=people.staff), S.AWAITING_APPROVAL, people)
    lifecycle.assign(case, user(people.staff), actor=user(people.manager), now=at(24))
    db.session.commit()
    count = events()
    _manager_only(operation, reload(case), user(people.manager), people)
    db.session.commit()
    assert events() == count + 1


def _auditor_attempts(p: People) -> dict:
    """Every writing operation, each set up so that only the actor's role stands in its way."""
    return {
        "start_identity_check": lambda c, a: lifecycle.start_identity_check(c, actor=a, now=at(25)),
        "start_work": lambda c, a: lifecycle.start_work(c, actor=a, now=at(25)),
        "withdraw": lambda c, a: lifecycle.withdraw(c, how="Letter", actor=a, now=at(25)),
        "take": lambda c, a: lifecycle.assign(c, a, actor=a, now=at(25)),
        "assign_staff": lambda c, a: lifecycle.assign(c, user(p.staff), actor=a, now=at(25)),
        "pause": lambda c, a: timing.request_information(c, reason="Which policy?", requested_on=date(2026, 11, 23),
                                                         actor=a, now=at(25), today=date(2026, 11, 25)),
        "verify": lambda c, a: record_verification(c, method=VerificationMethod.POLICY_RECORDS,
                                                   outcome=VerificationOutcome.VERIFIED, note="", actor=a,
                                                   now=at(25)),
        "note": lambda c, a: tasks.add_note(c, "Looked at it", actor=a, now=at(25)),
        "task": lambda c, a: tasks.add_task(c, "Collect recordings", assignee=None, due_on=None, actor=a,
                                            now=at(25), today=date(2026, 11, 25)),
    }


@pytest.mark.parametrize("operation", ["start_identity_check", "start_work", "withdraw", "take", "assign_staff",
                                       "pause", "verify", "note", "task"])
def test_the_auditor_cannot_do_any_operation_on_a_new_case(people, operation):
    case = make_case(actor=people.staff)
    count = events()
    version = case.version
    with pytest.raises(NotAllowed):
        _auditor_attempts(people)[operation](case, user(people.auditor))
    db.session.commit()
    case = reload(case)
    assert (case.state, case.version, case.assignee_id, case.pauses) == (S.RECEIVED, version, None, [])
    assert events() == count


def test_the_auditor_cannot_do_the_operations_that_need_more_setup(people):
    manager, staff = people.manager, people.staff
    case = bring_to(make_case(actor=staff), S.IN_PROGRESS, people)
    other = make_case(actor=staff)
    done = bring_to(make_case(actor=staff), S.WITHDRAWN, people)
    upload = check_upload("id.png", io.BytesIO(PNG), max_bytes=1024)
    id_copy = store_attachment(case, upload, actor=staff, now=at(24), kind=AttachmentKind.ID_DOCUMENT)
    task = tasks.add_task(case, "Ask IT", assignee=staff, due_on=None, actor=staff, now=at(24),
                          today=date(2026, 11, 24))
    timing.request_information(case, reason="Which policy?", requested_on=date(2026, 11, 23), actor=staff,
                               now=at(24), today=date(2026, 11, 24))
    timing.extend(case, reason="Volume of recordings", actor=manager, now=at(24), today=date(2026, 11, 24))
    db.session.commit()
    other_id, attachment_id, task_id = other.id, id_copy.id, task.id
    auditor = user(people.auditor)
    count = events()
    attempts = [
        lambda: lifecycle.submit_for_approval(case, actor=auditor, now=at(25)),
        lambda: lifecycle.close(done, actor=auditor, now=at(25)),
        lambda: timing.information_received(case, received_on=date(2026, 11, 25), actor=auditor, now=at(25),
                                            today=date(2026, 11, 25)),
        lambda: timing.record_extension_notice(case, sent_on=date(2026, 11, 25), actor=auditor, now=at(25),
                                               today=date(2026, 11, 25)),
        lambda: confirm_id_document(case, id_copy, outcome=VerificationOutcome.VERIFIED, actor=auditor,
                                    now=at(25)),
        lambda: tasks.complete_task(task, actor=auditor, now=at(25)),
        lambda: duplicates.link_cases(case, other, kind=LinkKind.RELATED, actor=auditor, now=at(25)),
        lambda: duplicates.merge_into(other, case, actor=auditor, now=at(25)),
    ]
    for attempt in attempts:
        with pytest.raises(NotAllowed):
            attempt()
    db.session.commit()
    assert events() == count
    case = reload(case)
    assert case.state is S.IN_PROGRESS
    assert case.pauses[0].resumed_on is None
    assert case.extension_notice_sent_on is None
    assert [a.id for a in case.attachments] == [attachment_id]
    assert db.session.get(CaseTask, task_id).done_at is None
    assert db.session.get(Case, other_id).state is S.RECEIVED


def test_staff_can_take_a_case_and_give_it_up(people):
    case = make_case(actor=people.staff)
    lifecycle.assign(case, people.staff, actor=people.staff, now=at(23))
    db.session.commit()
    case = reload(case)
    assert case.assignee_id == people.staff.id
    last = audit_trail()[-1]
    assert (last.action, last.before, last.after) == (
        "case.assigned", {"assignee": None}, {"assignee": "staff@harmony.test"})
    lifecycle.assign(case, None, actor=user(people.staff), now=at(24))
    db.session.commit()
    assert reload(case).assignee_id is None


def test_the_manager_assigns_and_reassigns(people):
    case = make_case(actor=people.staff)
    lifecycle.assign(case, people.staff, actor=people.manager, now=at(23))
    lifecycle.assign(case, people.colleague, actor=people.manager, now=at(24))
    db.session.commit()
    case = reload(case)
    assert case.assignee_id == people.colleague.id
    assigned = [(e.before, e.after) for e in audit_trail() if e.action == "case.assigned"]
    assert assigned == [({"assignee": None}, {"assignee": "staff@harmony.test"}),
                        ({"assignee": "staff@harmony.test"}, {"assignee": "colleague@harmony.test"})]


def test_assigning_the_same_person_again_writes_nothing(people):
    case = make_case(actor=people.staff)
    lifecycle.assign(case, people.staff, actor=people.manager, now=at(23))
    db.session.commit()
    count = events()
    lifecycle.assign(reload(case), user(people.staff), actor=user(people.manager), now=at(24))
    db.session.commit()
    assert events() == count


def test_assign_refuses_an_auditor_as_assignee(people):
    case = make_case(actor=people.staff)
    with pytest.raises(InvalidInput, match="auditor@harmony.test"):
        lifecycle.assign(case, people.auditor, actor=people.manager, now=at(23))
    db.session.commit()
    assert reload(case).assignee_id is None


def test_assign_refuses_an_inactive_assignee(people):
    set_active(people.colleague, False, actor=people.manager, now=at(22))
    db.session.commit()
    case = make_case(actor=people.staff)
    with pytest.raises(InvalidInput, match="colleague@harmony.test"):
        lifecycle.assign(case, user(people.colleague), actor=user(people.manager), now=at(23))
    db.session.commit()
    assert reload(case).assignee_id is None


def test_a_closed_case_cannot_be_assigned(people):
    case = bring_to(make_case(actor=people.staff), S.CLOSED, people)
    with pytest.raises(RuleViolation, match="closed"):
        lifecycle.assign(case, user(people.staff), actor=user(people.manager), now=at(26))


def test_set_priority(people):
    case = make_case(actor=people.staff)
    lifecycle.set_priority(case, Priority.HIGH, actor=people.manager, now=at(23))
    db.session.commit()
    case = reload(case)
    assert case.priority is Priority.HIGH
    last = audit_trail()[-1]
    assert (last.action, last.before, last.after) == ("case.priority_changed", {"priority": "normal"},
                                                       {"priority": "high"})


# -- refusal and withdrawal ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("state", [S.RECEIVED, S.IDENTITY_CHECK, S.IN_PROGRESS, S.AWAITING_APPROVAL])
def test_refusal_from_any_open_state_records_ground_and_justification(people, state):
    case = bring_to(make_case(actor=people.staff), state, people)
    lifecycle.refuse(case, ground=RefusalGround.IDENTITY_NOT_ESTABLISHED,
                     justification="The subject did not answer our two questions.", actor=user(people.manager),
                     now=at(26))
    db.session.commit()
    case = reload(case)
    assert case.state is S.REFUSED
    assert case.refusal_ground is RefusalGround.IDENTITY_NOT_ESTABLISHED
    assert case.decision == "The subject did not answer our two questions."
    assert case.closed_at == at(26)
    last = audit_trail()[-1]
    assert last.action == "case.refuse"
    assert last.after == {"state": "refused", "ground": "identity_not_established",
                          "justification": "The subject did not answer our two questions."}


@pytest.mark.parametrize("justification", ["", "   ", None])
def test_refusal_needs_a_written_justification(people, justification):
    case = make_case(actor=people.staff)
    count = events()
    with pytest.raises(InvalidInput, match="justification"):
        lifecycle.refuse(case, ground=RefusalGround.EXCESSIVE, justification=justification,
                         actor=people.manager, now=at(26))
    db.session.commit()
    case = reload(case)
    assert (case.state, case.refusal_ground, case.decision) == (S.RECEIVED, None, None)
    assert events() == count


def test_withdrawal_records_how(people):
    case = bring_to(make_case(actor=people.staff), S.IN_PROGRESS, people)
    with pytest.raises(InvalidInput):
        lifecycle.withdraw(case, how=" ", actor=user(people.staff), now=at(26))
    lifecycle.withdraw(case, how="Phone call to customer service, 26 Nov", actor=user(people.staff), now=at(26))
    db.session.commit()
    case = reload(case)
    assert (case.state, case.withdrawal_how, case.closed_at) == (
        S.WITHDRAWN, "Phone call to customer service, 26 Nov", at(26))
    assert audit_trail()[-1].after == {"state": "withdrawn", "how": "Phone call to customer service, 26 Nov"}


# -- what the database itself refuses ------------------------------------------------------------------------------

def _raw_update_is_refused(case_id: int, sql: str, constraint: str, **params) -> None:
    """Run ``sql`` on a connection of its own, as someone bypassing the application would."""
    with db.engine.connect() as conn:
        with pytest.raises(sa.exc.IntegrityError) as caught:
            conn.execute(sa.text(sql), {"id": case_id, **params})
            conn.commit()
        conn.rollback()
    assert constraint in str(caught.value)


def _stored_row(case_id: int) -> dict:
    with db.engine.connect() as conn:
        return dict(conn.execute(sa.text("SELECT * FROM cases WHERE id = :id"), {"id": case_id}).mappings().one())


@pytest.mark.parametrize(("sql", "constraint"), [
    ("UPDATE cases SET state = 'completed', closed_at = created_at WHERE id = :id", "decided_has_decision"),
    ("UPDATE cases SET state = 'refused', decision = 'x', closed_at = created_at WHERE id = :id",
     "refused_has_ground"),
    ("UPDATE cases SET state = 'withdrawn', closed_at = created_at WHERE id = :id", "withdrawn_has_how"),
    ("UPDATE cases SET extended_due_on = :later, extended_at = created_at, "
     "extension_notice_due_on = legal_due_on WHERE id = :id", "extension_complete"),
    ("UPDATE cases SET closed_at = created_at WHERE id = :id", "closed_iff_closed_at"),
    ("UPDATE cases SET state = 'closed' WHERE id = :id", "closed_iff_closed_at"),
], ids=["completed-without-decision", "refused-without-ground", "withdrawn-without-how",
        "extension-without-reason", "open-with-closed-at", "closed-without-closed-at"])
def test_the_database_refuses_an_open_case_made_inconsistent(people, sql, constraint):
    case = make_case(actor=people.staff)
    case_id = case.id
    db.session.remove()
    before = _stored_row(case_id)
    _raw_update_is_refused(case_id, sql, constraint, later=date(2027, 2, 22))
    assert _stored_row(case_id) == before


@pytest.mark.parametrize(("sql", "constraint"), [
    ("UPDATE cases SET decision = NULL WHERE id = :id", "decided_has_decision"),
    ("UPDATE cases SET closed_at = NULL WHERE id = :id", "closed_iff_closed_at"),
    ("UPDATE cases SET state = 'in_progress' WHERE id = :id", "closed_iff_closed_at"),
], ids=["completed-loses-decision", "completed-loses-closed-at", "reopened-keeping-closed-at"])
def test_the_database_refuses_a_completed_case_made_inconsistent(people, sql, constraint):
    case = bring_to(make_case(actor=people.staff), S.COMPLETED, people)
    case_id = case.id
    db.session.remove()
    before = _stored_row(case_id)
    _raw_update_is_refused(case_id, sql, constraint)
    assert _stored_row(case_id) == before


def test_the_database_refuses_an_extension_without_its_reason(people):
    case = make_case(actor=people.staff, received_on=date(2026, 11, 20))
    timing.extend(case, reason="Volume", actor=people.manager, now=at(24), today=date(2026, 11, 24))
    db.session.commit()
    case_id = case.id
    db.session.remove()
    _raw_update_is_refused(case_id, "UPDATE cases SET extension_reason = NULL WHERE id = :id", "extension_complete")
    assert _stored_row(case_id)["extension_reason"] == "Volume"


# -- a property: random operations never leave the database in an illegal state ------------------------------------

LIFE_OPERATIONS = {
    Action.START_IDENTITY_CHECK: "start_identity_check",
    Action.START_WORK: "start_work",
    Action.SUBMIT_FOR_APPROVAL: "submit_for_approval",
    Action.SEND_BACK: "send_back",
    Action.COMPLETE: "complete",
    Action.REFUSE: "refuse",
    Action.WITHDRAW: "withdraw",
    Action.CLOSE: "close",
}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(st.sampled_from(list(LIFE_OPERATIONS)), max_size=10))
def test_random_operations_follow_the_table_and_every_stored_row_is_legal(people, actions):
    case = make_case(actor=user(people.staff))
    expected = S.RECEIVED
    moment = NOW
    for action in actions:
        moment += timedelta(minutes=1)
        try:
            _operation(LIFE_OPERATIONS[action], case, user(people.manager), moment)
            db.session.commit()
        except RuleViolation as exc:
            db.session.rollback()
            assert (expected, action) not in TRANSITIONS
            assert expected.value.replace("_", " ") in str(exc)
        else:
            assert (expected, action) in TRANSITIONS
            expected = TRANSITIONS[(expected, action)]
        case = reload(case)
        assert case.state is expected
        assert (case.closed_at is not None) == (expected in CLOSED_STATES)
        if expected in (S.COMPLETED, S.REFUSED):
            assert case.decision
        if expected is S.REFUSED:
            assert case.refusal_ground is not None
