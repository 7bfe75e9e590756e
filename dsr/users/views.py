"""The privacy manager manages users (DESIGN.md, "Users and what they do")."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length

from dsr.auth.access import MANAGERS, reads_only, roles_required
from dsr.auth.models import LoginAttempt, User
from dsr.auth.operations import MIN_PASSWORD_LENGTH, UserError, create_user, reset_password, set_active
from dsr.domain.enums import Role
from dsr.extensions import db
from dsr.timeutil import now

bp = Blueprint("users", __name__, url_prefix="/users")

ROLE_LABELS = {Role.PRIVACY_MANAGER: _l("Privacy manager"), Role.STAFF: _l("Staff"), Role.AUDITOR: _l("Auditor")}
LOGIN_OUTCOMES = {
    "ok": _l("logged in"),
    "bad_credentials": _l("wrong e-mail or password"),
    "inactive": _l("account deactivated"),
    "throttled": _l("refused: too many failed logins"),
    "bad_code": _l("right password, wrong two-step code"),
    "sso_failed": _l("sign-on failed"),
    "sso_no_role": _l("sign-on refused: no role in dsr"),
}


class NewUserForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Role"), choices=[(r.value, ROLE_LABELS[r]) for r in Role], default="staff")
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH,
                                                                                        max=200)])
    submit = SubmitField(_l("Create user"))


class ToggleForm(FlaskForm):
    submit = SubmitField()


@bp.app_context_processor
def _roles():
    return {"ROLE_LABELS": ROLE_LABELS, "LOGIN_OUTCOMES": LOGIN_OUTCOMES}


@bp.route("/", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def index():
    form = NewUserForm()
    status = 200
    if form.validate_on_submit():
        try:
            # The manager typed this password: the new colleague replaces it at the first login.
            create_user(form.email.data, name=form.name.data, role=Role(form.role.data),
                        password=form.password.data, actor=current_user, now=now(), must_change_password=True)
            db.session.commit()
        except UserError as exc:
            db.session.rollback()
            form.email.errors = [str(exc)]
            status = 400
        else:
            flash(_("User %(email)s created.", email=form.email.data), "success")
            return redirect(url_for("users.index"))
    elif form.is_submitted():
        status = 400
    users = db.session.execute(sa.select(User).order_by(User.role, User.name)).scalars().all()
    return render_template("users/index.html", form=form, users=users, toggle=ToggleForm()), status


@bp.route("/<int:user_id>/active", methods=["POST"])
@roles_required(*MANAGERS)
def toggle_active(user_id: int):
    form = ToggleForm()
    if not form.validate_on_submit():
        abort(400)
    user = db.session.get(User, user_id) or abort(404)
    try:
        set_active(user, not user.active, actor=current_user, now=now())
        db.session.commit()
    except UserError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    return redirect(url_for("users.index"))


def _temporary_password() -> str:
    """A one-time password for a reset: random, shown once to the manager, replaced at the next login."""
    return "-".join(secrets.token_urlsafe(6) for _ in range(3))


@bp.route("/<int:user_id>/password", methods=["POST"])
@roles_required(*MANAGERS)
def reset(user_id: int):
    """A privacy manager resets a colleague's password: every session of theirs ends, and the temporary
    password (shown on this page once, never put in a cookie) must be replaced at the next login."""
    form = ToggleForm()
    if not form.validate_on_submit():
        abort(400)
    user = db.session.get(User, user_id) or abort(404)
    if user.id == current_user.id:
        flash(_("Change your own password on the password page."), "danger")
        return redirect(url_for("users.index"))
    temporary = _temporary_password()
    reset_password(user, temporary, actor=current_user, now=now(), must_change=True)
    db.session.commit()
    return render_template("users/reset.html", user=user, temporary=temporary)


LOGINS_SHOWN = 200


@bp.route("/logins")
@reads_only
@roles_required(*MANAGERS)
def logins():
    """Every login, failed or successful: who, when, from where and how it went (newest first)."""
    query = sa.select(LoginAttempt).order_by(LoginAttempt.at.desc(), LoginAttempt.id.desc())
    email = (request.args.get("email") or "").strip().lower()[:254]
    if email:
        query = query.where(LoginAttempt.email == email)
    failed_only = request.args.get("failed") == "1"
    if failed_only:
        query = query.where(LoginAttempt.succeeded.is_(False))
    attempts = db.session.execute(query.limit(LOGINS_SHOWN)).scalars().all()
    return render_template("users/logins.html", attempts=attempts, email=email, failed_only=failed_only,
                           shown=LOGINS_SHOWN)
