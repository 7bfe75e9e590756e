"""Web pages for cases: the queue, postal intake with its match panel, and the case page."""

from __future__ import annotations

import functools

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask.globals import request_ctx
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from dsr.api.rows import api_page
from dsr.auth.access import READERS, WRITERS, reads_only, roles_required
from dsr.auth.models import User
from dsr.cases.action_forms import REFUSAL_LABELS
from dsr.cases.deadlines import case_clock, extension_rule, working_calendar
from dsr.cases.forms import CHANNEL_LABELS, LANGUAGE_LABELS, RIGHT_LABELS, IntakeForm
from dsr.cases.hidden_fields import action_hidden_fields
from dsr.cases.intake import intake_page
from dsr.cases.page import render_case
from dsr.cases.queries import FilterError, QueueFilters, case_or_404, queue_query
from dsr.cases.queue_page import QueueTable, queue_rows, rows_html
from dsr.domain.enums import CaseState, Channel, Right
from dsr.extensions import db, read
from dsr.reports.data import queue_warnings, tasks_and_unassignments
from dsr.reports.data import settings as warning_settings
from dsr.subjects.operations import find_matches
from dsr.timeutil import now, today
from dsr.web import request_origin

bp = Blueprint("cases", __name__)


@bp.app_context_processor
def _labels():
    return {
        "RIGHT_LABELS": RIGHT_LABELS,
        "CHANNEL_LABELS": CHANNEL_LABELS,
        "LANGUAGE_LABELS": LANGUAGE_LABELS,
        "REFUSAL_LABELS": REFUSAL_LABELS,
        "CaseState": CaseState,
    }


# The case page's action forms write their hidden fields through it (templates/cases/_action.html).
bp.add_app_template_global(action_hidden_fields)


@bp.route("/")
@roles_required(*READERS)
def index():
    return redirect(url_for("cases.queue"))


@bp.route("/cases")
@reads_only
@roles_required(*READERS)
def queue():
    user = current_user._get_current_object()  # once: each use of the proxy finds the user again
    try:
        filters = QueueFilters.from_args(request.args, current_user_id=user.id)
    except FilterError as exc:
        flash(exc.message, "warning")
        return redirect(url_for("cases.queue"))
    day = today()
    # The page read as the API reads its pages, but only what its rows show (issue 15, item 3).
    page = api_page(filters, day, shape="queue", page=max(request.args.get("page", 1, type=int), 1),
                    per_page=current_app.config["QUEUE_PAGE_SIZE"])
    # The filter's and the bulk form's people, as plain rows: the page shows only their ids and names.
    assignees = tuple(read(_people()))
    from dsr.cases.saved_views import clean_query, views_of

    helpers = _row_helpers()
    return render_template(
        "cases/queue.html", page=page, queue_table=_queue_table(page.items, day, helpers["case_url"], user.is_manager),
        filters=filters, args=request.args, assignees=assignees,
        states=list(CaseState), rights=list(Right), channels=list(Channel), today=day,
        saved_views=tuple(views_of(user)), current_query=clean_query(request.query_string.decode()),
        shown_args=tuple((k, v) for k, v in request.args.items(multi=True) if k != "page"), **helpers,
    )


def _queue_table(items: list, day, case_url, is_manager: bool) -> QueueTable:
    """The page's rows (:class:`~dsr.cases.queue_page.QueueTable`): their open tasks and unassignments read, each
    row kept by its case's rows, those and what the whole page shares."""
    calendar = working_calendar()
    options = warning_settings()  # the clocks' thresholds are the warnings' (dsr.reports.data.settings)
    rule = extension_rule()  # once a page, not once a row
    tasks, unassigned = tasks_and_unassignments(items)
    shared = (str(get_locale()), is_manager, day, calendar, rule, tuple(sorted(options.items())),
              case_url("-"))
    keys = [(shared, case.made_of, tuple(tasks.get(case.id, ())), unassigned.get(case.id)) for case in items]
    make = functools.partial(_queue_rows, day=day, calendar=calendar, rule=rule, options=options, tasks=tasks,
                             unassigned=unassigned, case_url=case_url, is_manager=is_manager)
    return QueueTable(items, keys, day, make, keep=current_app.config.get("KEEP_FRAGMENTS", True))


def _queue_rows(items: list, *, day, calendar, rule, options: dict, tasks: dict, unassigned: dict, case_url,
                is_manager: bool, state_label, days_left, status_badge, rights_badges, badges, **labels) -> list:
    """The rows of the queue's ``items`` as HTML: their clocks on ``day``, with the warnings' thresholds, the
    warnings the queue shows as badges, their open tasks, by the template's macros and ``labels``."""
    soon, ask = options["due_within"], options["ask_working_days"]
    rows = [(case, case_clock(case, calendar, day, soon_days=soon, ask_working_days=ask, rule=rule))
            for case in items]
    warnings, counts = queue_warnings(rows, day, calendar, options, tasks, unassigned)
    shown = queue_rows(rows, counts, case_url, warnings=warnings, state_label=state_label, days_left=days_left,
                       status_badge=status_badge, rights_badges=rights_badges, badges=badges)
    return rows_html(shown, is_manager=is_manager, **labels)


@functools.cache
def _people() -> sa.Select:
    """The filter's and the bulk form's people (who can be given a case), made once per process."""
    return sa.select(User.id, User.name).where(User.active.is_(True), User.role != "auditor").order_by(User.name)


_TRANSLATED: dict[tuple[str, str], dict] = {}


def _translated(name: str, labels: dict, language: str | None = None) -> dict:
    """``labels`` (lazy) translated into the request's language, kept per process and language."""
    key = (name, language or str(get_locale()))
    found = _TRANSLATED.get(key)
    if found is None:
        found = _TRANSLATED[key] = {value: Markup(str(label)) for value, label in labels.items()}
    return found


_HELPERS: dict[tuple, dict] = {}


def _row_helpers() -> dict:
    """What every row of the queue repeats, done once for the page (issue 15, item 3): the rights' and
    channels' labels translated once per process and language (each lazy label looked its translation up
    again for every badge and option), and the case's address built from the route's own prefix and
    converter instead of a ``url_for`` per row. All of it kept per process for the language and where the
    request came in (the URL adapter's map, host, script root, subdomain and scheme, as
    :func:`dsr.web.kept_url_for` keys an address): some 380 Python calls a page made the same three values."""
    language = str(get_locale())
    key = (language, *request_origin(request_ctx.url_adapter))
    found = _HELPERS.get(key)
    if found is None:
        prefix = url_for("cases.detail", reference="-")[:-1]
        to_url = current_app.url_map.converters["default"](current_app.url_map).to_url
        if len(_HELPERS) >= 64:
            _HELPERS.clear()
        found = _HELPERS[key] = {
            "RIGHT_LABELS": _translated("rights", RIGHT_LABELS, language),
            "CHANNEL_LABELS": _translated("channels", CHANNEL_LABELS, language),
            "case_url": lambda reference: prefix + to_url(reference),
        }
    return found


QUEUE_CSV_LIMIT = 10_000
QUEUE_CSV_COLUMNS = ["reference", "subject", "customer_number", "rights", "state", "assignee", "received_on",
                     "promise_answer_by", "legal_due_on", "due_on", "days_left", "status", "paused", "priority"]


@bp.route("/cases.csv")
@reads_only
@roles_required(*READERS)
def queue_csv():
    """The queue as filtered and sorted on screen, every page of it (up to 10,000 rows), as CSV.

    Cells a person typed (names, customer numbers) are made formula-safe, as in the other CSV files.
    """
    import csv
    import io

    from dsr.exports.build import csv_cell

    try:
        filters = QueueFilters.from_args(request.args, current_user_id=current_user.id)
    except FilterError as exc:
        flash(exc.message, "warning")
        return redirect(url_for("cases.queue"))
    day = today()
    calendar = working_calendar()
    soon = current_app.config["DUE_SOON_DAYS"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(QUEUE_CSV_COLUMNS)
    for case in db.session.execute(queue_query(filters, day).limit(QUEUE_CSV_LIMIT)).scalars():
        clock = case_clock(case, calendar, day, soon_days=soon)
        subject = case.subject
        writer.writerow([
            case.reference, csv_cell(subject.name if subject else ""),
            csv_cell(subject.customer_number if subject else ""),
            ";".join(r.value for r in case.right_values), case.state.value,
            csv_cell(case.assignee.name if case.assignee else ""), case.received_on.isoformat(),
            clock.promise_answer_by.isoformat(), case.legal_due_on.isoformat(), clock.due_on.isoformat(),
            clock.days_left if case.state.is_open else "", clock.status.value if case.state.is_open else "closed",
            "yes" if clock.paused else "no", case.priority.value,
        ])
    return Response(out.getvalue(), mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="dsr-queue-{day.isoformat()}.csv"', "Cache-Control": "no-store"})


@bp.route("/cases/views", methods=["POST"])
@roles_required(*READERS)
def save_view():
    """Save the queue's current filters and sort as a named view of the person's own."""
    from dsr.cases.errors import CaseError
    from dsr.cases.saved_views import save_view as save

    try:
        view = save(current_user, request.form.get("name", ""), request.form.get("query", ""), now=now())
        db.session.commit()
    except CaseError as exc:
        db.session.rollback()
        flash(_("The view was not saved: %(why)s", why=str(exc)), "danger")
        return redirect(url_for("cases.queue"))
    flash(_("View “%(name)s” saved.", name=view.name), "success")
    return redirect(url_for("cases.queue") + (f"?{view.query}" if view.query else ""))


@bp.route("/cases/views/<int:view_id>/delete", methods=["POST"])
@roles_required(*READERS)
def delete_view(view_id: int):
    from dsr.cases.errors import NotAllowed
    from dsr.cases.saved_views import SavedView
    from dsr.cases.saved_views import delete_view as delete

    view = db.session.get(SavedView, view_id)
    if view is None:
        abort(404)
    try:
        name = view.name
        delete(view, actor=current_user, now=now())
        db.session.commit()
    except NotAllowed:
        db.session.rollback()
        abort(403)
    flash(_("View “%(name)s” deleted.", name=name), "success")
    return redirect(url_for("cases.queue"))


@bp.route("/cases/new", methods=["GET", "POST"])
@roles_required(*WRITERS)
def new():
    form = IntakeForm()
    if request.method == "GET":
        form.received_on.data = today()
        form.country.data = "NL"
    return intake_page(form)


@bp.route("/cases/new/matches")
@reads_only
@roles_required(*WRITERS)
def matches():
    """The match panel beside the intake form, refreshed by htmx as staff type."""
    form = IntakeForm(formdata=request.args, meta={"csrf": False})
    # Only the identifying fields matter here; their format errors are shown on submit.
    for name in ("email", "date_of_birth"):
        getattr(form, name).validate(form)
        if getattr(form, name).errors:
            getattr(form, name).data = None
    found = find_matches(form.subject_details()) if any(
        (form.customer_number.data, form.policy_number.data, form.email.data,
         form.name.data and form.date_of_birth.data)) else []
    return render_template("cases/_matches.html", matches=found, linked=request.args.get("link_subject"))


@bp.route("/cases/<reference>")
@reads_only
@roles_required(*READERS)
def detail(reference: str):
    case = case_or_404(reference)
    return render_case(case)


@bp.route("/cases/<reference>/audit")
@reads_only
@roles_required(*READERS)
def audit_trail(reference: str):
    case = case_or_404(reference)
    from dsr.audit.queries import case_events

    return render_template("cases/audit.html", case=case, events=case_events(case.id))


@bp.route("/cases/<reference>/audit.csv")
@reads_only
@roles_required(*READERS)
def audit_trail_csv(reference: str):
    case = case_or_404(reference)
    from dsr.audit.queries import case_events, events_csv

    body = events_csv(case_events(case.id))
    return Response(body, mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{case.reference}-audit.csv"', "Cache-Control": "no-store"})
