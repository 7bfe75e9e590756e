"""The daily storage sweep: stored files (under STORAGE_DIR, or in the S3 bucket) that no row refers to.

Such a file falls outside every retention rule (no row, so no erasure, no expiry ever finds it): a
``.part`` left by a crash in the middle of a write, a file whose transaction died between the write and
the rollback's clean-up, a file put there by hand. The sweep reports them (path, size, age) for a person
to look at; it deletes nothing, since a file it cannot place might still be someone's only copy.

Every table with a ``storage_key`` column counts as a reference (attachments, issued letters, exports,
and any feature added later that keeps files the same way). Files younger than ``grace`` are left out:
their row may be in a transaction that has not committed yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from dsr.extensions import db
from dsr.filestore import storage
from dsr.jobs import runner
from dsr.jobs.labels import KIND_LABELS

SWEEP_JOB_KIND = "storage_sweep"
KIND_LABELS[SWEEP_JOB_KIND] = _l("Sweep of stored files")
GRACE = timedelta(hours=1)


@dataclass(frozen=True)
class Orphan:
    key: str
    size: int
    modified: datetime


def referenced_keys() -> set[str]:
    keys: set[str] = set()
    for table in db.metadata.sorted_tables:
        if "storage_key" in table.c:
            keys.update(k for k in db.session.execute(sa.select(table.c.storage_key)).scalars() if k)
    return keys


def orphan_files(*, now: datetime, grace: timedelta = GRACE) -> list[Orphan]:
    """Stored files that no row names, older than ``grace``, sorted by key."""
    known = referenced_keys()
    found = []
    for stored in storage().list():
        modified = stored.modified.astimezone(now.tzinfo)
        if stored.key in known or now - modified < grace:
            continue
        found.append(Orphan(key=stored.key, size=stored.size, modified=modified))
    return found


@runner.handler(SWEEP_JOB_KIND)
def run_sweep_job(job, progress, now: datetime) -> dict:
    """The scheduled sweep: its report is the job's result (kept on the job row)."""
    orphans = orphan_files(now=now)
    return {"orphans": [{"key": o.key, "size": o.size, "modified": o.modified.isoformat()} for o in orphans],
            "count": len(orphans)}
