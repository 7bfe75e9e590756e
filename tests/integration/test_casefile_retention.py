"""dsr's own retention (issue 18, item 8), on SQLite and PostgreSQL.

A closed case file is reduced two years after closure unless a hold on the file, an open complaint, a legal
hold or kept records still to be erased keep it. What remains is the reference, rights, dates, outcome and
the audit events, whose details become tombstones: ``audit-verify`` still passes, and still detects
tampering.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from dsr.attachments.storage import check_upload, store_attachment
from dsr.audit.models import AuditEvent, AuditPayload
from dsr.audit.verify import verify_chain
from dsr.casefiles import operations as ops
from dsr.casefiles.jobs import REDUCE_JOB_KIND
from dsr.casefiles.models import FileHoldKind
from dsr.cases import lifecycle, timing
from dsr.cases.models import Case, CaseRight
from dsr.domain.casefile_retention import KeptBy
from dsr.domain.enums import AttachmentKind, Right, Role, VerificationMethod, VerificationOutcome
from dsr.extensions import db
from dsr.identity.operations import record_verification
from dsr.jobs import runner
from dsr.subjects.models import DataSubject
from dsr.tasks import operations as tasks
from tests.factories import make_case, make_user
from tests.storage_support import path_for

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
CLOSED_ON = date(2026, 11, 26)
DUE_ON = date(2028, 11, 26)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
NOTE = "Mevrouw belde: haar ex-partner heeft haar wachtwoord"


@pytest.fixture
def people(ctx):
    return make_user(Role.PRIVACY_MANAGER), make_user(Role.STAFF)


def closed_case(manager, staff, **subject) -> Case:
    """A completed access case with everything a case file collects: notes, a task, an attachment, an
    identity check with a note, a pause with a reason."""
    case = make_case(actor=staff, rights=(Right.ACCESS, Right.ERASURE), notes=NOTE, **subject)
    store_attachment(case, check_upload("letter.pdf", io.BytesIO(PDF), max_bytes=1024), actor=staff, now=NOW,
                     kind=AttachmentKind.LETTER)
    tasks.add_note(case, NOTE, actor=staff, now=NOW)
    tasks.add_task(case, "Bel mevrouw terug", assignee=None, due_on=None, actor=staff, now=NOW, today=CLOSED_ON)
    timing.request_information(case, reason="Welk polisnummer?", requested_on=date(2026, 11, 21), actor=staff,
                               now=NOW, today=date(2026, 11, 21))
    timing.information_received(case, received_on=date(2026, 11, 23), actor=staff, now=NOW, today=CLOSED_ON)
    record_verification(case, method=VerificationMethod.POLICY_RECORDS, outcome=VerificationOutcome.VERIFIED,
                        note="Polis HP-555123 komt overeen", actor=staff, now=NOW)
    lifecycle.submit_for_approval(case, actor=staff, now=NOW)
    lifecycle.complete(case, decision="Overzicht gestuurd aan Zoë", actor=manager, now=NOW, override_reason="The work is not what this test is about")
    db.session.commit()
    return case


def test_a_file_is_due_two_years_after_closure(people):
    case = closed_case(*people)
    assert ops.file_status(case, DUE_ON - timedelta(days=1)).decision.due is False
    status = ops.file_status(case, DUE_ON)
    assert (status.closed_on, status.decision.due_on, status.decision.due) == (CLOSED_ON, DUE_ON, True)
    assert [s.case.id for s in ops.past_period(DUE_ON)] == [case.id]
    assert ops.past_period(DUE_ON - timedelta(days=1)) == []


def test_an_open_case_is_never_due(people):
    _manager, staff = people
    case = make_case(actor=staff)
    assert ops.file_status(case, DUE_ON + timedelta(days=3650)) is None


def test_reduction_keeps_the_facts_and_deletes_the_rest(people, ctx):
    manager, staff = people
    case = closed_case(manager, staff)
    case_id, reference, subject_id = case.id, case.reference, case.subject_id
    scan = path_for(case.attachments[0])
    assert scan.is_file()

    done = ops.reduce_due_case_files(now=NOW + timedelta(days=731), today=DUE_ON)
    db.session.commit()
    assert [d["case"] for d in done] == [reference]
    assert done[0]["subject_deleted"] is True and done[0]["files"] == 1

    db.session.expire_all()
    case = db.session.get(Case, case_id)
    assert case.reference == reference and case.reduced_at is not None
    assert {r.right for r in db.session.scalars(sa.select(CaseRight).where(CaseRight.case_id == case_id))} == {
        Right.ACCESS, Right.ERASURE}
    assert case.state.value == "completed" and case.received_on == date(2026, 11, 20)
    assert (case.notes, case.decision, case.subject_id) == ("", "", None)
    assert db.session.get(DataSubject, subject_id) is None
    assert not scan.exists()
    for table in ("attachments", "case_notes", "case_tasks"):
        assert _rows(table, case_id) == 0, table
    assert [p.reason for p in case.pauses] == [""]
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT note FROM identity_verifications WHERE case_id = :c"),
                            {"c": case_id}).scalar() == ""

    # The audit events remain; their details are tombstones, and nothing of the person is left in them.
    events = list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.case_id == case_id)
                                     .order_by(AuditEvent.id)))
    assert events[-1].action == "casefile.reduced"
    assert all(e.purged for e in events[:-1] if e.payload_hash is not None)
    with db.engine.connect() as conn:
        stored = " ".join(str(r) for r in conn.execute(sa.text("SELECT * FROM audit_payloads")).all())
    for personal in ("Zoë", "Van den Broeck", "HC1234567", "zoe@example.nl", "ex-partner", "polisnummer"):
        assert personal not in stored, personal
    report = verify_chain()
    assert report.ok, report.problem


def test_tampering_after_reduction_is_still_detected(people, ctx):
    manager, staff = people
    case = closed_case(manager, staff)
    case_id = case.id
    ops.reduce_due_case_files(now=NOW + timedelta(days=731), today=DUE_ON)
    db.session.commit()
    purged = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.case_id == case_id)
                                .order_by(AuditEvent.id)).first()
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_events SET action = 'case.nothing' WHERE id = :id"), {"id": purged.id})
    db.session.expire_all()
    report = verify_chain()
    assert (report.ok, report.broken_event_id) == (False, purged.id)


def test_the_retention_event_counts_its_tombstones(people, ctx):
    """Emptying one more payload by hand and pointing it at the retention event is detected."""
    manager, staff = people
    closed_case(manager, staff)
    other = make_case(actor=staff, email="other@example.nl", customer_number="HC7654321", name="Ander")
    ops.reduce_due_case_files(now=NOW + timedelta(days=731), today=DUE_ON)
    db.session.commit()
    purger = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "casefile.reduced")).one()
    victim = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.case_id == other.id)).first()
    with db.engine.begin() as conn:
        conn.execute(sa.text('UPDATE audit_payloads SET nonce = NULL, "before" = NULL, "after" = NULL, '
                             "purged_at = :t, purged_by_event_id = :by WHERE event_id = :id"),
                     {"t": NOW, "by": purger.id, "id": victim.id})
    db.session.expire_all()
    report = verify_chain()
    assert (report.ok, report.broken_event_id) == (False, victim.id)
    assert "another case" in report.problem


@pytest.mark.parametrize(("kind", "kept"), [(FileHoldKind.COMPLAINT, KeptBy.COMPLAINT),
                                            (FileHoldKind.LEGAL_HOLD, KeptBy.FILE_HOLD)])
def test_a_hold_or_an_open_complaint_keeps_the_file(people, kind, kept):
    manager, staff = people
    case = closed_case(manager, staff)
    hold = ops.place_file_hold(case, kind, "Klacht bij de AP, zaaknummer z2027-01", actor=manager, now=NOW)
    db.session.commit()
    status = ops.file_status(case, DUE_ON)
    assert (status.decision.due, status.decision.kept_by) == (False, (kept,))
    assert ops.reduce_due_case_files(now=NOW, today=DUE_ON) == []
    with pytest.raises(ops.CaseFileError):
        ops.reduce_case_file(case, now=NOW, today=DUE_ON)
    ops.release_file_hold(hold, "AP heeft de klacht afgesloten", actor=manager, now=NOW)
    db.session.commit()
    assert ops.file_status(case, DUE_ON).decision.due is True
    assert [e.action for e in db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action.like("casefile.%")))] == ["casefile.hold_placed", "casefile.hold_released"]


def test_a_legal_hold_on_the_persons_data_keeps_the_file(people):
    from dsr.fulfilment import holds

    manager, staff = people
    case = closed_case(manager, staff)
    holds.place_hold(subject=case.subject, reason="Rechtszaak over claim", actor=manager, now=NOW, case=case)
    db.session.commit()
    assert ops.file_status(case, DUE_ON).decision.kept_by == (KeptBy.RECORD_HOLD,)


def test_the_list_reads_what_keeps_each_file_in_one_statement(people):
    """The dashboard's list of files past their period: a complaint keeps one, a legal hold on the person's
    data another, nothing the third; what keeps them is read with the cases, in one statement, and is what
    :func:`file_status` finds for each on its own."""
    from dsr.fulfilment import holds

    manager, staff = people
    complaint, held, free = (closed_case(manager, staff, name=f"Persoon {n}", email=f"p{n}@example.nl",
                                         customer_number=f"HC{7300000 + n}") for n in range(3))
    ops.place_file_hold(complaint, FileHoldKind.COMPLAINT, "Klacht bij de AP", actor=manager, now=NOW)
    holds.place_hold(subject=held.subject, reason="Rechtszaak over claim", actor=manager, now=NOW, case=held)
    db.session.commit()
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        listed = ops.past_period(DUE_ON)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert [(s.case.id, s.decision.due, s.decision.kept_by) for s in listed] == [
        (complaint.id, False, (KeptBy.COMPLAINT,)), (held.id, False, (KeptBy.RECORD_HOLD,)), (free.id, True, ())]
    assert len(statements) == 1  # the cases with what keeps each
    assert [ops.file_status(s.case, DUE_ON) for s in listed] == listed


def test_a_hold_needs_a_reason(people):
    manager, staff = people
    case = closed_case(manager, staff)
    with pytest.raises(ops.CaseFileError):
        ops.place_file_hold(case, FileHoldKind.COMPLAINT, "  ", actor=manager, now=NOW)


def test_the_subject_stays_while_another_case_needs_it(people, ctx):
    manager, staff = people
    first = closed_case(manager, staff)
    from dsr.cases.operations import log_request
    from tests.factories import subject_details

    second = log_request(subject=subject_details(), rights=[Right.OBJECTION], channel=first.channel,
                         received_on=date(2027, 1, 5), language=first.language, notes="", actor=staff,
                         now=NOW + timedelta(days=40), today=date(2027, 1, 5), link_subject=first.subject)
    db.session.commit()
    assert second.subject_id == first.subject_id
    subject_id, first_id = first.subject_id, first.id
    done = ops.reduce_due_case_files(now=NOW + timedelta(days=731), today=DUE_ON)
    db.session.commit()
    assert done[0]["subject_deleted"] is False
    assert db.session.get(DataSubject, subject_id) is not None
    assert db.session.get(Case, first_id).subject_id is None
    # The events that recorded the person stay readable while the person's other case is kept.
    created = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "subject.created")).first()
    assert created.after["subject_id"] == subject_id and not created.purged
    assert verify_chain().ok


def test_the_daily_job_reduces_and_is_on_the_schedule(people, ctx):
    from dsr.reports.commands import schedule_entries

    manager, staff = people
    case = closed_case(manager, staff)
    assert REDUCE_JOB_KIND in {e["kind"] for e in schedule_entries(ctx.config)}
    job = runner.create(REDUCE_JOB_KIND, now=NOW, params={"day": DUE_ON.isoformat()}, actor=None)
    db.session.commit()
    runner.perform(job.id)
    db.session.expire_all()
    assert db.session.get(Case, case.id).reduced_at is not None
    assert verify_chain().ok


def test_every_table_that_refers_to_a_case_has_a_retention_decision(ctx):
    """A new table with case data must be named in EMPTIED, CLEARED or KEPT, or retention would forget it."""
    emptied = {name for name, _how in ops.EMPTIED}
    decided = emptied | set(ops.CLEARED) | set(ops.KEPT)
    referring = {t.name for t in db.metadata.sorted_tables
                 if any(fk.column.table.name == "cases" for fk in t.foreign_keys)}
    assert referring - decided == set()
    assert not (emptied & set(ops.KEPT)) and not (emptied & set(ops.CLEARED))


def _rows(table: str, case_id: int) -> int:
    t = db.metadata.tables[table]
    with db.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(t).where(t.c.case_id == case_id)).scalar()


def test_payloads_of_other_cases_are_untouched(people, ctx):
    manager, staff = people
    closed_case(manager, staff)
    other = make_case(actor=staff, email="other@example.nl", customer_number="HC7654321", name="Ander")
    ops.reduce_due_case_files(now=NOW + timedelta(days=731), today=DUE_ON)
    db.session.commit()
    payloads = db.session.scalars(sa.select(AuditPayload).join(AuditEvent, AuditEvent.id == AuditPayload.event_id)
                                  .where(AuditEvent.case_id == other.id)).all()
    assert payloads and all(p.purged_at is None for p in payloads)
