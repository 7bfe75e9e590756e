"""The API's cases read as plain rows, one statement a page or a case (issue 15, item 3).

The list and the one-case endpoint read their cases as ORM objects with the subject, assignee, rights,
pauses and attachments joined to them: some 90 objects set up and tracked for a page of 25 that the API only
turns into JSON, half of a list's time in Python. Here one statement is read as rows: the page's cases (the
queue's filters, order, offset and limit; the order's keys and the bounded count as columns) as a sub-query,
joined to their subjects, rights, pauses and attachments, with their assignees' e-mails and merge targets'
references, and each case gathered into an :class:`ApiCase`, which :func:`~dsr.cases.serialize.case_json` and
:func:`~dsr.cases.deadlines.case_clock` read by the names a :class:`~dsr.cases.models.Case` gives them.
The JSON is the same, field for field (tests/web/test_api_rows.py).
"""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

import sqlalchemy as sa
from flask import current_app

from dsr.attachments.models import Attachment
from dsr.auth.models import User
from dsr.cases.models import Case, CasePause, CaseRight
from dsr.cases.queries import (
    BoundedPagination,
    QueueFilters,
    bounded_count,
    paginate,
    queue_order_keys,
    queue_query,
)
from dsr.cases.queue_page import Named, QueueCase
from dsr.domain.enums import CaseState, Channel, Language, Priority, RefusalGround, Right, SubjectTitle
from dsr.domain.pauses import PauseInterval
from dsr.extensions import db, read
from dsr.subjects.models import DataSubject
from dsr.subjects.search import search_condition, search_parts

_RIGHT_ORDER = {right: i for i, right in enumerate(Right)}

# The case's own columns the JSON and the clock read.
_CASE_COLUMNS = ("id", "reference", "state", "channel", "language", "received_on", "extended_due_on",
                 "extension_reason", "extension_notice_due_on", "extension_notice_sent_on", "paused_since",
                 "late_pause_requests", "assignee_id", "priority", "decision", "refusal_ground", "withdrawal_how",
                 "merged_into_id", "notes", "subject_id", "closed_at", "created_at", "version")
_SUBJECT_COLUMNS = ("id", "name", "title", "email", "date_of_birth", "address", "postcode", "city", "country",
                    "phone", "customer_number", "policy_number", "device_id")


class Email(NamedTuple):
    email: str


class Reference(NamedTuple):
    reference: str


class Subject(NamedTuple):
    id: int
    name: str
    title: SubjectTitle | None
    email: str | None
    date_of_birth: date | None
    address: str | None
    postcode: str | None
    city: str | None
    country: str | None
    phone: str | None
    customer_number: str | None
    policy_number: str | None
    device_id: str | None


class Pause(NamedTuple):
    id: int
    reason: str
    requested_on: date
    resumed_on: date | None
    counted: bool


class AttachmentRow(NamedTuple):
    id: int
    filename: str
    media_type: str
    size: int
    sha256: str


@dataclass(slots=True)
class ApiCase:
    """What a case's JSON and its clock read, by the names :class:`~dsr.cases.models.Case` gives them."""

    id: int
    reference: str
    state: CaseState
    channel: Channel
    language: Language
    received_on: date
    extended_due_on: date | None
    extension_reason: str | None
    extension_notice_due_on: date | None
    extension_notice_sent_on: date | None
    paused_since: date | None
    late_pause_requests: int
    priority: Priority
    decision: str | None
    refusal_ground: RefusalGround | None
    withdrawal_how: str | None
    notes: str | None
    closed_at: datetime | None
    created_at: datetime
    version: int
    subject: Subject | None
    assignee: Email | None
    merged_into: Reference | None
    rights: list[Right] = field(default_factory=list)
    pauses: list[Pause] = field(default_factory=list)
    attachments: list[AttachmentRow] = field(default_factory=list)
    assignee_id: int | None = None
    # The statement's rows it was gathered from, less the page's own columns: everything it holds, as a key
    # (dsr.api.memo).
    made_of: tuple = ()

    @property
    def right_values(self) -> list[Right]:
        return sorted(self.rights, key=_RIGHT_ORDER.__getitem__)


@functools.cache
def _tables() -> tuple:
    cases = Case.__table__
    return (cases, DataSubject.__table__.alias("subject"), User.__table__, cases.alias("merged"),
            CaseRight.__table__, CasePause.__table__, Attachment.__table__)


# The columns a page sub-query gives beside the case's own: its order (at most four keys) and its count.
_KEYS = tuple(f"dsr_key{i}" for i in range(4))
_TOTAL = "dsr_bounded_total"


@dataclass(frozen=True)
class _Shape:
    """What a page statement reads of its cases: the API's whole case (:class:`ApiCase`), or what the queue
    page's rows, clocks and warnings read (:class:`~dsr.cases.queue_page.QueueCase`): of the subject its name
    and customer number only, no notes, decision or merge target, no attachments and no pause's reason. The
    queue keeps each row's statement rows as its key for the day (:class:`~dsr.cases.queue_page.QueueTable`),
    so a subject's e-mail, address, date of birth and phone number, which the page never shows, are neither
    read for it nor kept in a worker's memory."""

    case: tuple[str, ...]
    subject: tuple[str, ...]
    person: str  # the assignee's column: the API shows the e-mail, the queue page the name
    pauses: tuple[str, ...]
    merged: bool
    attachments: bool


_SHAPES = {
    "api": _Shape(_CASE_COLUMNS, _SUBJECT_COLUMNS, "email", ("id", "reason", "requested_on", "resumed_on", "counted"),
                  merged=True, attachments=True),
    "queue": _Shape(("id", "reference", "version", "state", "received_on", "closed_at", "paused_since",
                     "extended_due_on", "extension_notice_due_on", "extension_notice_sent_on", "late_pause_requests",
                     "priority", "assignee_id", "subject_id"),
                    ("id", "name", "customer_number"), "name", ("id", "requested_on", "resumed_on", "counted"),
                    merged=False, attachments=False),
}


@functools.cache
def _page(shape: str = "api") -> dict:
    """The columns of the sub-query named ``page`` as literal columns of their types, and what the outer
    statement selects and joins by them, in the :class:`_Shape` named ``shape``: made once per process. (Made
    from each request's sub-query, its column collection alone cost some 1,300 Python calls a request.)"""
    cases, subject, users, merged, rights, pauses, attachments = _tables()
    want = _SHAPES[shape]
    c = {name: sa.literal_column(f"page.{name}", cases.c[name].type) for name in want.case}
    c[_TOTAL] = sa.literal_column(f"page.{_TOTAL}", sa.Integer())
    c.update((key, sa.literal_column(f"page.{key}")) for key in _KEYS)
    columns = [
        *(c[name] for name in want.case), *(subject.c[name] for name in want.subject),
        sa.select(users.c[want.person]).where(users.c.id == c["assignee_id"]).scalar_subquery()]
    if want.merged:
        columns.append(sa.select(merged.c.reference).where(merged.c.id == c["merged_into_id"]).scalar_subquery())
    columns += [rights.c.right, *(pauses.c[name] for name in want.pauses)]
    joins = [(subject, subject.c.id == c["subject_id"]), (rights, rights.c.case_id == c["id"]),
             (pauses, pauses.c.case_id == c["id"])]
    then = [rights.c.id, pauses.c.id]
    if want.attachments:
        columns += [attachments.c.id, attachments.c.filename, attachments.c.media_type, attachments.c.size,
                    attachments.c.sha256]
        joins.append((attachments, attachments.c.case_id == c["id"]))
        then.append(attachments.c.id)
    return {"c": c, "columns": tuple(columns), "joins": tuple(joins), "then": tuple(then)}


def _statement(page: sa.Subquery, order: list, extra: tuple = (), shape: str = "api") -> sa.Select:
    """The cases of ``page`` (a sub-query named "page" of the ``shape``'s case columns and whatever ``order``
    and ``extra`` name), in ``order``, with what their JSON (or the queue's row) reads beside them: the subject
    joined (one row), the assignee's e-mail (name) and the merge target's reference as sub-queries of their
    own (a row each; as joins they would double the time PostgreSQL takes to plan the statement, more than it
    takes to run it), the rights, pauses and attachments joined side by side (a few rows each), each collection
    in the order of its ids; then the ``extra`` columns of ``page``."""
    made = _page(shape)
    joined = page
    for table, on in made["joins"]:
        joined = joined.outerjoin(table, on)
    return (sa.select(*made["columns"], *(made["c"][name] for name in extra)).select_from(joined)
            .order_by(*order, *made["then"]))


def _read(stmt: sa.Select, params: dict | None = None) -> tuple[list[ApiCase], list]:
    """The cases of an API-shaped :func:`_statement` (in its order), each with what its JSON shows; and the
    first row's ``extra`` columns (``[]`` when there is no case)."""
    n_case, n_subject = len(_CASE_COLUMNS), len(_SUBJECT_COLUMNS)
    s0, end = n_case, n_case + n_subject + 13
    cases: dict[int, ApiCase] = {}
    seen: dict[int, tuple[set, set, set]] = {}
    made_of: dict[int, list] = {}
    first_extra: list = []
    for row in read(stmt, params).all():
        case_id = row[0]
        case = cases.get(case_id)
        if case is None:
            (_, reference, state, channel, language, received_on, extended_due_on, extension_reason,
             notice_due, notice_sent, paused_since, late, assignee_id, priority, decision, refusal_ground,
             withdrawal_how, merged_into_id, notes, subject_id, closed_at, created_at, version) = row[:n_case]
            if not cases:
                first_extra = list(row[end:])
            case = cases[case_id] = ApiCase(
                id=case_id, reference=reference, state=state, channel=channel, language=language,
                received_on=received_on, extended_due_on=extended_due_on, extension_reason=extension_reason,
                extension_notice_due_on=notice_due, extension_notice_sent_on=notice_sent,
                paused_since=paused_since, late_pause_requests=late, priority=priority, decision=decision,
                refusal_ground=refusal_ground, withdrawal_how=withdrawal_how, notes=notes, closed_at=closed_at,
                created_at=created_at, version=version,
                subject=Subject(*row[s0:s0 + n_subject]) if subject_id is not None else None,
                assignee=Email(row[s0 + n_subject]) if assignee_id is not None else None,
                assignee_id=assignee_id,
                merged_into=Reference(row[s0 + n_subject + 1]) if merged_into_id is not None else None,
            )
            seen[case_id] = (set(), set(), set())
            made_of[case_id] = []
        made_of[case_id].append(row[:end])
        right, pause_id, reason, requested_on, resumed_on, counted, attachment_id, filename, media_type, size, \
            sha256 = row[s0 + n_subject + 2:end]
        # The three collections are joined side by side: each of their rows comes back once per row of the
        # others, kept once here, in the order of their ids.
        rights_seen, pauses_seen, attachments_seen = seen[case_id]
        if right is not None and right not in rights_seen:
            rights_seen.add(right)
            case.rights.append(right)
        if pause_id is not None and pause_id not in pauses_seen:
            pauses_seen.add(pause_id)
            case.pauses.append(Pause(pause_id, reason, requested_on, resumed_on, counted))
        if attachment_id is not None and attachment_id not in attachments_seen:
            attachments_seen.add(attachment_id)
            case.attachments.append(AttachmentRow(attachment_id, filename, media_type, size, sha256))
    for case_id, case in cases.items():
        case.made_of = tuple(made_of[case_id])
    return list(cases.values()), first_extra


def _read_queue(stmt: sa.Select, params: dict | None = None) -> tuple[list[QueueCase], list]:
    """The cases of a queue-shaped :func:`_statement` (in its order) as the queue page's rows read them,
    each with the statement's rows it was gathered from (:attr:`QueueCase.made_of`, less the page's own
    columns); and the first row's ``extra`` columns (``[]`` when there is no case)."""
    end = len(_SHAPES["queue"].case) + 3 + 1 + 1 + 4  # the case, the subject, the assignee, a right, a pause
    cases: dict[int, QueueCase] = {}
    seen: dict[int, tuple[set, set]] = {}
    made_of: dict[int, list] = {}
    first_extra: list = []
    for row in read(stmt, params).all():
        (case_id, reference, version, state, received_on, closed_at, paused_since, extended_due_on, notice_due,
         notice_sent, late, priority, assignee_id, subject_id, _, subject_name, customer_number, assignee_name,
         right, pause_id, requested_on, resumed_on, counted) = row[:end]
        case = cases.get(case_id)
        if case is None:
            if not cases:
                first_extra = list(row[end:])
            case = cases[case_id] = QueueCase(
                id=case_id, reference=reference, version=version, state=state, received_on=received_on,
                closed_at=closed_at, paused_since=paused_since, extended_due_on=extended_due_on,
                extension_notice_due_on=notice_due, extension_notice_sent_on=notice_sent, late_pause_requests=late,
                priority=priority, assignee_id=assignee_id,
                subject=Named(subject_name, customer_number) if subject_id is not None else None,
                assignee=Named(assignee_name) if assignee_id is not None else None, right_values=[], pauses=[])
            seen[case_id] = (set(), set())
            made_of[case_id] = []
        made_of[case_id].append(row[:end])
        rights_seen, pauses_seen = seen[case_id]  # joined side by side, as in _read
        if right is not None and right not in rights_seen:
            rights_seen.add(right)
            case.right_values.append(right)
        if pause_id is not None and pause_id not in pauses_seen:
            pauses_seen.add(pause_id)
            case.pauses.append(PauseInterval(requested_on, resumed_on, counted))
    for case_id, case in cases.items():
        case.right_values.sort(key=_RIGHT_ORDER.__getitem__)
        case.made_of = tuple(made_of[case_id])
    return list(cases.values()), first_extra


@functools.cache
def _one_case() -> sa.Select:
    cases = Case.__table__
    page = (sa.select(*(cases.c[name] for name in _CASE_COLUMNS))
            .where(cases.c.reference == sa.bindparam("reference")).subquery("page"))
    return _statement(page, [_page()["c"]["id"]])


def api_case(reference: str) -> ApiCase | None:
    """The case with this reference as the API shows it, in one statement; ``None`` when there is none."""
    cases, _ = _read(_one_case(), {"reference": reference})
    return cases[0] if cases else None


def _page_statement(stmt: sa.Select, keys: list[tuple], limit: int, offset: int, shape: str = "api") -> sa.Select:
    """The statement of a page of ``stmt`` ordered by ``keys``: its cases, with the order's expressions and
    the bounded count as columns of a sub-query, joined to what their JSON (the queue's row: ``shape``) shows."""
    cases = Case.__table__
    counted = bounded_count(stmt).scalar_subquery().label(_TOTAL)
    # The order's expressions ride along as columns of the page, by which the outer statement orders.
    page = (stmt.with_only_columns(*(cases.c[name] for name in _SHAPES[shape].case),
                                   *(key.label(name) for name, (key, _) in zip(_KEYS[:len(keys)], keys, strict=True)),
                                   counted, maintain_column_froms=True)
            .limit(limit).offset(offset).subquery("page"))
    c = _page(shape)["c"]
    order = [c[name].desc() if descending else c[name]
             for name, (_, descending) in zip(_KEYS[:len(keys)], keys, strict=True)]
    return _statement(page, order, extra=(_TOTAL,), shape=shape)


_FILTER_FIELDS = tuple(f.name for f in dataclasses.fields(QueueFilters))


@functools.lru_cache(maxsize=256)
def _list_statement(filters: tuple, today: date, limit: int, offset: int, config: tuple,
                    shape: str = "api") -> sa.Select | sa.TextClause:
    """The page statement of the queue's ``filters`` (their values, in :data:`_FILTER_FIELDS` order) on
    ``today``, made once per process for each list asked for: building a statement of this size and its cache
    key cost about as much Python as reading and wording its 25 cases. Everything the statement depends on is
    in the arguments (``config``: the settings the filters read); a search, whose condition is made from a
    lookup of its own, has a statement of its own (:func:`_search_statement`)."""
    dialect = config[0]  # the rest is part of the key only: the filters read the settings themselves
    f = QueueFilters(**dict(zip(_FILTER_FIELDS, filters, strict=True)))
    stmt = _page_statement(queue_query(f, today, loads=()), queue_order_keys(f), limit, offset, shape)
    return _planned_once(stmt) if dialect == "postgresql" else stmt


def _planned_once(stmt: sa.Select) -> sa.TextClause:
    """``stmt`` with its values written into its text, reading the same typed columns.

    PostgreSQL plans a prepared statement with parameters afresh for each execution as long as its plan for
    unknown values looks costlier than the ones for the values given, and a list's statement always does
    (pg_prepared_statements: 25 custom plans, no generic one, after 30 lists): planning its joins took about
    as long as running it. A statement without parameters is planned once, on its first execution as a
    prepared statement, and that plan is the one for these very values. A kept list statement's values are
    all known when it is made (the filters, which are a state, a right, a channel, numbers, a flag and a
    priority, never a search's text; today; the page's limit and offset), and it is made once per process
    for them, so they are written in, by SQLAlchemy's literal rendering."""
    sql = str(stmt.compile(dialect=db.session.get_bind().dialect, compile_kwargs={"literal_binds": True}))
    return sa.text(sql).columns(*(sa.column(f"c{i}", column.type) for i, column in enumerate(stmt.selected_columns)))


@functools.lru_cache(maxsize=64)
def _search_statement(filters: tuple, by_reference: bool, by_subject: bool, today: date, limit: int, offset: int,
                      config: tuple, shape: str = "api") -> sa.Select:
    """The page statement of a search: the queue's ``filters`` (their values, ``q`` among them empty) and the
    search's condition with its references and subjects' ids as expanding parameters (``search_refs``,
    ``search_ids``; only those it has, :func:`~dsr.subjects.search.search_condition`), made once per process
    for each list and shape asked for, like :func:`_list_statement`: the lookup of the matching subjects runs
    for every search, the statement around its answer need not be built again (issue 15, item 3)."""
    del config  # part of the key only, as in _list_statement
    f = QueueFilters(**dict(zip(_FILTER_FIELDS, filters, strict=True)))
    refs = sa.bindparam("search_refs", expanding=True) if by_reference else None
    ids = sa.bindparam("search_ids", expanding=True) if by_subject else None
    stmt = queue_query(f, today, loads=()).where(search_condition(Case, refs, ids))
    return _page_statement(stmt, queue_order_keys(f), limit, offset, shape)


class ApiPagination(BoundedPagination):
    """A page of :class:`ApiCase` items (the queue page's: :class:`QueueCase` items) and their bounded count, in
    one statement: the page's cases (the queue's filters, order, offset and limit, with the count as a column)
    as a sub-query joined to what their JSON (or row) shows, in the page's order. ``select`` is made only when it is needed: a statement kept for these
    filters, or a page past the end (which counts on its own), does without it."""

    def _select(self) -> sa.Select:
        if self._query_args["select"] is None:
            self._query_args["select"] = queue_query(self._query_args["filters"], self._query_args["today"],
                                                     loads=())
        return self._query_args["select"]

    def _query_items(self) -> list:
        f, today, shape = self._query_args["filters"], self._query_args["today"], self._query_args["shape"]
        config = (db.session.get_bind().dialect.name, current_app.config.get("PAUSE_ATTENTION_DAYS", 30))
        params = None
        if f.q:
            refs, ids, many = search_parts(f.q, today, db.session)
            if many is not None:  # a prefix of very many subjects: their select, in a statement of its own
                self._query_args["select"] = queue_query(dataclasses.replace(f, q=None), today, loads=()).where(
                    search_condition(Case, refs, many))
                stmt = _page_statement(self._select(), queue_order_keys(f), self.per_page, self._query_offset,
                                       shape)
            else:
                stmt = _search_statement(tuple(None if name == "q" else getattr(f, name) for name in _FILTER_FIELDS),
                                         bool(refs), bool(ids), today, self.per_page, self._query_offset, config,
                                         shape)
                params = {"search_refs": refs, "search_ids": ids}
        else:
            stmt = _list_statement(tuple(getattr(f, name) for name in _FILTER_FIELDS), today, self.per_page,
                                   self._query_offset, config, shape)
        items, extra = (_read_queue if shape == "queue" else _read)(
            stmt, {k: v for k, v in params.items() if v} if params else None)
        self._counted = extra[0] if items else (0 if self.page == 1 else None)
        return items

    def _query_count(self) -> int:
        if self._counted is None:
            self._counted = db.session.scalar(bounded_count(self._select())) or 0
        return self._counted


def api_page(filters: QueueFilters, today: date, *, page: int, per_page: int, shape: str = "api") -> ApiPagination:
    """A page of the queue's cases for ``filters`` on ``today`` (its order, :func:`queue_order_keys`) with a
    bounded count, as :func:`~dsr.cases.queries.paginate` counts: :class:`ApiCase` items, or with ``shape``
    "queue" the queue page's :class:`QueueCase` items, read by a statement of their own (:class:`_Shape`;
    issue 15, item 3)."""
    return paginate(None, page=page, per_page=per_page, kind=ApiPagination, filters=filters, today=today,
                    shape=shape)
