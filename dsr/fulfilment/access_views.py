"""The preview of an access answer (Art. 15; issue 4, item 6): the compiled content as a page.

``GET /cases/<ref>/access?lang=nl|en|fr`` shows what :func:`dsr.fulfilment.access.compile_access` compiles
for the case's newest, confirmed lookup, in the case's language by default. The page shows the subject's
personal data read from Harmony's systems, so every view is audited (``access.previewed``) and the response
is not cached. Read-only otherwise: nothing is written to the sources.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, g, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from dsr.audit.operations import record
from dsr.auth.access import READERS, roles_required
from dsr.cases.errors import CaseError
from dsr.cases.queries import case_or_404
from dsr.datamap.sources import DataMapError, load_sources
from dsr.domain.enums import LookupMatch, Right
from dsr.extensions import db
from dsr.fulfilment.access import compile_access
from dsr.fulfilment.lookup_ops import latest_lookup
from dsr.fulfilment.statement import LANGUAGES
from dsr.timeutil import now

bp = Blueprint("access", __name__)

LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English", "fr": "Français"}


@bp.route("/cases/<reference>/access")
@roles_required(*READERS)
def preview(reference: str):
    case = case_or_404(reference)
    if Right.ACCESS not in case.right_values:
        abort(404)
    lang = request.args.get("lang") or case.language.value
    if lang not in LANGUAGES:
        abort(400)
    g.no_store = True
    lookup = latest_lookup(case)
    page = {"case": case, "lang": lang, "languages": LANGUAGE_NAMES, "content": None, "error": None}
    if lookup is None or lookup.match != LookupMatch.CONFIRMED:
        page["error"] = _("Search Harmony's systems and confirm that the records found are this person's first: "
                          "only then can their data be compiled.")
        return render_template("fulfilment/access.html", **page), 409
    try:
        content = compile_access(case, lookup, language=lang, sources=load_sources(current_app.config))
    except CaseError as exc:
        return render_template("fulfilment/access.html", **{**page, "error": str(exc)}), exc.status
    except (DataMapError, sa.exc.SQLAlchemyError) as exc:
        db.session.rollback()
        message = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        page["error"] = _("Harmony's systems could not be read: %(error)s", error=message[0] if message else "")
        return render_template("fulfilment/access.html", **page), 503
    record("access.previewed", actor=current_user._get_current_object(), now=now(), case=case,
           after={"lookup_id": lookup.id, "language": lang, "records": content.record_count})
    db.session.commit()
    return render_template("fulfilment/access.html", **{**page, "content": content})
