"""Operations on cases: the only code that changes them. Each writes its audit event (STYLE.md point 2)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy.orm.attributes import flag_modified

from dsr.attachments.storage import CheckedUpload, store_attachment
from dsr.audit.operations import Entry, record_all
from dsr.cases.deadlines import apply_deadlines, working_calendar
from dsr.cases.errors import CaseError, InvalidInput  # noqa: F401  (CaseError: callers catch it from here)
from dsr.cases.models import Case, CaseRight
from dsr.cases.writing import new_row, number_and_ids, number_statement, write_case
from dsr.domain.enums import CaseState, Channel, Language, Right
from dsr.domain.intake import received_on_problem
from dsr.extensions import db
from dsr.subjects.models import DataSubject
from dsr.subjects.operations import SubjectDetails, complete_subject, new_subject


def next_reference(year: int) -> str:
    """``DSR-2026-00042``: numbered per year, safe with many processes.

    One statement: the year's row is made at 1 or, if it exists, incremented (INSERT ... ON CONFLICT DO
    UPDATE ... RETURNING), which takes its row lock on PostgreSQL (a process making the same year's row at
    the same moment waits for it, then increments) and the database write lock on SQLite, held to the end of
    the transaction, so two processes never get the same number and a rolled-back request leaves no gap.
    """
    connection = db.session.connection()
    # A Core statement: it flushes nothing (the caller's objects go out in its own flush).
    number = connection.execute(number_statement(connection.dialect.name, year)).scalar_one()
    return _reference(year, number)


def _reference(year: int, number: int) -> str:
    return f"DSR-{year}-{number:05d}"


def case_snapshot(case: Case) -> dict:
    """The fields an audit event records for a case."""
    return {
        "reference": case.reference,
        "state": case.state,
        "rights": [r.value for r in case.right_values],
        "channel": case.channel,
        "received_on": case.received_on,
        "language": case.language,
        "assignee": case.assignee.email if case.assignee else None,
        "promised_on": case.promised_on,
        "legal_due_on": case.legal_due_on,
        "notes": case.notes,
    }


def log_request(
    *,
    subject: SubjectDetails,
    rights: Iterable[Right],
    channel: Channel,
    received_on: date,
    language: Language,
    notes: str,
    actor,
    now: datetime,
    today: date,
    link_subject: DataSubject | None = None,
    scan: CheckedUpload | None = None,
    in_session: bool = True,
) -> Case:
    """Log a request that reached an official channel on ``received_on`` and start its clock.

    With ``link_subject`` the case joins a known subject (blank fields are completed from the request,
    differing values are recorded in the audit event); otherwise a new subject is recorded.

    ``in_session=False`` (a caller that only words its answer from the new case, as the API does): the case,
    its rights and a new subject are written, but not put in the session (:func:`dsr.cases.writing.write_case`),
    so nothing may change them afterwards; not with a ``scan``, which is stored with the case in the session.
    """
    if scan is not None and not in_session:
        raise ValueError("a scan is stored with the case in the session: log the request with in_session=True")
    rights = sorted(set(rights), key=list(Right).index)
    if not rights:
        raise InvalidInput(_("Choose at least one right."), "rights")
    problem = received_on_problem(received_on, today)
    if problem == "future":
        raise InvalidInput(_("The date of receipt cannot be in the future."), "received_on")
    if problem == "before_gdpr":
        raise InvalidInput(_("The date of receipt cannot be before 25 May 2018, when the GDPR began to apply."),
                           "received_on")

    calendar = working_calendar()
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        # The new rows' ids with the number: the rows then go out in one statement (dsr.cases.writing). The
        # chain's head comes with them, read without its lock (record_all moves it only if it still holds it).
        numbered = number_and_ids(today.year, rights=len(rights), subject=link_subject is None)
        case_id, right_ids, subject_id, head = numbered.case_id, numbered.right_ids, numbered.subject_id, numbered.head
        reference = _reference(today.year, numbered.number)
    else:
        reference = next_reference(today.year)
        case_id, right_ids, subject_id, head = None, [None] * len(rights), None, None
    if link_subject is not None:
        person = link_subject
        before, after = complete_subject(person, subject)
    else:
        person = new_subject(subject, now=now)
        person.id = subject_id
    # A linked subject's completed fields (their search keys with them: the session's hook) and whatever else
    # the caller left pending are written before the case's rows and the chain, as the one flush did.
    db.session.flush()
    case = new_row(
        Case,
        id=case_id,
        reference=reference,
        subject_id=person.id,
        channel=channel,
        received_on=received_on,
        language=language,
        state=CaseState.RECEIVED,
        notes=notes or "",
        created_at=now,
        created_by_id=actor.id if actor else None,
        updated_at=now,
        assignee_id=None,
        extended_due_on=None,
        closed_at=None,
    )
    case_rights = [new_row(CaseRight, id=id_, case_id=case_id, right=r) for id_, r in zip(right_ids, rights, strict=True)]
    apply_deadlines(case, calendar)
    # The subject (if new, with its search keys), the case and its rights: on PostgreSQL, with the head read,
    # not written here but in the events' statement below (``along``), a round trip less.
    rows = write_case(case, case_rights, person, new_subject=link_subject is None, along_events=head is not None,
                      in_session=in_session)
    # The events after the rows they name (in the same statement, or the next), so the head's lock is held
    # from there to the commit only; in the chain in the order they happened, written together.
    events = []
    if link_subject is None:
        events.append(Entry("subject.created", after={"subject_id": person.id, **subject.as_dict()}))
    elif after:
        events.append(Entry("subject.updated", before=before, after={"subject_id": person.id, **after}))
    events.append(Entry("case.created", case=case, after={**case_snapshot(case), "subject_id": person.id}))
    record_all(events, actor=actor, now=now, head=head, along=rows)
    if scan is not None:
        store_attachment(case, scan, actor=actor, now=now)
    return case


def touch_case(case: Case, now: datetime) -> None:
    """Mark the case changed, which bumps its version even within the same second: a page that showed the
    corrections or recipients as they were is then refused as stale (optimistic locking)."""
    case.updated_at = now
    flag_modified(case, "updated_at")
