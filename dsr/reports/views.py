"""The escalation report (page, CSV, PDF), the privacy manager's dashboard and its charts, and the warnings
that the queue and the case page show from the same definitions.

Who sees what: the privacy manager reads the report and the dashboard; the auditor may read both and
changes nothing (DESIGN.md, "Users"). Staff see the warnings on their own cases in the queue and on the
case page, which is where they act on them.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dsr.auth.access import reads_only, roles_required
from dsr.auth.roles import REPORT_READERS
from dsr.cases.labels import RIGHT_LABELS
from dsr.domain.enums import Right
from dsr.extensions import db
from dsr.reports import dashboard as dash
from dsr.reports.data import kept_report, warnings_for
from dsr.reports.escalations import QUEUE_BADGES, SEVERITY, SORT_KEYS, Kind, sort_items
from dsr.reports.jobs import ESCALATION_REPORT
from dsr.reports.models import ReportRun, RunOutcome
from dsr.reports.render import (
    KIND_ADVICE,
    KIND_LABELS,
    KIND_SHORT,
    days_phrase,
    file_name,
    report_csv,
    report_pdf,
)
from dsr.timeutil import today

bp = Blueprint("reports", __name__)

GROUPS = ("kind", "assignee", "right")
# The dashboard lists the oldest case files past their period, and counts them all.
CASEFILE_ROWS = 10
# Rows per page of the escalation report (the CSV and the PDF are complete).
REPORT_PAGE_SIZE = 100
# A chart is an image document: its own inline <style> is allowed there, nothing else is loaded or run.
CHART_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; script-src 'none'"


@bp.app_context_processor
def _helpers():
    def case_warnings(case):
        """The report's items for one case, on today's date (the case page's warnings strip)."""
        if not case.state.is_open:
            return []
        return warnings_for([case], today()).get(case.id, [])

    return {"case_warnings": case_warnings, "WARNING_LABELS": KIND_LABELS,
            "WARNING_ADVICE": KIND_ADVICE, "WarningKind": Kind, "QUEUE_BADGES": QUEUE_BADGES}


def _due_within() -> int:
    raw = (request.args.get("due_within") or "").strip()
    if not raw:
        return current_app.config["DUE_SOON_DAYS"]
    if not raw.isdigit() or int(raw) > 366:
        abort(400)
    return int(raw)


@bp.get("/reports/escalations")
@reads_only
@roles_required(*REPORT_READERS)
def escalations():
    day = today()
    report, _facts = kept_report(day, due_within=_due_within())
    fmt = request.args.get("format", "html")
    if fmt == "csv":
        return Response(report.derived("csv", lambda: report_csv(report)), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{file_name(report, "csv")}"', "Cache-Control": "no-store"})
    if fmt == "pdf":
        pdf = report_pdf(report, charts=dash.all_charts(day))
        return Response(pdf, mimetype="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="{file_name(report, "pdf")}"', "Cache-Control": "no-store"})
    if fmt != "html":
        abort(400)
    group = request.args.get("group", "kind")
    sort = request.args.get("sort", "severity")
    if group not in GROUPS or sort not in SORT_KEYS:
        abort(400)
    descending = request.args.get("desc") == "1"
    groups = report.derived(("groups", group, sort, descending), lambda: _groups(report, group, sort, descending))
    # The page shows REPORT_PAGE_SIZE rows of the groups in order (a group may continue on the next page);
    # each group's heading counts all of its rows. The CSV and the PDF hold every row.
    size = current_app.config.get("REPORT_PAGE_SIZE", REPORT_PAGE_SIZE)
    rows = sum(len(g[2]) for g in groups)
    pages = max(1, -(-rows // size))
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    start, end = (page - 1) * size, page * size
    shown, offset = [], 0
    for title, hint, group_items in groups:
        part = group_items[max(start - offset, 0):max(end - offset, 0)]
        if part:
            shown.append((title, hint, part, len(group_items)))
        offset += len(group_items)
    return render_template(
        "reports/escalations.html", report=report, groups=shown, group=group, sort=sort, descending=descending,
        page=page, pages=pages, rows=rows, first_row=start + 1, last_row=min(end, rows),
        kinds=list(Kind), labels=KIND_LABELS, short=KIND_SHORT, advice=KIND_ADVICE, days_phrase=days_phrase,
        by_assignee=report.derived("by assignee", lambda: _count_table(report.by_assignee())),
        by_right=report.derived("by right", lambda: _count_table(report.by_right())),
        rights=list(Right), severity=SEVERITY, last_run=_last_run())


def _groups(report, group: str, sort: str, descending: bool) -> list[tuple[object, object, list]]:
    """The report's items in the page's order and grouping, each group's title and hint, empty groups left out
    (the same for every page of one report: kept with it)."""
    items = sort_items(report.items, sort, descending=descending)
    if group == "kind":
        groups = [(KIND_LABELS[k], KIND_ADVICE[k], [i for i in items if i.kind is k]) for k in Kind]
    elif group == "assignee":
        names = sorted({i.assignee or "" for i in items}, key=lambda n: (n == "", n.casefold()))
        groups = [(n or _("Unassigned"), None, [i for i in items if (i.assignee or "") == n]) for n in names]
    else:
        groups = [(RIGHT_LABELS[r], None, [i for i in items if r in i.rights]) for r in Right]
    return [g for g in groups if g[2]]


def _count_table(groups: dict) -> list[tuple[object, dict[Kind, int], int]]:
    return [(key, {k: sum(1 for i in items if i.kind is k) for k in Kind}, sum(1 for i in items if i.overdue))
            for key, items in groups.items()]


RUN_OUTCOME_LABELS = {RunOutcome.SENT: _l("sent"), RunOutcome.SKIPPED: _l("skipped (weekend or public holiday)"),
                      RunOutcome.NOT_SENT: _l("made, not sent"), RunOutcome.DONE: _l("done")}


@bp.app_context_processor
def _run_labels():
    return {"RUN_OUTCOME_LABELS": RUN_OUTCOME_LABELS}


def _last_run() -> ReportRun | None:
    return db.session.execute(db.select(ReportRun).where(ReportRun.kind == ESCALATION_REPORT)
                              .order_by(ReportRun.created_at.desc(), ReportRun.id.desc()).limit(1)).scalar()


@bp.get("/dashboard")
@reads_only
@roles_required(*REPORT_READERS)
def dashboard():
    day = today()
    due_within = current_app.config["DUE_SOON_DAYS"]
    figures = dash.figures(day, due_within, CASEFILE_ROWS)
    from dsr.declared_days.operations import uncovered_year

    return render_template(
        "reports/dashboard.html", today=day, tiles=figures.tiles, due_within=due_within,
        report=figures.report, labels=KIND_LABELS, advice=KIND_ADVICE, days_phrase=days_phrase,
        matrix=figures.matrix, by_state=figures.by_state, rights=list(Right), stats=figures.stats,
        state_labels=dash.STATE_LABELS, last_run=_last_run(), charts=dash.CHARTS, uncovered_year=uncovered_year(day),
        casefiles=figures.casefiles, casefiles_total=figures.casefiles_total)


@bp.get("/dashboard/charts/<name>.svg")
@reads_only
@roles_required(*REPORT_READERS)
def chart(name: str):
    if name not in dash.CHARTS:
        abort(404)
    response = Response(dash.chart(name, today()), mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = CHART_CSP
    response.headers["Cache-Control"] = "no-store"
    return response
