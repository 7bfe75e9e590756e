"""Background jobs: letters, exports and scheduled runs, on RQ when Redis is configured, in-process otherwise.

A feature registers a handler for a job kind (:func:`dsr.jobs.runner.handler`), creates a job row in its
request's transaction (:func:`dsr.jobs.runner.create`), commits, and calls :func:`dsr.jobs.runner.dispatch`.
"""

# The modules whose import registers job handlers (dsr.create_app imports them all).
HANDLER_MODULES: tuple[str, ...] = (
    "dsr.letters.operations",
    "dsr.exports.operations",
    "dsr.jobs.health",
    "dsr.reports.jobs",
    "dsr.casefiles.jobs",
    "dsr.identity.jobs",
    "dsr.attachments.sweep",
    "dsr.reading.operations",
)
