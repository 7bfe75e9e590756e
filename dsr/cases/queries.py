"""Read-side queries for the queue, shared by the web pages and the JSON API."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.orm import joinedload, selectinload

from dsr.cases.models import Case, CasePause, CaseRight
from dsr.domain.enums import CLOSED_STATES, CaseState, Channel, Priority, Right
from dsr.extensions import db
from dsr.subjects.search import case_search_condition
from dsr.tasks.models import CaseTask

OPEN_STATES = [s for s in CaseState if s not in CLOSED_STATES]

def list_loads() -> tuple:
    """What a row of a list shows, with the page (no query per row): the subject and the assignee joined to
    the page's own statement (one row each, so no more rows), the rights and pauses one query each."""
    return (joinedload(Case.subject), joinedload(Case.assignee), selectinload(Case.rights),
            selectinload(Case.pauses))


FLAGS = ("extension_notice", "late_pause", "paused", "long_pause", "open_tasks")
# Columns the queue can be sorted by (?sort=...&dir=asc|desc); the legal deadline, most urgent first, unless
# asked otherwise.
SORTS = ("deadline", "promise", "received", "reference", "state", "assignee")


class FilterError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class QueueFilters:
    state: CaseState | None = None
    open_only: bool = False
    right: Right | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    channel: Channel | None = None
    overdue: bool = False
    due_within: int | None = None
    flag: str | None = None
    priority: Priority | None = None
    q: str = ""
    sort: str = "deadline"
    descending: bool = False

    @classmethod
    def from_args(cls, args, *, current_user_id: int | None = None) -> QueueFilters:
        """Parse query-string arguments; unknown values raise :class:`FilterError` naming the field."""
        f = cls()
        f.state = _enum(args, "state", CaseState, extra={"open", "all"})
        # The queue shows open cases unless asked otherwise (state=all): closed ones are history, not work.
        raw_state = (args.get("state") or "open").strip()
        f.open_only = raw_state == "open"
        f.right = _enum(args, "right", Right)
        f.channel = _enum(args, "channel", Channel)
        assignee = (args.get("assignee") or "").strip()
        if assignee == "none":
            f.unassigned = True
        elif assignee == "me" and current_user_id is not None:
            f.assignee_id = current_user_id
        elif assignee:
            if not assignee.isdigit():
                raise FilterError("assignee", "Unknown assignee.")
            f.assignee_id = int(assignee)
        f.overdue = (args.get("overdue") or "").lower() in ("1", "true", "yes", "on")
        due = (args.get("due_within") or "").strip()
        if due:
            if not due.isdigit() or int(due) > 366:
                raise FilterError("due_within", "due_within is a number of days between 0 and 366.")
            f.due_within = int(due)
        f.q = (args.get("q") or "").strip()[:200]
        flag = (args.get("flag") or "").strip()
        if flag and flag not in FLAGS:
            raise FilterError("flag", f"Unknown flag: {flag}.")
        f.flag = flag or None
        f.priority = _enum(args, "priority", Priority)
        sort = (args.get("sort") or "deadline").strip()
        if sort not in SORTS:
            raise FilterError("sort", f"Unknown sort: {sort}.")
        f.sort = sort
        direction = (args.get("dir") or "asc").strip()
        if direction not in ("asc", "desc"):
            raise FilterError("dir", "dir is asc or desc.")
        f.descending = direction == "desc"
        return f


def _enum(args, key, enum_cls, extra=frozenset()):
    value = (args.get(key) or "").strip()
    if not value or value in extra:
        return None
    try:
        return enum_cls(value)
    except ValueError:
        raise FilterError(key, f"Unknown {key}: {value}.") from None


def queue_query(f: QueueFilters, today: date, loads: tuple | None = None) -> sa.Select:
    """Cases matching the filters, most urgent legal deadline first, with ``loads`` (else :func:`list_loads`)."""
    # No join: a reduced case file has no subject any more (dsr.casefiles); search goes through the keys.
    stmt = sa.select(Case).options(*(list_loads() if loads is None else loads))
    if f.state is not None:
        stmt = stmt.where(Case.state == f.state)
    if f.open_only or f.overdue or f.due_within is not None or f.flag is not None:
        stmt = stmt.where(Case.state.in_(OPEN_STATES))
    if f.right is not None:
        stmt = stmt.where(Case.id.in_(sa.select(CaseRight.case_id).where(CaseRight.right == f.right)))
    if f.unassigned:
        stmt = stmt.where(Case.assignee_id.is_(None))
    elif f.assignee_id is not None:
        stmt = stmt.where(Case.assignee_id == f.assignee_id)
    if f.channel is not None:
        stmt = stmt.where(Case.channel == f.channel)
    due = effective_due()
    # A running pause moves the deadline day by day, so a paused case is as far from it as on the day the
    # pause began: compare against that day instead of today.
    reference_day = sa.func.coalesce(Case.paused_since, today)
    if f.overdue:
        # A pause begins on a day that has come (dsr.cases.timing), so an overdue case's deadline is before
        # today too: said as well, it bounds the scan of the open queue's index to the days before today.
        stmt = stmt.where(due < reference_day, due < today)
    if f.due_within is not None:
        stmt = stmt.where(due >= reference_day, Case.paused_since.is_(None),
                          due <= today + timedelta(days=f.due_within))
    if f.flag == "extension_notice":
        stmt = stmt.where(Case.extended_due_on.is_not(None), Case.extension_notice_sent_on.is_(None))
    elif f.flag == "late_pause":
        stmt = stmt.where(Case.late_pause_requests > 0)
    elif f.flag == "paused":
        stmt = stmt.where(Case.paused_since.is_not(None))
    elif f.flag == "long_pause":  # information asked for PAUSE_ATTENTION_DAYS ago and not received
        from flask import current_app

        days = int(current_app.config.get("PAUSE_ATTENTION_DAYS", 30))
        stmt = stmt.where(Case.id.in_(sa.select(CasePause.case_id).where(
            CasePause.resumed_on.is_(None), CasePause.requested_on <= today - timedelta(days=days))))
    elif f.flag == "open_tasks":
        stmt = stmt.where(Case.id.in_(sa.select(CaseTask.case_id).where(CaseTask.done_at.is_(None))))
    if f.priority is not None:
        stmt = stmt.where(Case.priority == f.priority)
    if f.q:
        stmt = stmt.where(case_search_condition(f.q, today, Case, db.session))
    return stmt.order_by(*queue_order(f, due))


def queue_order_keys(f: QueueFilters, due=None) -> list[tuple[sa.ColumnElement, bool]]:
    """What a list is ordered by, as (expression, descending): the chosen column; ties fall back to the
    deadline, then the case, so pages are stable."""
    from dsr.auth.models import User

    due = effective_due() if due is None else due
    column = {
        "deadline": due,
        "promise": Case.promised_on,
        "received": Case.received_on,
        "reference": Case.reference,
        "state": Case.state,
        # By name; unassigned cases sort last either way.
        "assignee": sa.select(User.name).where(User.id == Case.assignee_id).scalar_subquery(),
    }[f.sort]
    keys = [(column, f.descending), (due, False), (Case.id, False)]
    if f.sort == "assignee":
        keys.insert(0, (Case.assignee_id.is_(None), False))
    return keys


def queue_order(f: QueueFilters, due=None) -> list:
    """ORDER BY for :func:`queue_order_keys`."""
    return [key.desc() if descending else key for key, descending in queue_order_keys(f, due)]


# Lists count their rows up to this many: past it a page says "more than 10,000" instead of counting a
# whole table on every page view (a count over 100,000 cases costs more than the page itself).
COUNT_LIMIT = 10_000


class BoundedPagination(Pagination):
    """A page of cases and their bounded count read by one statement: the count (at most
    :data:`COUNT_LIMIT` + 1 ids, a sub-query the database runs once) rides along as a column of the page's
    own rows. Only a page past the end, which has no rows to carry it, counts on its own."""

    def _query_items(self) -> list:
        stmt = self._query_args["select"]
        counted = bounded_count(stmt).scalar_subquery().label("dsr_bounded_total")
        rows = db.session.execute(
            stmt.add_columns(counted).limit(self.per_page).offset(self._query_offset)).unique().all()
        self._counted = rows[0][-1] if rows else (0 if self.page == 1 else None)
        return [self._item(row) for row in rows]

    @staticmethod
    def _item(row):
        return row[0]

    def _query_count(self) -> int:
        if self._counted is None:
            self._counted = db.session.scalar(bounded_count(self._query_args["select"])) or 0
        return self._counted


class RowPagination(BoundedPagination):
    """A :class:`BoundedPagination` of a select of columns: a page's items are its rows as they are."""

    @staticmethod
    def _item(row):
        return row


def bounded_count(stmt: sa.Select) -> sa.Select:
    ids = stmt.with_only_columns(Case.id, maintain_column_froms=True).order_by(None).limit(COUNT_LIMIT + 1)
    return sa.select(sa.func.count()).select_from(ids.subquery())


def paginate(stmt: sa.Select, *, page: int, per_page: int, rows: bool = False,
             kind: type[BoundedPagination] | None = None, **query_args) -> BoundedPagination:
    """A page of ``stmt`` with a bounded count: ``total`` is exact up to :data:`COUNT_LIMIT`, and
    ``total_exact`` says whether it is (otherwise there are more rows than ``total``). The items are the
    cases, or with ``rows`` the rows of a select of columns, or what ``kind`` (a :class:`BoundedPagination`
    given ``query_args``) makes of them."""
    result = (kind or (RowPagination if rows else BoundedPagination))(
        select=stmt, page=page, per_page=per_page, max_per_page=None, error_out=False, **query_args)
    total = result.total
    result.total = min(total, COUNT_LIMIT)
    result.total_exact = total <= COUNT_LIMIT
    return result


def effective_due():
    """The deadline in force in SQL: the extended one after an extension, else the legal one."""
    return sa.func.coalesce(Case.extended_due_on, Case.legal_due_on)


def case_by_reference(reference: str, *loads) -> Case | None:
    """The case with this reference, or ``None``; its subject and assignee, which every page and the API show,
    in the same statement, and whatever else ``loads`` asks for. Without ``loads`` (every page's case) the
    statement is made once per process, the reference as its parameter (issue 15, item 3)."""
    if not loads:
        return db.session.execute(_by_reference(), {"reference": reference}).unique().scalar_one_or_none()
    return db.session.execute(
        sa.select(Case).where(Case.reference == reference)
        .options(joinedload(Case.subject), joinedload(Case.assignee), *loads)
    ).unique().scalar_one_or_none()


@functools.cache
def _by_reference() -> sa.Select:
    return (sa.select(Case).where(Case.reference == sa.bindparam("reference"))
            .options(joinedload(Case.subject), joinedload(Case.assignee)))


def case_or_404(reference: str) -> Case:
    """The case with this reference, for a view: 404 when there is none."""
    from flask import abort

    case = case_by_reference(reference)
    if case is None:
        abort(404)
    return case
