"""Operations against a real database, on SQLite and PostgreSQL: logging a request, its audit trail,
reference numbers, linking a known subject, finding matches, and files written in failed transactions."""

from __future__ import annotations

import hashlib
import io
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from dsr.attachments.models import Attachment
from dsr.attachments.storage import check_upload
from dsr.audit.models import AuditEvent, AuditHead, AuditPayload
from dsr.audit.operations import compute_hash, payload_digest, record
from dsr.auth.models import User
from dsr.cases import lifecycle, operations
from dsr.cases.models import Case, CaseRight, ReferenceCounter
from dsr.cases.operations import CaseError, log_request
from dsr.cases.writing import number_and_ids
from dsr.domain.enums import CaseState, Channel, Language, Priority, Right, Role, SearchKind
from dsr.extensions import db
from dsr.subjects.keys import SEARCHED_FIELDS, subject_keys
from dsr.subjects.models import DataSubject, SubjectSearchKey
from dsr.subjects.operations import SubjectDetails, find_matches
from tests.conftest import NOW, TODAY
from tests.factories import make_case, make_user, subject_details
from tests.integration.conftest import assert_unbroken_chain, audit_trail, row_count

# The smallest file filetype recognises as a PDF, and a PNG signature with an IHDR chunk.
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"


def _reload(case: Case) -> Case:
    """The case as stored: a new session, so nothing comes from the identity map."""
    reference = case.reference
    db.session.remove()
    return db.session.execute(sa.select(Case).where(Case.reference == reference)).scalar_one()


def _log(actor, *, scan=None, link_subject=None, details: SubjectDetails | None = None, **kwargs) -> Case:
    args = {
        "subject": details or subject_details(),
        "rights": [Right.ACCESS],
        "channel": Channel.POST,
        "received_on": date(2026, 11, 20),
        "language": Language.NL,
        "notes": "",
        "actor": actor,
        "now": NOW,
        "today": TODAY,
    }
    args.update(kwargs)
    return log_request(link_subject=link_subject, scan=scan, **args)


def _stored_files(app) -> list[Path]:
    return sorted(p for p in Path(app.config["STORAGE_DIR"]).rglob("*") if p.is_file())


# -- log_request ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("received_on", "promised_on", "legal_due_on"), [
    (date(2026, 3, 5), date(2026, 4, 2), date(2026, 4, 7)),    # 5 April is Easter Sunday, 6 April Easter Monday
    (date(2026, 8, 31), date(2026, 9, 28), date(2026, 9, 30)),  # no 31 September: the last day of the month
    (date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 2)),   # 28 February 2026 is a Saturday
    (date(2026, 4, 27), date(2026, 5, 25), date(2026, 5, 27)),  # 27 May is a Wednesday: no roll-over
])
def test_log_request_stores_the_deadlines(ctx, received_on, promised_on, legal_due_on):
    staff = make_user(Role.STAFF)
    case = _reload(make_case(actor=staff, received_on=received_on))
    assert (case.received_on, case.promised_on, case.legal_due_on) == (received_on, promised_on, legal_due_on)


def test_log_request_stores_subject_rights_channel_language_and_notes(ctx):
    staff = make_user(Role.STAFF)
    notes = "Zoë schrijft: <script>alert('x')</script> & \"meer\""
    made = make_case(actor=staff, rights=[Right.PORTABILITY, Right.ERASURE, Right.ACCESS, Right.ERASURE],
                     channel=Channel.EMAIL, language=Language.FR, notes=notes, name="Çelik Zoë Van den Broeck",
                     phone="+31101234567", device_id="490154203237518")
    staff_id = staff.id
    case = _reload(made)
    assert case.reference == "DSR-2026-00001"
    assert case.state is CaseState.RECEIVED
    assert case.closed_at is None
    assert case.right_values == [Right.ACCESS, Right.ERASURE, Right.PORTABILITY]
    assert row_count(CaseRight) == 3
    assert (case.channel, case.language, case.notes) == (Channel.EMAIL, Language.FR, notes)
    assert case.created_by_id == staff_id
    assert case.created_at == NOW and case.created_at.tzinfo is not None
    s = case.subject
    expected = subject_details(name="Çelik Zoë Van den Broeck", phone="+31101234567", device_id="490154203237518")
    assert {f: getattr(s, f) for f in expected.as_dict()} == expected.as_dict()
    assert s.name_key == "celik zoe van den broeck"


def test_log_request_writes_subject_and_case_events_in_one_chain(ctx):
    staff = make_user(Role.STAFF)
    case = make_case(actor=staff, rights=[Right.ERASURE, Right.ACCESS], received_on=date(2026, 3, 5))
    case_id, subject_id = case.id, case.subject_id
    events = audit_trail()
    assert [e.action for e in events] == ["user.created", "subject.created", "case.created"]
    subject_event, case_event = events[1], events[2]

    assert subject_event.actor_id == staff.id and subject_event.actor_label == "staff@harmony.test"
    assert subject_event.after["subject_id"] == subject_id
    assert subject_event.after["name"] == "Zoë Van den Broeck"
    assert subject_event.after["date_of_birth"] == "1984-02-29"
    assert subject_event.after["customer_number"] == "HC1234567"

    assert case_event.case_id == case_id
    assert case_event.actor_id == staff.id
    assert case_event.before is None
    assert case_event.after["reference"] == "DSR-2026-00001"
    assert case_event.after["rights"] == ["access", "erasure"]
    assert case_event.after["state"] == "received"
    assert case_event.after["received_on"] == "2026-03-05"
    assert case_event.after["promised_on"] == "2026-04-02"
    assert case_event.after["legal_due_on"] == "2026-04-07"
    assert case_event.after["subject_id"] == subject_id

    assert_unbroken_chain(events)


def test_a_logged_case_is_in_the_session_as_if_loaded_and_changes_like_one(ctx):
    """log_request writes its rows with Core statements (issue 15, item 3) and hands back ORM objects as a flush
    would have left them: persistent, nothing pending, what the API shows readable without a query, the search
    keys those of the session's hook, and a change right after an ordinary versioned UPDATE."""
    staff, manager = make_user(Role.STAFF), make_user(Role.PRIVACY_MANAGER)
    db.session.commit()
    case = make_case(actor=staff, rights=[Right.OBJECTION, Right.ACCESS], phone="06-1234 5678",
                     device_id="490154203237518", commit=False)
    assert sa.inspect(case).persistent and sa.inspect(case.subject).persistent
    assert not db.session.new and not db.session.dirty
    assert all(sa.inspect(r).persistent for r in case.rights)
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        shown = (case.reference, case.version, case.priority, case.assignee, case.merged_into, case.pauses,
                 case.attachments, case.right_values, case.subject.name, case.subject.cases, case.decision,
                 case.extended_due_on, case.paused_days, case.late_pause_requests)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert statements == []
    assert shown[1:9] == (1, Priority.NORMAL, None, None, [], [], [Right.ACCESS, Right.OBJECTION], "Zoë Van den Broeck")
    assert shown[9] == [case] and shown[10:] == (None, None, 0, 0)
    subject_id, staff_id = case.subject_id, staff.id
    lifecycle.assign(case, staff, actor=manager, now=NOW)
    db.session.commit()
    stored = _reload(case)
    assert (stored.version, stored.assignee_id, stored.right_values) == (2, staff_id, [Right.ACCESS, Right.OBJECTION])
    keys = db.session.execute(sa.select(SubjectSearchKey.kind, SubjectSearchKey.key)
                              .where(SubjectSearchKey.subject_id == subject_id)).all()
    assert sorted(keys) == sorted(subject_keys({name: getattr(stored.subject, name) for name in SEARCHED_FIELDS}))
    assert (SearchKind.PHONE, "+31612345678") in keys and (SearchKind.DEVICE, "490154203237518") in keys
    assert_unbroken_chain(audit_trail())


def _postgresql_only(app) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("SQLite locks the chain's head in a statement of its own")


def test_the_number_comes_with_the_new_ids_and_the_chains_head(ctx):
    """PostgreSQL reads the chain's newest hash with the year's number, without its lock: a round trip less a
    creation (issue 15, item 3)."""
    _postgresql_only(ctx)
    make_user(Role.STAFF)
    db.session.commit()
    numbered = number_and_ids(2026, rights=2, subject=True)
    assert numbered.head == db.session.scalar(sa.select(AuditHead.last_hash)) == audit_trail()[-1].hash
    assert numbered.number == 1 and len(numbered.right_ids) == 2 and numbered.subject_id is not None
    db.session.rollback()


def test_a_creations_statements_stay_within_what_psycopg_keeps_parsed(ctx):
    """psycopg parses a statement of more than 50 parameters or 4,096 characters again at every execution
    (issue 15, item 3): the rows with the events, and the rows alone."""
    from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH, MAX_CACHED_STATEMENT_PARAMS
    from sqlalchemy.dialects import postgresql

    from dsr.audit.operations import _append_statement
    from dsr.cases.writing import _write_ctes, _write_statement

    dialect = postgresql.psycopg.dialect()
    for new_subject in (True, False):
        for statement in (_write_statement(new_subject), _append_statement(True, _write_ctes(new_subject))):
            compiled = statement.compile(dialect=dialect)
            assert len(compiled.params) <= MAX_CACHED_STATEMENT_PARAMS
            assert len(str(compiled)) <= MAX_CACHED_STATEMENT_LENGTH


def test_a_new_case_that_fills_a_column_left_out_of_the_rows_statement_is_refused(ctx):
    """The rows' statement leaves out the columns a new case keeps empty (a parameter each): a case created
    with one of them filled must not lose it silently."""
    _postgresql_only(ctx)
    from dsr.cases.writing import EMPTY_AT_CREATION, write_case

    staff = make_user(Role.STAFF)
    db.session.commit()
    numbered = number_and_ids(2026, rights=1, subject=False)
    subject = DataSubject(name="Zoë", name_key="zoe", created_at=NOW)
    db.session.add(subject)
    db.session.flush()
    case = Case(id=numbered.case_id, reference="DSR-2026-00001", subject_id=subject.id, channel=Channel.EMAIL,
                received_on=TODAY, language=Language.NL, state=CaseState.RECEIVED, notes="", created_at=NOW,
                created_by_id=staff.id, updated_at=NOW, promised_on=TODAY, legal_due_on=TODAY, assignee_id=staff.id)
    assert "assignee_id" in EMPTY_AT_CREATION
    with pytest.raises(ValueError, match="assignee_id"):
        write_case(case, [CaseRight(id=numbered.right_ids[0], case_id=case.id, right=Right.ACCESS)], subject,
                   new_subject=False)
    db.session.rollback()


def test_a_creation_chains_onto_the_event_another_writer_appended_after_it_read_the_head(ctx, monkeypatch):
    """On PostgreSQL a creation reads the chain's head without its lock and moves it in its events' statement
    only if it still holds what was read (issue 15, item 3). Here another process appends an event in between:
    that statement writes nothing, the creation locks the head and chains its events onto the other's, and
    the chain is unbroken."""
    _postgresql_only(ctx)
    staff = make_user(Role.STAFF)
    db.session.commit()
    real_write_case = operations.write_case

    def another_writer_first(*args, **kwargs):
        def elsewhere():
            with ctx.app_context():
                record("user.updated", actor=None, now=NOW, before={"note": "a"}, after={"note": "b"})
                db.session.commit()

        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join(timeout=30)
        return real_write_case(*args, **kwargs)

    monkeypatch.setattr(operations, "write_case", another_writer_first)
    statements = []

    def count(_conn, _cursor, statement, *_args):
        if threading.current_thread() is threading.main_thread():
            statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        case = _log(staff)
        db.session.commit()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    events = audit_trail()
    assert [e.action for e in events] == ["user.created", "user.updated", "subject.created", "case.created"]
    assert events[2].prev_hash == events[1].hash and events[3].case_id == case.id
    assert_unbroken_chain(events)
    # This request's statements on the head: read with the number, the events' statement that found it moved,
    # the lock, the events' statement after it.
    chain = [s for s in statements if "audit_head" in s]
    assert len(chain) == 4, chain
    assert chain[0].startswith("WITH number AS") and "%(head_read)s" in chain[1]
    assert chain[2].startswith("UPDATE audit_head SET events=") and "head_read" not in chain[3]


def test_the_chain_survives_the_round_trip_through_the_database(ctx):
    """Microseconds, Unicode, nested JSON and dates: the hash recomputed from stored rows still matches."""
    staff = make_user(Role.STAFF)
    moment = datetime(2026, 11, 26, 10, 0, 0, 123456, tzinfo=UTC)
    make_case(actor=staff, now=moment, name="Çelik", notes="ünïcödé ✓")
    record("test.nested", actor=staff, now=moment, before={"when": date(2026, 1, 31), "list": [1, "a", None]},
           after={"nested": {"x": [CaseState.CLOSED, {"y": "ë"}]}})
    db.session.commit()
    events = audit_trail()
    assert events[-1].occurred_at == moment
    assert_unbroken_chain(events)


def test_changing_a_stored_event_breaks_its_hash(ctx):
    staff = make_user(Role.STAFF)
    make_case(actor=staff)
    case_event = audit_trail()[-1]
    db.session.execute(sa.update(AuditPayload).where(AuditPayload.event_id == case_event.id)
                       .values(after={**case_event.after, "notes": "edited afterwards"}))
    db.session.commit()
    tampered = audit_trail()[-1]
    # The details are outside the event's own hash; the hash the chain keeps of them no longer matches.
    assert tampered.payload_hash != payload_digest(tampered.payload.nonce, tampered.before, tampered.after)
    db.session.execute(sa.update(AuditEvent).where(AuditEvent.id == case_event.id).values(action="case.other"))
    db.session.commit()
    tampered = audit_trail()[-1]
    assert tampered.hash != compute_hash(tampered)


@pytest.mark.parametrize(("rights", "received_on", "message"), [
    ([], date(2026, 11, 20), "at least one right"),
    ([Right.ACCESS], date(2026, 11, 27), "future"),
    ([Right.ACCESS], date(2018, 5, 24), "25 May 2018"),
])
def test_log_request_refuses_and_writes_nothing(ctx, rights, received_on, message):
    staff = make_user(Role.STAFF)
    with pytest.raises(CaseError, match=message):
        _log(staff, rights=rights, received_on=received_on)
    db.session.rollback()
    assert row_count(Case) == row_count(DataSubject) == row_count(ReferenceCounter) == 0
    assert [e.action for e in audit_trail()] == ["user.created"]


# -- reference numbers -------------------------------------------------------------------------------------------

def test_references_are_numbered_per_year_of_logging(ctx):
    staff = make_user(Role.STAFF)
    first = make_case(actor=staff)
    second = make_case(actor=staff)
    # Received in 2026 and logged in 2027: the number comes from the year it was logged.
    new_year = make_case(actor=staff, received_on=date(2026, 12, 30), today=date(2027, 1, 4),
                         now=datetime(2027, 1, 4, 9, 0, tzinfo=UTC))
    third = make_case(actor=staff)
    assert [first.reference, second.reference, new_year.reference, third.reference] == [
        "DSR-2026-00001", "DSR-2026-00002", "DSR-2027-00001", "DSR-2026-00003"]
    assert dict(db.session.execute(sa.select(ReferenceCounter.year, ReferenceCounter.last)).all()) == {
        2026: 3, 2027: 1}


def test_a_rolled_back_request_does_not_use_up_a_number(ctx):
    staff = make_user(Role.STAFF)
    _log(staff)
    db.session.rollback()
    assert make_case(actor=staff).reference == "DSR-2026-00001"


# -- linking a request to a known subject ------------------------------------------------------------------------

def test_linking_fills_blanks_and_records_differing_values(ctx):
    staff = make_user(Role.STAFF)
    first = make_case(actor=staff, email=None, phone=None)
    subject_id = first.subject_id
    known = db.session.get(DataSubject, subject_id)
    events_before = len(audit_trail())

    details = subject_details(email="zoe@example.nl", phone="+31612345678", city="Utrecht",
                              date_of_birth=date(1984, 3, 1))
    second = _log(staff, link_subject=known, details=details, rights=[Right.ERASURE])
    db.session.commit()

    assert row_count(DataSubject) == 1
    second = _reload(second)
    subject = second.subject
    assert subject.id == subject_id
    # Blanks are filled; what we knew is never overwritten.
    assert (subject.email, subject.phone) == ("zoe@example.nl", "+31612345678")
    assert (subject.city, subject.date_of_birth) == ("Rotterdam", date(1984, 2, 29))
    assert {c.reference for c in subject.cases} == {"DSR-2026-00001", "DSR-2026-00002"}

    new_events = audit_trail()[events_before:]
    assert [e.action for e in new_events] == ["subject.updated", "case.created"]
    updated = new_events[0]
    assert updated.before == {"email": None, "phone": None}
    assert updated.after["subject_id"] == subject_id
    assert updated.after["email"] == "zoe@example.nl" and updated.after["phone"] == "+31612345678"
    assert updated.after["differs"] == {
        "city": {"known": "Rotterdam", "in_request": "Utrecht"},
        "date_of_birth": {"known": "1984-02-29", "in_request": "1984-03-01"},
    }
    assert new_events[1].after["subject_id"] == subject_id
    assert_unbroken_chain(audit_trail())


def test_linking_with_nothing_new_writes_no_subject_event(ctx):
    staff = make_user(Role.STAFF)
    first = make_case(actor=staff)
    known = db.session.get(DataSubject, first.subject_id)
    _log(staff, link_subject=known)
    db.session.commit()
    assert [e.action for e in audit_trail()] == ["user.created", "subject.created", "case.created", "case.created"]


# -- finding known subjects --------------------------------------------------------------------------------------

@pytest.fixture
def two_subjects(ctx):
    staff = make_user(Role.STAFF)
    zoe = make_case(actor=staff).subject_id
    jan = make_case(actor=staff, name="Jan Jansen", date_of_birth=date(1970, 1, 1), email="jan@example.nl",
                    customer_number="HC7654321", policy_number="HP-000001").subject_id
    return {"zoe": zoe, "jan": jan}


@pytest.mark.parametrize(("details", "reasons"), [
    (SubjectDetails(name="Someone", customer_number="hc 123-4567"), ["customer_number"]),
    (SubjectDetails(name="Someone", policy_number="hp555123"), ["policy_number"]),
    (SubjectDetails(name="Someone", policy_number="HP/555.123"), ["policy_number"]),
    (SubjectDetails(name="Someone", email=" ZOE@Example.NL "), ["email"]),
    (SubjectDetails(name="zoe  van DEN broeck", date_of_birth=date(1984, 2, 29)), ["name_and_date_of_birth"]),
    (SubjectDetails(name="Zoë Van den Broeck", date_of_birth=date(1984, 2, 29), email="zoe@example.nl",
                    customer_number="HC1234567", policy_number="HP-555123"),
     ["customer_number", "policy_number", "email", "name_and_date_of_birth"]),
], ids=["customer-number", "policy-number", "policy-number-punctuated", "email", "name-and-dob", "everything"])
def test_find_matches_by_each_identifier(two_subjects, details, reasons):
    matches = find_matches(details)
    assert [(m.subject.id, m.reasons) for m in matches] == [(two_subjects["zoe"], reasons)]


@pytest.mark.parametrize("details", [
    SubjectDetails(name="Zoë Van den Broeck"),  # a name alone is not an identifier
    SubjectDetails(name="Zoë Van den Broeck", date_of_birth=date(1984, 3, 1)),
    SubjectDetails(name="Someone", customer_number="HC1234568", email="zoe@example.com"),
], ids=["name-only", "name-wrong-dob", "near-misses"])
def test_find_matches_finds_nobody_on_partial_identity(two_subjects, details):
    assert find_matches(details) == []


def test_find_matches_lists_every_subject_sharing_an_identifier(two_subjects):
    staff = db.session.scalars(sa.select(User)).one()
    third = make_case(actor=staff, name="Zoë Peeters", email="zoe@example.nl", customer_number=None,
                      policy_number=None, date_of_birth=None).subject_id
    matches = find_matches(SubjectDetails(name="x", email="zoe@example.nl"))
    assert {m.subject.id for m in matches} == {two_subjects["zoe"], third}


# -- files written in a transaction that fails ---------------------------------------------------------------------

def _upload(data: bytes = PDF, name: str = "brief.pdf"):
    return check_upload(name, io.BytesIO(data), max_bytes=10 * 1024 * 1024)


def test_a_committed_scan_is_stored_with_its_sha256(ctx):
    staff = make_user(Role.STAFF)
    case = _log(staff, scan=_upload(PNG, "scan.png"))
    db.session.commit()
    case = _reload(case)
    [attachment] = case.attachments
    [path] = _stored_files(ctx)
    assert path.read_bytes() == PNG
    assert attachment.sha256 == hashlib.sha256(PNG).hexdigest()
    assert (attachment.media_type, attachment.size, attachment.filename) == ("image/png", len(PNG), "scan.png")
    assert path.as_posix().endswith(attachment.storage_key)
    assert audit_trail()[-1].action == "attachment.added"
    # A later, unrelated rollback must not touch a file whose transaction committed.
    _log(db.session.get(User, attachment.uploaded_by_id))
    db.session.rollback()
    assert _stored_files(ctx) == [path]


def test_rollback_after_storing_a_scan_removes_the_file(ctx):
    staff = make_user(Role.STAFF)
    _log(staff, scan=_upload())
    assert len(_stored_files(ctx)) == 1
    db.session.rollback()
    assert _stored_files(ctx) == []
    assert row_count(Case) == row_count(Attachment) == row_count(DataSubject) == 0


def test_a_failed_commit_after_storing_a_scan_removes_the_file(ctx):
    staff = make_user(Role.STAFF)
    _log(staff, scan=_upload())
    # Something else in the same transaction breaks a constraint: the whole request fails at commit.
    db.session.add(User(email=staff.email, name="dup", role=Role.STAFF, password_hash="x", created_at=NOW))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert _stored_files(ctx) == []
    assert row_count(Case) == row_count(Attachment) == 0


def test_an_exception_after_storing_a_scan_leaves_no_file(ctx):
    """A request that dies with an exception after the scan was written ends like every failed Flask request:
    the app context is torn down and Flask-SQLAlchemy removes the session. Nothing may remain."""
    staff_id = make_user(Role.STAFF).id

    with pytest.raises(RuntimeError), ctx.app_context():
        staff = db.session.get(User, staff_id)
        _log(staff, scan=_upload())
        assert len(_stored_files(ctx)) == 1
        raise RuntimeError("the letter could not be rendered")

    assert row_count(Case) == row_count(Attachment) == 0
    assert _stored_files(ctx) == []


def test_a_new_rows_values_are_the_objects_columns_with_the_flushs_defaults(ctx):
    """dsr.cases.writing._row reads each class's columns once (issue 15, item 3): a row is still every column
    attribute of the object, an unset one given its scalar default or NULL (and the object that value too),
    the primary key left out while it is unset."""
    from dsr.cases.writing import _row

    case = Case(reference="DSR-2026-00001", notes="x", channel=Channel.EMAIL, state=CaseState.RECEIVED)
    row = _row(case)
    columns = sa.inspect(Case).column_attrs
    assert set(row) == {prop.columns[0].name for prop in columns} - {"id"}
    for prop in columns:
        column = prop.columns[0]
        if column.name == "id":
            continue
        expected = {"reference": "DSR-2026-00001", "notes": "x", "channel": Channel.EMAIL,
                    "state": CaseState.RECEIVED}.get(column.name, column.default.arg if column.default else None)
        assert row[column.name] == expected == getattr(case, prop.key), column.name
    assert row["version"] == 1 and row["priority"] == Priority.NORMAL
    right = CaseRight(id=5, case_id=7, right=Right.ACCESS)
    assert _row(right) == {"id": 5, "case_id": 7, "right": Right.ACCESS}


def test_a_case_logged_out_of_the_session_is_written_and_worded_alike(ctx):
    """``in_session=False`` (the API's creation, issue 15, item 3): the same rows and events as a case logged
    in the session, the objects left out of the session and readable without a query; no scan with it."""
    staff = make_user(Role.STAFF)
    db.session.commit()
    events_before = row_count(AuditEvent)
    case = _log(staff, rights=[Right.ERASURE, Right.ACCESS], in_session=False)
    assert sa.inspect(case).transient and sa.inspect(case.subject).transient
    assert all(sa.inspect(r).transient for r in case.rights)
    assert case not in db.session and not db.session.new and not db.session.dirty
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        shown = (case.version, case.priority, case.assignee, case.merged_into, case.pauses, case.attachments,
                 case.right_values, case.subject.name, case.subject.cases, case.paused_days)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert statements == []
    assert shown == (1, Priority.NORMAL, None, None, [], [], [Right.ACCESS, Right.ERASURE], "Zoë Van den Broeck",
                     [case], 0)
    reference, case_id, subject_id = case.reference, case.id, case.subject_id
    db.session.commit()
    stored = _reload(case)
    assert (stored.id, stored.subject_id, stored.right_values) == (case_id, subject_id, [Right.ACCESS, Right.ERASURE])
    assert (stored.promised_on, stored.legal_due_on) == (case.promised_on, case.legal_due_on)
    assert stored.subject.name_key == "zoe van den broeck" and stored.subject.created_at == NOW
    assert row_count(AuditEvent) == events_before + 2
    assert_unbroken_chain(audit_trail())
    assert stored.reference == reference
    upload = check_upload("letter.pdf", io.BytesIO(PDF), max_bytes=1_000_000)
    with pytest.raises(ValueError, match="scan"):
        _log(staff, scan=upload, in_session=False)


def test_a_new_row_object_holds_its_values_without_history(ctx):
    """dsr.cases.writing.new_row: an instance of the class with the values given, as if loaded (no pending
    change), which _row then reads with the flush's defaults for the rest."""
    from dsr.cases.writing import _row, new_row

    right = new_row(CaseRight, id=5, case_id=7, right=Right.ACCESS)
    assert type(right) is CaseRight and sa.inspect(right).transient
    assert (right.id, right.case_id, right.right) == (5, 7, Right.ACCESS)
    assert not sa.inspect(right).attrs.right.history.has_changes()
    assert _row(right) == {"id": 5, "case_id": 7, "right": Right.ACCESS}
    case = new_row(Case, reference="DSR-2026-00001", notes="x", channel=Channel.EMAIL, state=CaseState.RECEIVED)
    assert _row(case) == _row(Case(reference="DSR-2026-00001", notes="x", channel=Channel.EMAIL,
                                   state=CaseState.RECEIVED))


def test_a_new_row_object_is_usable_before_any_mapper_is_configured():
    """A worker's first creation may make its first ORM objects through new_row (a gunicorn worker reads the
    token as plain columns): the mappers are configured then, as the constructor would, so the objects'
    attributes can be set (they could not, and the first creation was a 500)."""
    import subprocess
    import sys

    code = ("import sys, tempfile\n"
            "import sqlalchemy as sa\n"
            "from dsr import create_app\n"
            "d = tempfile.mkdtemp()\n"
            "create_app({'SQLALCHEMY_DATABASE_URI': f'sqlite:///{d}/x.db', 'SECRET_KEY': 'x', 'INSTANCE_PATH': d,\n"
            "            'STORAGE_DIR': d + '/s', 'REDIS_URL': None})\n"
            "from dsr.cases.models import CaseRight\n"
            "from dsr.cases.writing import new_row\n"
            "from dsr.domain.enums import Right\n"
            "from dsr.subjects.operations import SubjectDetails, new_subject\n"
            "assert sa.inspect(CaseRight).registry._new_mappers  # nothing has configured them yet\n"
            "right = new_row(CaseRight, id=1, case_id=2, right=Right.ACCESS)\n"
            "right.id = 3\n"
            "subject = new_subject(SubjectDetails(name='Jan'), now=None)\n"
            "subject.id = 4\n"
            "print(right.id, subject.id, subject.name_key)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["3", "4", "jan"]
