"""A health-check job: proves the whole path (database row → queue → worker → database) works.

``flask --app wsgi dsr worker-check`` queues one and waits for its answer, so an operator can tell after a
deployment whether the workers are up, reach the database, and have WeasyPrint loaded before the job came
(the worker imports it once at start: a worker that imported it per job would answer ``false``).
"""

from __future__ import annotations

import os
import socket
import sys
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from dsr.jobs.labels import KIND_LABELS
from dsr.jobs.models import Job
from dsr.jobs.runner import Progress, handler

KIND = "health_check"
KIND_LABELS[KIND] = _l("Worker health check")


@handler(KIND)
def run_health_check(job: Job, progress: Progress, now: datetime) -> dict[str, Any]:
    progress(50, "checking")
    return {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "parent_pid": os.getppid(),
        "weasyprint_preloaded": "weasyprint" in sys.modules,
        "ran_at": now.isoformat(),
    }
