"""Keep a scan, read it in a job, and give it to the case that staff log from it."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from dsr.attachments.models import Attachment
from dsr.attachments.storage import ALLOWED_MEDIA_TYPES, CheckedUpload
from dsr.audit.labels import ACTION_LABELS
from dsr.audit.operations import record
from dsr.cases.errors import CaseError
from dsr.domain.enums import AttachmentKind, Right
from dsr.domain.letter_reading import read_request
from dsr.extensions import db
from dsr.filestore import StorageFailed, delete_file_after_commit, storage, track_new_file
from dsr.jobs import runner
from dsr.jobs.labels import KIND_LABELS
from dsr.reading.engine import ReadingUnavailable, UnreadableScan, read_scan, unavailable_reason
from dsr.reading.models import ScanReading

JOB_KIND = "read_scan"
FORGET_JOB_KIND = "forget_unused_scans"
runner.safe_error(ReadingUnavailable, UnreadableScan)
KIND_LABELS[JOB_KIND] = _l("Scan read")
KIND_LABELS[FORGET_JOB_KIND] = _l("Unused scans deleted")
ACTION_LABELS["scan.uploaded"] = _l("Scan uploaded to be read")
ACTION_LABELS["scan.drafts_deleted"] = _l("Scans read but never logged deleted")


class ReadingError(CaseError):
    """The reading cannot be used as asked; the message says why."""


def key_of(reading: ScanReading) -> str:
    return reading.storage_key if reading.draft else reading.attachment.storage_key


def start_reading(upload: CheckedUpload, *, actor, now: datetime) -> ScanReading:
    """Keep the scan as a draft reading and queue the job that reads it. The caller commits, then dispatches."""
    key = f"scans/{now:%Y}/{uuid.uuid4().hex}.{ALLOWED_MEDIA_TYPES[upload.media_type]}"
    try:
        storage().put(key, upload.data)
    except StorageFailed:
        raise ReadingError("The scan could not be stored (the server's storage refused it).") from None
    track_new_file(key)
    reading = ScanReading(created_at=now, created_by_id=actor.id, filename=upload.filename,
                          media_type=upload.media_type, size=len(upload.data), sha256=upload.sha256,
                          storage_key=key)
    db.session.add(reading)
    db.session.flush()
    job = runner.create(JOB_KIND, now=now, params={"reading_id": reading.id}, actor=actor)
    reading.job = job
    record("scan.uploaded", actor=actor, now=now, case=None,
           after={"reading_id": reading.id, "media_type": upload.media_type, "size": len(upload.data),
                  "sha256": upload.sha256})
    return reading


def _compact_pages(scan) -> list[dict]:
    return [{"number": p.number, "width": p.width, "height": p.height, "factor": p.factor, "angle": p.angle,
             "words": [[w.text, round(w.confidence), w.left, w.top, w.width, w.height, w.line] for w in p.words]}
            for p in scan.pages]


@runner.handler(JOB_KIND)
def _read(job, progress, now: datetime) -> dict:
    reading = db.session.get(ScanReading, job.params["reading_id"])
    if reading is None:
        raise ReadingError("The scan was deleted before it could be read.")
    started = datetime.now()
    scan = read_scan(storage().read(key_of(reading)), reading.media_type, progress=progress)
    suggestions = read_request(scan.words, language=scan.language, language_confidence=scan.language_confidence,
                               today=now.date(), rights=[r.value for r in Right])
    reading.language = scan.language
    reading.text = scan.text
    reading.result = {"pages": _compact_pages(scan), "suggestions": suggestions.as_dict(),
                      "seconds": round((datetime.now() - started).total_seconds(), 1)}
    return {"reading_id": reading.id, "pages": len(scan.pages)}


def attach_to_case(reading: ScanReading, case, *, actor, now: datetime) -> Attachment:
    """The logged case takes the scan as its letter; the reading goes with it (same transaction)."""
    if not reading.draft:
        raise ReadingError("This scan already belongs to a case.")
    attachment = Attachment(case=case, kind=AttachmentKind.LETTER, filename=reading.filename,
                            media_type=reading.media_type, size=reading.size, sha256=reading.sha256,
                            storage_key=reading.storage_key, uploaded_at=now, uploaded_by_id=actor.id)
    db.session.add(attachment)
    reading.storage_key = None
    reading.attachment = attachment
    db.session.flush()
    record("attachment.added", actor=actor, now=now, case=case,
           after={"attachment_id": attachment.id, "kind": AttachmentKind.LETTER, "filename": reading.filename,
                  "media_type": reading.media_type, "size": reading.size, "sha256": reading.sha256,
                  "read_from_scan": reading.id})
    return attachment


def may_see(reading: ScanReading, user) -> bool:
    """A draft is seen by whoever uploaded it and by privacy managers; a logged one by the case's readers."""
    if not reading.draft:
        return True  # the route's role check is the case's (every reader may see a case)
    return reading.created_by_id == user.id or user.role == "privacy_manager"


def forget_unused(*, now: datetime, actor=None) -> int:
    """Delete draft readings (and their scans) older than ``SCAN_DRAFT_HOURS``; returns how many."""
    hours = int(current_app.config.get("SCAN_DRAFT_HOURS", 24))
    old = db.session.execute(sa.select(ScanReading).where(
        ScanReading.attachment_id.is_(None), ScanReading.created_at < now - timedelta(hours=hours))).scalars().all()
    for reading in old:
        delete_file_after_commit(reading.storage_key)
        db.session.delete(reading)
    if old:
        record("scan.drafts_deleted", actor=actor, now=now, case=None, after={"count": len(old)})
    return len(old)


@runner.handler(FORGET_JOB_KIND)
def _forget_job(job, progress, now: datetime) -> dict:
    return {"deleted": forget_unused(now=now)}


def reading_available() -> str | None:
    """Why no suggestions can appear on this server, or None."""
    return unavailable_reason()
