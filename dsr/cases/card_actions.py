"""One way to carry out an action posted from a card on the case page (data, rectification, objection, notices).

Validate the form, call the feature's one operation, commit once; on bad input 400, on a role that may not
403, on a rule or a stale page 409, each time with the case page shown again, the reason at the top and
the refused form kept with its errors (the card finds it in ``g.<failed_attr>``). On success a flash and
back to the card's anchor on the case page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from flask import Blueprint, abort, flash, g, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from dsr.auth.access import WRITERS, roles_required
from dsr.cases.errors import CaseError, NotAllowed
from dsr.cases.models import Case
from dsr.cases.queries import case_or_404
from dsr.extensions import db
from dsr.timeutil import now

Operation = Callable[[Case, object, object, datetime], tuple[str, str]]


def perform_card_action(case: Case, action: str, form, operation: Operation, *, failed_attr: str, anchor: str):
    """The response to a card's POST: ``operation(case, form, user, now)`` returns the flash (category,
    message)."""
    from dsr.cases.page import render_case  # the case page, shown again with the reason on error

    if not form.validate_on_submit():
        problems = "; ".join(f"{getattr(form, name).label.text}: {', '.join(map(str, errs))}"
                             for name, errs in form.errors.items())
        setattr(g, failed_attr, (action, form))
        return render_case(case, error=_("Nothing was saved: %(problems)s", problems=problems), status=400)
    try:
        category, message = operation(case, form, current_user, now())
        db.session.commit()
    except NotAllowed:
        db.session.rollback()
        abort(403)
    except StaleDataError:
        db.session.rollback()
        return render_case(case, error=_("Someone else changed this case at the same moment. Nothing was saved; "
                                         "try again."), status=409)
    except CaseError as exc:
        db.session.rollback()
        field = getattr(form, getattr(exc, "field", None) or "", None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, str(exc)]
        setattr(g, failed_attr, (action, form))
        return render_case(case, error=str(exc), status=exc.status)
    flash(message, category)
    return redirect(url_for("cases.detail", reference=case.reference) + f"#{anchor}")


def add_card_routes(bp: Blueprint, section: str, *, forms: Mapping[str, type], actions: Mapping[str, Operation],
                    prefix: Callable[[str], str], failed_attr: str,
                    prepare: Callable[[str, object], None] | None = None) -> None:
    """The two routes of a card's actions, for writers: ``POST /cases/<ref>/<section>/<action>`` carries one
    out through :func:`perform_card_action` (404 for an action the card does not have), and a GET of the same
    URL (a reloaded page) goes back to the card, whose anchor is ``section``. Endpoints ``<bp>.act`` and
    ``<bp>.act_get``. ``prepare(action, form)`` fills in what a form needs before it validates (choices)."""
    rule = f"/cases/<reference>/{section}/<action>"

    @roles_required(*WRITERS)
    def act(reference: str, action: str):
        if action not in actions:
            abort(404)
        case = case_or_404(reference)
        form = forms[action](prefix=prefix(action))
        if prepare is not None:
            prepare(action, form)
        return perform_card_action(case, action, form, actions[action], failed_attr=failed_attr, anchor=section)

    @roles_required(*WRITERS)
    def act_get(reference: str, action: str):
        return redirect(url_for("cases.detail", reference=reference) + f"#{section}")

    bp.add_url_rule(rule, endpoint="act", view_func=act, methods=["POST"])
    bp.add_url_rule(rule, endpoint="act_get", view_func=act_get, methods=["GET"])
