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

import sqlalchemy as sa
from flask import g, has_request_context

from dsr.extensions import db

CENSUS = "dsr_case_census"

# Each table with the condition its reader on the case page uses (a case's links go both ways; the legal
# holds listed are those on its subject and those placed from the case).
_WHERE = {
    "identity_verifications": lambda t, case: t.c.case_id == case.id,
    "case_tasks": lambda t, case: t.c.case_id == case.id,
    "case_notes": lambda t, case: t.c.case_id == case.id,
    "case_links": lambda t, case: sa.or_(t.c.case_id == case.id, t.c.linked_case_id == case.id),
    "lookups": lambda t, case: t.c.case_id == case.id,
    "erasure_plans": lambda t, case: t.c.case_id == case.id,
    "legal_holds": lambda t, case: sa.or_(t.c.subject_id == case.subject_id, t.c.case_id == case.id),
    "issued_letters": lambda t, case: t.c.case_id == case.id,
    "exports": lambda t, case: t.c.case_id == case.id,
    "copy_fees": lambda t, case: t.c.case_id == case.id,
    "jobs": lambda t, case: t.c.case_id == case.id,
    "attachments": lambda t, case: t.c.case_id == case.id,
    "case_requesters": lambda t, case: t.c.case_id == case.id,
    "case_file_holds": lambda t, case: t.c.case_id == case.id,
    "case_pauses": lambda t, case: t.c.case_id == case.id,
}


def _census(case) -> frozenset[str]:
    """The names of the tables of :data:`_WHERE` with no row for ``case``."""
    tables = db.metadata.tables
    db.session.flush()  # what this request added is counted, as each reader's own statement would see it
    row = db.session.execute(sa.select(*(
        sa.exists().where(where(tables[name], case)).label(name) for name, where in _WHERE.items()))).one()
    return frozenset(name for name in _WHERE if not row._mapping[name])


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
