"""Making, downloading and expiring exports: the only writers of :class:`dsr.exports.models.Export`.

- :func:`request_export` queues a job (``export``) for a case's confirmed lookup; the view commits and
  dispatches it. :func:`run_export_job` is its handler: it writes the ZIP under the storage key ``exports/…``
  and adds the row, both undone if anything fails, and a retried job returns the export it already made.
- :func:`open_download` is the one way to the file: staff and privacy managers only (the auditor reads
  cases, not the subject's data), audited as ``export.downloaded``.
- :func:`expire_exports` deletes files ``EXPORT_RETENTION_DAYS`` after they were made (Art. 5(1)(e): dsr
  must not become a lasting copy of the subject's data), keeps the row and notes it on the case
  (``export.expired``). Run daily by ``flask --app wsgi dsr expire-exports`` or as the ``expire_exports`` job.

Operations take the actor and the time as arguments and never commit.
"""

from __future__ import annotations

import gc
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import format_number, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dsr.audit.operations import record
from dsr.auth.models import User
from dsr.cases.census import known_empty
from dsr.cases.errors import CaseError, InvalidInput, RuleViolation
from dsr.cases.guards import WRITERS, require_open, require_role
from dsr.cases.models import Case
from dsr.domain.enums import JobStatus, Language, LookupMatch, Right
from dsr.exports.content import write_export
from dsr.exports.models import Export, ExportKind
from dsr.exports.schema import CURRENT_VERSION, ExportInvalid
from dsr.extensions import db
from dsr.filestore import StorageFailed, delete_file_after_commit, storage, track_new_file
from dsr.fulfilment.lookup_ops import latest_lookup
from dsr.fulfilment.models import Lookup
from dsr.fulfilment.statement import LANGUAGES
from dsr.jobs import runner
from dsr.jobs.labels import KIND_LABELS
from dsr.jobs.models import Job
from dsr.pdf import forget_kept_stylesheets

JOB_KIND = "export"
EXPIRE_JOB_KIND = "expire_exports"
runner.safe_error(ExportInvalid, StorageFailed)  # its messages name the JSON path and the rule, never the value
RIGHT_OF = {ExportKind.ACCESS: Right.ACCESS, ExportKind.PORTABILITY: Right.PORTABILITY}
KIND_NAMES = {ExportKind.ACCESS: _l("Access copy (Art. 15)"), ExportKind.PORTABILITY: _l("Portable data (Art. 20)")}

KIND_LABELS[JOB_KIND] = _l("Export")
KIND_LABELS[EXPIRE_JOB_KIND] = _l("Expiry of old exports")


class ExportGone(CaseError):
    """The file was deleted when it expired (410): the row remains, the data does not."""

    status = 410


def retention_days() -> int:
    return int(current_app.config.get("EXPORT_RETENTION_DAYS", 30))


def case_exports(case: Case) -> list[Export]:
    if known_empty(case, "exports"):
        return []
    return list(db.session.execute(
        sa.select(Export).where(Export.case_id == case.id).order_by(Export.created_at.desc(), Export.id.desc())
    ).scalars())


def exportable_kinds(case: Case) -> list[ExportKind]:
    """The kinds of export the case's requested rights call for (Art. 15(3) copy, Art. 20 data)."""
    return [kind for kind, right in RIGHT_OF.items() if right in case.right_values]


def request_export(case: Case, kind: str | ExportKind, *, actor: User | None, now: datetime,
                   language: str | None = None) -> Job:
    """Queue the making of an export of ``kind`` from the case's newest, confirmed lookup.

    Refuses a kind the case did not ask for, a lookup not confirmed as this person's (a wrong match would
    disclose someone else's data, Art. 5(1)(f)), an access copy while a value that may hold other people's
    data is undecided (Art. 15(4), :mod:`dsr.fulfilment.redaction_ops`), and a second export of the same kind while one is being
    made. The caller commits, then dispatches the job.
    """
    require_role(actor, *WRITERS, what=_l("make an export"))
    try:
        kind = ExportKind(kind)
    except ValueError:
        raise InvalidInput(_("Unknown kind of export: choose an access copy or portable data."), "kind") from None
    if kind not in exportable_kinds(case):
        raise InvalidInput(_("This case did not ask for this: an access copy answers Art. 15, portable data "
                             "answers Art. 20."), "kind")
    require_open(case, _l("make an export"))
    lang = language or case.language.value
    if lang not in LANGUAGES:
        raise InvalidInput(_("Unknown language: choose one of %(languages)s.", languages=", ".join(LANGUAGES)),
                           "language")
    lookup = latest_lookup(case)
    if lookup is None or lookup.match != LookupMatch.CONFIRMED:
        raise RuleViolation(_("Search Harmony's systems and confirm that the records found are this person's "
                              "before making an export."))
    if kind is ExportKind.ACCESS:
        # Art. 15(4): no copy leaves while a value that may hold other people's data is undecided. A system
        # that cannot be read now is left to the job, which refuses every undecided value as it writes.
        from dsr.datamap.sources import DataMapError
        from dsr.fulfilment.redaction_ops import require_reviewed

        try:
            require_reviewed(case, lookup)
        except (DataMapError, sa.exc.SQLAlchemyError):
            pass  # read through the sources' own engines: dsr's session is untouched
    busy = db.session.execute(sa.select(Job).where(
        Job.case_id == case.id, Job.kind == JOB_KIND,
        Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))).scalars()
    if any(job.params.get("kind") == kind.value for job in busy):
        raise RuleViolation(_("An export of this kind is already being made for this case."))
    return runner.create(JOB_KIND, now=now, case=case, actor=actor,
                         params={"kind": kind.value, "lookup_id": lookup.id, "language": lang})


@runner.handler(JOB_KIND)
def run_export_job(job: Job, progress: runner.Progress, now: datetime) -> dict:
    """The job: make the export, or return the one this job already made (a retry makes no second one)."""
    export = db.session.execute(sa.select(Export).where(Export.job_id == job.id)).scalar_one_or_none()
    if export is None:
        export = make_export(job, now=now, progress=progress)
    return {"export_id": export.id, "records": export.record_count, "size": export.size}


# The digit-group separator of a count as Babel writes it (``format_decimal``: CLDR's ``#,##0.###``, groups of
# three) in each locale a job's messages are worded in (``dsr.timeutil.UI_LOCALES``: English, Dutch, French). Babel
# loads a locale's whole CLDR data to write one count (4.5 MB that a worker kept from the export's first
# progress note, at the start of its peak: issue 15, item 4) for this one character;
# tests/integration/test_exports.py holds each against Babel over thousands of counts.
DIGIT_GROUPS = {"en_GB": ",", "nl": ".", "fr": "\u202f"}


def count_text(count: int) -> str:
    """``count`` as :func:`flask_babel.format_number` writes it in the current locale: a whole number not
    below zero in a locale of :data:`DIGIT_GROUPS` without Babel's locale data, anything else by Babel."""
    separator = DIGIT_GROUPS.get(str(get_locale()))
    if separator is None or type(count) is not int or count < 0:
        return format_number(count)
    return f"{count:,}".replace(",", separator)


def percent_reporter(progress: runner.Progress | None) -> Callable[[int, int], int]:
    """What :func:`write_export` calls with (records written, records expected): the job's progress from 5 to
    95 %, worded only when the percentage moves (at most 91 times). It returns the count at which the
    percentage moves next, and the writer calls it again only then, not after each record (issue 15, item 4)."""
    reported = {"percent": -1}

    def report(done: int, total: int) -> int:
        moved = 90 * done // max(total, 1)
        if progress is not None and 5 + moved != reported["percent"]:
            reported["percent"] = 5 + moved
            progress(5 + moved, _("%(done)s of %(total)s records", done=count_text(done), total=count_text(total)))
        return -(-(moved + 1) * total // 90)  # the first count of the next percentage

    return report


def make_export(job: Job, *, now: datetime, progress: runner.Progress | None = None) -> Export:
    """Write the ZIP of ``job`` and add its row, with ``export.created`` on the case.

    The file is stored only when complete (beside its final name and moved there, or uploaded whole); it is
    registered with the transaction (:func:`dsr.filestore.track_new_file`), so a failure leaves neither file
    nor row.
    """
    case = job.case
    params = job.params
    lookup = db.session.get(Lookup, params.get("lookup_id"))
    if case is None or lookup is None or lookup.case_id != case.id:
        raise InvalidInput(_("The search this export was asked from no longer belongs to the case."))
    if lookup.match != LookupMatch.CONFIRMED:
        raise RuleViolation(_("The records found are no longer confirmed as this person's; nothing was exported."))
    kind = ExportKind(params["kind"])
    forget_kept_stylesheets()  # the letters' fonts, if this worker made letters: not held through the export
    key = f"exports/{now:%Y}/{uuid.uuid4().hex}.zip"
    track_new_file(key)

    report = percent_reporter(progress)
    if progress is not None:
        progress(1, _("Reading the records"))
    # A full disk (or an object store that refuses it) is StorageFailed: the job fails saying so, and no
    # partial file stays behind.
    with _held_objects_left_alone(), storage().writer(key) as out:
        built = write_export(out.file, case=case, lookup=lookup, kind=kind, language=params["language"], now=now,
                             config=current_app.config, progress=report)
        if progress is not None:
            progress(97, _("Storing the file"))
        sha256, size = out.digest()
    export = Export(case=case, kind=kind, schema_version=CURRENT_VERSION, language=Language(params["language"]),
                    lookup_id=lookup.id, storage_key=key, size=size, sha256=sha256,
                    record_count=built.record_count, job_id=job.id, created_by_id=job.created_by_id,
                    created_at=now, expires_at=now + timedelta(days=retention_days()))
    db.session.add(export)
    db.session.flush()
    record("export.created", actor=None, now=now, case=case, after={
        "export_id": export.id, "job_id": job.id, "kind": kind, "language": export.language,
        "records": export.record_count, "size": size, "sha256": sha256, "schema_version": CURRENT_VERSION,
        "files": len(built.files) + 1, "expires_at": export.expires_at})
    return export


@contextmanager
def _held_objects_left_alone() -> Iterator[None]:
    """While an export is written, what the process already holds (the app, SQLAlchemy's mappers,
    WeasyPrint: some 240,000 objects in a worker) is left out of Python's cyclic garbage collection
    (:func:`gc.freeze`). The export makes millions of short-lived objects; each full collection they set off
    went through all of those again (0.23 s of the export's CPU at 200,000 records), and the overview's PDF
    child, forked from this process, copied their pages to look at them (0.2 s of its CPU). They are
    collected as before once the export is written (:func:`gc.unfreeze`); objects someone else froze
    (a process that freezes its own at its start) are left as they are. (Issue 15, item 4.)"""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def open_download(export: Export, *, actor: User, now: datetime) -> str:
    """The stored file's key, for staff and privacy managers; the download is audited (who took a copy of
    the subject's data, and which one). Refuses an expired or deleted file (:class:`ExportGone`)."""
    require_role(actor, *WRITERS, what=_l("download an export"))
    if not export.available(now) or not storage().exists(export.storage_key):
        raise ExportGone(_("This export is no longer stored: exports are deleted %(days)s days after they were "
                           "made. Make a new one.", days=retention_days()))
    record("export.downloaded", actor=actor, now=now, case=export.case, after={
        "export_id": export.id, "kind": export.kind, "sha256": export.sha256, "size": export.size})
    return export.storage_key


def expire_exports(*, now: datetime, actor: User | None = None) -> list[Export]:
    """Delete every stored export past its expiry: the file once the transaction commits, the row kept
    with ``deleted_at``, and an ``export.expired`` event on its case."""
    due = list(db.session.execute(
        sa.select(Export).where(Export.deleted_at.is_(None), Export.expires_at <= now).order_by(Export.id)
    ).scalars())
    for export in due:
        delete_file_after_commit(export.storage_key)
        export.deleted_at = now
        record("export.expired", actor=actor, now=now, case=export.case,
               before={"export_id": export.id, "storage_key": export.storage_key},
               after={"export_id": export.id, "kind": export.kind, "sha256": export.sha256,
                      "expires_at": export.expires_at, "deleted_at": now})
    return due


@runner.handler(EXPIRE_JOB_KIND)
def run_expire_job(job: Job, progress: runner.Progress, now: datetime) -> dict:
    """The scheduled form of :func:`expire_exports` (the scheduler can queue it daily)."""
    return {"expired": [e.id for e in expire_exports(now=now)]}
