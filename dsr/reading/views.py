"""The intake form from a scan: upload, watch it being read, confirm the suggestions beside the scan."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from dsr.attachments.storage import UploadError, check_upload
from dsr.auth.access import READERS, WRITERS, reads_only, roles_required
from dsr.cases.forms import IntakeForm
from dsr.cases.intake import intake_page
from dsr.domain.enums import JobStatus
from dsr.extensions import db
from dsr.filestore import storage
from dsr.jobs import runner
from dsr.reading.engine import ReadingUnavailable, UnreadableScan, display_page
from dsr.reading.models import ScanReading
from dsr.reading.operations import (
    ReadingError,
    attach_to_case,
    key_of,
    may_see,
    reading_available,
    start_reading,
)
from dsr.reading.prefill import LOW_CONFIDENCE, marks_for, prefill
from dsr.timeutil import now, today

bp = Blueprint("reading", __name__)
_WHY_NOT: dict[str, str | None] = {}


@bp.app_context_processor
def _reading_state():
    def reading_unavailable() -> str | None:
        """Why this server shows no suggestions from scans (asked once per process), or None."""
        if "reason" not in _WHY_NOT:
            _WHY_NOT["reason"] = reading_available()
        return _WHY_NOT["reason"]

    return {"reading_unavailable": reading_unavailable}


def _reading_or_404(reading_id: int) -> ScanReading:
    reading = db.session.get(ScanReading, reading_id)
    if reading is None or not may_see(reading, current_user):
        abort(404)
    return reading


@bp.route("/cases/new/scan", methods=["POST"])
@roles_required(*WRITERS)
def upload():
    """Keep the scan and start reading it; the intake page then follows the reading."""
    file = request.files.get("scan")
    try:
        if file is None or not file.filename:
            raise UploadError(_("Choose the scan of the letter first."))
        checked = check_upload(file.filename, file.stream, max_bytes=current_app.config["MAX_ATTACHMENT_BYTES"])
        reading = start_reading(checked, actor=current_user, now=now())
        db.session.commit()
    except (UploadError, ReadingError) as exc:
        db.session.rollback()
        flash(_("The scan was not read: %(reason)s", reason=str(exc)), "danger")
        return redirect(url_for("cases.new"))
    runner.dispatch(reading.job)
    return redirect(url_for("reading.intake", reading_id=reading.id))


@bp.route("/cases/new/scan/<int:reading_id>", methods=["GET", "POST"])
@roles_required(*WRITERS)
def intake(reading_id: int):
    """The intake form filled in with what was read; nothing is saved until staff log the request."""
    reading = _reading_or_404(reading_id)
    if not reading.draft:
        flash(_("This scan was already logged as a request."), "info")
        return redirect(url_for("cases.detail", reference=reading.attachment.case.reference))
    form = IntakeForm()
    if request.method == "GET":
        form.received_on.data = today()
        form.country.data = "NL"
        if reading.suggestions:
            prefill(form, reading.suggestions)

    def with_case(case):
        attach_to_case(reading, case, actor=current_user, now=now())

    return intake_page(form, with_case=with_case, reading=reading, marks=marks_for(reading.suggestions),
                       low_confidence=LOW_CONFIDENCE)


@bp.route("/cases/new/scan/<int:reading_id>/status")
@reads_only
@roles_required(*WRITERS)
def status(reading_id: int):
    """The reading's progress (polled by htmx); when it has ended, the page reloads with the suggestions."""
    reading = _reading_or_404(reading_id)
    job = reading.job
    if job is None or job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
        response = Response("", status=200)
        response.headers["HX-Refresh"] = "true"
        return response
    return render_template("reading/_progress.html", reading=reading, job=job)


@bp.route("/scans/<int:reading_id>/pages/<int:number>.jpg")
@reads_only
@roles_required(*READERS)
def page(reading_id: int, number: int):
    """One page of the scan, turned and scaled as it was read, so the word boxes fit over it."""
    reading = _reading_or_404(reading_id)
    pages = (reading.result or {}).get("pages", [])
    if not 1 <= number <= len(pages):
        abort(404)
    geometry = pages[number - 1]
    try:
        body = display_page(storage().read(key_of(reading)), reading.media_type, number,
                            factor=geometry.get("factor", 1.0), angle=geometry.get("angle", 0.0))
    except (OSError, UnreadableScan, ReadingUnavailable):
        abort(404)
    return Response(body, mimetype="image/jpeg", headers={"Cache-Control": "no-store",
                                                           "Content-Disposition": "inline"})
