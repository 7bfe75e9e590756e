"""Which of a case's collections hold any row, read in one statement while the case page renders.

The case page and its cards read a dozen collections of the case (verifications, tasks, notes, lookups,
letters, exports, jobs, attachments…), one statement each, and most cases have rows in only a few of them.
One ``SELECT EXISTS (…), EXISTS (…), …`` tells which are empty; their readers then return nothing without a
statement (issue 15, item 3). The answer holds only while the page renders (:func:`counted`): the page
writes nothing, and a later write in the same request reads the tables again.

Tables are named here, not imported: the features that own them build on cases.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import sqlalchemy as sa
from flask import g, has_request_context

from dsr.extensions import db

CENSUS = "dsr_case_census"

# Each table with the condition its reader on the case page uses (a case's links go both ways; the legal
# holds listed are those on its subject and those placed from the case).
_CASE, _SUBJECT = sa.bindparam("case_id"), sa.bindparam("subject_id")
_WHERE = {
    "identity_verifications": lambda t: t.c.case_id == _CASE,
    "case_tasks": lambda t: t.c.case_id == _CASE,
    "case_notes": lambda t: t.c.case_id == _CASE,
    "case_links": lambda t: sa.or_(t.c.case_id == _CASE, t.c.linked_case_id == _CASE),
    "lookups": lambda t: t.c.case_id == _CASE,
    "erasure_plans": lambda t: t.c.case_id == _CASE,
    "legal_holds": lambda t: sa.or_(t.c.subject_id == _SUBJECT, t.c.case_id == _CASE),
    "issued_letters": lambda t: t.c.case_id == _CASE,
    "exports": lambda t: t.c.case_id == _CASE,
    "copy_fees": lambda t: t.c.case_id == _CASE,
    "jobs": lambda t: t.c.case_id == _CASE,
    "attachments": lambda t: t.c.case_id == _CASE,
    "case_requesters": lambda t: t.c.case_id == _CASE,
    "case_file_holds": lambda t: t.c.case_id == _CASE,
    "case_pauses": lambda t: t.c.case_id == _CASE,
    # What keeps a closed case's file, besides its holds, legal holds and erasure plans (dsr.casefiles).
    "restricted_records": lambda t: t.c.case_id == _CASE,
}


@cache
def _statement() -> sa.Select:
    """Built once per process: building its fifteen sub-queries cost more than running them."""
    tables = db.metadata.tables
    return sa.select(*(sa.exists().where(where(tables[name])).label(name) for name, where in _WHERE.items()))


def _census(case) -> frozenset[str]:
    """The names of the tables of :data:`_WHERE` with no row for ``case``."""
    db.session.flush()  # what this request added is counted, as each reader's own statement would see it
    # On the session's connection: the ORM's layers around an execution cost more than this row (issue 15).
    row = db.session.connection().execute(_statement(), {"case_id": case.id, "subject_id": case.subject_id}).one()
    empty = {name for name in _WHERE if not row._mapping[name]}
    if case.subject_id is None:  # the reader asks for holds "subject_id IS NULL"; the census compared with NULL
        empty.discard("legal_holds")
    return frozenset(empty)


@contextmanager
def counted(case) -> Iterator[None]:
    """While the block runs, :func:`known_empty` answers for ``case`` from one census statement."""
    g.setdefault(CENSUS, {})[case.id] = _census(case)
    try:
        yield
    finally:
        g.get(CENSUS, {}).pop(case.id, None)


def known_empty(case, table: str) -> bool:
    """True when the case page's census found no row of ``case`` in ``table``: its reader needs no statement.
    False (read it) outside the page, or for a table the census does not count."""
    if not has_request_context():
        return False
    empty = g.get(CENSUS, {}).get(case.id)
    return empty is not None and table in empty
