"""Previewing and issuing letters (issue 5, item 2): the job that renders, stores and records one.

Issuing is a background job (``letter``), because WeasyPrint takes a second or more and an access letter
reads Harmony's systems. :func:`request_letter` checks the letter fits the case and queues the job in the
request's transaction; the job's handler (:func:`make_letter`) gathers the facts, renders the PDF, writes
it under the storage key ``letters/…`` (:mod:`dsr.filestore`) and adds the :class:`~dsr.letters.models.IssuedLetter` row with its
SHA-256 and the next version number, with the audit event ``letter.issued``. A retried job finds the letter
it already made (``job_id`` is unique) instead of making a second version.

Issuing the extension notice is telling the subject of the extension, with its reasons (Art. 12(3)): the
same job records the notice as sent through :func:`dsr.cases.timing.record_extension_notice`, so the
case's obligation is met by the letter itself.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from dsr.audit.operations import record
from dsr.auth.models import User
from dsr.cases import timing
from dsr.cases.census import known_empty
from dsr.cases.errors import RuleViolation
from dsr.cases.guards import WRITERS, require_role
from dsr.cases.models import Case
from dsr.extensions import db
from dsr.filestore import StorageFailed, storage, track_new_file
from dsr.jobs import runner
from dsr.jobs.models import Job
from dsr.letters import render
from dsr.letters.facts import ANNEX_KINDS, gather
from dsr.letters.kinds import LetterKind, LetterLanguage, check_fits, languages_of
from dsr.letters.models import ImmutableLetter, IssuedLetter
from dsr.timeutil import local_date

JOB_KIND = "letter"
# The kinds that quote a text for the subject (issue 14.2): their facts are gathered before the job is queued,
# so a letter whose text is missing in its language is refused at once, naming the field.
QUOTING_KINDS = frozenset({LetterKind.INFORMATION_REQUEST, LetterKind.EXTENSION_NOTICE, LetterKind.REFUSAL,
                           LetterKind.PARTIAL_REFUSAL, LetterKind.COMPLETION_RECTIFICATION,
                           LetterKind.COMPLETION_OBJECTION, LetterKind.FEE_WARNING,
                           LetterKind.RESTRICTION_LIFTING_NOTICE, LetterKind.COMPLETION_AUTOMATED,
                           LetterKind.COMPLETION_ERASURE})
runner.safe_error(render.TemplateMissing, ImmutableLetter, StorageFailed)


@dataclass
class Rendered:
    """A letter made but not stored: its documents (one per language) and the PDF."""

    html: list[str]
    pdf: bytes
    pages: int
    fetcher: object


def letters_of(case: Case) -> list[IssuedLetter]:
    """The case's issued letters, newest first."""
    if known_empty(case, "issued_letters"):
        return []
    return list(db.session.execute(sa.select(IssuedLetter).where(IssuedLetter.case_id == case.id)
                                   .order_by(IssuedLetter.issued_at.desc(), IssuedLetter.id.desc())).scalars())


def documents(case: Case, kind: LetterKind, language: LetterLanguage, *, today: date,
              signatory: str | None = None, assets: str = "", preview: bool = False,
              annex: bool = False) -> list[str]:
    """The HTML of the letter, one document per language (three for ``all``)."""
    check_fits(case, kind)
    out = []
    for lang in languages_of(language):
        if not render.available(kind, lang):
            raise RuleViolation(_("There is no %(lang)s text of this letter yet; choose another language.",
                                  lang=lang))
        facts = gather(case, kind, language=lang, today=today, signatory=signatory, annex=annex)
        out.append(render.render_html(facts, kind, lang, preview=preview, assets=assets))
    return out


def preview_html(case: Case, kind: LetterKind, language: LetterLanguage, *, today: date, assets: str,
                 signatory: str | None = None, annex: bool = False) -> str:
    """The letter as HTML, for a person to read before issuing it (``all``: the three one after another)."""
    pages = documents(case, kind, language, today=today, signatory=signatory, assets=assets, preview=True,
                      annex=annex)
    if len(pages) == 1:
        return pages[0]
    # Three complete documents: keep the first one's head, and put the others' bodies after its body.
    bodies = [p.split("<body", 1)[1].split(">", 1)[1].rsplit("</body>", 1)[0] for p in pages[1:]]
    head, tail = pages[0].rsplit("</body>", 1)
    return head + "".join(f'<hr class="letter-separator">{b}' for b in bodies) + "</body>" + tail


def record_preview(case: Case, kind: LetterKind, language: LetterLanguage, *, actor: User, now: datetime) -> bool:
    """The access and portability letters read what Harmony's systems hold about the person: previewing one
    is on the audit trail, as the access preview is (true: recorded). Other kinds read only the case."""
    if kind not in (LetterKind.COMPLETION_ACCESS, LetterKind.COMPLETION_PORTABILITY):
        return False
    record("letter.previewed", actor=actor, now=now, case=case, after={"kind": kind, "language": language})
    return True


def render_letter(case: Case, kind: LetterKind, language: LetterLanguage, *, today: date,
                  signatory: str | None = None, fetcher=None, annex: bool = False) -> Rendered:
    """Render the PDF (nothing stored). ``fetcher`` defaults to :func:`dsr.pdf.safe_fetcher`."""
    from dsr import pdf

    fetcher = fetcher if fetcher is not None else pdf.safe_fetcher()
    html = documents(case, kind, language, today=today, signatory=signatory, annex=annex)
    data, pages = render.render_pdf_counted(html, fetcher=fetcher)
    return Rendered(html=html, pdf=data, pages=pages, fetcher=fetcher)


def request_letter(case: Case, kind: LetterKind, language: LetterLanguage, *, actor: User | None,
                   now: datetime, annex: bool = False) -> Job:
    """Queue the issuing of a letter; the caller commits, then calls :func:`dsr.jobs.runner.dispatch`.

    Refuses now, not in the job, a letter that does not fit the case (a completion for a right not asked
    for, a refusal of a case not refused) or a language without a text.
    """
    require_role(actor, *WRITERS, what=_l("issue letters"))
    check_fits(case, kind)
    for lang in languages_of(language):
        if not render.available(kind, lang):
            raise RuleViolation(_("There is no %(lang)s text of this letter yet; choose another language.",
                                  lang=lang))
        if kind in QUOTING_KINDS:
            gather(case, kind, language=lang, today=local_date(now), annex=annex)
    return runner.create(JOB_KIND, now=now, case=case, actor=actor,
                         params={"kind": kind.value, "language": language.value,
                                 # The subject asked for the full list of records (issue 14.3).
                                 "annex": bool(annex and kind in ANNEX_KINDS)})


def _store(case: Case, kind: LetterKind, language: LetterLanguage, data: bytes, *, version: int,
           now: datetime) -> str:
    """Write the PDF once, atomically and read-only; removed again if the transaction rolls back."""
    key = f"letters/{now:%Y}/{case.reference}-{kind.value}-v{version}-{language.value}-{uuid.uuid4().hex[:12]}.pdf"
    storage().put(key, data, read_only=True)
    track_new_file(key)
    return key


def next_version(case: Case, kind: LetterKind) -> int:
    last = db.session.execute(sa.select(sa.func.max(IssuedLetter.version)).where(
        IssuedLetter.case_id == case.id, IssuedLetter.kind == kind)).scalar_one()
    return (last or 0) + 1


def issue(job: Job, *, now: datetime) -> IssuedLetter:
    """Make the letter ``job`` asks for, once: a retry returns the letter an earlier attempt made.

    A letter takes a fraction of a second, so it reports no progress of its own (each report is a transaction
    of its own): its job shows running, then done."""
    if job.attempts > 1:  # only an earlier attempt of this job can have made its letter
        existing = db.session.execute(
            sa.select(IssuedLetter).where(IssuedLetter.job_id == job.id)).scalar_one_or_none()
        if existing is not None:
            return existing
    # The case with what every letter states (the subject, the rights, the pauses) in one read.
    case = db.session.execute(
        sa.select(Case).where(Case.id == job.case_id)
        .options(joinedload(Case.subject), joinedload(Case.rights), joinedload(Case.pauses))
    ).unique().scalar_one()
    kind, language = LetterKind(job.params["kind"]), LetterLanguage(job.params["language"])
    actor = job.created_by
    today = local_date(now)
    annex = bool(job.params.get("annex"))
    made = render_letter(case, kind, language, today=today, signatory=actor.name if actor else None, annex=annex)
    digest = hashlib.sha256(made.pdf).hexdigest()
    letter = _insert_next_version(case, kind, language, made, digest=digest, actor=actor, now=now, job=job)
    record("letter.issued", actor=actor, now=now, case=case,
           after={"letter_id": letter.id, "kind": kind, "language": language, "version": letter.version,
                  "annex": annex,
                  "sha256": digest, "size": letter.size, "pages": letter.pages, "job_id": job.id})
    if kind is LetterKind.EXTENSION_NOTICE and case.extension_notice_sent_on is None:
        timing.record_extension_notice(case, sent_on=today, actor=actor, now=now, today=today)
    return letter


def _insert_next_version(case: Case, kind: LetterKind, language: LetterLanguage, made: Rendered, *,
                         digest: str, actor: User | None, now: datetime, job: Job) -> IssuedLetter:
    """Store the PDF as the next version. Two workers issuing the same kind for one case at once would
    both count the same next number; the loser's insert hits the unique (case, kind, version) in a
    savepoint, its file is removed, and it counts again."""
    for _attempt in range(10):
        version = next_version(case, kind)
        key = _store(case, kind, language, made.pdf, version=version, now=now)
        letter = IssuedLetter(case=case, kind=kind, language=language, version=version, sha256=digest,
                              size=len(made.pdf), pages=made.pages, storage_key=key,
                              issued_by_id=actor.id if actor else None, issued_at=now, job_id=job.id)
        try:
            with db.session.begin_nested():
                db.session.add(letter)
                db.session.flush()
        except sa.exc.IntegrityError:
            db.session.expunge(letter) if letter in db.session else None
            storage().delete(key)
            made_by_job = db.session.execute(
                sa.select(IssuedLetter).where(IssuedLetter.job_id == job.id)).scalar_one_or_none()
            if made_by_job is not None:
                return made_by_job  # another attempt of this very job stored it first: that is the letter
            continue  # another job took this version number: count again
        return letter
    raise RuleViolation(_("Could not number the letter: too many letters of this kind at once. Retry."))


@runner.handler(JOB_KIND)
def make_letter(job: Job, progress, now: datetime) -> dict:
    letter = issue(job, now=now)
    return {"letter_id": letter.id, "version": letter.version, "sha256": letter.sha256}


def issue_now(case: Case, kind: LetterKind, language: LetterLanguage, *, actor: User | None,
              now: datetime, annex: bool = False) -> IssuedLetter:
    """Issue a letter and wait for it (the command line): the same job, run in this process.

    Commits (the job must exist before it runs). Raises ``RuleViolation`` if the job failed, with its error.
    """
    job = request_letter(case, kind, language, actor=actor, now=now, annex=annex)
    db.session.commit()
    job_id = job.id
    runner.perform(job_id, now=now)
    job = db.session.get(Job, job_id)
    db.session.refresh(job)
    letter = db.session.execute(sa.select(IssuedLetter).where(IssuedLetter.job_id == job_id)).scalar_one_or_none()
    if letter is None:
        raise RuleViolation(_("The letter could not be made: %(error)s", error=job.error or job.status.value))
    return letter


def record_download(letter: IssuedLetter, *, actor: User | None, now: datetime) -> None:
    """A letter is the case file and holds personal data: every download is on the audit trail."""
    record("letter.downloaded", actor=actor, now=now, case=letter.case,
           after={"letter_id": letter.id, "kind": letter.kind, "version": letter.version,
                  "language": letter.language, "sha256": letter.sha256})


def check_intact(letter: IssuedLetter) -> bytes:
    """The stored PDF, if its SHA-256 is still the one recorded at issue; else ``RuleViolation``
    (``FileNotFoundError`` when it is gone)."""
    data = storage().read(letter.storage_key)
    if hashlib.sha256(data).hexdigest() != letter.sha256:
        current_app.logger.error("issued letter %s does not match its SHA-256", letter.id)
        raise RuleViolation(_("The stored letter does not match the checksum recorded when it was issued."))
    return data
