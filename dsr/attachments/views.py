"""Reading an attachment: downloaded as a file, or viewed inline beside the case's key facts.

Every download and every inline view is an audit event (scans hold personal data). The file is served with
the type read from its own bytes (a PDF, JPEG or PNG), never as HTML, and inline only for those types.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, render_template
from flask_login import current_user

from dsr.attachments.models import Attachment
from dsr.attachments.reads import record_view, sniffed_media_type
from dsr.attachments.storage import record_download
from dsr.auth.access import READERS, roles_required
from dsr.cases.action_forms import KIND_LABELS
from dsr.cases.deadlines import case_clock, working_calendar
from dsr.domain.enums import CLOSED_STATES
from dsr.extensions import db
from dsr.filestore import send, storage
from dsr.timeutil import now, today

bp = Blueprint("attachments", __name__)

# The inline file may be framed by dsr's own viewer page and by nothing else; it loads nothing itself.
INLINE_CSP = "default-src 'none'; img-src 'self'; object-src 'self'; frame-ancestors 'self'; base-uri 'none'"


def _stored_or_error(attachment_id: int) -> Attachment:
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        abort(404)
    if not storage().exists(attachment.storage_key):
        abort(410)
    return attachment


@bp.route("/attachments/<int:attachment_id>/download")
@roles_required(*READERS)
def download(attachment_id: int):
    attachment = _stored_or_error(attachment_id)
    record_download(attachment, actor=current_user._get_current_object(), now=now())
    db.session.commit()
    g.no_store = True
    return send(attachment.storage_key, mimetype=attachment.media_type, download_name=attachment.filename)


@bp.route("/attachments/<int:attachment_id>/view")
@roles_required(*READERS)
def view(attachment_id: int):
    """The scan beside the case's key facts: the reference, the deadline, the subject as the case holds it."""
    attachment = _stored_or_error(attachment_id)
    case = attachment.case
    clock = case_clock(case, working_calendar(), today(), soon_days=current_app.config["DUE_SOON_DAYS"])
    return render_template("attachments/view.html", attachment=attachment, case=case, clock=clock,
                           is_open=case.state not in CLOSED_STATES, media_type=sniffed_media_type(attachment),
                           KIND_LABELS=KIND_LABELS)


@bp.route("/attachments/<int:attachment_id>/inline")
@roles_required(*READERS)
def inline(attachment_id: int):
    """The file itself, for the viewer page: a PDF or an image, shown by the browser, never run."""
    attachment = _stored_or_error(attachment_id)
    media_type = sniffed_media_type(attachment)
    if media_type is None:
        abort(415)  # not a PDF, JPEG or PNG by its content: only the download is offered
    record_view(attachment, actor=current_user._get_current_object(), now=now())
    db.session.commit()
    g.no_store = True
    response = send(attachment.storage_key, mimetype=media_type, as_attachment=False,
                    download_name=attachment.filename, conditional=False)
    response.headers["Content-Security-Policy"] = INLINE_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
