"""The privacy manager's triage: new and unassigned cases, the most urgent first; assign many at once."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from dsr.auth.access import MANAGERS, reads_only, roles_required
from dsr.auth.models import User
from dsr.cases import lifecycle
from dsr.cases.deadlines import case_clock, working_calendar
from dsr.cases.errors import CaseError, StaleCase
from dsr.cases.models import Case
from dsr.cases.queries import OPEN_STATES, case_by_reference, effective_due
from dsr.domain.enums import CaseState, Priority, Role
from dsr.extensions import db
from dsr.timeutil import now, today

bp = Blueprint("triage", __name__)


def triage_cases() -> list[Case]:
    """Open cases that are unassigned or still untouched (received)."""
    return list(db.session.execute(
        sa.select(Case)
        .where(Case.state.in_(OPEN_STATES))
        .where(sa.or_(Case.assignee_id.is_(None), Case.state == CaseState.RECEIVED))
        .options(selectinload(Case.subject), selectinload(Case.rights), selectinload(Case.assignee))
        .order_by(effective_due(), Case.id)
    ).scalars())


@bp.route("/triage", methods=["GET"])
@reads_only
@roles_required(*MANAGERS)
def index():
    return _render()


def _render(status: int = 200):
    day = today()
    calendar = working_calendar()
    soon = current_app.config["DUE_SOON_DAYS"]
    rows = [(c, case_clock(c, calendar, day, soon_days=soon)) for c in triage_cases()]
    # Overdue first, then due soon, then the rest; within each, the earliest deadline first.
    order = {"overdue": 0, "due_soon": 1, "on_track": 2}
    rows.sort(key=lambda r: (order[r[1].status.value], r[1].due_on, r[0].id))
    users = db.session.execute(
        sa.select(User).where(User.active.is_(True), User.role != Role.AUDITOR).order_by(User.name)).scalars().all()
    from dsr.cases.action_forms import PRIORITY_LABELS

    return render_template("cases/triage.html", rows=rows, users=users, priorities=list(Priority),
                           PRIORITY_LABELS=PRIORITY_LABELS,
                           today=day), status


@bp.route("/triage", methods=["POST"])
@roles_required(*MANAGERS)
def assign_many():
    """Assign the ticked cases (each carries the version it was shown with) in one transaction.

    The person to assign to must be chosen: an empty choice is refused, never read as "nobody". Taking
    cases off someone is its own button (``action=unassign``). The queue posts here too (``back`` holds
    the queue's query string, so the person returns to the list they were looking at).
    """
    picked = request.form.getlist("case")
    unassign = request.form.get("action") == "unassign"
    assignee_id = "" if unassign else request.form.get("assignee", "")
    priority = request.form.get("priority", "")
    back = _back()
    if not picked:
        flash(_("Tick at least one case."), "warning")
        return redirect(back or url_for("triage.index"))
    if not unassign and not assignee_id:
        flash(_("Choose who to assign the ticked cases to (taking cases off someone is the Unassign "
                "button). Nothing was changed."), "danger")
        return redirect(back) if back else _render(400)
    assignee = None
    if assignee_id:
        assignee = db.session.get(User, int(assignee_id)) if assignee_id.isdigit() else None
        if assignee is None:
            flash(_("Unknown user."), "danger")
            return redirect(back) if back else _render(400)
    if priority and priority not in {p.value for p in Priority}:
        flash(_("Unknown priority."), "danger")
        return redirect(back) if back else _render(400)
    moment = now()
    try:
        for item in picked:
            reference, _sep, version = item.partition(":")
            case = case_by_reference(reference)
            if case is None or not version.isdigit():
                db.session.rollback()
                flash(_("No case with reference %(ref)s.", ref=reference), "danger")
                return redirect(back) if back else _render(400)
            lifecycle.assign(case, assignee, actor=current_user, now=moment, expected_version=int(version))
            if priority:
                lifecycle.set_priority(case, Priority(priority), actor=current_user, now=moment)
        db.session.commit()
    except (StaleCase, StaleDataError):
        db.session.rollback()
        flash(_("One of the cases was changed by someone else meanwhile; nothing was assigned. The list is "
                "refreshed: check and try again."), "danger")
        return redirect(back) if back else _render(409)
    except CaseError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(back) if back else _render(exc.status)
    if assignee is None:
        flash(ngettext("%(num)d case unassigned.", "%(num)d cases unassigned.", len(picked)), "success")
    else:
        flash(ngettext("%(num)d case assigned to %(who)s.", "%(num)d cases assigned to %(who)s.", len(picked),
                       who=assignee.name), "success")
    return redirect(back or url_for("triage.index"))


def _back() -> str | None:
    """The queue the form was posted from (its own filters kept); never another site."""
    query = request.form.get("back")
    if query is None:
        return None
    query = query.lstrip("?")
    if any(ch in query for ch in "\r\n#") or "//" in query:
        query = ""
    return url_for("cases.queue") + (f"?{query}" if query else "")
