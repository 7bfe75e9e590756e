"""Storing uploaded files: recognised by content (not by name), bounded in size, written atomically.

The file goes to the app's storage (:mod:`dsr.filestore`, a folder or an S3 bucket); one written in a
transaction that is then rolled back is removed again, so a failed request leaves neither a row without a
file nor a file without a row.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

import filetype

from dsr.attachments.models import Attachment
from dsr.audit.operations import record
from dsr.domain.enums import AttachmentKind
from dsr.extensions import db
from dsr.filestore import delete_file_after_commit, storage, track_new_file

ALLOWED_MEDIA_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


class UploadError(ValueError):
    """The upload cannot be accepted; the message says why, for the person who sent it."""


@dataclass(frozen=True)
class CheckedUpload:
    filename: str
    data: bytes
    media_type: str
    sha256: str


def check_upload(filename: str, stream: BinaryIO, *, max_bytes: int) -> CheckedUpload:
    """Read at most ``max_bytes`` + 1 bytes and check the content is a PDF, JPEG or PNG."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UploadError(f"The file is larger than {max_bytes // (1024 * 1024)} MB.")
    if not data:
        raise UploadError("The file is empty.")
    kind = filetype.guess(data)
    if kind is None or kind.mime not in ALLOWED_MEDIA_TYPES:
        raise UploadError("The file is not a PDF, JPEG or PNG (checked by its content, not its name).")
    clean_name = os.path.basename((filename or "").replace("\\", "/")).strip() or "upload"
    return CheckedUpload(
        filename=clean_name[:255],
        data=data,
        media_type=kind.mime,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def store_attachment(case, upload: CheckedUpload, *, actor, now: datetime,
                     kind: AttachmentKind = AttachmentKind.LETTER) -> Attachment:
    """Write the file and add its row to the current transaction, with an audit event."""
    key = f"attachments/{now:%Y}/{uuid.uuid4().hex}.{ALLOWED_MEDIA_TYPES[upload.media_type]}"
    storage().put(key, upload.data)
    track_new_file(key)
    attachment = Attachment(
        case=case,
        kind=kind,
        filename=upload.filename,
        media_type=upload.media_type,
        size=len(upload.data),
        sha256=upload.sha256,
        storage_key=key,
        uploaded_at=now,
        uploaded_by_id=actor.id if actor else None,
    )
    db.session.add(attachment)
    db.session.flush()
    record("attachment.added", actor=actor, now=now, case=case,
           after={"attachment_id": attachment.id, "kind": kind, "filename": upload.filename,
                  "media_type": upload.media_type, "size": len(upload.data), "sha256": upload.sha256})
    return attachment


def record_download(attachment: Attachment, *, actor, now: datetime) -> None:
    """An attachment is the case file and may be a scan full of personal data: every download is audited."""
    record("attachment.downloaded", actor=actor, now=now, case=attachment.case,
           after={"attachment_id": attachment.id, "filename": attachment.filename})


def delete_attachment(attachment: Attachment) -> None:
    """Remove the row now and the file once the transaction commits (a rollback keeps both)."""
    delete_file_after_commit(attachment.storage_key)
    db.session.delete(attachment)

