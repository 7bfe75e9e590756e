"""Downloading an attachment. Every download is an audit event: scans hold personal data."""

from __future__ import annotations

from flask import Blueprint, abort, g, send_file
from flask_login import current_user

from dsr.attachments.models import Attachment
from dsr.attachments.storage import path_for, record_download
from dsr.auth.access import READERS, roles_required
from dsr.extensions import db
from dsr.timeutil import now

bp = Blueprint("attachments", __name__)


@bp.route("/attachments/<int:attachment_id>/download")
@roles_required(*READERS)
def download(attachment_id: int):
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        abort(404)
    path = path_for(attachment)
    if not path.exists():
        abort(410)
    record_download(attachment, actor=current_user._get_current_object(), now=now())
    db.session.commit()
    g.no_store = True
    return send_file(path, mimetype=attachment.media_type, as_attachment=True,
                     download_name=attachment.filename, max_age=0)
