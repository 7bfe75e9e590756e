"""Finding subjects by any identifier through ``subject_search_keys``, and keeping those keys in step.

The keys are written by a session hook after every flush that created a subject or changed one of its
identifying fields, whichever operation did it (intake, completing a known subject, a rectification), so no
code path can leave a subject unfindable. ``rebuild_search_keys`` remakes them all (the data migration and
``flask dsr reindex-search`` use it).
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from dsr.domain.enums import SearchKind
from dsr.subjects.keys import SEARCHED_FIELDS, prefix_bounds, query_keys, reference_candidates, subject_keys
from dsr.subjects.models import DataSubject, SubjectSearchKey

# Past this many subjects a name prefix is left to the database as a sub-query instead of a list of ids.
ID_LIST_LIMIT = 1000


def _key_rows(subject_id: int, fields) -> list[dict]:
    return [{"subject_id": subject_id, "kind": kind, "key": key}
            for kind, key in sorted(subject_keys(fields))]


def _fields(subject: DataSubject) -> dict:
    return {name: getattr(subject, name) for name in SEARCHED_FIELDS}


def subject_key_rows(subject: DataSubject) -> list[dict]:
    """The rows of a subject's search keys, for code that writes a new subject itself (not through a flush)."""
    return _key_rows(subject.id, _fields(subject))


def _changed(subject: DataSubject) -> bool:
    state = sa.inspect(subject)
    return any(state.attrs[name].history.has_changes() for name in SEARCHED_FIELDS)


def _after_flush(session: Session, _context) -> None:
    new = [obj for obj in session.new if isinstance(obj, DataSubject)]
    changed = [obj for obj in session.dirty if isinstance(obj, DataSubject) and _changed(obj)]
    if not new and not changed:
        return
    conn = session.connection()
    table = SubjectSearchKey.__table__
    if changed:  # a new subject has no keys yet: nothing to delete
        conn.execute(sa.delete(table).where(table.c.subject_id.in_([s.id for s in changed])))
    rows = [row for s in new + changed for row in _key_rows(s.id, _fields(s))]
    if rows:
        conn.execute(sa.insert(table), rows)


def install_hook() -> None:
    """Listen on every ORM session (idempotent): called once by the app factory."""
    if not sa.event.contains(Session, "after_flush", _after_flush):
        sa.event.listen(Session, "after_flush", _after_flush)


def rebuild_search_keys(conn: sa.Connection, batch_size: int = 2000) -> int:
    """Remake every subject's keys from its current fields (core statements: usable from a migration)."""
    table = SubjectSearchKey.__table__
    subjects = DataSubject.__table__
    conn.execute(sa.delete(table))
    written, last_id = 0, 0
    while True:
        batch = conn.execute(
            sa.select(subjects.c.id, *[subjects.c[name] for name in SEARCHED_FIELDS])
            .where(subjects.c.id > last_id).order_by(subjects.c.id).limit(batch_size)).mappings().all()
        if not batch:
            return written
        rows = [row for s in batch for row in _key_rows(s["id"], s)]
        if rows:
            conn.execute(sa.insert(table), rows)
        written += len(rows)
        last_id = batch[-1]["id"]


def matching_subjects(q: str):
    """A select of the ids of subjects with an identifier matching ``q`` (exact, or a name by prefix)."""
    exact, prefix = query_keys(q)
    conditions = [sa.and_(SubjectSearchKey.key == key, SubjectSearchKey.kind == kind) for kind, key in sorted(exact)]
    if prefix:
        low, high = prefix_bounds(prefix)
        conditions.append(sa.and_(SubjectSearchKey.key >= low, SubjectSearchKey.key < high,
                                  SubjectSearchKey.kind == SearchKind.NAME))
    if not conditions:
        return None
    return sa.select(SubjectSearchKey.subject_id).where(sa.or_(*conditions)).distinct()


def search_parts(q: str, today: date, session) -> tuple[list[str], list[int], sa.Select | None]:
    """What :func:`case_search_condition` matches for ``q``: the references it may be, the ids of the subjects
    with an identifier matching it (looked up here, one indexed query), and, when a prefix matches very many
    subjects, the select of them instead of their ids (else ``None``)."""
    refs = reference_candidates(q, range(2018, today.year + 1))
    subjects = matching_subjects(q)
    if subjects is None:
        return refs, [], None
    ids = session.execute(subjects.limit(ID_LIST_LIMIT + 1)).scalars().all()
    if len(ids) > ID_LIST_LIMIT:
        return refs, [], subjects
    return refs, ids, None


def case_search_condition(q: str, today: date, case_table, session) -> sa.ColumnElement[bool]:
    """Cases whose reference is ``q`` or whose subject has an identifier matching ``q``.

    The matching subjects are looked up first (one indexed query) and named by id, so the case query can
    combine two index scans instead of testing a sub-query on every case; a prefix matching very many
    subjects stays a sub-query.
    """
    refs, ids, many = search_parts(q, today, session)
    return search_condition(case_table, refs, ids if many is None else many)


def search_condition(case_table, refs, subjects) -> sa.ColumnElement[bool]:
    """The condition of :func:`case_search_condition` from its parts (``refs``, ``subjects``: lists of values,
    expanding bind parameters, or a select of subject ids), empty parts left out."""
    conditions = []
    if refs is not None and not (isinstance(refs, list) and not refs):
        conditions.append(case_table.reference.in_(refs))
    if subjects is not None and not (isinstance(subjects, list) and not subjects):
        conditions.append(case_table.subject_id.in_(subjects))
    return sa.or_(*conditions) if conditions else sa.false()
