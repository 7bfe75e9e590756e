"""The privacy manager's dashboard: what is open, what is late, and how well deadlines were kept per month.

The counts of overdue and due-soon cases are the queue's own queries (:func:`dsr.cases.queries.queue_query`)
counted, so a number on the dashboard is exactly the number of rows behind its link. The monthly figures
are computed by :func:`monthly` from plain facts per answered case, with the answer day taken from the case's
closing and its deadlines from :func:`dsr.cases.deadlines.case_clock` on that day, as the case page showed them.

Charts are drawn by pygal as SVG. The page's Content-Security-Policy forbids inline styles and scripts, and
pygal's SVG carries both, so the page shows each chart through ``<img src>`` from its own ``image/svg+xml``
response, where scripts never run; the PDF embeds the same SVG inline (WeasyPrint runs no scripts).
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from dsr.cases.deadlines import case_clock, working_calendar
from dsr.cases.models import Case, CaseRight
from dsr.cases.queries import OPEN_STATES, QueueFilters, queue_query
from dsr.domain.enums import CaseState, Right
from dsr.extensions import db
from dsr.timeutil import local_date

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


def monthly(answered: list[Answered], today: date, months: int = MONTHS) -> list[MonthStats]:
    """Per month answered in: how many, the share within Harmony's 4 weeks and within the legal deadline,
    the median and 90th percentile of the days from receipt to answer, and how many needed an extension."""
    stats = []
    for start in month_starts(today, months):
        end = start + relativedelta(months=1)
        cases = [a for a in answered if start <= a.answered_on < end]
        days = sorted(a.handling_days for a in cases)
        stats.append(MonthStats(
            month=start,
            answered=len(cases),
            within_promise=sum(1 for a in cases if a.answered_on <= a.promise_answer_by),
            within_legal=sum(1 for a in cases if a.answered_on <= a.due_on),
            median_days=float(statistics.median(days)) if days else None,
            p90_days=percentile(days, 90),
            extensions=sum(1 for a in cases if a.extended),
        ))
    return stats


def answered_cases(today: date, months: int = MONTHS) -> list[Answered]:
    """Cases completed or refused in the last ``months`` months (withdrawn and merged ones were not answered)."""
    since = month_starts(today, months)[0] - relativedelta(days=1)
    cases = db.session.execute(
        sa.select(Case).options(selectinload(Case.pauses))
        .where(Case.closed_at.is_not(None), Case.merged_into_id.is_(None), Case.withdrawal_how.is_(None),
               Case.received_on >= since - relativedelta(months=3))
    ).scalars()
    calendar = working_calendar()
    result = []
    for case in cases:
        answered_on = local_date(case.closed_at)
        if answered_on <= since:
            continue
        clock = case_clock(case, calendar, answered_on)
        result.append(Answered(case.received_on, answered_on, clock.promise_answer_by, clock.due_on,
                               case.extended_due_on is not None))
    return result


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


def open_by_state() -> dict[CaseState, int]:
    rows = db.session.execute(
        sa.select(Case.state, sa.func.count()).where(Case.state.in_(OPEN_STATES)).group_by(Case.state)).all()
    counts = {state: 0 for state in OPEN_STATES}
    counts.update(dict(rows))
    return counts


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
    """Each tile's count and the queue arguments that list exactly those cases."""
    result = []
    for key, args in TILES:
        args = {k: v.format(due_within=due_within) for k, v in args.items()}
        filters = QueueFilters.from_args(args)
        count = db.session.scalar(sa.select(sa.func.count()).select_from(queue_query(filters, today).subquery()))
        result.append((key, args, count or 0))
    return result


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

    from dsr.cases.forms import RIGHT_LABELS

    return {
        "months": [format_date(m, "MMM yy") for m in months],
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
    stats = monthly(answered_cases(today), today)
    labels = chart_labels([s.month for s in stats])
    return {"deadlines": deadline_chart(stats, labels), "handling": handling_chart(stats, labels),
            "open": open_chart(open_matrix(), labels)}


def chart(name: str, today: date) -> str:
    """One chart by name (each <img> asks for one; computing only its own data keeps the page quick)."""
    if name == "open":
        return open_chart(open_matrix(), chart_labels([]))
    stats = monthly(answered_cases(today), today)
    labels = chart_labels([s.month for s in stats])
    if name == "deadlines":
        return deadline_chart(stats, labels)
    if name == "handling":
        return handling_chart(stats, labels)
    raise KeyError(name)
