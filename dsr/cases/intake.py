"""The intake page's submit: validate the form, log the request in one transaction, or show it again.

Shared by the plain intake page (:mod:`dsr.cases.views`) and features that fill the form from elsewhere (a
scan read by :mod:`dsr.reading`), which add their part to the new case in the same transaction.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from dsr.attachments.storage import UploadError, check_upload
from dsr.cases.forms import IntakeForm
from dsr.cases.operations import CaseError, log_request
from dsr.extensions import db
from dsr.subjects.models import DataSubject
from dsr.subjects.operations import find_matches
from dsr.timeutil import now, today


def intake_page(form: IntakeForm, *, with_case=None, **extra):
    """Validate and log the intake form, or show it (again, with errors). ``with_case(case)`` runs in the
    same transaction as the logging (a feature adding to the new case, e.g. the scan it was read from);
    ``extra`` goes to the template."""
    if form.validate_on_submit():
        scan = None
        try:
            if form.scan.data and getattr(form.scan.data, "filename", ""):
                scan = check_upload(form.scan.data.filename, form.scan.data.stream,
                                    max_bytes=current_app.config["MAX_ATTACHMENT_BYTES"])
        except UploadError as exc:
            form.scan.errors = [str(exc)]
        link = _linked_subject(form.link_subject.data)
        if form.link_subject.data and link is None:
            form.link_subject.errors = [_("The subject chosen to link no longer exists.")]
            flash(form.link_subject.errors[0], "danger")
        if form.scan.errors:
            # The same banner as for the other fields: nothing was saved, the reason is under the field.
            flash(_("The request was not saved: correct the fields marked below."), "danger")
        if not form.scan.errors and not form.link_subject.errors:
            try:
                case = log_request(**form.request_details(), actor=current_user, now=now(), today=today(),
                                   link_subject=link, scan=scan)
                if with_case is not None:
                    with_case(case)
                db.session.commit()
            except CaseError as exc:
                db.session.rollback()
                flash(str(exc), "danger")
            else:
                flash(_("Request logged as %(reference)s.", reference=case.reference), "success")
                return redirect(url_for("cases.detail", reference=case.reference))
    elif request.method == "POST":
        flash(_("The request was not saved: correct the fields marked below."), "danger")
    status = 400 if request.method == "POST" else 200
    matches = find_matches(form.subject_details()) if form.name.data else []
    return render_template("cases/new.html", form=form, matches=matches, today_iso=today().isoformat(),
                           **extra), status


def _linked_subject(value: str | None) -> DataSubject | None:
    if value and value.isdigit():
        return db.session.get(DataSubject, int(value))
    return None
