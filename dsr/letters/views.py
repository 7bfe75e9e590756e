"""The "Letters" card on the case page: issued versions with their downloads, and the form to make one.

* ``POST /cases/<ref>/letters`` (staff, manager; CSRF): queue the issuing of a letter (a job), then back
  to the case page, where the jobs card shows it being made and this card lists it once made.
* ``POST|GET /cases/<ref>/letters/preview`` (staff, manager): the letter as HTML in a new page, under the
  same strict CSP as every page (its stylesheet, logo and fonts come from ``/letters/assets/``).
* ``GET /cases/<ref>/letters/<id>.pdf`` (every role: the letters are the case file, and the auditor reads
  it): the stored PDF, checked against its SHA-256, with an audit event for every download.

Bad input is 400, a role that may not is 403, a letter that does not fit the case is 409 with the reason.
"""

from __future__ import annotations

import io

from flask import Blueprint, abort, g, redirect, request, send_file, send_from_directory, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from dsr.auth.access import READERS, WRITERS, roles_required
from dsr.cases.errors import CaseError, InvalidInput, NotAllowed
from dsr.cases.models import Case
from dsr.cases.queries import case_or_404
from dsr.extensions import db
from dsr.jobs import runner
from dsr.jobs.flash import flash_dispatched
from dsr.jobs.labels import KIND_LABELS
from dsr.letters import operations, render
from dsr.letters.forms import LetterForm
from dsr.letters.kinds import KINDS, LANGUAGE_LABELS, LetterKind, check_fits, parse_kind, parse_language
from dsr.letters.models import IssuedLetter
from dsr.timeutil import now, today

bp = Blueprint("letters", __name__)
KIND_LABELS[operations.JOB_KIND] = _l("Letter")


def _fitting(case: Case) -> list[tuple[LetterKind, list[str]]]:
    """The kinds that fit the case now, each with the languages it has a text in."""
    fitting = []
    for kind in KINDS:
        try:
            check_fits(case, kind)
        except CaseError:
            continue
        fitting.append((kind, [lang for lang in ("nl", "en", "fr") if render.available(kind, lang)]))
    return fitting


@bp.app_context_processor
def _card_helpers():
    return {"letters_card": letters_card}


def letters_card(case: Case) -> dict:
    fitting = _fitting(case)
    form = LetterForm(formdata=None, language=case.language.value,
                      kind=fitting[0][0].value if fitting else None)
    form.kind.choices = [(k.value, f"{KINDS[k].label} ({', '.join(langs)})") for k, langs in fitting]
    return {"letters": operations.letters_of(case), "form": form, "can_write": current_user.can_write,
            "kind_labels": {k: s.label for k, s in KINDS.items()}, "language_labels": LANGUAGE_LABELS}


def _chosen(case: Case):
    """The kind and language posted (or given in the query), 400 when either is not one we know."""
    values = request.form if request.method == "POST" else request.args
    try:
        kind = parse_kind(values.get("kind"))
        language = parse_language(values.get("language") or case.language.value)
    except InvalidInput:
        abort(400)
    return kind, language


def _annex() -> bool:
    """The form's "the subject asked for the full list of records" box (issue 14.3)."""
    return request.form.get("annex") in ("1", "y", "on", "true")


@bp.post("/cases/<reference>/letters")
@roles_required(*WRITERS)
def issue(reference: str):
    # The global CSRFProtect has checked the form's token before this runs.
    from dsr.cases.page import render_case

    case = case_or_404(reference)
    kind, language = _chosen(case)
    try:
        job = operations.request_letter(case, kind, language, actor=current_user._get_current_object(), now=now(),
                                        annex=_annex())
        db.session.commit()
    except NotAllowed:
        db.session.rollback()
        abort(403)
    except CaseError as exc:
        db.session.rollback()
        return render_case(case, error=str(exc), status=exc.status)
    runner.dispatch(job)
    flash_dispatched(job, done=_("The letter was issued; it is listed under Letters."),
                     waiting=_("The letter is being made; it appears under Letters when it is ready."))
    return redirect(url_for("cases.detail", reference=reference, _anchor="letters"), code=303)


@bp.post("/cases/<reference>/letters/preview")
@roles_required(*WRITERS)
def preview(reference: str):
    """POST only, with the form's CSRF token: an access or portability preview reads Harmony's systems and
    is audited, which a link on another site must not be able to set off."""
    from dsr.cases.page import render_case

    case = case_or_404(reference)
    kind, language = _chosen(case)
    g.no_store = True
    try:
        html = operations.preview_html(case, kind, language, today=today(),
                                       assets=url_for("letters.asset", filename=""),
                                       signatory=current_user.name, annex=_annex())
    except CaseError as exc:
        db.session.rollback()
        return render_case(case, error=str(exc), status=exc.status)
    if operations.record_preview(case, kind, language, actor=current_user._get_current_object(), now=now()):
        db.session.commit()
    return html


@bp.get("/cases/<reference>/letters/<int:letter_id>.pdf")
@roles_required(*READERS)
def download(reference: str, letter_id: int):
    case = case_or_404(reference)
    letter = db.session.get(IssuedLetter, letter_id)
    if letter is None or letter.case_id != case.id:
        abort(404)
    try:
        data = operations.check_intact(letter)
    except FileNotFoundError:
        abort(410)
    except CaseError:
        abort(500)
    operations.record_download(letter, actor=current_user._get_current_object(), now=now())
    db.session.commit()
    g.no_store = True
    return send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=letter.download_name)


@bp.get("/letters/assets/<path:filename>")
@roles_required(*WRITERS)
def asset(filename: str):
    """The letters' stylesheet, logo and fonts, for the HTML preview (the PDF reads them from disk)."""
    return send_from_directory(render.ASSETS_DIR, filename)
