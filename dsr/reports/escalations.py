"""The escalation report: every deadline risk among the open cases, on a given day.

Pure: it takes plain facts about the open cases (:class:`CaseFacts`, loaded by :mod:`dsr.reports.data`) and
``today``, and computes each case's clock with :func:`dsr.cases.deadlines.case_clock`, the function the
case page and the queue use, so the report, the warnings on a case and the queue's badges cannot disagree
about a deadline. Tests move ``today`` a day at a time across weekends and Dutch holidays.

What counts as a risk (DESIGN.md, "Deadlines"; LEGAL.md T1-T5):

* **past the legal deadline** (Art. 12(3), the extended one after an extension);
* **past Harmony's promise** of an answer within 4 weeks (the privacy statement), still within the law: past
  the last working day on or before receipt + 28 days (+ paused days), the date the case page states;
* **due soon**: the deadline in force falls within ``due_within`` days. A case whose clock is paused is not
  "due soon": its deadline moves with the pause (EDPB 01/2022 §159), as in the queue's filter;
* **extension notice owed**: extended, and the subject not yet told, which Art. 12(3) requires before the
  original deadline; past that day the extension itself is in doubt;
* **information asked late**: a pause asked for after the allowed working days did not stop the clock;
* **unassigned** for more than ``unassigned_working_days`` working days: nobody is working on it;
* **task overdue**: an open task on an open case past its due date.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypeVar

from dsr.cases.deadlines import case_clock, extension_rule
from dsr.domain.calendar_nl import WorkingDayCalendar
from dsr.domain.clock import DeadlineStatus
from dsr.domain.enums import CaseState, Right
from dsr.domain.pauses import DEFAULT_ASK_WORKING_DAYS, PauseInterval

T = TypeVar("T")

DEFAULT_DUE_WITHIN = 7
DEFAULT_UNASSIGNED_WORKING_DAYS = 2


class Kind(enum.StrEnum):
    """The kinds of risk, most severe first (the order of the report's sections)."""

    LEGAL_OVERDUE = "legal_overdue"
    NOTICE_OWED = "extension_notice_owed"
    PROMISE_MISSED = "promise_missed"
    DUE_SOON = "due_soon"
    UNASSIGNED = "unassigned"
    TASK_OVERDUE = "task_overdue"
    LATE_PAUSE = "late_pause"


SEVERITY = {kind: rank for rank, kind in enumerate(Kind)}
# The warnings the queue shows as badges: it shows overdue, due soon, information asked late and an extension
# notice owed from the case and its clock.
QUEUE_BADGES = frozenset({Kind.PROMISE_MISSED, Kind.UNASSIGNED, Kind.TASK_OVERDUE})


@dataclass(frozen=True)
class TaskFacts:
    title: str
    due_on: date | None
    assignee: str | None = None


@dataclass(frozen=True)
class CaseFacts:
    """What the report needs to know about one open case; attribute names follow :class:`~dsr.cases.models.Case`
    so that :func:`case_clock` reads it exactly as it reads a stored case."""

    reference: str
    received_on: date
    rights: tuple[Right, ...] = (Right.ACCESS,)
    subject: str = ""
    state: CaseState = CaseState.RECEIVED
    assignee_id: int | None = None
    assignee: str | None = None
    pauses: tuple[PauseInterval, ...] = ()
    paused_since: date | None = None
    extended_due_on: date | None = None
    extension_notice_due_on: date | None = None
    extension_notice_sent_on: date | None = None
    # The day the case last became unassigned (an unassignment); ``None``: never assigned, so since receipt.
    unassigned_since: date | None = None
    open_tasks: tuple[TaskFacts, ...] = ()
    id: int | None = None
    closed_at: datetime | None = None  # always None here: the report is about open cases

    @property
    def extension_notice_owed(self) -> bool:
        return self.extended_due_on is not None and self.extension_notice_sent_on is None


@dataclass(frozen=True)
class Item:
    """One risk on one case. ``days`` is how far past ``due_on`` today is: positive when overdue, 0 on the day
    itself, negative while there is time left (a due-soon case, a notice not yet late)."""

    kind: Kind
    case: CaseFacts
    due_on: date | None
    days: int
    overdue: bool
    assignee: str | None = None
    task: str | None = None
    detail: dict = field(default_factory=dict)

    @property
    def rights(self) -> tuple[Right, ...]:
        return self.case.rights


@dataclass(frozen=True)
class EscalationReport:
    today: date
    due_within: int
    open_cases: int
    items: tuple[Item, ...]
    # What each case's items were computed with (the day, thresholds, declared days and extension rule), and
    # its facts and items by case id: a later report from some of the same facts takes their items from here.
    context: tuple = field(default=(), compare=False, repr=False)
    by_case: dict[int, tuple[CaseFacts, list[Item]]] = field(default_factory=dict, compare=False, repr=False)
    # What is worked out from the items (an order, a grouping, counts, the CSV), once per report: a report kept
    # for its data version (dsr.reports.data.kept_report) serves many requests.
    _derived: dict = field(default_factory=dict, init=False, compare=False, repr=False)

    def derived(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, worked out once per report and ``key``."""
        if key not in self._derived:
            self._derived[key] = compute()
        return self._derived[key]

    @property
    def overdue(self) -> tuple[Item, ...]:
        """What is already late: the CLI exits with status 3 when this is not empty."""
        return self.derived("overdue", lambda: tuple(i for i in self.items if i.overdue))

    def overdue_counts(self) -> dict[Kind, int]:
        """How many items of each kind are late, most severe kind first, kinds with none left out: the
        dashboard's banner states these, under the same names as the tiles (its legal-deadline count is the
        number of open cases past the legal deadline, which the "past the legal deadline" tile counts too)."""
        counts: dict[Kind, int] = {}
        for item in self.overdue:
            counts[item.kind] = counts.get(item.kind, 0) + 1
        return {kind: counts[kind] for kind in Kind if kind in counts}

    def of_kind(self, kind: Kind) -> tuple[Item, ...]:
        return self.derived(("of kind", kind), lambda: tuple(i for i in self.items if i.kind is kind))

    def counts(self) -> dict[Kind, int]:
        return {kind: len(self.of_kind(kind)) for kind in Kind}

    @property
    def first(self) -> Item | None:
        """The one thing to do first: the most severe kind, and within it the longest overdue."""
        return self.items[0] if self.items else None

    def by_assignee(self) -> dict[str, tuple[Item, ...]]:
        """Items per person responsible ("" for nobody), people in name order, nobody last."""
        groups: dict[str, list[Item]] = {}
        for item in self.items:
            groups.setdefault(item.assignee or "", []).append(item)
        return {name: tuple(groups[name]) for name in sorted(groups, key=lambda n: (n == "", n.casefold()))}

    def by_right(self) -> dict[Right, tuple[Item, ...]]:
        """Items per requested right; a case asking for two rights is listed under both."""
        return {right: tuple(i for i in self.items if right in i.rights)
                for right in Right if any(right in i.rights for i in self.items)}


def case_items(case: CaseFacts, today: date, calendar: WorkingDayCalendar, *, due_within: int = DEFAULT_DUE_WITHIN,
               unassigned_working_days: int = DEFAULT_UNASSIGNED_WORKING_DAYS,
               ask_working_days: int = DEFAULT_ASK_WORKING_DAYS, clock=None) -> list[Item]:
    """Every risk on one open case on ``today``: what its warnings strip and queue badges show. ``clock`` is
    the case's :func:`case_clock` on ``today`` with these ``due_within`` and ``ask_working_days`` when the
    caller has it (the queue computed it for its row)."""
    if not case.state.is_open:
        return []
    if clock is None:
        clock = case_clock(case, calendar, today, soon_days=due_within, ask_working_days=ask_working_days)
    return _items(case, clock, today, _Unassigned(calendar, today, unassigned_working_days))


class _Unassigned:
    """How long an unassigned case has waited, in working days, and the day it should have been assigned by:
    computed once per day it became unassigned (a report has hundreds of unassigned cases and a few dozen
    such days; counting working days walks the calendar day by day)."""

    def __init__(self, calendar: WorkingDayCalendar, today: date, limit: int):
        self.calendar, self.today, self.limit = calendar, today, limit
        self.known: dict[date, tuple[int, date | None]] = {}

    def __call__(self, since: date) -> tuple[int, date | None]:
        found = self.known.get(since)
        if found is None:
            waited = self.calendar.working_days_between(since, self.today)
            limit = self.calendar.add_working_days(since, self.limit) if waited > self.limit else None
            found = self.known[since] = (waited, limit)
        return found


def _items(case: CaseFacts, clock, today: date, unassigned: _Unassigned) -> list[Item]:
    """The risks on one open case from its clock (:func:`case_clock` on ``today``)."""
    items: list[Item] = []

    def add(kind: Kind, due_on: date | None, days: int, overdue: bool, **extra) -> None:
        extra.setdefault("assignee", case.assignee)
        items.append(Item(kind=kind, case=case, due_on=due_on, days=days, overdue=overdue, **extra))

    if clock.status is DeadlineStatus.OVERDUE:
        add(Kind.LEGAL_OVERDUE, clock.due_on, -clock.days_left, True, detail={"extended": clock.extended is not None})
    else:
        if clock.past_promise:
            add(Kind.PROMISE_MISSED, clock.promise_answer_by, -clock.promise_days_left, True)
        if clock.status is DeadlineStatus.DUE_SOON and not clock.paused:
            add(Kind.DUE_SOON, clock.due_on, -clock.days_left, False,
                detail={"extended": clock.extended is not None})
    if case.extension_notice_owed and case.extension_notice_due_on is not None:
        notice_due = case.extension_notice_due_on
        add(Kind.NOTICE_OWED, notice_due, (today - notice_due).days, today > notice_due)
    late = [p for p in case.pauses if not p.counted]
    if late:
        asked = max(p.requested_on for p in late)
        allowed = clock.ask_deadline
        add(Kind.LATE_PAUSE, allowed, (asked - allowed).days, False,
            detail={"asked_on": asked, "asks": len(late)})
    if case.assignee_id is None:
        since = max(case.unassigned_since or case.received_on, case.received_on)
        waited, limit = unassigned(since)
        if limit is not None:
            add(Kind.UNASSIGNED, limit, (today - limit).days, True,
                detail={"since": since, "working_days": waited})
    for task in case.open_tasks:
        if task.due_on is not None and task.due_on < today:
            add(Kind.TASK_OVERDUE, task.due_on, (today - task.due_on).days, True,
                assignee=task.assignee or case.assignee, task=task.title)
    return items


def escalations(cases: Iterable[CaseFacts], today: date, calendar: WorkingDayCalendar, *,
                due_within: int = DEFAULT_DUE_WITHIN, unassigned_working_days: int = DEFAULT_UNASSIGNED_WORKING_DAYS,
                ask_working_days: int = DEFAULT_ASK_WORKING_DAYS,
                earlier: EscalationReport | None = None) -> EscalationReport:
    """The report for ``today``: items ordered most severe first, then longest overdue, then reference.

    A case's clock depends only on its day of receipt, pauses, running pause, extension and closing: thousands
    of open cases share a few hundred of them, so each distinct clock is computed once (:func:`case_clock`,
    the same function :func:`case_items` calls for one case).

    ``earlier``: a report made before from some of the same facts (the same objects, as
    :func:`dsr.reports.data.kept_open_facts` keeps those of the cases that did not change): where it was
    made on the same day with the same thresholds, declared days and extension rule, the items of those
    cases are taken from it, not computed again."""
    if due_within < 0:
        raise ValueError(f"due_within must not be negative, got {due_within}")
    open_cases = [c for c in cases if c.state.is_open]
    rule = extension_rule()
    context = (today, due_within, unassigned_working_days, ask_working_days, calendar.declared, rule)
    known = earlier.by_case if earlier is not None and earlier.context == context else {}
    clocks: dict[tuple, object] = {}
    unassigned = _Unassigned(calendar, today, unassigned_working_days)
    by_case: dict[int, tuple[CaseFacts, list[Item]]] = {}
    items: list[Item] = []
    for case in open_cases:
        found = known.get(case.id)
        if found is None or found[0] is not case:
            key = (case.received_on, tuple(case.pauses), case.paused_since, case.extended_due_on is not None,
                   case.closed_at)
            clock = clocks.get(key)
            if clock is None:
                clock = clocks[key] = case_clock(case, calendar, today, soon_days=due_within,
                                                 ask_working_days=ask_working_days, rule=rule)
            found = (case, _items(case, clock, today, unassigned))
        if case.id is not None:
            by_case[case.id] = found
        items += found[1]
    return EscalationReport(today=today, due_within=due_within, open_cases=len(open_cases),
                            items=tuple(sort_items(items, "severity")), context=context, by_case=by_case)


SORT_KEYS = ("severity", "days", "due", "reference", "assignee", "kind")


def sort_items(items: Iterable[Item], key: str = "severity", *, descending: bool = False) -> list[Item]:
    """Items sorted by one of :data:`SORT_KEYS`; ties fall back to severity, then days overdue, then reference.

    ``days`` sorts the longest overdue first unless ``descending`` is asked for the other way round,
    because "how late" is read from the top.
    """
    if key not in SORT_KEYS:
        raise ValueError(f"unknown sort key {key!r}; use one of {', '.join(SORT_KEYS)}")

    def tie(i: Item):
        return (SEVERITY[i.kind], -i.days, i.case.reference)

    primary = {
        "severity": lambda i: (),
        "days": lambda i: (-i.days,),
        "due": lambda i: (i.due_on or date.max,),
        "reference": lambda i: (i.case.reference,),
        "assignee": lambda i: ((i.assignee or "\uffff").casefold(),),
        "kind": lambda i: (SEVERITY[i.kind],),
    }[key]
    ordered = sorted(items, key=lambda i: (*primary(i), *tie(i)))
    return list(reversed(ordered)) if descending else ordered
