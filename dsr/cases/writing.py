"""Writing a new case's rows (its subject, the case, its rights, the subject's search keys) with Core
statements instead of the ORM's unit of work, and handing them back as ORM objects in the session.

The unit of work cost a case's creation through the API about a third of its Python time, and the number
and the rows five statements, a round trip each (issue 15, item 3). Here PostgreSQL takes two: the year's
number and the new rows' ids in one, then every row in one (``WITH ... INSERT``: the rows reference each other by the ids
already handed out, and the foreign keys are checked at the end of the statement). SQLite, which has no
sequences, writes them one by one and reads each id back. The objects are then attached to the session as
if they had been loaded from those rows: nothing reads them back, and a later change to them is an ordinary
``UPDATE`` (with the case's version).
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from dsr.audit.models import AuditHead
from dsr.cases.models import Case, CaseRight, ReferenceCounter
from dsr.extensions import ArrayParameter, db
from dsr.subjects.models import DataSubject, SubjectSearchKey
from dsr.subjects.search import subject_key_rows


def _insert(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def number_statement(dialect: str, year: int):
    """The year's row made at 1 or, if it exists, incremented, returning the number: its row lock (the write
    lock on SQLite) is held to the end of the transaction, so numbers stay unique and gap-free."""
    table = ReferenceCounter.__table__
    one = sa.literal_column("1", sa.Integer)  # written in the statement, not sent as a parameter
    return (_insert(dialect)(table).values(year=year, last=one)
            .on_conflict_do_update(index_elements=[table.c.year], set_={"last": table.c.last + one})
            .returning(table.c.last))


def _next_id(table: sa.Table):
    # The table's name written in the statement, not sent as a parameter (see _number_and_ids_statement).
    sequence = sa.func.pg_get_serial_sequence(sa.literal_column(f"'{table.name}'"), sa.literal_column("'id'"))
    return sa.func.nextval(sequence)


class Numbered(NamedTuple):
    """What :func:`number_and_ids` reads: the year's number, the new rows' ids and the audit chain's head
    (read without its lock, for :func:`dsr.audit.operations.record_all`)."""

    number: int
    case_id: int
    right_ids: list[int]
    subject_id: int | None
    head: str | None


def number_and_ids(year: int, *, rights: int, subject: bool) -> Numbered:
    """PostgreSQL: the year's next number and the ids of the new case, its ``rights`` rights and (if
    ``subject``) its new subject, in one statement; with them the chain's newest hash, which a creation would
    otherwise read (locking it) in a round trip of its own (issue 15, item 3)."""
    row = db.session.connection().execute(_number_and_ids_statement(subject), {"year": year, "rights": rights}).one()
    return Numbered(row.last, row.case_id, list(row.right_ids), row.subject_id if subject else None, row.head)


# PostgreSQL plans a prepared statement again for every execution (a "custom plan", in the bind step) until
# a plan made once for any parameters (a "generic plan") looks as cheap as those. With ``generate_series(1,
# :rights)`` it never did: for a parameter the planner takes the function's default estimate of 1,000 rows,
# for the number 1 one row, so the year's number was planned anew for every creation, 0.15 ms of the
# server's 0.4 for this statement (issue 15, item 3). ``unnest(array_fill(1, ARRAY[:rights]))`` gives as many
# rows, estimated at 10 for a parameter: the generic plan is kept from the sixth execution on. The constants
# are written in the statement, so the year and the number of rights are its only parameters.
@lru_cache(maxsize=2)
def _number_and_ids_statement(subject: bool):
    number = number_statement("postgresql", sa.bindparam("year", type_=sa.Integer)).cte("number")
    rights = postgresql.array([sa.bindparam("rights", type_=sa.Integer)])
    one_a_right = sa.func.array_fill(sa.literal_column("1"), rights, type_=postgresql.ARRAY(sa.Integer))
    right_ids = (sa.select(sa.func.array_agg(_next_id(CaseRight.__table__)))
                 .select_from(sa.func.unnest(one_a_right)).scalar_subquery())
    head = AuditHead.__table__
    # Read, not locked: the events' statement moves the head only if it still holds this hash.
    last_hash = sa.select(head.c.last_hash).where(head.c.id == sa.literal_column("1")).scalar_subquery()
    columns = [number.c.last, _next_id(Case.__table__).label("case_id"), right_ids.label("right_ids"),
               last_hash.label("head")]
    if subject:
        columns.append(_next_id(DataSubject.__table__).label("subject_id"))
    return sa.select(*columns)


def new_row(cls, **values):
    """An instance of the mapped ``cls`` holding ``values``, for :func:`write_case` to write: made without the
    class's instrumented constructor, whose event and history for every attribute set nothing reads (the rows
    are written by Core statements, and the objects then put in the session as loaded, or left out). A
    creation through the API made its case, its subject and its rights so, some 150 Python calls (issue 15,
    item 3). Only for plain column values: a relationship given here would not be set up. The mappers are
    configured first, as the constructor would (a worker's first creation may be its first ORM object)."""
    sa.orm.configure_mappers()
    obj = cls.__mapper__.class_manager.new_instance()
    obj.__dict__.update(values)
    return obj


def _row(obj) -> dict:
    """The object's columns as a row to insert; a column it was not given gets its Python default or NULL
    (what a flush would write), and the object then holds that value too, so reading it needs no query."""
    values, held = {}, obj.__dict__
    for key, name, primary, default in _columns(type(obj)):
        if key not in held:
            if default is _COMPUTED:
                raise ValueError(f"{name} has a computed default: write it through the session")
            setattr(obj, key, default)
        value = held[key]  # what the attribute gives once set, without its descriptor
        if value is not None or not primary:
            values[name] = value
    return values


_COMPUTED = object()


@lru_cache(maxsize=8)
def _columns(cls) -> tuple[tuple[str, str, bool, object], ...]:
    """Each column attribute of a mapped class: its key, its column's name, whether it is the primary key, and
    the value a flush would give it when unset (its scalar default or ``None``; :data:`_COMPUTED` for a
    computed one). Read from the mapper once per class, not for every row (issue 15, item 3)."""
    columns = []
    for prop in sa.inspect(cls).column_attrs:
        column = prop.columns[0]
        default = column.default
        value = None if default is None else default.arg if default.is_scalar else _COMPUTED
        columns.append((prop.key, column.name, column.primary_key, value))
    return tuple(columns)


# A new case's columns that are empty until something happens to it (an assignment, a pause, an extension,
# an answer): left out of the rows' statement (they are NULL, none has a default), which keeps it, with the
# chain's statement it rides along with, within the 50 parameters and 4,096 characters psycopg keeps a
# statement's parsed form for (issue 15, item 3). :func:`write_case` refuses a new case that fills one.
EMPTY_AT_CREATION = ("assignee_id", "closed_at", "decision", "refusal_ground", "withdrawal_how", "merged_into_id",
                     "paused_since", "extension_reason", "extended_at", "extended_due_on", "extension_notice_due_on",
                     "extension_notice_sent_on", "reduced_at", "subject_deceased_on", "subject_deceased_recorded_at")


class Rows(NamedTuple):
    """PostgreSQL: a new case's rows as data-modifying CTEs with their parameters, for
    :func:`dsr.audit.operations.record_all` to run in the statement of the case's events (``along``), or
    alone as ``statement`` when there is no such statement."""

    ctes: tuple
    statement: sa.Insert
    params: dict


def write_case(case: Case, rights: list[CaseRight], subject: DataSubject, *, new_subject: bool,
               along_events: bool = False, in_session: bool = True) -> Rows | None:
    """Insert the case, its rights and (if ``new_subject``) the subject with its search keys, then attach
    them to the session as persistent objects. On PostgreSQL every object already has its id
    (:func:`number_and_ids`): one statement; on SQLite one each, the ids read back.

    ``along_events`` (PostgreSQL): the statement is not run here but returned (:class:`Rows`), for the caller
    to hand to :func:`dsr.audit.operations.record_all`, which writes the rows and the events in one statement
    (a round trip less a creation, issue 15, item 3). The objects are attached already: nothing may read
    them from the database before that statement has run.

    ``in_session=False``: the objects are not put in the session (see :func:`_attach`)."""
    connection = db.session.connection()
    if new_subject:
        subject_row = _row(subject)
    case_row = _row(case)
    right_rows = [_row(right) for right in rights]
    if connection.dialect.name == "postgresql":
        filled = [name for name in EMPTY_AT_CREATION if case_row.pop(name) is not None]
        if filled:
            raise ValueError(f"a new case is written with {', '.join(filled)} empty: set them after its creation")
        params = {f"case_{name}": value for name, value in case_row.items()}
        params.update(right_ids=[row["id"] for row in right_rows], right_values=[right.right.value for right in rights])
        if new_subject:
            keys = subject_key_rows(subject)
            params.update({f"subject_{name}": value for name, value in subject_row.items()})
            params.update(key_kinds=[row["kind"].value for row in keys], key_keys=[row["key"] for row in keys])
        rows = Rows(_write_ctes(new_subject), _write_statement(new_subject), params)
        if not along_events:
            connection.execute(rows.statement, rows.params)
        _attach(case, rights, subject, new_subject=new_subject, in_session=in_session)
        return rows if along_events else None
    if new_subject:
        subject.id = connection.execute(
            sa.insert(DataSubject.__table__).values(subject_row)).inserted_primary_key[0]
        connection.execute(sa.insert(SubjectSearchKey.__table__), subject_key_rows(subject))
        case_row["subject_id"] = case.subject_id = subject.id
    case.id = connection.execute(sa.insert(Case.__table__).values(case_row)).inserted_primary_key[0]
    for right, row in zip(rights, right_rows, strict=True):
        row["case_id"] = right.case_id = case.id
        right.id = connection.execute(sa.insert(CaseRight.__table__).values(row)).inserted_primary_key[0]
    _attach(case, rights, subject, new_subject=new_subject, in_session=in_session)
    return None


def _bound(table: sa.Table, prefix: str) -> dict:
    """Each column of ``table`` as a parameter named ``prefix`` + its name, of the column's type."""
    return {column.name: sa.bindparam(prefix + column.name, type_=column.type) for column in table.columns}


@lru_cache(maxsize=2)
def _write_parts(new_subject: bool) -> tuple[tuple, sa.BindParameter]:
    """``subject AS (INSERT ...), search_keys AS (INSERT ...), new_case AS (INSERT ...)`` with named
    parameters (the keys as an array, ``unnest``-ed), and the case's id parameter: the same whatever the number
    of keys, built once and compiled once (a multi-row ``VALUES`` is compiled again for every execution). The
    foreign keys between the rows are checked at the end of the statement they are part of."""
    ctes = []
    case = {name: column for name, column in _bound(Case.__table__, "case_").items() if name not in EMPTY_AT_CREATION}
    if new_subject:
        subject = _bound(DataSubject.__table__, "subject_")
        # The case's subject is the new subject: one parameter for both (see EMPTY_AT_CREATION).
        case["subject_id"] = subject["id"]
        ctes.append(sa.insert(DataSubject.__table__).values(subject).cte("subject"))
        keys = (sa.func.unnest(sa.bindparam("key_kinds", type_=ArrayParameter(sa.String)),
                               sa.bindparam("key_keys", type_=ArrayParameter(sa.String)))
                .table_valued("kind", "key").render_derived("new_keys"))
        ctes.append(sa.insert(SubjectSearchKey.__table__).from_select(
            ["subject_id", "kind", "key"], sa.select(subject["id"], keys.c.kind, keys.c.key)).cte("search_keys"))
    ctes.append(sa.insert(Case.__table__).values(case).cte("new_case"))
    return tuple(ctes), case["id"]


def _rights_insert(new_subject: bool) -> sa.Insert:
    """``INSERT INTO case_rights ...`` of the rights given as arrays (``unnest``-ed), whatever their number."""
    rights = (sa.func.unnest(sa.bindparam("right_ids", type_=ArrayParameter(sa.Integer)),
                             sa.bindparam("right_values", type_=ArrayParameter(sa.String)))
              .table_valued("id", "right").render_derived("new_rights"))
    return sa.insert(CaseRight.__table__).from_select(
        ["id", "case_id", "right"], sa.select(rights.c.id, _write_parts(new_subject)[1], rights.c.right))


@lru_cache(maxsize=2)
def _write_ctes(new_subject: bool) -> tuple:
    """Every row of a new case as a data-modifying CTE, for the events' statement to carry."""
    return (*_write_parts(new_subject)[0], _rights_insert(new_subject).cte("rights_written"))


@lru_cache(maxsize=2)
def _write_statement(new_subject: bool):
    """``WITH subject AS (INSERT ...), search_keys AS (INSERT ...), new_case AS (INSERT ...) INSERT INTO
    case_rights ...``: the rows alone, one statement."""
    return _rights_insert(new_subject).add_cte(*_write_parts(new_subject)[0])


def _attach(case: Case, rights: list[CaseRight], subject: DataSubject, *, new_subject: bool,
            in_session: bool = True) -> None:
    """Put the written objects in the session as if loaded, their relationships with them (no backref
    events: each side is set as loaded).

    ``in_session=False``: the relationships only; the objects stay out of the session, holding what was
    written, for a caller that only words its answer from them (the API's creation): putting them in the
    session (with its cascade along the relationships) and expiring them at the commit was about a tenth of
    such a creation's Python (issue 15, item 3). The session then knows nothing of them: a change to them
    would not be written."""
    if in_session:
        for obj in ([subject] if new_subject else []) + [case, *rights]:
            make_transient_to_detached(obj)
    set_committed_value(case, "subject", subject)
    set_committed_value(case, "rights", rights)
    for right in rights:
        set_committed_value(right, "case", case)
    for name in ("pauses", "attachments"):
        set_committed_value(case, name, [])
    for name in ("assignee", "created_by", "merged_into"):
        if getattr(case, f"{name}_id") is None:  # known empty: reading it needs no query
            set_committed_value(case, name, None)
    if new_subject:
        set_committed_value(subject, "cases", [case])
    elif "cases" in subject.__dict__:  # a list read earlier shows the new case, as an append would
        set_committed_value(subject, "cases", [*subject.cases, case])
    if in_session:
        db.session.add(case)
