"""The daily reduction of case files as a job kind, started by the scheduler with dsr's other daily runs."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l

from dsr.casefiles.operations import reduce_due_case_files
from dsr.jobs import runner
from dsr.jobs.labels import KIND_LABELS
from dsr.jobs.models import Job
from dsr.timeutil import local_date

REDUCE_JOB_KIND = "reduce_case_files"
KIND_LABELS[REDUCE_JOB_KIND] = _l("Case files reduced (dsr's own retention)")


@runner.handler(REDUCE_JOB_KIND)
def reduce_case_files_job(job: Job, progress: runner.Progress, now: datetime) -> dict:
    """As ``flask dsr reduce-case-files``: reduce every closed case file whose period has passed."""
    day = (job.params or {}).get("day")
    done = reduce_due_case_files(now=now, today=date.fromisoformat(day) if day else local_date(now))
    return {"reduced": [d["case"] for d in done], "payloads_purged": sum(d["payloads_purged"] for d in done)}
