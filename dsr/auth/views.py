"""Login, logout and the user's own preferences."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from dsr.audit.operations import record
from dsr.auth.forms import LoginForm, PreferencesForm
from dsr.auth.models import User
from dsr.auth.operations import authenticate, set_locale
from dsr.extensions import db, login_manager
from dsr.timeutil import now

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message_category = "info"


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None


def _safe_next(target: str | None) -> str:
    """Only same-site paths: a login link must not bounce the user to another host."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("cases.queue")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("cases.queue"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is None:
            # One message for an unknown e-mail, a wrong password and a disabled account.
            flash(_("The e-mail address or password is not correct."), "danger")
            return render_template("auth/login.html", form=form), 200
        login_user(user)
        record("user.logged_in", actor=user, now=now())
        db.session.commit()
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    record("user.logged_out", actor=current_user, now=now())
    db.session.commit()
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    form = PreferencesForm(obj=current_user)
    if form.validate_on_submit():
        set_locale(current_user, form.locale.data, actor=current_user, now=now())
        db.session.commit()
        flash(_("Preferences saved."), "success")
        return redirect(url_for("auth.preferences"))
    return render_template("auth/preferences.html", form=form)
