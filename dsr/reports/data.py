"""Loading the facts the reports compute from: open cases with their pauses, open tasks and assignment history.

Kept apart from :mod:`dsr.reports.escalations` so the computation stays pure and the queries stay few:
one query per table for any number of cases, not one per case (the queue calls this for a page of 25).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Hashable, Iterable
from datetime import UTC, date, datetime
from typing import TypeVar

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import ARRAY

from dsr.audit.models import AuditEvent
from dsr.cases.deadlines import pause_intervals, working_calendar
from dsr.cases.models import Case
from dsr.cases.queries import OPEN_STATES
from dsr.extensions import db, read
from dsr.reports.escalations import (
    QUEUE_BADGES,
    CaseFacts,
    EscalationReport,
    Item,
    TaskFacts,
    case_items,
    escalations,
)
from dsr.tasks.models import CaseTask
from dsr.tasks.titles import task_title
from dsr.timeutil import local_date

T = TypeVar("T")


def facts_for(cases: Iterable[Case]) -> list[CaseFacts]:
    """:class:`CaseFacts` for already loaded cases (two extra queries in all: tasks and unassignments)."""
    cases = list(cases)
    tasks, unassigned_since = tasks_and_unassignments(cases)
    return [_facts(c, tasks.get(c.id, ()), unassigned_since.get(c.id)) for c in cases]


def tasks_and_unassignments(cases: Iterable[Case]) -> tuple[dict[int, list[TaskFacts]], dict[int, date]]:
    """What :func:`facts_for` reads besides the cases, for the open ones of ``cases``: their open tasks and, of
    the unassigned ones once assigned, the day they became unassigned, per case id (two statements at most)."""
    ids = [c.id for c in cases if c.state.is_open]
    tasks: dict[int, list[TaskFacts]] = {}
    unassigned_since: dict[int, date] = {}
    if ids:
        dialect = db.session.get_bind().dialect.name
        tasks = _open_tasks(_tasks_of_cases(dialect), {"ids": ids})
        # An unassigned case that was once assigned became unassigned at its last "case.assigned" event.
        unassigned = [c.id for c in cases if c.assignee_id is None and c.state.is_open]
        if unassigned:
            last = read(_last_assignments(dialect), {"ids": unassigned}).all()
            unassigned_since = {case_id: local_date(_aware(moment)) for case_id, moment in last}
    return tasks, unassigned_since


# The statements of facts_for, made once per process and database: the queue reads them for every page (issue 15,
# item 3).
@functools.cache
def _tasks_of_cases(dialect: str) -> sa.Select:
    return _open_tasks_of(_among_ids(CaseTask.case_id, dialect))


@functools.cache
def _last_assignments(dialect: str) -> sa.Select:
    return _last_assignments_of(_among_ids(AuditEvent.case_id, dialect))


def _last_assignments_of(which) -> sa.Select:
    """When each case ``which`` selects was last assigned (its last ``case.assigned`` event)."""
    return (sa.select(AuditEvent.case_id, sa.func.max(AuditEvent.occurred_at))
            .where(which, AuditEvent.action == "case.assigned").group_by(AuditEvent.case_id))


def _among_ids(column, dialect: str):
    """``column`` is one of the parameter ``ids``: on PostgreSQL ``= ANY`` of one array parameter, bound as it is,
    where an expanding ``IN`` writes a parameter per id into the statement's text at every execution (a fifth of
    the queue's warnings' time for a page of 25); on SQLite the expanding ``IN``."""
    if dialect == "postgresql":
        return column == sa.any_(sa.bindparam("ids", type_=ARRAY(sa.Integer)))
    return column.in_(sa.bindparam("ids", expanding=True))


def _open_tasks_of(which) -> sa.Select:
    """The open tasks of the cases ``which`` selects, with their assignees' names."""
    from dsr.auth.models import User

    return (sa.select(CaseTask.case_id, CaseTask.title, CaseTask.kind, CaseTask.params, CaseTask.due_on, User.name)
            .outerjoin(User, User.id == CaseTask.assignee_id)
            .where(which, CaseTask.done_at.is_(None)).order_by(CaseTask.id))


def _open_tasks(statement: sa.Select, params: dict | None = None) -> dict[int, list[TaskFacts]]:
    """The open tasks ``statement`` reads (:func:`_open_tasks_of`), per case id, as plain rows."""
    tasks: dict[int, list[TaskFacts]] = {}
    for row in read(statement, params):
        tasks.setdefault(row.case_id, []).append(TaskFacts(task_title(row), row.due_on, row.name))
    return tasks


def _aware(moment) -> datetime:
    # Guard: should max() over the UTCDateTime column ever come back unprocessed (naive or text), it is UTC.
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _facts(case: Case, tasks, unassigned_since) -> CaseFacts:
    return CaseFacts(
        id=case.id,
        reference=case.reference,
        received_on=case.received_on,
        rights=tuple(case.right_values),
        subject=case.subject.name if case.subject else "",
        state=case.state,
        assignee_id=case.assignee_id,
        assignee=case.assignee.name if case.assignee else None,
        pauses=tuple(pause_intervals(case)),
        paused_since=case.paused_since,
        extended_due_on=case.extended_due_on,
        extension_notice_due_on=case.extension_notice_due_on,
        extension_notice_sent_on=case.extension_notice_sent_on,
        unassigned_since=unassigned_since,
        open_tasks=tuple(tasks),
    )


def open_facts(of: Iterable[int] | None = None) -> list[CaseFacts]:
    """:class:`CaseFacts` of every open case as plain rows, in five statements whatever their number: the
    cases with their subject's and assignee's names, their rights, pauses, open tasks and unassignments.
    ``of``: only the open ones of these case ids and of the other cases of their subjects (what an event on
    one of them may have changed: :func:`kept_open_facts`).

    The same facts :func:`facts_for` makes from loaded cases, without building an ORM object per case,
    its subject, assignee, rights and pauses (at 100,000 cases the open ones alone are thousands).
    """
    from dsr.auth.models import User
    from dsr.cases.models import CasePause, CaseRight
    from dsr.domain.enums import Right
    from dsr.domain.pauses import PauseInterval
    from dsr.subjects.models import DataSubject

    cases = sa.select(Case.id, Case.reference, Case.received_on, Case.state, Case.assignee_id,
                      User.name.label("assignee_name"), DataSubject.name.label("subject_name"), Case.paused_since,
                      Case.extended_due_on, Case.extension_notice_due_on, Case.extension_notice_sent_on)
    cases = (cases.outerjoin(User, User.id == Case.assignee_id)
             .outerjoin(DataSubject, DataSubject.id == Case.subject_id).where(Case.state.in_(OPEN_STATES)))
    if of is None:
        open_ids = sa.select(Case.id).where(Case.state.in_(OPEN_STATES))
        rows = db.session.execute(cases.order_by(Case.id)).all()
    else:
        # The cases and those of their subjects, by each one's index (an OR of the two would read them all).
        ids = sorted(of)
        named = sa.union(sa.select(Case.id).where(Case.id.in_(ids)), sa.select(Case.id).where(
            Case.subject_id.in_(sa.select(Case.subject_id).where(Case.id.in_(ids)))))
        rows = db.session.execute(cases.where(Case.id.in_(named)).order_by(Case.id)).all()
        open_ids = [row.id for row in rows]
    if not rows:
        return []
    rank = {right: n for n, right in enumerate(Right)}
    rights: dict[int, list[Right]] = {}
    for case_id, right in db.session.execute(
            sa.select(CaseRight.case_id, CaseRight.right).where(CaseRight.case_id.in_(open_ids))):
        rights.setdefault(case_id, []).append(right)
    pauses: dict[int, list[PauseInterval]] = {}
    for case_id, requested, resumed, counted in db.session.execute(
            sa.select(CasePause.case_id, CasePause.requested_on, CasePause.resumed_on, CasePause.counted)
            .where(CasePause.case_id.in_(open_ids)).order_by(CasePause.id)):
        pauses.setdefault(case_id, []).append(PauseInterval(requested, resumed, counted))
    tasks = _open_tasks(_open_tasks_of(CaseTask.case_id.in_(open_ids)))
    unassigned = (open_ids.where(Case.assignee_id.is_(None)) if of is None
                  else [row.id for row in rows if row.assignee_id is None])
    last = db.session.execute(_last_assignments_of(AuditEvent.case_id.in_(unassigned))).all()
    unassigned_since = {case_id: local_date(_aware(moment)) for case_id, moment in last}
    return [CaseFacts(
        id=row.id, reference=row.reference, received_on=row.received_on,
        rights=tuple(sorted(rights.get(row.id, ()), key=rank.__getitem__)), subject=row.subject_name or "",
        state=row.state, assignee_id=row.assignee_id, assignee=row.assignee_name,
        pauses=tuple(pauses.get(row.id, ())), paused_since=row.paused_since, extended_due_on=row.extended_due_on,
        extension_notice_due_on=row.extension_notice_due_on, extension_notice_sent_on=row.extension_notice_sent_on,
        unassigned_since=unassigned_since.get(row.id), open_tasks=tuple(tasks.get(row.id, ())),
    ) for row in rows]


# -- the open cases' facts, kept per process and brought up to date by the events since (issue 15, item 3) ------

# Events recorded without a case that change no open case's facts: a sign-in, a token, a saved view, an account
# made, (de)activated or given another role (a new user has no cases yet, and no operation renames a user or
# takes their cases); a request's subject made or completed (recorded only with the request's "case.created",
# which names its case: the subject's other open cases are read again with it). Any other event without a
# case (a declared day's deadlines recomputed) has the open cases' facts read whole again.
NO_CASE_FACTS = frozenset({
    "user.logged_in", "user.logged_out", "user.password_changed", "user.password_reset",
    "user.recovery_code_used", "user.totp_enabled", "user.totp_disabled", "user.locale_changed", "user.created",
    "user.role_changed", "user.activated", "user.deactivated", "api_token.issued", "api_token.revoked",
    "queue_view.saved", "queue_view.deleted", "report.escalations_sent", "report.escalations_skipped",
    "subject.created", "subject.updated",
})
# Past this many events since the facts were read, they are read whole again (as quick, and bounded).
EVENTS_AT_MOST = 500


def newest_event() -> int:
    """The id of the newest audit event committed (0 when none)."""
    return read(sa.select(sa.func.max(AuditEvent.id))).scalar() or 0


def changed_since(seen: int) -> set[int] | None:
    """The ids of the cases named by the events after ``seen``; ``None`` when the facts must be read whole
    again: an event without a case that may change some (not in :data:`NO_CASE_FACTS`), or too many events."""
    rows = read(sa.select(AuditEvent.case_id, AuditEvent.action).where(AuditEvent.id > seen)
                .order_by(AuditEvent.id).limit(EVENTS_AT_MOST + 1)).all()
    if len(rows) > EVENTS_AT_MOST:
        return None
    if any(case_id is None and action not in NO_CASE_FACTS for case_id, action in rows):
        return None
    return {case_id for case_id, _action in rows if case_id is not None}


def kept_up_to_date(store, key: Hashable, whole: Callable[[], T], update: Callable[[T, set[int]], T]) -> T:
    """A value kept per process in ``store`` (a :class:`dsr.reports.versions.Newest`) under ``key`` as of an
    audit event, brought up to date by the events since: ``whole()`` the first time and after what
    :func:`changed_since` cannot follow case by case; the kept value when the events since name no case;
    otherwise ``update(kept, ids)`` with the ids of the cases they name. A transaction with changes of its own
    (not committed) gets ``whole()`` and keeps nothing: they are not everyone's yet.

    Every change of state records an event naming its case (:func:`dsr.audit.operations.record`), and events
    are appended under the chain head's lock, held until their transaction commits, so their ids follow the
    order of the commits: every change committed after the newest event read first is in an event with a
    higher id, and what is read after it is at least as new. Cases written without any event (a bulk load) are
    not seen until an event or a restart, as for :func:`dsr.reports.versions.data_version`."""
    from dsr.audit.operations import writes_pending

    if writes_pending():
        return whole()
    newest = newest_event()
    kept = store.get(key)
    if kept is not None and kept[0] >= newest:  # (newer: another request of this process kept it since)
        return kept[1]
    changed = None if kept is None else changed_since(kept[0])
    value = whole() if changed is None else update(kept[1], changed) if changed else kept[1]
    store.put(key, newest, value)
    return value


def kept_open_facts() -> tuple[CaseFacts, ...]:
    """:func:`open_facts`, kept per process (and database and language: task titles are in it) and brought up
    to date from the audit events committed since it was read (:func:`kept_up_to_date`): only the cases those
    events name, and the other cases of their subjects, are read again. A case that closed drops out, a new
    one comes in."""
    from flask_babel import get_locale

    from dsr.reports.versions import OPEN_FACTS

    def update(kept: tuple[CaseFacts, ...], changed: set[int]) -> tuple[CaseFacts, ...]:
        by_id = {f.id: f for f in kept if f.id not in changed}
        by_id.update((f.id, f) for f in open_facts(of=changed))
        return tuple(by_id[case_id] for case_id in sorted(by_id))

    return kept_up_to_date(OPEN_FACTS, (str(db.engine.url), str(get_locale())), lambda: tuple(open_facts()), update)


def settings(due_within: int | None = None) -> dict:
    """The thresholds from the configuration, so the report, the queue and the case page use the same ones."""
    config = current_app.config
    return {
        "due_within": config["DUE_SOON_DAYS"] if due_within is None else due_within,
        "unassigned_working_days": config.get("UNASSIGNED_WORKING_DAYS", 2),
        "ask_working_days": config["PAUSE_ASK_WORKING_DAYS"],
    }


def build_report(today, *, due_within: int | None = None) -> EscalationReport:
    """The escalation report over every open case on ``today``."""
    return escalations(open_facts(), today, working_calendar(), **settings(due_within))


def kept_report(today, *, due_within: int | None = None,
                version: tuple | None = None) -> tuple[EscalationReport, tuple[CaseFacts, ...]]:
    """:func:`build_report` and the open cases' facts it was computed from, kept per process for the day, the
    thresholds, the extension rule, the language (task titles are in it) and the data version
    (:func:`dsr.reports.versions.data_version`, read first when not given): computed again only after a
    change was committed, by any process. The report's page, CSV and PDF and the dashboard share it."""
    from flask_babel import get_locale

    from dsr.cases.deadlines import extension_rule
    from dsr.reports.versions import EARLIER_REPORTS, REPORTS, data_version

    version = data_version() if version is None else version
    thresholds = settings(due_within)

    def compute() -> tuple[EscalationReport, tuple[CaseFacts, ...]]:
        facts = kept_open_facts()
        # The last report of this database and language: the items of the cases whose facts did not change
        # are taken from it when it was made on the same day with the same thresholds (escalations' earlier).
        last = (str(db.engine.url), str(get_locale()))
        earlier = EARLIER_REPORTS.get(last)
        report = escalations(facts, today, working_calendar(), earlier=earlier[1] if earlier else None,
                             **thresholds)
        EARLIER_REPORTS.put(last, time.monotonic_ns(), report)
        return report, facts

    key = (today, version, tuple(sorted(thresholds.items())), extension_rule(), str(get_locale()))
    return REPORTS.get(key, compute)


def warnings_for(cases: Iterable[Case], today) -> dict[int, list[Item]]:
    """The warnings per case id, for the case page: the report's items for those cases."""
    calendar = working_calendar()
    options = settings()
    return {f.id: case_items(f, today, calendar, **options) for f in facts_for(cases)}


def queue_warnings(rows: Iterable[tuple], today: date, calendar, options: dict, tasks: dict[int, list[TaskFacts]],
                 unassigned_since: dict[int, date]) -> tuple[dict[int, list[Item]], dict[int, int]]:
    """For the queue's rows (each a case and its clock on ``today`` with :func:`settings`' thresholds
    ``options``), from what :func:`tasks_and_unassignments` read: per open case the report's items of the kinds
    the queue shows as badges of their own (:data:`~dsr.reports.escalations.QUEUE_BADGES`; it shows the others
    from the case's clock), and how many open tasks each open case has."""
    warnings: dict[int, list[Item]] = {}
    counts: dict[int, int] = {}
    for case, clock in rows:
        if not case.state.is_open:
            continue
        open_tasks = tasks.get(case.id, ())
        found = case_items(_facts(case, open_tasks, unassigned_since.get(case.id)), today, calendar, clock=clock,
                           **options)
        warnings[case.id] = [item for item in found if item.kind in QUEUE_BADGES]
        if open_tasks:
            counts[case.id] = len(open_tasks)
    return warnings, counts
