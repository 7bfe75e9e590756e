"""Operations on cases: the only code that changes them. Each writes its audit event (STYLE.md point 2)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm.attributes import flag_modified

from dsr.attachments.storage import CheckedUpload, store_attachment
from dsr.audit.operations import record
from dsr.cases.deadlines import apply_deadlines, working_calendar
from dsr.cases.errors import CaseError, InvalidInput  # noqa: F401  (CaseError: callers catch it from here)
from dsr.cases.models import Case, CaseRight, ReferenceCounter
from dsr.domain.enums import CaseState, Channel, Language, Right
from dsr.domain.intake import received_on_problem
from dsr.extensions import db
from dsr.subjects.models import DataSubject
from dsr.subjects.operations import SubjectDetails, complete_subject, create_subject


def next_reference(year: int) -> str:
    """``DSR-2026-00042``: numbered per year, safe with many processes.

    The counter is incremented with UPDATE ... RETURNING, which takes a row lock on PostgreSQL and the
    database write lock on SQLite, so two processes never get the same number; the year's row is created
    (an INSERT that does nothing if another process just did) only when the UPDATE found none.
    """
    increment = (sa.update(ReferenceCounter).where(ReferenceCounter.year == year)
                 .values(last=ReferenceCounter.last + 1).returning(ReferenceCounter.last))
    number = db.session.execute(increment).scalar_one_or_none()
    if number is None:
        if db.session.get_bind().dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        db.session.execute(insert(ReferenceCounter).values(year=year, last=0).on_conflict_do_nothing())
        number = db.session.execute(increment).scalar_one()
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
) -> Case:
    """Log a request that reached an official channel on ``received_on`` and start its clock.

    With ``link_subject`` the case joins a known subject (blank fields are completed from the request,
    differing values are recorded in the audit event); otherwise a new subject is recorded.
    """
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
    if link_subject is not None:
        person = link_subject
        before, after = complete_subject(person, subject)
        if after:
            record("subject.updated", actor=actor, now=now, before=before,
                   after={"subject_id": person.id, **after})
    else:
        person = create_subject(subject, now=now)
        record("subject.created", actor=actor, now=now, after={"subject_id": person.id, **subject.as_dict()})

    case = Case(
        reference=next_reference(today.year),
        subject=person,
        channel=channel,
        received_on=received_on,
        language=language,
        state=CaseState.RECEIVED,
        notes=notes or "",
        created_at=now,
        created_by_id=actor.id if actor else None,
        updated_at=now,
    )
    case.rights = [CaseRight(right=r) for r in rights]
    case.pauses, case.attachments = [], []  # known empty: reading them after the flush needs no query
    apply_deadlines(case, calendar)
    db.session.add(case)
    db.session.flush()
    record("case.created", actor=actor, now=now, case=case,
           after={**case_snapshot(case), "subject_id": person.id})
    if scan is not None:
        store_attachment(case, scan, actor=actor, now=now)
    return case


def touch_case(case: Case, now: datetime) -> None:
    """Mark the case changed, which bumps its version even within the same second: a page that showed the
    corrections or recipients as they were is then refused as stale (optimistic locking)."""
    case.updated_at = now
    flag_modified(case, "updated_at")
