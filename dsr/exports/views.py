"""The "Exports" card on the case page of an access or portability request: make one, list them, download.

Making one posts to ``/cases/<ref>/exports`` (staff and managers, CSRF-checked): the job is queued, the
request commits, and the job is dispatched (in-process without Redis, so the export exists when the page
comes back; with Redis the jobs card shows its progress). Downloading is for staff and privacy managers
only, never the auditor (the file is the subject's data, not the case file), and is audited. An expired
export answers 410 Gone.
"""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from dsr.auth.access import WRITERS, roles_required
from dsr.cases.errors import CaseError, NotAllowed
from dsr.cases.models import Case
from dsr.cases.queries import case_or_404
from dsr.domain.enums import CLOSED_STATES, LookupMatch
from dsr.exports import operations
from dsr.exports.forms import ExportForm
from dsr.exports.models import Export
from dsr.extensions import db
from dsr.filestore import send
from dsr.fulfilment.lookup_ops import shown_lookups
from dsr.jobs import runner
from dsr.jobs.flash import flash_dispatched
from dsr.timeutil import now

bp = Blueprint("exports", __name__)


@bp.app_context_processor
def _card_helpers():
    return {"exports_card": exports_card}


def exports_card(case: Case, form: ExportForm | None = None) -> dict:
    """What the card shows: the case's exports, and the form when a new one can be made."""
    kinds = operations.exportable_kinds(case)
    lookup = next(iter(shown_lookups(case)), None) if kinds else None
    form = form or g.get("export_form") or ExportForm(formdata=None)
    form.kind.choices = [(k.value, operations.KIND_NAMES[k]) for k in kinds]
    return {
        "show": bool(kinds),
        "exports": operations.case_exports(case) if kinds else [],
        "form": form,
        "confirmed": lookup is not None and lookup.match == LookupMatch.CONFIRMED,
        "can_write": current_user.can_write and case.state not in CLOSED_STATES,
        "can_download": current_user.role in WRITERS,
        "now": now(),
        "kind_names": operations.KIND_NAMES,
    }


@bp.post("/cases/<reference>/exports")
@roles_required(*WRITERS)
def request_export(reference: str):
    from dsr.cases.page import render_case  # the case page, shown again with the reason on error

    case = case_or_404(reference)
    form = ExportForm()
    form.kind.choices = [(k.value, operations.KIND_NAMES[k]) for k in operations.exportable_kinds(case)]
    if not form.validate_on_submit():
        g.export_form = form
        return render_case(case, error=_("Nothing was made: choose a kind of export this case asked for."),
                           status=400)
    try:
        job = operations.request_export(case, form.kind.data, actor=current_user, now=now(),
                                        language=form.language.data or None)
        db.session.commit()
    except NotAllowed:
        db.session.rollback()
        abort(403)
    except CaseError as exc:
        db.session.rollback()
        g.export_form = form
        return render_case(case, error=str(exc), status=exc.status)
    runner.dispatch(job)
    flash_dispatched(job, done=_("The export was made; it is listed under Exports."),
                     waiting=_("The export is being made; it appears under Exports when it is ready."))
    return redirect(url_for("cases.detail", reference=reference, _anchor="exports"), code=303)


@bp.get("/cases/<reference>/exports/<int:export_id>/download")
@roles_required(*WRITERS)
def download(reference: str, export_id: int):
    case = case_or_404(reference)
    export = db.session.get(Export, export_id)
    if export is None or export.case_id != case.id:
        abort(404)
    try:
        key = operations.open_download(export, actor=current_user, now=now())
    except NotAllowed:
        abort(403)
    except operations.ExportGone:
        db.session.rollback()
        abort(410)
    db.session.commit()
    g.no_store = True
    return send(key, mimetype="application/zip", download_name=export.filename, conditional=False, etag=False)
