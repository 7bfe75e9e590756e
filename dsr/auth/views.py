"""Login, logout, the user's own password and preferences.

A login is a server-side session (dsr/auth/sessions.py): the signed cookie holds its random id and the
user's id, and a request counts as logged in only while the session's row is open. Failed logins are
throttled per account and per address (Flask-Limiter) and every try is recorded.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, login_required, login_user, logout_user

from dsr.auth import totp
from dsr.auth.access import only_reads
from dsr.auth.forms import LoginForm, PasswordChangeForm, PreferencesForm, TotpForm
from dsr.auth.models import User
from dsr.auth.operations import (
    UserError,
    change_own_password,
    check_credentials,
    find_user,
    log_out,
    record_login,
    record_login_attempt,
    set_locale,
)
from dsr.auth.sessions import (
    TOUCH_EVERY,
    ReadSession,
    live_session,
    read_session,
    start_session,
    touch_session,
)
from dsr.extensions import db, limiter, login_manager
from dsr.timeutil import now

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message_category = "info"
login_manager.session_protection = None  # the server-side session is the protection; see _load_user

SESSION_KEY = "sid"
# What a user who must first replace a password set by someone else may still reach.
OPEN_WHILE_PASSWORD_MUST_CHANGE = {"auth.change_password", "auth.logout", "static", "bootstrap.static"}
# What a user whose role requires a second factor may reach before enrolling.
OPEN_BEFORE_ENROLMENT = OPEN_WHILE_PASSWORD_MUST_CHANGE | {"auth.totp_setup"}
MFA_PENDING = "mfa_pending"
MFA_PENDING_SECONDS = 300
NO_TRANSACTION = {"isolation_level": "AUTOCOMMIT"}


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    """The user of the cookie, only while the server-side session it names is open."""
    try:
        uid = int(user_id)
    except ValueError:
        return None
    cfg = current_app.config
    # A page that only reads has its session and user as plain columns (dsr.auth.sessions.read_session).
    find = read_session if only_reads() else live_session
    row = find(session.get(SESSION_KEY), uid, now=now(), idle=timedelta(minutes=cfg["SESSION_IDLE_MINUTES"]),
               max_age=timedelta(hours=cfg["SESSION_MAX_HOURS"]))
    if row is None:
        if db.session.dirty:  # an expired session was just marked ended
            db.session.commit()
        return None
    g.user_session = row
    return row.user if row.user.active else None


@bp.before_app_request
def _session_housekeeping():
    """Keep the session's last request time (once a minute), and send a user whose password was set by
    someone else to replace it before anything else. A page that only reads (:func:`dsr.auth.access.reads_only`)
    reads the session and its user, and then its own rows, without a transaction."""
    outside = only_reads() and not db.session().in_transaction()
    if outside:
        db.session.connection(execution_options=NO_TRANSACTION)
    if request.endpoint in ("static", "bootstrap.static"):
        return None
    user = current_user._get_current_object()  # once: each use of the proxy finds the user again
    if not user.is_authenticated:
        return None
    row = g.get("user_session")
    moment = now()
    if row is not None and moment - row.last_seen_at >= TOUCH_EVERY:
        if isinstance(row, ReadSession):
            touch_session(row.id, moment)
        else:
            row.last_seen_at = moment
        db.session.commit()
        if outside:  # the commit gave the connection back
            db.session.connection(execution_options=NO_TRANSACTION)
    if user.must_change_password and request.endpoint not in OPEN_WHILE_PASSWORD_MUST_CHANGE:
        return redirect(url_for("auth.change_password"))
    if (totp.mfa_required(user) and not user.totp_enabled_at
            and request.endpoint not in OPEN_BEFORE_ENROLMENT):
        return redirect(url_for("auth.totp_setup"))
    return None


def _safe_next(target: str | None) -> str:
    """Only same-site paths: a login link must not bounce the user to another host."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("cases.queue")


def _pending_user() -> User | None:
    """The user who gave the right password and still owes the TOTP code (for five minutes)."""
    pending = session.get(MFA_PENDING) or {}
    if not pending or now().timestamp() - pending.get("at", 0) > MFA_PENDING_SECONDS:
        return None
    user = db.session.get(User, pending.get("user"))
    return user if user is not None and user.active else None


def _login_account_key() -> str:
    if request.endpoint == "auth.login_totp":  # a wrong code counts against the same account as a password
        user = _pending_user()
        return "account:" + (user.email if user else "")
    return "account:" + (request.form.get("email") or "").strip().lower()[:254]


def _login_address_key() -> str:
    return "address:" + (request.remote_addr or "unknown")


def _login_failed(_response) -> bool:
    return bool(g.get("login_failed"))


def begin_session(user: User) -> None:
    """Log ``user`` in on a fresh cookie: whatever the browser carried before (its CSRF token included) is
    dropped, so a token planted before the login is worth nothing after it."""
    session.clear()
    g.pop("csrf_token", None)
    session[SESSION_KEY] = start_session(user, now=now(), address=request.remote_addr)
    login_user(user)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_ACCOUNT"], key_func=_login_account_key,
               methods=["POST"], deduct_when=_login_failed, scope="login-account")
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_ADDRESS"], key_func=_login_address_key,
               methods=["POST"], deduct_when=_login_failed, scope="login-address")
def login():
    if current_user.is_authenticated:
        return redirect(url_for("cases.queue"))
    form = LoginForm()
    if form.validate_on_submit():
        user, outcome = check_credentials(form.email.data, form.password.data)
        record_login_attempt(form.email.data, user, outcome=outcome, now=now(), address=request.remote_addr,
                             user_agent=request.user_agent.string)
        if outcome != "ok":
            db.session.commit()
            g.login_failed = True
            # One message for an unknown e-mail, a wrong password and a disabled account.
            flash(_("The e-mail address or password is not correct."), "danger")
            return render_template("auth/login.html", form=form), 200
        if user.totp_enabled_at:
            # The password was right; the session starts only with the second factor.
            db.session.rollback()  # the attempt is recorded once the code is given (or is wrong)
            session.clear()
            session[MFA_PENDING] = {"user": user.id, "at": now().timestamp(), "next": request.args.get("next")}
            return redirect(url_for("auth.login_totp"))
        return _logged_in(user, request.args.get("next"))
    return render_template("auth/login.html", form=form)


def _logged_in(user: User, target: str | None, notice: str | None = None):
    begin_session(user)
    record_login(user, now=now())
    db.session.commit()
    if notice:  # after begin_session, which starts the cookie afresh
        flash(notice, "warning")
    if user.must_change_password:
        flash(_("Your password was set by someone else. Choose your own before you go on."), "info")
        return redirect(url_for("auth.change_password"))
    return redirect(_safe_next(target))


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_ACCOUNT"], key_func=_login_account_key,
               methods=["POST"], deduct_when=_login_failed, scope="login-account")
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_ADDRESS"], key_func=_login_address_key,
               methods=["POST"], deduct_when=_login_failed, scope="login-address")
def login_totp():
    """The second step: the code from the authenticator app, or a recovery code."""
    user = _pending_user()
    if user is None:
        session.pop(MFA_PENDING, None)
        flash(_("Log in with your e-mail address and password first."), "info")
        return redirect(url_for("auth.login"))
    form = TotpForm()
    if form.validate_on_submit():
        how = totp.verify(user, form.code.data, now=now())
        record_login_attempt(user.email, user, outcome="ok" if how else "bad_code", now=now(),
                             address=request.remote_addr, user_agent=request.user_agent.string)
        if how is None:
            db.session.commit()
            g.login_failed = True
            flash(_("The code is not correct (or was used already)."), "danger")
            return render_template("auth/login_code.html", form=form), 200
        target = (session.get(MFA_PENDING) or {}).get("next")
        notice = None
        if how == "recovery":
            notice = _("You used a recovery code; %(n)d left. Make new ones on the two-step login page.",
                       n=totp.recovery_codes_left(user))
        return _logged_in(user, target, notice)
    return render_template("auth/login_code.html", form=form)


@bp.route("/account/two-step", methods=["GET", "POST"])
@login_required
def totp_setup():
    """Enrol in (or leave) the TOTP second factor. The secret waits on the user's row until confirmed."""
    user = current_user._get_current_object()
    form = TotpForm()
    if user.totp_enabled_at:
        if form.validate_on_submit():  # leaving: only where the role does not require it, and with a code
            if totp.mfa_required(user):
                abort(403)
            if totp.verify(user, form.code.data, now=now()) is None:
                db.session.rollback()
                form.code.errors = [_("The code is not correct (or was used already).")]
                return render_template("auth/totp.html", form=form, user=user, uri=None, required=False), 400
            totp.disable(user, actor=user, now=now())
            db.session.commit()
            flash(_("Two-step login is off."), "success")
            return redirect(url_for("auth.totp_setup"))
        return render_template("auth/totp.html", form=form, user=user, uri=None,
                               required=totp.mfa_required(user), left=totp.recovery_codes_left(user))
    if not user.totp_secret:
        user.totp_secret = totp.new_secret()
        db.session.commit()
    status = 200
    if form.validate_on_submit():
        codes = totp.enable(user, user.totp_secret, form.code.data, now=now())
        if codes is not None:
            db.session.commit()
            g.no_store = True
            return render_template("auth/recovery_codes.html", codes=codes)
        form.code.errors = [_("The code is not correct. Check the time on your phone and try the next code.")]
        status = 400
    return render_template("auth/totp.html", form=form, user=user, uri=totp.provisioning_uri(user, user.totp_secret),
                           required=totp.mfa_required(user)), status


@bp.errorhandler(RateLimitExceeded)
def _throttled(_exc):
    """Too many failed logins for this account or from this address: the same answer whether or not the
    account exists, and the try is recorded like any other."""
    email = request.form.get("email") or ""
    record_login_attempt(email, find_user(email), outcome="throttled", now=now(), address=request.remote_addr,
                         user_agent=request.user_agent.string)
    db.session.commit()
    flash(_("Too many failed logins. Wait a quarter of an hour and try again."), "danger")
    return render_template("auth/login.html", form=LoginForm()), 429


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    log_out(current_user._get_current_object(), session.get(SESSION_KEY), now=now())
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordChangeForm()
    status = 200
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            change_own_password(user, form.current_password.data, form.new_password.data, now=now())
        except UserError as exc:
            db.session.rollback()
            form.new_password.errors = [str(exc)]
            status = 400
        else:
            # Every session of the user ended with the old password, this one too: go on in a new one.
            begin_session(user)
            db.session.commit()
            flash(_("Your password is changed. Every other session of yours has ended."), "success")
            return redirect(url_for("cases.queue"))
    elif form.is_submitted():
        status = 400
    return render_template("auth/password.html", form=form), status


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    form = PreferencesForm(obj=current_user)
    if form.validate_on_submit():
        set_locale(current_user, form.locale.data, actor=current_user, now=now())
        db.session.commit()
        flash(_("Preferences saved."), "success")
        # The language switch in the menu posts here too, and returns to the page it was used on.
        back = request.form.get("next")
        return redirect(_safe_next(back) if back else url_for("auth.preferences"))
    return render_template("auth/preferences.html", form=form)
