"""Viewing an attachment inline: what its bytes are, and the audit event of every view.

A download (the file saved, :func:`dsr.attachments.storage.record_download`) and a view (the scan shown
inline beside the case) are two events, so the history and the audit trail say which it was.
"""

from __future__ import annotations

from contextlib import closing
from datetime import datetime

import filetype

from dsr.attachments.models import Attachment
from dsr.attachments.storage import ALLOWED_MEDIA_TYPES
from dsr.audit.operations import record
from dsr.filestore import storage

# What a browser may show inline: the types an upload may have. Never text/html or anything it would run.
INLINE_MEDIA_TYPES = frozenset(ALLOWED_MEDIA_TYPES)
# Enough of the file for the sniffers to tell a PDF, JPEG or PNG (their signatures sit in the first bytes).
SNIFF_BYTES = 8192


def sniffed_media_type(attachment: Attachment) -> str | None:
    """The stored file's type read from its content (not its name, not the stored row), or None when it is
    none of the types shown inline."""
    with closing(storage().open(attachment.storage_key)) as fh:
        kind = filetype.guess(fh.read(SNIFF_BYTES))
    return kind.mime if kind is not None and kind.mime in INLINE_MEDIA_TYPES else None


def record_view(attachment: Attachment, *, actor, now: datetime) -> None:
    """Scans hold personal data: every inline view is audited, as every download is."""
    record("attachment.viewed", actor=actor, now=now, case=attachment.case,
           after={"attachment_id": attachment.id, "filename": attachment.filename})
