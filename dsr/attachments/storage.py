"""Storing uploaded files: recognised by content (not by name), bounded in size, written atomically.

A file written in a transaction that is then rolled back is removed again, so a failed request leaves
neither a row without a file nor a file without a row.
"""

from __future__ import annotations

import errno
import hashlib
import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import filetype
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from dsr.attachments.models import Attachment
from dsr.audit.operations import record
from dsr.domain.enums import AttachmentKind
from dsr.extensions import db

ALLOWED_MEDIA_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
_PENDING = "dsr_pending_files"
_DOOMED = "dsr_files_to_delete"


class UploadError(ValueError):
    """The upload cannot be accepted; the message says why, for the person who sent it."""


class StorageFailed(RuntimeError):
    """A file could not be written completely (a full disk, a quota, a read-only mount). Nothing of it is
    left behind; the request's transaction is rolled back, so no row points at it either."""

    def __init__(self, exc: OSError):
        self.errno = exc.errno
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            message = "The file could not be stored: the storage is full. Nothing was saved; tell the administrator."
        else:
            message = (f"The file could not be stored ({errno.errorcode.get(exc.errno or 0, 'error')}). "
                       "Nothing was saved; tell the administrator.")
        super().__init__(message)


def write_file(target: Path, chunks, *, mode: int | None = None) -> int:
    """Write ``chunks`` (bytes, or an iterable of bytes) to ``target`` completely or not at all.

    The data goes to ``<target>.part``, is flushed to the disk, and only then renamed into place; when any
    step fails (ENOSPC, EDQUOT, EFBIG, EIO, ...) the partial file is removed and :class:`StorageFailed` is
    raised. Returns the number of bytes written."""
    tmp = target.with_name(target.name + ".part")
    written = 0
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            for chunk in ([chunks] if isinstance(chunks, bytes | bytearray | memoryview) else chunks):
                fh.write(chunk)
                written += len(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StorageFailed(exc) from exc
    return written


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


def storage_root() -> Path:
    return Path(current_app.config["STORAGE_DIR"])


def path_for(attachment: Attachment) -> Path:
    return storage_root() / attachment.storage_key


def store_attachment(case, upload: CheckedUpload, *, actor, now: datetime,
                     kind: AttachmentKind = AttachmentKind.LETTER) -> Attachment:
    """Write the file and add its row to the current transaction, with an audit event."""
    key = f"attachments/{now:%Y}/{uuid.uuid4().hex}.{ALLOWED_MEDIA_TYPES[upload.media_type]}"
    target = storage_root() / key
    write_file(target, upload.data)
    track_new_file(target)
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


def track_new_file(path: Path) -> None:
    """A file written for a row of the current transaction: removed again if the transaction rolls back.

    Letters and exports use this for their stored files, as attachments do.
    """
    db.session.info.setdefault(_PENDING, []).append(Path(path))


def delete_file_after_commit(path: Path) -> None:
    """Remove ``path`` once the current transaction commits (a rollback keeps it)."""
    db.session.info.setdefault(_DOOMED, []).append(Path(path))


def delete_attachment(attachment: Attachment) -> None:
    """Remove the row now and the file once the transaction commits (a rollback keeps both)."""
    delete_file_after_commit(path_for(attachment))
    db.session.delete(attachment)


def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
    for path in session.info.pop(_DOOMED, []):
        Path(path).unlink(missing_ok=True)


def _remove_pending(session: Session, transaction) -> None:
    # Fires when the outermost transaction ends by any route (rollback, close on a failed request,
    # session removal). After a commit the lists were already cleared by _forget_pending.
    if transaction.parent is not None:
        return
    session.info.pop(_DOOMED, None)
    for path in session.info.pop(_PENDING, []):
        Path(path).unlink(missing_ok=True)


sa.event.listen(Session, "after_commit", _forget_pending)
sa.event.listen(Session, "after_transaction_end", _remove_pending)
