"""The page where privacy managers keep the days declared equal to public holidays (Atw art. 3(3))."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from dsr.auth.access import MANAGERS, READERS, roles_required
from dsr.cases.errors import CaseError
from dsr.declared_days.operations import (
    NAME_MAX,
    SOURCE_MAX,
    add_declared_day,
    declared_days,
    remove_declared_day,
    uncovered_year,
)
from dsr.domain.enums import Role
from dsr.extensions import db
from dsr.timeutil import now, today

bp = Blueprint("declared_days", __name__, url_prefix="/declared-days")


class DeclaredDayForm(FlaskForm):
    day = DateField(_l("Date"), validators=[DataRequired(message=_l("Give the date (YYYY-MM-DD)."))])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=NAME_MAX)])
    source = StringField(_l("Decree (Staatscourant)"), validators=[Optional(), Length(max=SOURCE_MAX)])
    submit = SubmitField(_l("Add the day"))


class RemoveForm(FlaskForm):
    submit = SubmitField(_l("Remove"))


def _moved_message(change) -> str:
    if not change.moved:
        return _("No open case's deadline moved.")
    return ngettext("The deadlines of %(num)d open case moved: %(refs)s.",
                    "The deadlines of %(num)d open cases moved: %(refs)s.", len(change.moved),
                    refs=", ".join(change.moved[:10]) + (" …" if len(change.moved) > 10 else ""))


@bp.route("/", methods=["GET", "POST"])
@roles_required(*READERS)
def index():
    form = DeclaredDayForm()
    status = 200
    if form.is_submitted():
        if current_user.role is not Role.PRIVACY_MANAGER:
            abort(403)
        if form.validate():
            try:
                change = add_declared_day(form.day.data, form.name.data, form.source.data or "",
                                          actor=current_user, now=now())
                db.session.commit()
            except CaseError as exc:
                db.session.rollback()
                target = getattr(form, getattr(exc, "field", None) or "day", form.day)
                target.errors = [str(exc)]
                status = exc.status
            else:
                flash(_("%(day)s added as a day declared equal to a public holiday.",
                        day=change.day.isoformat()) + " " + _moved_message(change), "success")
                return redirect(url_for("declared_days.index"))
        else:
            status = 400
    day = today()
    return render_template("declared_days/index.html", form=form, remove=RemoveForm(), days=declared_days(),
                           uncovered=uncovered_year(day), today=day), status


@bp.post("/<day>/remove")
@roles_required(*MANAGERS)
def remove(day: str):
    if not RemoveForm().validate_on_submit():
        abort(400)
    try:
        when = date.fromisoformat(day)
    except ValueError:
        abort(404)
    try:
        change = remove_declared_day(when, actor=current_user, now=now())
        db.session.commit()
    except CaseError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    else:
        flash(_("%(day)s (%(name)s) removed.", day=change.day.isoformat(), name=change.name) + " "
              + _moved_message(change), "success")
    return redirect(url_for("declared_days.index"))
