"""API tokens in the interface: every user makes and revokes their own; a privacy manager sees and revokes
everyone's. A token has a name, an expiry and a last-used time, and may be read-only."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from dsr.auth.access import MANAGERS, reads_only, roles_required
from dsr.auth.forms import TokenForm
from dsr.auth.models import ApiToken, User
from dsr.auth.operations import UserError, issue_api_token, revoke_api_token
from dsr.extensions import db
from dsr.timeutil import now

bp = Blueprint("tokens", __name__)


class RevokeForm(FlaskForm):
    pass


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def own():
    form = TokenForm()
    made, status = None, 200
    if form.validate_on_submit():
        try:
            made = issue_api_token(current_user, actor=current_user, now=now(), name=form.name.data,
                                   days=form.days.data, read_only=form.read_only.data)
            db.session.commit()
        except UserError as exc:
            db.session.rollback()
            form.days.errors = [str(exc)]
            status = 400
        else:
            g.no_store = True
            form = TokenForm(formdata=None)
    elif form.is_submitted():
        status = 400
    tokens = db.session.execute(
        sa.select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.created_at.desc(),
                                                                                ApiToken.id.desc())
    ).scalars().all()
    return render_template("auth/tokens.html", form=form, tokens=tokens, made=made, revoke=RevokeForm(),
                           now=now(), everyone=False), status


@bp.route("/users/tokens")
@reads_only
@roles_required(*MANAGERS)
def everyone():
    tokens = db.session.execute(
        sa.select(ApiToken).join(User, ApiToken.user_id == User.id).order_by(User.email, ApiToken.created_at.desc())
    ).scalars().all()
    return render_template("auth/tokens.html", form=None, tokens=tokens, made=None, revoke=RevokeForm(), now=now(),
                           everyone=True)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int):
    if not RevokeForm().validate_on_submit():
        abort(400)
    token = db.session.get(ApiToken, token_id) or abort(404)
    if token.user_id != current_user.id and not current_user.is_manager:
        abort(403)
    try:
        revoke_api_token(token, actor=current_user, now=now())
    except UserError:  # pragma: no cover - the check above refuses first
        abort(403)
    db.session.commit()
    flash(_("Token %(name)s (%(prefix)s…) is revoked.", name=token.name, prefix=token.prefix), "success")
    back = url_for("tokens.everyone") if request.form.get("back") == "everyone" and current_user.is_manager \
        else url_for("tokens.own")
    return redirect(back)
