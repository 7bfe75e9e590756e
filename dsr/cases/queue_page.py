"""The queue page's rows: read as plain rows and worked out once per page in Python (issue 15, item 3).

The page read its 25 cases as ORM objects with their subjects, assignees, rights and pauses, some 1,000
attributes set up and tracked for a page that only shows them: the page is read as the API reads its pages
(one statement of plain rows, :func:`dsr.api.rows.api_page`), of the cases only what the rows show, as
:class:`QueueCase` items, which the clock and the warnings read as they read a case. And a row called a dozen template macros and translations (the state's label, the rights' badges, the
days left, the status badge), some 45 template calls a row, most of which give one of a few outputs on a page
(eight states, a handful of right combinations, a few dozen distinct "days left"): :func:`queue_rows` runs each
macro once per distinct input and a row reuses its output. The macros stay the templates' own, so the page is
the same byte for byte, escaping included.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from flask_babel import get_locale, get_translations
from markupsafe import Markup, escape

from dsr.domain.enums import CaseState, Priority, Right
from dsr.domain.pauses import PauseInterval
from dsr.timeutil import format_day


class Named(NamedTuple):
    name: str | None
    customer_number: str | None = None


@dataclass(slots=True)
class QueueCase:
    """What the queue's rows, their clocks and their warnings read of a case, by the names
    :class:`~dsr.cases.models.Case` gives them (:func:`~dsr.cases.deadlines.case_clock` and the warnings read
    it as they read a stored case), from plain rows instead of ORM objects (issue 15, item 3)."""

    id: int
    reference: str
    version: int
    state: CaseState
    received_on: date
    closed_at: datetime | None
    paused_since: date | None
    extended_due_on: date | None
    extension_notice_due_on: date | None
    extension_notice_sent_on: date | None
    late_pause_requests: int
    priority: Priority
    assignee_id: int | None
    subject: Named | None
    assignee: Named | None
    right_values: list[Right]
    pauses: list[PauseInterval]
    # The page statement's rows it was gathered from, less the page's own columns (the row's key: QueueTable).
    made_of: tuple = ()

    @property
    def extension_notice_owed(self) -> bool:
        return self.extended_due_on is not None and self.extension_notice_sent_on is None


@dataclass(slots=True)
class QueueRow:
    id: int
    reference: str
    version: int
    url: str
    subject: str
    customer_number: str
    rights: Markup
    state: Markup
    assignee: str
    received: str
    open: bool
    paused: bool
    promise_by: str
    past_promise: bool
    due_on: str
    extended: bool
    left: Markup | str
    status: Markup | str
    late_pause: bool
    notice_owed: bool
    open_tasks: int
    high: bool
    badges: Markup | str


_DAYS: dict[str, dict] = {}


def _days_in(locale) -> dict:
    """The dates of the queue's rows as :func:`~dsr.timeutil.format_day` shows them in ``locale``, kept per
    process and language: each ``format_day`` finds the request's locale again through Flask-Babel's context
    (some 70 distinct dates a page, a dozen calls each). Cleared when it grows past a few years of dates."""
    key = str(locale)
    days = _DAYS.get(key)
    if days is None or len(days) > 20_000:
        days = _DAYS[key] = {}
    return days


_MACROS: dict[tuple, Markup] = {}


class _Once:
    """A macro's output per distinct key, kept per process and language: the rows' macros (a state's label, a
    set of rights' badges, the days left, a status badge) read nothing but their key and the language's
    translations, and a queue page asked them again some 40 times a page (issue 15, item 3)."""

    def __init__(self, language: str) -> None:
        self.language = language
        if len(_MACROS) > 20_000:
            _MACROS.clear()

    def __call__(self, macro: Callable, key, *args):
        try:
            return _MACROS[self.language, macro.name, key]
        except KeyError:
            out = _MACROS[self.language, macro.name, key] = macro(*args)
            return out


def queue_rows(rows: Iterable, task_counts: dict[int, int], case_url: Callable[[str], str], *, warnings: dict,
               state_label: Callable, days_left: Callable, status_badge: Callable, rights_badges: Callable,
               badges: Callable) -> list[QueueRow]:
    """The rows of (case, clock) as the template prints them; the macros are the template's (called from it,
    so they see its context), ``warnings`` the badges' items per case id (only those the queue shows)."""
    locale = get_locale()
    once = _Once(str(locale))
    days = _days_in(locale)

    def day(value):  # a page shows some 75 dates, most of them shown on other pages of the same language too
        try:
            return days[value]
        except KeyError:
            text = days[value] = format_day(value)
            return text

    out = []
    for case, clock in rows:
        is_open = case.state.is_open
        paused = clock.paused
        subject = case.subject
        items = warnings.get(case.id) or ()
        out.append(QueueRow(
            id=case.id, reference=case.reference, version=case.version, url=case_url(case.reference),
            subject=subject.name if subject is not None else "",
            customer_number=(subject.customer_number or "") if subject is not None else "",
            # rights_badges reads the case's rights only
            rights=once(rights_badges, tuple(case.right_values), case),
            state=once(state_label, case.state, case.state),
            assignee=case.assignee.name if case.assignee is not None else "—",
            received=day(case.received_on),
            open=is_open, paused=paused,
            promise_by=day(clock.promise_answer_by), past_promise=clock.past_promise,
            due_on=day(clock.due_on), extended=clock.extended is not None,
            # days_left reads only the clock's days left, status_badge its status and whether that is 0
            left=once(days_left, clock.days_left, clock) if is_open and not paused else "",
            status=once(status_badge, (clock.status, clock.days_left == 0), clock) if is_open and not paused else "",
            late_pause=bool(case.late_pause_requests), notice_owed=case.extension_notice_owed,
            open_tasks=task_counts.get(case.id) or 0, high=case.priority == Priority.HIGH,
            badges=(badges(items) if items else once(badges, (), ())) if is_open else "",
        ))
    return out


def rows_html(rows: Iterable[QueueRow], *, is_manager: bool, extended: Markup, paused: Markup, late_title: Markup,
              late: Markup, notice: Markup, high: Markup, closed: Markup) -> list[Markup]:
    """Each row of the queue's table as one piece of HTML, the labels translated by the template: the same
    text, escaping and white space as the template's loop printed cell by cell, some 40 output pieces, 30
    attribute lookups and a translation a row (issue 15, item 3). The typed and formatted texts are escaped;
    the macros' outputs and the labels are markup already. ``tests/web/test_queue_rows_html.py`` holds it
    to the template's loop."""
    translations = get_translations()
    tick = Markup(translations.ugettext("Tick %(ref)s"))
    extended_badge = f' <span class="badge text-bg-light border" title="{extended}">+2m</span>'
    paused_badge = f'<span class="badge text-bg-info">{paused}</span>'
    late_badge = f'<span class="badge text-bg-warning" title="{late_title}">{late}</span>'
    notice_badge = f'<span class="badge text-bg-danger">{notice}</span>'
    high_badge = f'<span class="badge text-bg-danger">{high}</span>'
    closed_cell = f'<span class="text-muted small">{closed}</span>'
    gap = "\n            "
    out = []
    for row in rows:
        is_open, reference = row.open, escape(row.reference)
        if not is_manager:
            cells = ["\n    <tr>\n      "]
        elif is_open:
            cells = [f'\n    <tr>\n      <td><input class="form-check-input" type="checkbox" form="bulk" name="case" '
                     f'value="{reference}:{row.version}" aria-label="{tick % {"ref": row.reference}}"></td>']
        else:
            cells = ["\n    <tr>\n      <td></td>"]
        cells.append(f'\n      <td class="ref"><a href="{escape(row.url)}">{reference}</a></td>'
                     f'\n      <td>{escape(row.subject)}')
        if row.customer_number:
            cells.append(f' <span class="text-muted small">{escape(row.customer_number)}</span>')
        cells.append(f'</td>\n      <td class="rights-list col-wide">{row.rights}</td>'
                     f'\n      <td class="col-wide">{row.state}</td>'
                     f'\n      <td class="col-wide">{escape(row.assignee)}</td>'
                     f'\n      <td class="text-nowrap col-wide col-xxl">{escape(row.received)}</td>'
                     f'\n      <td class="col-wide text-nowrap{" text-danger" if is_open and row.past_promise else ""}">'
                     f'{escape(row.promise_by)}</td>\n      <td class="text-nowrap col-wide">{escape(row.due_on)}'
                     f'{extended_badge if row.extended else ""}</td>\n      <td class="text-nowrap col-wide">')
        if not is_open:
            cells.append(f"—</td>\n      <td>{closed_cell}</td>\n    </tr>\n  ")
            out.append(Markup("".join(cells)))
            continue
        if row.paused:
            cells.append(f"{paused}</td>\n      <td>{row.status}{gap}{paused_badge}")
        else:
            cells.append(f'{row.left}</td>\n      <td><div class="d-md-none small text-nowrap">{row.left}</div>'
                         f'{row.status}{gap}')
        cells.append(f'{gap}{late_badge if row.late_pause else ""}{gap}{notice_badge if row.notice_owed else ""}{gap}')
        if row.open_tasks:
            label = Markup(translations.ungettext("%(num)d open task", "%(num)d open tasks", row.open_tasks))
            cells.append(f'<span class="badge text-bg-light border">{label % {"num": row.open_tasks}}</span>')
        cells.append(f'{gap}{high_badge if row.high else ""}{gap}{row.badges}\n          </td>\n    </tr>\n  ')
        out.append(Markup("".join(cells)))
    return out


# The queue's rows as HTML, kept per process (issue 15, item 3). See QueueTable.
MOST_ROWS = 4096
_ROWS: dict[tuple, Markup] = {}
_ROWS_DAY: list[date | None] = [None]


class QueueTable:
    """A page's rows of the queue as HTML, each kept per process by everything it was made from.

    A page reads its cases, their open tasks and when the unassigned ones became so afresh every time, but
    working out 25 rows (the clocks, the warnings, the macros' outputs, the HTML) cost as much Python as all
    of the page's statements, for the same rows as the last time most of the time: people page back and forth
    and open a case and come back. A row is a function of its case's rows in the page's statement
    (:attr:`QueueCase.made_of`: what the row reads of the case, its subject's name and customer number, its
    assignee's name, rights and pauses), its open tasks and the day it became unassigned, and of the page's ``context`` (the
    language, whether the reader may tick cases, the day, the calendar of the declared days, the clock's and
    the warnings' settings, the cases' address): ``keys`` holds them per row, and a kept row is the one that
    would be made now; whatever changed is another key. At most :data:`MOST_ROWS` rows are kept, then they
    are dropped at once, and all of them when the day changes, so a row, with the personal data in it, stays
    in a worker's memory for the day it was read at most (as :mod:`dsr.api.memo` keeps the API's cases).

    ``make`` works out the rows of the cases it is given, with the template's macros and labels, which
    :meth:`fill` passes on: the template asks for them only when a row is missing. With ``keep`` false (the
    ``KEEP_FRAGMENTS`` setting, as the page's other kept parts) every row is made, and none kept.
    """

    def __init__(self, items: list, keys: list[tuple], day: date, make: Callable[..., list[Markup]], *,
                 keep: bool = True):
        if _ROWS_DAY[0] != day:
            _ROWS.clear()
            _ROWS_DAY[0] = day
        self.items, self.keys, self.make, self.keep = items, keys, make, keep
        self.html: list[Markup | None] = [_ROWS.get(key) for key in keys] if keep else [None] * len(keys)
        self.missing = [n for n, html in enumerate(self.html) if html is None]

    def fill(self, **template) -> list[Markup]:
        """The rows, those missing made by ``make`` with the ``template``'s macros and labels and kept."""
        if self.missing:
            made = self.make([self.items[n] for n in self.missing], **template)
            if self.keep and len(_ROWS) + len(made) > MOST_ROWS:
                _ROWS.clear()
            for n, html in zip(self.missing, made, strict=True):
                self.html[n] = html
                if self.keep and len(_ROWS) < MOST_ROWS:
                    _ROWS[self.keys[n]] = html
            self.missing = []
        return self.html
