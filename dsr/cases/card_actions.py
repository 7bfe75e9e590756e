"""One way to carry out an action posted from a card on the case page (data, rectification, objection).

Validate the form, call the feature's one operation, commit once; on bad input 400, on a role that may not
403, on a rule or a stale page 409, each time with the case page shown again, the reason at the top and
the refused form kept with its errors (the card finds it in ``g.<failed_attr>``). On success a flash and
back to the card's anchor on the case page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import abort, flash, g, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from dsr.cases.errors import CaseError, NotAllowed
from dsr.cases.models import Case
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
