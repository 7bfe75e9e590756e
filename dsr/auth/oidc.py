"""Sign-on through OpenID Connect (Authlib), as an alternative to the password.

Configured by ``OIDC_ISSUER`` (the provider's issuer URL; its discovery document is read from it),
``OIDC_CLIENT_ID`` and ``OIDC_CLIENT_SECRET``. The role comes from a claim of the ID token
(``OIDC_ROLE_CLAIM``, default ``dsr_role``; a string or a list), mapped by ``OIDC_ROLE_MAP``
("claim value=role,..."; default: the role names themselves). A person whose claim maps to no role is
refused; one who signs on for the first time gets an account (with an unusable password), and the role of an
existing account follows the claim at every sign-on (audited when it changes). A deactivated account stays
refused. The provider is the one that checks the person (its own second factor included).
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, render_template, request, session, url_for
from flask_babel import gettext as _

from dsr.auth.forms import LoginForm
from dsr.auth.models import User
from dsr.auth.operations import find_user, normalise_email, record_login_attempt, sign_on_account
from dsr.domain.enums import Role
from dsr.extensions import db
from dsr.timeutil import now

bp = Blueprint("oidc", __name__)


def configured(app=None) -> bool:
    app = app or current_app
    return bool(app.config.get("OIDC_ISSUER") and app.config.get("OIDC_CLIENT_ID"))


def init_app(app) -> None:
    if not configured(app):
        return
    # Authlib (and what it brings: about 15 MB) only in a process that signs people on through OIDC.
    from authlib.integrations.flask_client import OAuth

    oauth = OAuth(app)
    oauth.register(
        "provider",
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config.get("OIDC_CLIENT_SECRET"),
        server_metadata_url=app.config["OIDC_ISSUER"].rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": app.config.get("OIDC_SCOPES", "openid email profile")},
    )
    app.extensions["dsr_oidc"] = oauth


def role_from_claims(claims: dict, config) -> Role | None:
    value = claims.get(config.get("OIDC_ROLE_CLAIM") or "dsr_role")
    values = value if isinstance(value, list) else [value]
    mapping = {r.value: r.value for r in Role}
    for pair in (config.get("OIDC_ROLE_MAP") or "").split(","):
        if "=" in pair:
            claim_value, _sep, role = pair.partition("=")
            mapping[claim_value.strip()] = role.strip()
    for v in values:
        if isinstance(v, str) and mapping.get(v) in {r.value for r in Role}:
            return Role(mapping[v])
    return None


def _client():
    oauth = current_app.extensions.get("dsr_oidc")
    if oauth is None:
        abort(404)
    return oauth.provider


@bp.route("/login/sso")
def start():
    client = _client()
    session["sso_next"] = request.args.get("next")
    return client.authorize_redirect(url_for("oidc.callback", _external=True))


def _refuse(email: str, user: User | None, outcome: str, message: str):
    record_login_attempt(email or "(sign-on)", user, outcome=outcome, now=now(), address=request.remote_addr,
                         user_agent=request.user_agent.string)
    db.session.commit()
    flash(message, "danger")
    return render_template("auth/login.html", form=LoginForm()), 403


@bp.route("/login/sso/callback")
def callback():
    from dsr.auth.views import _logged_in

    client = _client()
    try:
        token = client.authorize_access_token()
    except Exception as exc:  # a refused, replayed or forged answer from the provider
        current_app.logger.warning("sign-on failed: %s: %s", type(exc).__name__, exc)
        return _refuse("", None, "sso_failed", _("The sign-on did not succeed. Try again or log in with your password."))
    claims = dict(token.get("userinfo") or {})  # the verified ID token's claims
    if not claims.get("email") or (current_app.config.get("OIDC_ROLE_CLAIM") or "dsr_role") not in claims:
        try:  # many providers give only "sub" in the ID token; the rest comes from the userinfo endpoint
            more = client.userinfo(token=token)
        except Exception as exc:
            current_app.logger.warning("sign-on userinfo failed: %s", type(exc).__name__)
            more = {}
        if more.get("sub") == claims.get("sub"):
            claims.update(more)
    email = normalise_email(claims.get("email") or "")
    if not email or claims.get("email_verified") is False:
        return _refuse(email, None, "sso_failed", _("The sign-on gave no verified e-mail address."))
    role = role_from_claims(claims, current_app.config)
    user = find_user(email)
    if role is None:
        return _refuse(email, user, "sso_no_role", _("Your sign-on account has no role in dsr. Ask a privacy manager."))
    moment = now()
    if user is not None and not user.active:
        return _refuse(email, user, "inactive", _("The e-mail address or password is not correct."))
    user = sign_on_account(email, name=claims.get("name"), role=role, now=moment)
    record_login_attempt(email, user, outcome="ok", now=moment, address=request.remote_addr,
                         user_agent=request.user_agent.string)
    target = session.pop("sso_next", None)
    return _logged_in(user, target)
