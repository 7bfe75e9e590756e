"""dsr's own files (scans, issued letters, exports, ID copies), by key, in the backend the app is configured for.

``DSR_STORAGE=local`` (the default: the embedded setup needs no server) keeps them under ``STORAGE_DIR``;
``DSR_STORAGE=s3`` in a bucket of an S3-compatible store (docs/deploy.md). Callers ask :func:`storage` for
the backend and use keys; the interface is :class:`dsr.filestore.base.Storage`.

Files follow the database transaction that names them: a file written for a row is deleted again when the
transaction rolls back (:func:`track_new_file`), so a failed request or job leaves neither a row without a
file nor a file without a row; a file whose row goes is deleted once the transaction commits
(:func:`delete_file_after_commit`), so a rollback keeps both.
"""

from __future__ import annotations

import logging
import os

import sqlalchemy as sa
from flask import current_app, request, send_file
from sqlalchemy.orm import Session

from dsr.extensions import db
from dsr.filestore.base import Storage, StorageFailed, StoredObject
from dsr.filestore.local import LocalStorage

__all__ = ["Storage", "StorageFailed", "StoredObject", "delete_file_after_commit", "send", "storage",
           "track_new_file"]

log = logging.getLogger(__name__)
_PENDING = "dsr_pending_files"
_DOOMED = "dsr_files_to_delete"
SETTINGS = ("STORAGE_BACKEND", "STORAGE_DIR", "S3_BUCKET", "S3_PREFIX", "S3_ENDPOINT_URL", "S3_REGION",
            "S3_ADDRESSING_STYLE", "S3_ENCRYPTION", "S3_KMS_KEY_ID", "S3_DELETE_VERSIONS", "S3_MULTIPART_BYTES")


def _build(config) -> Storage:
    if config.get("STORAGE_BACKEND", "local") != "s3":
        return LocalStorage(config["STORAGE_DIR"])
    from dsr.filestore.s3 import S3Storage  # boto3 is loaded only where the store is S3

    return S3Storage(bucket=config["S3_BUCKET"], prefix=config.get("S3_PREFIX") or "",
                     endpoint_url=config.get("S3_ENDPOINT_URL"), region=config.get("S3_REGION"),
                     addressing_style=config.get("S3_ADDRESSING_STYLE") or "auto",
                     encryption=config.get("S3_ENCRYPTION"), kms_key_id=config.get("S3_KMS_KEY_ID"),
                     delete_versions=bool(config.get("S3_DELETE_VERSIONS")),
                     multipart_threshold=int(config.get("S3_MULTIPART_BYTES") or 64 * 1024 * 1024))


def storage() -> Storage:
    """The app's backend, made once per app and process (an S3 client is reused by every request and job,
    but never across a fork: a work-horse makes its own) and made again only if its settings change (a test
    pointing STORAGE_DIR elsewhere)."""
    app = current_app._get_current_object()
    settings = (os.getpid(), *(str(app.config.get(name)) for name in SETTINGS))
    made = app.extensions.get("dsr_storage")
    if made is None or made[0] != settings:
        made = app.extensions["dsr_storage"] = (settings, _build(app.config))
    return made[1]


def send(key: str, *, mimetype: str, download_name: str, as_attachment: bool = True,
         conditional: bool = True, etag: bool = True):
    """A download response streaming the stored file (never read whole into memory), with its length.

    ``FileNotFoundError`` when the file is gone."""
    backend = storage()
    if isinstance(backend, LocalStorage):  # the file itself: sendfile, ranges and validators as before
        path = backend.local_file(key)
        if not path.is_file():
            raise FileNotFoundError(key)
        return send_file(path, mimetype=mimetype, as_attachment=as_attachment, download_name=download_name,
                         max_age=0, conditional=conditional, etag=etag)
    stored = backend.stat(key)
    response = send_file(backend.open(key), mimetype=mimetype, as_attachment=as_attachment,
                         download_name=download_name, max_age=0, conditional=False, etag=False,
                         last_modified=stored.modified)
    response.content_length = stored.size
    if conditional:
        response = response.make_conditional(request.environ, accept_ranges=True, complete_length=stored.size)
    return response


def track_new_file(key: str) -> None:
    """A file written for a row of the current transaction: deleted again if the transaction rolls back."""
    db.session.info.setdefault(_PENDING, []).append((storage(), key))


def delete_file_after_commit(key: str) -> None:
    """Delete the file under ``key`` once the current transaction commits (a rollback keeps it)."""
    db.session.info.setdefault(_DOOMED, []).append((storage(), key))


def _delete(items) -> None:
    for backend, key in items:
        try:
            backend.delete(key)
        except (OSError, StorageFailed) as exc:
            # The row is already gone (or never was): the daily storage sweep reports the file left behind.
            log.error("storage: could not delete %s: %s", key, exc)


def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
    _delete(session.info.pop(_DOOMED, []))


def _remove_pending(session: Session, transaction) -> None:
    # Fires when the outermost transaction ends by any route (rollback, close on a failed request,
    # session removal). After a commit the lists were already cleared by _forget_pending.
    if transaction.parent is not None:
        return
    session.info.pop(_DOOMED, None)
    _delete(session.info.pop(_PENDING, []))


sa.event.listen(Session, "after_commit", _forget_pending)
sa.event.listen(Session, "after_transaction_end", _remove_pending)
