"""Recording data subjects and finding the ones we already know (a repeat request is shown, not refused)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, fields
from datetime import date, datetime

import sqlalchemy as sa

from dsr.domain.enums import SubjectTitle
from dsr.extensions import db
from dsr.subjects.keys import identifier_key  # noqa: F401  (callers import it from here)
from dsr.subjects.models import DataSubject


@dataclass(frozen=True)
class SubjectDetails:
    """The identity of a person as given in their request (the letter, the e-mail, the web form)."""

    name: str
    date_of_birth: date | None = None
    address: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = None
    email: str | None = None
    phone: str | None = None
    customer_number: str | None = None
    policy_number: str | None = None
    device_id: str | None = None
    title: SubjectTitle | None = None

    def as_dict(self) -> dict:
        # Every field is a plain value (text, a date, an enum), so a shallow dict is what ``dataclasses.asdict``
        # gives, without its recursive copy (some 170 calls a creation through the API; issue 15, item 3).
        return {name: getattr(self, name) for name in DETAIL_FIELDS}


DETAIL_FIELDS = tuple(f.name for f in fields(SubjectDetails))


def name_key(name: str) -> str:
    """Accent-, case- and spacing-insensitive form: "Zoë  Van den Broeck" and "zoe van den broeck" match."""
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    # casefold can lengthen a name ("ß" -> "ss"); the key column holds 200 characters.
    return " ".join(stripped.casefold().split())[:200]




@dataclass
class SubjectMatch:
    subject: DataSubject
    reasons: list[str]


def find_matches(details: SubjectDetails, *, limit: int = 10) -> list[SubjectMatch]:
    """Known subjects sharing a customer number, policy number, e-mail, or name and date of birth.

    The reasons name which identifier matched, so staff can judge the match before linking the case.
    """
    conditions: list[tuple[str, sa.ColumnElement[bool]]] = []
    if details.customer_number:
        conditions.append(("customer_number", normalised_identifier_column(DataSubject.customer_number)
                           == identifier_key(details.customer_number)))
    if details.policy_number:
        conditions.append(("policy_number", normalised_identifier_column(DataSubject.policy_number)
                           == identifier_key(details.policy_number)))
    if details.email:
        conditions.append(("email", sa.func.lower(DataSubject.email) == details.email.strip().lower()))
    if details.name and details.date_of_birth:
        conditions.append(("name_and_date_of_birth", sa.and_(
            DataSubject.name_key == name_key(details.name), DataSubject.date_of_birth == details.date_of_birth)))
    if not conditions:
        return []
    rows = db.session.execute(
        sa.select(DataSubject, *[sa.case((cond, 1), else_=0).label(label) for label, cond in conditions])
        .where(sa.or_(*[cond for _, cond in conditions]))
        .order_by(DataSubject.id.desc())
        .limit(limit)
    ).all()
    matches = []
    for row in rows:
        reasons = [label for label, _ in conditions if getattr(row, label)]
        matches.append(SubjectMatch(subject=row[0], reasons=reasons))
    return matches


def normalised_identifier_column(column):
    # The same normalisation as identifier_key, in SQL, so matching works on both backends.
    expr = sa.func.upper(column)
    for ch in (" ", "-", ".", "/"):
        expr = sa.func.replace(expr, ch, "")
    return expr


def new_subject(details: SubjectDetails, *, now: datetime) -> DataSubject:
    """A new subject, not yet in the session: :func:`dsr.cases.writing.write_case` writes it with its search
    keys (a subject added to the session instead gets them from the session's hook at its flush). Made as
    :func:`dsr.cases.writing.new_row` makes the case's rows, without the instrumented constructor."""
    sa.orm.configure_mappers()  # as the constructor would: this may be the process's first ORM object
    subject = DataSubject.__mapper__.class_manager.new_instance()
    subject.__dict__.update(details.as_dict(), name_key=name_key(details.name), created_at=now)
    return subject


def complete_subject(subject: DataSubject, details: SubjectDetails) -> tuple[dict, dict]:
    """Fill the blanks of a known subject from a new request; never overwrite what we had.

    Returns (before, after) of the fields that changed, and lists differing values under ``differs``
    so the audit event shows where the new letter disagrees with what we knew.
    """
    before, after, differs = {}, {}, {}
    for name in DETAIL_FIELDS:
        new = getattr(details, name)
        old = getattr(subject, name)
        if new in (None, ""):
            continue
        if old in (None, ""):
            before[name], after[name] = old, new
            setattr(subject, name, new)
        elif old != new:
            differs[name] = {"known": old, "in_request": new}
    if differs:
        after["differs"] = differs
    return before, after
