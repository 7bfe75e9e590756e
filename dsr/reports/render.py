"""The escalation report as a page, CSV, plain text and PDF: one report, four ways of reading it.

The page, the CSV and the PDF name each row's subject beside the reference, so a privacy manager can tell
the cases apart without opening each (issue 16, item 12); they are read behind the login or sent to privacy
managers only. The e-mail's body and the plain-text summary keep to references and counts: a mail body
travels further than its attachment (GDPR Art. 5(1)(c)).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from flask import render_template
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from dsr.audit.queries import _cell as csv_cell
from dsr.reports.escalations import EscalationReport, Item, Kind

KIND_LABELS = {
    Kind.LEGAL_OVERDUE: _l("Past the legal deadline"),
    Kind.NOTICE_OWED: _l("Extension notice owed"),
    Kind.PROMISE_MISSED: _l("Past Harmony's 4-week promise"),
    Kind.DUE_SOON: _l("Due soon"),
    Kind.UNASSIGNED: _l("Unassigned too long"),
    Kind.TASK_OVERDUE: _l("Task overdue"),
    Kind.LATE_PAUSE: _l("Information asked late"),
}
# Column headings where the table is narrow (the full label is the heading's title).
KIND_SHORT = {
    Kind.LEGAL_OVERDUE: _l("legal"),
    Kind.NOTICE_OWED: _l("notice"),
    Kind.PROMISE_MISSED: _l("promise"),
    Kind.DUE_SOON: _l("due soon"),
    Kind.UNASSIGNED: _l("unassigned"),
    Kind.TASK_OVERDUE: _l("tasks"),
    Kind.LATE_PAUSE: _l("late ask"),
}
# What to do about each, in a sentence: the report is read to act, not to admire.
KIND_ADVICE = {
    Kind.LEGAL_OVERDUE: _l("Answer now, or refuse with reasons; every day late is a breach of Art. 12(3)."),
    Kind.NOTICE_OWED: _l("Send the extension notice with its reasons before the original deadline (Art. 12(3))."),
    Kind.PROMISE_MISSED: _l("Harmony promised an answer within 4 weeks; the legal deadline still holds."),
    Kind.DUE_SOON: _l("Finish, or extend with a reason and a notice, before the deadline."),
    Kind.UNASSIGNED: _l("Assign someone: until then nobody is working on it."),
    Kind.TASK_OVERDUE: _l("Chase or reschedule the task."),
    Kind.LATE_PAUSE: _l("The clock kept running: the deadline did not move."),
}

# days_overdue: days past the date in due_on, for what is late; days_left: days until it, for what is not yet
# (a due-soon case is not "-6 days overdue"). Exactly one of the two is filled on each row.
CSV_COLUMNS = ["kind", "reference", "subject", "rights", "state", "assignee", "received_on", "due_on", "days_overdue",
               "days_left", "overdue", "task", "detail"]
PDF_STYLESHEET = Path(__file__).resolve().parent.parent.parent / "letters" / "assets" / "report.css"


def _detail(item: Item) -> str:
    """A short, untranslated detail for the CSV (stable for scripts)."""
    d = item.detail
    if item.kind is Kind.LATE_PAUSE:
        return f"asked on {d['asked_on'].isoformat()}, {d['asks']} late ask(s)"
    if item.kind is Kind.UNASSIGNED:
        return f"unassigned since {d['since'].isoformat()} ({d['working_days']} working days)"
    if d.get("extended"):
        return "extended deadline"
    return ""


def report_csv(report: EscalationReport) -> str:
    """One row per item; cells a person typed (assignee names, task titles) are made formula-safe."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for item in report.items:
        writer.writerow([
            item.kind.value,
            item.case.reference,
            csv_cell(item.case.subject or ""),
            ";".join(r.value for r in item.rights),
            item.case.state.value,
            csv_cell(item.assignee or ""),
            item.case.received_on.isoformat(),
            item.due_on.isoformat() if item.due_on else "",
            item.days if item.days >= 0 else "",
            -item.days if item.days < 0 else "",
            "yes" if item.overdue else "no",
            csv_cell(item.task or ""),
            _detail(item),
        ])
    return out.getvalue()


def days_phrase(item: Item) -> str:
    if item.kind is Kind.LATE_PAUSE:
        return f"asked {item.days} day(s) after the allowed last day"
    if item.kind is Kind.UNASSIGNED:
        return f"unassigned for {item.detail['working_days']} working day(s)"
    if item.kind is Kind.PROMISE_MISSED:
        return f"{item.days} day(s) past the promise"
    if item.days > 0:
        return f"{item.days} day(s) overdue"
    if item.days == 0:
        return "due today"
    return f"{-item.days} day(s) left"


def report_text(report: EscalationReport) -> str:
    """Plain text for a terminal, a cron mail or a monitor's log: the summary, then each section."""
    lines = [f"Escalation report for {report.today.strftime('%A %d %B %Y')} "
             f"(due within {report.due_within} days)",
             f"{report.open_cases} open case(s); {len(report.overdue)} item(s) overdue, {len(report.items)} in all."]
    if report.first is not None:
        lines.append(f"DO FIRST: {_item_line(report.first)}")
    for kind in Kind:
        items = report.of_kind(kind)
        if not items:
            continue
        lines += ["", f"{KIND_LABELS[kind]} ({len(items)})"]
        lines += [f"  {_item_line(i)}" for i in items]
    if not report.items:
        lines += ["", "Nothing overdue, nothing due soon."]
    return "\n".join(lines) + "\n"


def _item_line(item: Item, *, task_title: bool = True) -> str:
    parts = [item.case.reference, str(KIND_LABELS[item.kind]), ", ".join(r.value for r in item.rights),
             item.assignee or "unassigned"]
    if item.task:
        parts.append(f"task: {item.task}" if task_title else "a task")
    if item.due_on:
        parts.append(f"due {item.due_on.isoformat()}")
    parts.append(days_phrase(item))
    return " | ".join(parts)


def summary_text(report: EscalationReport) -> str:
    """The e-mail's body: counts per kind and the first thing to do; details are in the attached PDF."""
    lines = [f"Escalation report for {report.today.strftime('%A %d %B %Y')}.", ""]
    if report.first is not None:
        # Mailed every morning: references and counts, never the text someone typed (a task's title may
        # name the subject); the page behind the login has the details.
        lines += [f"Do first: {_item_line(report.first, task_title=False)}", ""]
    for kind, count in report.counts().items():
        lines.append(f"  {KIND_LABELS[kind]}: {count}")
    lines += ["", f"{report.open_cases} open case(s). The full report is attached as a PDF."]
    return "\n".join(lines) + "\n"


def report_pdf(report: EscalationReport, *, charts: dict[str, str] | None = None) -> bytes:
    """The report as a PDF in Harmony's letterhead family; ``charts`` are inline SVGs for a last page."""
    from dsr.pdf import render_pdf

    html = render_template("reports/escalations_pdf.html", report=report, kinds=list(Kind), labels=KIND_LABELS,
                           current_language=str(get_locale() or "en")[:2],
                           advice=KIND_ADVICE, charts=charts or {}, days_phrase=days_phrase)
    return render_pdf(html)


def file_name(report: EscalationReport, extension: str) -> str:
    return f"escalations-{report.today.isoformat()}.{extension}"


