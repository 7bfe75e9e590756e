"""Identity verification, ID copies destroyed after the check, notes and tasks (issue 3, acceptance 3 and 7),
on SQLite and PostgreSQL, with real files under STORAGE_DIR."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from dsr.attachments.models import Attachment
from dsr.attachments.storage import check_upload, store_attachment
from dsr.auth.models import User
from dsr.cases import lifecycle
from dsr.cases.errors import InvalidInput, RuleViolation
from dsr.cases.models import Case
from dsr.domain.enums import AttachmentKind, CaseState, Role, VerificationMethod, VerificationOutcome
from dsr.extensions import db
from dsr.identity.models import IdentityVerification
from dsr.identity.operations import confirm_id_document, record_verification
from dsr.tasks import operations as tasks
from dsr.tasks.models import CaseNote, CaseTask
from tests.factories import make_case, make_user
from tests.integration.conftest import audit_trail, row_count
from tests.storage_support import path_for

S = CaseState
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 26)


class People:
    def __init__(self):
        self._ids = {"manager": make_user(Role.PRIVACY_MANAGER).id, "staff": make_user(Role.STAFF).id,
                     "auditor": make_user(Role.AUDITOR).id}

    manager = property(lambda self: db.session.get(User, self._ids["manager"]))
    staff = property(lambda self: db.session.get(User, self._ids["staff"]))
    auditor = property(lambda self: db.session.get(User, self._ids["auditor"]))


@pytest.fixture
def people(ctx) -> People:
    return People()


def reload(case: Case) -> Case:
    case_id = case.id
    db.session.remove()
    return db.session.get(Case, case_id)


def verifications(case_id: int) -> list[IdentityVerification]:
    return list(db.session.scalars(sa.select(IdentityVerification).where(IdentityVerification.case_id == case_id)
                                   .order_by(IdentityVerification.id)))


def stored_files(app) -> list[Path]:
    return sorted(p for p in Path(app.config["STORAGE_DIR"]).rglob("*") if p.is_file())


def attach(case: Case, actor: User, kind: AttachmentKind, data: bytes = PNG, name: str = "id-front.png"):
    upload = check_upload(name, io.BytesIO(data), max_bytes=1024 * 1024)
    attachment = store_attachment(case, upload, actor=actor, now=NOW, kind=kind)
    db.session.commit()
    return attachment


# -- identity verification -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("start", [S.RECEIVED, S.IDENTITY_CHECK])
def test_a_verified_identity_moves_the_case_into_progress(people, start):
    case = make_case(actor=people.staff)
    if start is S.IDENTITY_CHECK:
        lifecycle.start_identity_check(case, actor=people.staff, now=NOW)
        db.session.commit()
    verification = record_verification(case, method=VerificationMethod.AUTHENTICATED_CHANNEL,
                                       outcome=VerificationOutcome.VERIFIED, note="Logged in to My Harmony",
                                       actor=people.staff, now=NOW)
    db.session.commit()
    verification_id = verification.id
    case = reload(case)
    assert case.state is S.IN_PROGRESS
    [stored] = verifications(case.id)
    assert stored.id == verification_id
    assert (stored.method, stored.outcome, stored.note, stored.verified_by_id, stored.verified_at) == (
        VerificationMethod.AUTHENTICATED_CHANNEL, VerificationOutcome.VERIFIED, "Logged in to My Harmony",
        people.staff.id, NOW)
    trail = [e for e in audit_trail() if e.case_id == case.id]
    assert [e.action for e in trail[-2:]] == ["identity.verified", "case.start_work"]
    assert trail[-2].after == {"method": "authenticated_channel", "outcome": "verified",
                               "note": "Logged in to My Harmony"}
    assert trail[-1].before == {"state": start.value}


def test_a_failed_verification_is_recorded_and_moves_nothing(people):
    case = make_case(actor=people.staff)
    record_verification(case, method=VerificationMethod.ADDITIONAL_INFORMATION,
                        outcome=VerificationOutcome.NOT_VERIFIED, note="Date of birth does not match",
                        actor=people.staff, now=NOW)
    db.session.commit()
    case = reload(case)
    assert case.state is S.RECEIVED
    assert [v.outcome for v in verifications(case.id)] == [VerificationOutcome.NOT_VERIFIED]
    assert audit_trail()[-1].action == "identity.not_verified"


def test_a_verification_while_in_progress_does_not_move_the_case(people):
    case = make_case(actor=people.staff)
    lifecycle.start_work(case, actor=people.staff, now=NOW)
    lifecycle.submit_for_approval(case, actor=people.staff, now=NOW)
    record_verification(case, method=VerificationMethod.POLICY_RECORDS, outcome=VerificationOutcome.VERIFIED,
                        note="", actor=people.staff, now=NOW)
    db.session.commit()
    assert reload(case).state is S.AWAITING_APPROVAL


def test_a_closed_case_is_not_verified(people):
    case = make_case(actor=people.staff)
    lifecycle.withdraw(case, how="E-mail", actor=people.staff, now=NOW)
    db.session.commit()
    with pytest.raises(RuleViolation, match="withdrawn"):
        record_verification(case, method=VerificationMethod.POLICY_RECORDS, outcome=VerificationOutcome.VERIFIED,
                            note="", actor=people.staff, now=NOW)


# -- ID copies -----------------------------------------------------------------------------------------------------

def test_confirming_an_id_check_deletes_the_row_and_the_file_after_commit(people, ctx):
    case = make_case(actor=people.staff)
    id_copy = attach(case, people.staff, AttachmentKind.ID_DOCUMENT)
    letter = attach(case, people.staff, AttachmentKind.LETTER, PDF, "letter.pdf")
    id_path, letter_path = path_for(id_copy), path_for(letter)
    attachment_id, sha = id_copy.id, id_copy.sha256
    assert id_path.read_bytes() == PNG

    result = confirm_id_document(case, id_copy, outcome=VerificationOutcome.VERIFIED, actor=people.staff,
                                 now=NOW)
    assert id_path.exists(), "the file goes only once the transaction commits"
    db.session.commit()
    verification_id = result.id

    assert not id_path.exists()
    assert letter_path.read_bytes() == PDF
    assert stored_files(ctx) == [letter_path]
    assert db.session.get(Attachment, attachment_id) is None
    case = reload(case)
    assert [a.kind for a in case.attachments] == [AttachmentKind.LETTER]
    assert case.state is S.IN_PROGRESS
    [seen] = verifications(case.id)
    assert seen.id == verification_id
    assert (seen.method, seen.outcome, seen.verified_by_id, seen.verified_at) == (
        VerificationMethod.ID_DOCUMENT_SEEN, VerificationOutcome.VERIFIED, people.staff.id, NOW)
    destroyed = next(e for e in audit_trail() if e.action == "identity.id_document_destroyed")
    assert destroyed.before == {"attachment_id": attachment_id, "sha256": sha}
    assert destroyed.actor_label == "staff@harmony.test"
    assert [e.action for e in audit_trail()[-3:]] == [
        "identity.id_document_destroyed", "identity.verified", "case.start_work"]


def test_a_rolled_back_confirmation_keeps_the_row_and_the_file(people, ctx):
    case = make_case(actor=people.staff)
    id_copy = attach(case, people.staff, AttachmentKind.ID_DOCUMENT)
    path, attachment_id = path_for(id_copy), id_copy.id
    confirm_id_document(case, id_copy, outcome=VerificationOutcome.VERIFIED, actor=people.staff, now=NOW)
    db.session.flush()
    db.session.rollback()
    assert path.read_bytes() == PNG
    assert db.session.get(Attachment, attachment_id) is not None
    assert verifications(case.id) == []
    assert reload(case).state is S.RECEIVED
    # A later, unrelated commit must not delete it either.
    tasks.add_note(reload(case), "Still to check", actor=people.staff, now=NOW)
    db.session.commit()
    assert path.read_bytes() == PNG


def test_a_non_id_attachment_is_not_destroyed(people, ctx):
    case = make_case(actor=people.staff)
    letter = attach(case, people.staff, AttachmentKind.LETTER, PDF, "letter.pdf")
    path, attachment_id = path_for(letter), letter.id
    with pytest.raises(RuleViolation, match="ID document"):
        confirm_id_document(case, letter, outcome=VerificationOutcome.VERIFIED, actor=people.staff, now=NOW)
    db.session.commit()
    assert path.read_bytes() == PDF
    assert db.session.get(Attachment, attachment_id) is not None
    assert verifications(case.id) == []


def test_an_id_copy_of_another_case_is_refused(people):
    case, other = make_case(actor=people.staff), make_case(actor=people.staff, name="Other Person",
                                                             email="o@example.nl", customer_number="HC7654321")
    id_copy = attach(other, people.staff, AttachmentKind.ID_DOCUMENT)
    with pytest.raises(InvalidInput):
        confirm_id_document(case, id_copy, outcome=VerificationOutcome.VERIFIED, actor=people.staff, now=NOW)
    db.session.commit()
    assert path_for(db.session.get(Attachment, id_copy.id)).exists()


def test_an_id_copy_on_a_closed_case_is_destroyed_without_a_verification(people, ctx):
    case = make_case(actor=people.staff)
    id_copy = attach(case, people.staff, AttachmentKind.ID_DOCUMENT)
    path = path_for(id_copy)
    lifecycle.withdraw(case, how="Letter", actor=people.staff, now=NOW)
    db.session.commit()
    assert confirm_id_document(case, id_copy, outcome=VerificationOutcome.VERIFIED, actor=people.staff,
                               now=NOW) is None
    db.session.commit()
    assert not path.exists()
    assert verifications(case.id) == []
    assert reload(case).state is S.WITHDRAWN


# -- notes ---------------------------------------------------------------------------------------------------------

def test_a_note_is_stored_exactly_as_typed(people):
    case = make_case(actor=people.staff)
    body = "<script>alert('x')</script> & \"Van den Broeck\" <b>called</b>\nline two"
    note = tasks.add_note(case, body, actor=people.staff, now=NOW)
    db.session.commit()
    note_id = note.id
    db.session.remove()
    stored = db.session.get(CaseNote, note_id)
    assert stored.body == body
    assert (stored.author_id, stored.created_at) == (people.staff.id, NOW)
    event = audit_trail()[-1]
    assert (event.action, event.after) == ("note.added", {"body": body})


@pytest.mark.parametrize("body", ["", "   ", "\n\t", None])
def test_an_empty_note_is_refused(people, body):
    case = make_case(actor=people.staff)
    with pytest.raises(InvalidInput):
        tasks.add_note(case, body, actor=people.staff, now=NOW)
    db.session.commit()
    assert row_count(CaseNote) == 0


def test_a_note_has_at_most_5000_characters(people):
    case = make_case(actor=people.staff)
    with pytest.raises(InvalidInput):
        tasks.add_note(case, "x" * 5001, actor=people.staff, now=NOW)
    tasks.add_note(case, "x" * 5000, actor=people.staff, now=NOW)
    db.session.commit()
    assert row_count(CaseNote) == 1


# -- tasks ---------------------------------------------------------------------------------------------------------

def test_a_task_with_assignee_and_due_date(people):
    case = make_case(actor=people.staff)
    task = tasks.add_task(case, "Collect the call recordings", assignee=people.staff, due_on=date(2026, 12, 1),
                          actor=people.manager, now=NOW, today=TODAY)
    db.session.commit()
    task_id = task.id
    db.session.remove()
    stored = db.session.get(CaseTask, task_id)
    assert (stored.title, stored.assignee_id, stored.due_on, stored.created_by_id, stored.done_at) == (
        "Collect the call recordings", people.staff.id, date(2026, 12, 1), people.manager.id, None)
    assert stored.is_open
    event = audit_trail()[-1]
    assert (event.action, event.after) == ("task.added", {
        "task_id": task_id, "title": "Collect the call recordings", "assignee": "staff@harmony.test",
        "due_on": "2026-12-01"})


def test_a_task_may_be_due_today_but_not_in_the_past(people):
    case = make_case(actor=people.staff)
    with pytest.raises(InvalidInput) as caught:
        tasks.add_task(case, "Too late", assignee=None, due_on=date(2026, 11, 25), actor=people.staff, now=NOW,
                       today=TODAY)
    assert caught.value.field == "due_on"
    tasks.add_task(case, "Today", assignee=None, due_on=TODAY, actor=people.staff, now=NOW, today=TODAY)
    db.session.commit()
    assert [t.title for t in db.session.scalars(sa.select(CaseTask))] == ["Today"]


@pytest.mark.parametrize("title", ["", "  "])
def test_a_task_needs_a_title(people, title):
    case = make_case(actor=people.staff)
    with pytest.raises(InvalidInput):
        tasks.add_task(case, title, assignee=None, due_on=None, actor=people.staff, now=NOW, today=TODAY)


def test_a_task_cannot_go_to_the_auditor(people):
    case = make_case(actor=people.staff)
    with pytest.raises(InvalidInput):
        tasks.add_task(case, "Read", assignee=people.auditor, due_on=None, actor=people.manager, now=NOW,
                       today=TODAY)


def test_completing_a_task_once(people):
    case = make_case(actor=people.staff)
    task = tasks.add_task(case, "Ask IT", assignee=people.staff, due_on=None, actor=people.staff, now=NOW,
                          today=TODAY)
    db.session.commit()
    later = datetime(2026, 11, 27, 15, 30, tzinfo=UTC)
    tasks.complete_task(task, actor=people.staff, now=later)
    db.session.commit()
    task_id = task.id
    db.session.remove()
    task = db.session.get(CaseTask, task_id)
    assert (task.done_at, task.done_by_id, task.is_open) == (later, people.staff.id, False)
    event = audit_trail()[-1]
    assert (event.action, event.case_id, event.after) == ("task.completed", case_id_of(task),
                                                          {"task_id": task_id, "title": "Ask IT"})
    with pytest.raises(RuleViolation, match="already done"):
        tasks.complete_task(task, actor=people.manager, now=NOW)
    db.session.commit()
    assert db.session.get(CaseTask, task_id).done_at == later


def case_id_of(task: CaseTask) -> int:
    return task.case_id
