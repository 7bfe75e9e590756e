"""The privacy manager's dashboard: what is open, what is late, and how well deadlines were kept per month.

The counts of overdue and due-soon cases are the queue's own queries (:func:`dsr.cases.queries.queue_query`)
counted, so a number on the dashboard is exactly the number of rows behind its link. The monthly figures
are computed by :func:`month_figures` from plain facts per answered case, with the answer day taken from the
case's closing and its deadlines from :func:`dsr.cases.deadlines.case_clock` on that day, as the case page showed them.

Charts are drawn by pygal as SVG. The page's Content-Security-Policy forbids inline styles and scripts, and
pygal's SVG carries both, so the page shows each chart through ``<img src>`` from its own ``image/svg+xml``
response, where scripts never run; the PDF embeds the same SVG inline (WeasyPrint runs no scripts).
"""

from __future__ import annotations

import itertools
import re
import statistics
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask_babel import lazy_gettext as _l

from dsr.cases.deadlines import working_calendar
from dsr.cases.models import Case, CaseRight
from dsr.cases.queries import OPEN_STATES, QueueFilters, queue_query
from dsr.domain.casefile_retention import FileDecision
from dsr.domain.enums import CaseState, Right
from dsr.domain.pauses import PauseInterval
from dsr.extensions import db
from dsr.reports.versions import FIGURES, FINGERPRINTS, MONTH_FIGURES, SMALL, data_version
from dsr.timeutil import local_date, local_midnight

MONTHS = 12
# The same words as the queue's state labels (templates/cases/_status.html), so they share translations.
STATE_LABELS = {CaseState.RECEIVED: _l("received"), CaseState.IDENTITY_CHECK: _l("identity check"),
                CaseState.IN_PROGRESS: _l("in progress"), CaseState.AWAITING_APPROVAL: _l("awaiting approval")}


@dataclass(frozen=True)
class Answered:
    """One answered case (completed or refused): when it arrived, was answered, and what was due."""

    received_on: date
    answered_on: date
    # The one promise date: the last working day on or before received on + 28 days (+ paused days).
    promise_answer_by: date
    due_on: date
    extended: bool

    @property
    def handling_days(self) -> int:
        return (self.answered_on - self.received_on).days


@dataclass(frozen=True)
class MonthStats:
    month: date  # the first day of the month
    answered: int
    within_promise: int
    within_legal: int
    median_days: float | None
    p90_days: float | None
    extensions: int

    @property
    def promise_share(self) -> float | None:
        return round(100 * self.within_promise / self.answered, 1) if self.answered else None

    @property
    def legal_share(self) -> float | None:
        return round(100 * self.within_legal / self.answered, 1) if self.answered else None


def month_starts(today: date, months: int = MONTHS) -> list[date]:
    """The first days of the last ``months`` months, oldest first, the current (partial) month last."""
    this = today.replace(day=1)
    return [this - relativedelta(months=n) for n in range(months - 1, -1, -1)]


def percentile(values: list[int], pct: int) -> float | None:
    """The ``pct``-th percentile by linear interpolation (``statistics.quantiles``' inclusive method)."""
    if not values:
        return None
    if len(values) == 1:
        return float(values[0])
    return round(statistics.quantiles(values, n=100, method="inclusive")[pct - 1], 1)


def month_figures(month: date, cases: list[Answered]) -> MonthStats:
    """The figures of one month (its first day) from the cases answered in it."""
    days = sorted(a.handling_days for a in cases)
    return MonthStats(
        month=month,
        answered=len(cases),
        within_promise=sum(1 for a in cases if a.answered_on <= a.promise_answer_by),
        within_legal=sum(1 for a in cases if a.answered_on <= a.due_on),
        median_days=float(statistics.median(days)) if days else None,
        p90_days=percentile(days, 90),
        extensions=sum(1 for a in cases if a.extended),
    )


def month_bounds(starts: list[date]) -> list[datetime]:
    """The moments at which the months of ``starts`` begin in the organisation's time zone, and the one at
    which the last of them ends: a case was answered in a month when it was closed from its bound to the
    next (:func:`dsr.timeutil.local_date` of its closing falls in the month)."""
    return [local_midnight(first) for first in (*starts, starts[-1] + relativedelta(months=1))]


def _answered_in(start: datetime, end: datetime) -> tuple:
    """The conditions on a case answered (closed, neither withdrawn nor merged) from ``start`` to ``end``:
    the closing's index finds them."""
    return (Case.closed_at >= start, Case.closed_at < end, Case.merged_into_id.is_(None),
            Case.withdrawal_how.is_(None))


def answered_between(start: datetime, end: datetime) -> list[Answered]:
    """The cases answered from ``start`` to ``end`` (moments), each with its promise and deadline on the day it
    was answered as :func:`case_clock` gives them (:func:`dsr.cases.deadlines.answer_dates`, remembered per
    day of receipt). Plain columns, not ORM objects, in two statements (the cases; the pauses of those that
    had any)."""
    from dsr.cases.deadlines import answer_dates, extension_rule
    from dsr.cases.models import CasePause
    from dsr.domain.pauses import counted_paused_days

    answered = sa.select(Case.id).where(*_answered_in(start, end))
    rows = db.session.execute(
        sa.select(Case.id, Case.received_on, Case.closed_at, Case.extended_due_on)
        .where(*_answered_in(start, end))).all()
    pauses: dict[int, list[PauseInterval]] = {}
    for case_id, requested, resumed, counted in db.session.execute(
            sa.select(CasePause.case_id, CasePause.requested_on, CasePause.resumed_on, CasePause.counted)
            .where(CasePause.case_id.in_(answered)).order_by(CasePause.id)):
        pauses.setdefault(case_id, []).append(PauseInterval(requested, resumed, counted))
    calendar = working_calendar()
    rule = extension_rule()
    result = []
    for case_id, received_on, closed_at, extended_due_on in rows:
        answered_on = local_date(closed_at)
        paused = counted_paused_days(pauses[case_id], answered_on) if case_id in pauses else 0
        answer_by, due_on = answer_dates(received_on, paused, extended_due_on is not None, calendar, rule)
        result.append(Answered(received_on, answered_on, answer_by, due_on, extended_due_on is not None))
    return result


# A month's figures change only when a case answered in it does: each month's are kept per process by that
# month's own fingerprint, and the list of twelve is found again by the data version
# (:func:`dsr.reports.versions.data_version`) without the fingerprints' statement while nothing changed.
# When a case is answered, only the current month's figures are computed again (at 100,000 cases the
# twelve months took 1.1-1.3 s, the current one a twelfth of that: issue 15, item 3).


def _fingerprints(bounds: list[datetime]) -> list[tuple]:
    """What each month between ``bounds`` depends on besides the calendar, in one statement over the closing's
    index, grouped by month: its answered cases' count, last closing, sum of ids and sum of row versions (every
    change of a case through the ORM moves its version: a new pause, an extension, a corrected date)."""
    whens = [(Case.closed_at < end, n) for n, end in enumerate(bounds[1:-1])]
    month = sa.case(*whens, else_=len(bounds) - 2) if whens else sa.literal(0)  # (one month: no WHEN)
    answered = (sa.select(month.label("month"), Case.closed_at, Case.id, Case.version)
                .where(*_answered_in(bounds[0], bounds[-1])).subquery())
    rows = db.session.execute(
        sa.select(answered.c.month, sa.func.count(), sa.func.max(answered.c.closed_at), sa.func.sum(answered.c.id),
                  sa.func.sum(answered.c.version)).group_by(answered.c.month)).all()
    found = {row[0]: tuple(str(value) for value in row[1:]) for row in rows}
    return [found.get(n, ("0",)) for n in range(len(bounds) - 1)]


def monthly_stats(today: date, version: tuple | None = None) -> list[MonthStats]:
    """The figures of the last twelve months (:func:`month_figures` of each month's
    :func:`answered_between`), each month kept by its own fingerprint (the current one
    computed again when a case is answered, the eleven before it not); ``version`` (the data version, read
    first when not given) finds the twelve again without the fingerprints' statement."""
    from dsr.cases.deadlines import extension_rule

    version = data_version() if version is None else version
    rule = extension_rule()

    def compute() -> list[MonthStats]:
        starts = month_starts(today)
        bounds = month_bounds(starts)
        declared = working_calendar().declared  # the request's calendar, read once for all its clocks
        return [MONTH_FIGURES.get(
            (str(db.engine.url), start, end, declared, rule, fingerprint),
            lambda start=start, end=end, first=first: month_figures(first, answered_between(start, end)))
            for first, (start, end), fingerprint in zip(starts, itertools.pairwise(bounds),
                                                        kept_fingerprints(bounds), strict=True)]

    return SMALL.get(("stats by version", today, version, rule), compute)


def kept_fingerprints(bounds: list[datetime]) -> list[tuple]:
    """:func:`_fingerprints` of the months between ``bounds``, those before the last month read again only
    when an event since they were read names a case answered in them (or may change cases it names none of:
    :func:`dsr.reports.data.changed_since`); the last month's whenever an event names a case (at 100,000
    cases the twelve take 30-45 ms, the last one a few: issue 15, item 3).

    A case is answered in a month by its closing, and a closed case stays closed with its closing time (no
    transition leaves a closed state, and the CHECK ``closed_iff_closed_at`` holds the time to the state):
    a case an event names that is not answered in an earlier month now was not before either. Every change
    to one that is records an event naming it, which reads all twelve again.
    """
    from dsr.reports.data import kept_up_to_date

    def update(kept: list[tuple], changed: set[int]) -> list[tuple]:
        if _answered_among(changed, bounds[0], bounds[-2]):
            return _fingerprints(bounds)
        return [*kept[:-1], *_fingerprints(bounds[-2:])]

    return kept_up_to_date(FINGERPRINTS, (str(db.engine.url), tuple(bounds)), lambda: _fingerprints(bounds), update)


def _answered_among(ids: set[int], start: datetime, end: datetime) -> bool:
    """Whether any of the cases ``ids`` was answered from ``start`` to ``end``."""
    return db.session.execute(sa.select(Case.id).where(Case.id.in_(sorted(ids)), *_answered_in(start, end))
                              .limit(1)).first() is not None


def open_counts(facts) -> tuple[dict[CaseState, dict[Right, int]], dict[CaseState, int]]:
    """Open cases per state and requested right (as :func:`open_matrix`) and per state, counted from the open
    cases' facts already read for the escalation report (:func:`dsr.reports.data.open_facts`: every open case
    with its rights)."""
    matrix = {state: {right: 0 for right in Right} for state in OPEN_STATES}
    by_state = {state: 0 for state in OPEN_STATES}
    for case in facts:
        by_state[case.state] += 1
        for right in case.rights:
            matrix[case.state][right] += 1
    return matrix, by_state


def open_matrix() -> dict[CaseState, dict[Right, int]]:
    """Open cases per state and requested right (a case asking two rights counts under both)."""
    rows = db.session.execute(
        sa.select(Case.state, CaseRight.right, sa.func.count())
        .join(CaseRight, CaseRight.case_id == Case.id)
        .where(Case.state.in_(OPEN_STATES)).group_by(Case.state, CaseRight.right)).all()
    matrix = {state: {right: 0 for right in Right} for state in OPEN_STATES}
    for state, right, count in rows:
        matrix[state][right] = count
    return matrix


# The dashboard's tiles: (key, queue arguments). Counted with the queue's own query, linked to the queue.
TILES: tuple[tuple[str, dict[str, str]], ...] = (
    ("overdue", {"state": "open", "overdue": "true"}),
    ("due_soon", {"state": "open", "due_within": "{due_within}"}),
    ("extension_notice", {"state": "open", "flag": "extension_notice"}),
    ("unassigned", {"state": "open", "assignee": "none"}),
    ("late_pause", {"state": "open", "flag": "late_pause"}),
    ("open", {"state": "open"}),
)


def tile_counts(today: date, due_within: int) -> list[tuple[str, dict[str, str], int]]:
    """Each tile's count and the queue arguments that list exactly those cases: one statement counting each
    tile's rows with the conditions of the queue's own query (``count(*) FILTER (WHERE …)``)."""
    tiles, counts = [], []
    for key, args in TILES:
        args = {k: v.format(due_within=due_within) for k, v in args.items()}
        filters = QueueFilters.from_args(args)
        if not filters.open_only:  # pragma: no cover - the statement below reads open cases only
            raise ValueError(f"tile {key} is not about open cases")
        tiles.append((key, args))
        counts.append(sa.func.count().filter(queue_query(filters, today, loads=()).whereclause))
    row = db.session.execute(sa.select(*counts).select_from(Case).where(Case.state.in_(OPEN_STATES))).one()
    return [(key, args, count or 0) for (key, args), count in zip(tiles, row, strict=True)]


@dataclass(frozen=True)
class FileRow:
    """A closed case file past its period as the dashboard lists it: plain values, kept across requests."""

    reference: str
    closed_on: date
    decision: FileDecision


@dataclass(frozen=True)
class Figures:
    """Everything the dashboard page computes from the cases, for one day and one data version."""

    report: object  # dsr.reports.escalations.EscalationReport
    tiles: list
    matrix: dict[CaseState, dict[Right, int]]
    by_state: dict[CaseState, int]
    stats: list[MonthStats]
    casefiles: tuple[FileRow, ...]
    casefiles_total: int


def figures(today: date, due_within: int, casefile_rows: int) -> Figures:
    """The dashboard's figures, kept per process for the day, the thresholds, the language (task titles are
    in it) and the data version (:func:`dsr.reports.versions.data_version`): computed again only after a
    change was committed, by any process. ``casefile_rows``: how many of the oldest files past their period
    to list."""
    from flask_babel import get_locale

    from dsr.casefiles.operations import count_past_period, past_period, retention_years
    from dsr.cases.deadlines import extension_rule
    from dsr.reports.data import kept_report, settings

    version = data_version()
    thresholds = settings(due_within)

    def compute() -> Figures:
        report, facts = kept_report(today, due_within=due_within, version=version)
        matrix, by_state = open_counts(facts)
        SMALL.get(("open matrix", version), lambda: matrix)  # for the open-cases chart's own request
        return Figures(report=report,
                       tiles=tile_counts(today, due_within), matrix=matrix, by_state=by_state,
                       stats=monthly_stats(today, version), casefiles_total=count_past_period(today),
                       casefiles=tuple(FileRow(s.case.reference, s.closed_on, s.decision)
                                       for s in past_period(today, limit=casefile_rows)))

    key = (today, version, tuple(sorted(thresholds.items())), retention_years(), extension_rule(),
           str(get_locale()), casefile_rows)
    return FIGURES.get(key, compute)


# -- charts -------------------------------------------------------------------------------------------------

_SCRIPT = re.compile(r"<script\b[^>]*?(?:/>|>.*?</script>)", re.S)
_SCRIPT_IDS = re.compile(r' id="activate-serie-\d+"')


def _style():
    from pygal.style import Style

    return Style(background="white", plot_background="white", foreground="#1a1a1a", foreground_strong="#1a1a1a",
                 foreground_subtle="#6c757d", font_family="DejaVu Sans, Helvetica, Arial, sans-serif",
                 colors=("#1f5f8b", "#2e7d32", "#ed8c00", "#c62828", "#6f42c1"),
                 label_font_size=13, major_label_font_size=13, legend_font_size=13, title_font_size=15,
                 value_font_size=12, tooltip_font_size=12)


def _config(**extra) -> dict:
    # No XML declaration (the SVG is also embedded in HTML for the PDF), no external script, no tooltips.
    return {"disable_xml_declaration": True, "js": [], "style": _style(), "width": 760, "height": 320,
            "legend_at_bottom": True, "legend_at_bottom_columns": 3, "print_values": False,
            "show_minor_x_labels": True, "truncate_label": -1, "truncate_legend": -1, **extra}


def _svg(chart) -> str:
    """The chart's SVG without pygal's inline configuration script: a chart needs no script to be read."""
    svg = _SCRIPT.sub("", chart.render(is_unicode=True))
    # The legend's ids serve pygal's script only, and would repeat when several charts share a document.
    svg = _SCRIPT_IDS.sub("", svg)
    if "<script" in svg:  # pragma: no cover - guards a future pygal that writes scripts differently
        raise ValueError("chart SVG still contains a script")
    return svg


def deadline_chart(stats: list[MonthStats], labels: dict[str, str]) -> str:
    """Per month: the share answered within Harmony's 4 weeks and within the legal deadline (percent)."""
    import pygal

    chart = pygal.Bar(**_config(title=labels["deadline_title"], range=(0, 100), y_title="%"))
    chart.x_labels = [labels["months"][i] for i in range(len(stats))]
    chart.add(labels["within_promise"], [s.promise_share for s in stats])
    chart.add(labels["within_legal"], [s.legal_share for s in stats])
    return _svg(chart)


def handling_chart(stats: list[MonthStats], labels: dict[str, str]) -> str:
    """Per month: median and 90th percentile of the days from receipt to answer, and extensions used."""
    import pygal

    chart = pygal.Bar(**_config(title=labels["handling_title"], y_title=labels["days"]))
    chart.x_labels = [labels["months"][i] for i in range(len(stats))]
    chart.add(labels["median"], [s.median_days for s in stats])
    chart.add(labels["p90"], [s.p90_days for s in stats])
    chart.add(labels["extensions"], [s.extensions if s.answered else None for s in stats])
    return _svg(chart)


def open_chart(matrix: dict[CaseState, dict[Right, int]], labels: dict) -> str:
    """Open cases per state, stacked by right."""
    import pygal

    chart = pygal.StackedBar(**_config(title=labels["open_title"], height=300))
    chart.x_labels = [labels["states"][s] for s in matrix]
    for right in Right:
        chart.add(labels["rights"][right], [matrix[s][right] or None for s in matrix])
    return _svg(chart)


def chart_labels(months: list[date]) -> dict:
    """The charts' words in the user's language (a chart is rendered per request or per report)."""
    from flask_babel import format_date
    from flask_babel import gettext as _

    from dsr.cases.labels import RIGHT_LABELS

    return {
        # Twelve labels under a half-width chart: the year only where it starts (first month, January).
        "months": [format_date(m, "LLL y" if i == 0 or m.month == 1 else "LLL") for i, m in enumerate(months)],
        "deadline_title": _("Answered in time, per month (%)"),
        "within_promise": _("within Harmony's 4 weeks"),
        "within_legal": _("within the legal deadline"),
        "handling_title": _("Days from receipt to answer, per month"),
        "days": _("days"),
        "median": _("median"),
        "p90": _("90th percentile"),
        "extensions": _("extensions used"),
        "open_title": _("Open cases by state and right"),
        "states": {s: str(STATE_LABELS[s]) for s in OPEN_STATES},
        "rights": {r: str(RIGHT_LABELS[r]) for r in Right},
    }


CHARTS = ("deadlines", "handling", "open")


def all_charts(today: date) -> dict[str, str]:
    """Every dashboard chart as SVG text, by name (for the page's <img> responses and the PDF)."""
    return {name: chart(name, today) for name in CHARTS}


def chart(name: str, today: date) -> str:
    """One chart by name (each <img> asks for one), kept per process for the day (pygal dates its SVG), the
    language and the figures it draws: the open-cases chart from the count per state and right (the page's, when this process has
    them for the current data version), the monthly ones from :func:`monthly_stats`."""
    from flask_babel import get_locale

    if name not in CHARTS:
        raise KeyError(name)
    locale = str(get_locale())
    if name == "open":
        matrix = SMALL.get(("open matrix", data_version()), open_matrix)
        drawn = tuple((state, tuple(row.items())) for state, row in matrix.items())
        return SMALL.get(("chart", name, today, locale, drawn), lambda: open_chart(matrix, chart_labels([])))
    stats = monthly_stats(today)
    draw = deadline_chart if name == "deadlines" else handling_chart
    return SMALL.get(("chart", name, today, locale, tuple(stats)),
                     lambda: draw(stats, chart_labels([s.month for s in stats])))
