"""The daily destruction of ID copies nobody confirmed within ``ID_COPY_DAYS`` (default 7), as a job kind."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l

from dsr.audit.labels import ACTION_LABELS
from dsr.identity.operations import destroy_unconfirmed_id_copies
from dsr.jobs import runner
from dsr.jobs.labels import KIND_LABELS
from dsr.jobs.models import Job

DESTROY_JOB_KIND = "destroy_id_copies"
KIND_LABELS[DESTROY_JOB_KIND] = _l("Unconfirmed ID copies destroyed")
ACTION_LABELS["identity.id_document_expired"] = _l("ID copy destroyed unchecked after the set number of days")


@runner.handler(DESTROY_JOB_KIND)
def destroy_id_copies_job(job: Job, progress: runner.Progress, now: datetime) -> dict:
    done = destroy_unconfirmed_id_copies(now=now, days=int(current_app.config.get("ID_COPY_DAYS", 7)))
    return {"destroyed": len(done), "cases": sorted({d["case"] for d in done})}
