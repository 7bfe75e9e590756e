"""The preview of an access answer (Art. 15; issue 4, item 6), and the review of other people's data in it
(Art. 15(4); issue 18, item 4).

``POST /cases/<ref>/access`` (with the form's CSRF token, ``lang=nl|en|fr``) shows what
:func:`dsr.fulfilment.access.compile_access` compiles for the case's newest, confirmed lookup, in the case's
language by default. The page shows the subject's personal data read from Harmony's systems, so each
showing is audited (``access.previewed``, written by :func:`dsr.fulfilment.redaction_ops.preview_access`)
and it is a POST: a link on another site cannot set it off (issue 12, item 6). The response is not cached.

``POST /cases/<ref>/access/redactions`` records a decision on one value that may hold other people's data
(staff prepare, the privacy manager decides; :func:`dsr.fulfilment.redaction_ops.decide`) and shows the
preview again at that value. Nothing is written to the sources.
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, g, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from dsr.auth.access import READERS, WRITERS, roles_required
from dsr.cases.errors import CaseError
from dsr.cases.queries import case_or_404
from dsr.datamap.sources import DataMapError, load_sources
from dsr.domain.enums import LookupMatch, RedactionChoice, RedactionGround, Right, Role
from dsr.extensions import db
from dsr.fulfilment import redaction
from dsr.fulfilment.lookup_ops import latest_lookup
from dsr.fulfilment.redaction_ops import decide, preview_access
from dsr.fulfilment.statement import LANGUAGES
from dsr.timeutil import now

bp = Blueprint("access", __name__)

LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English", "fr": "Français"}


def _case_and_language(reference: str):
    case = case_or_404(reference)
    if Right.ACCESS not in case.right_values:
        abort(404)
    lang = request.form.get("lang") or case.language.value
    if lang not in LANGUAGES:
        abort(400)
    g.no_store = True
    return case, lang


def _page(case, lang, *, status: int = 200, error: str | None = None, focus: str | None = None):
    """The preview, compiled and audited now; or the page with ``error`` and nothing read."""
    page = {"case": case, "lang": lang, "languages": LANGUAGE_NAMES, "content": None, "error": error,
            "focus": focus, "can_decide": current_user.role is Role.PRIVACY_MANAGER,
            "can_prepare": current_user.role in WRITERS,
            "choices": list(RedactionChoice), "grounds": list(RedactionGround),
            "CHOICE_LABELS": redaction.CHOICE_LABELS, "GROUND_LABELS": redaction.GROUND_LABELS,
            "decisions": {}, "anchor_for": anchor_for, "redaction_key": redaction.key_text}
    lookup = latest_lookup(case)
    if lookup is None or lookup.match != LookupMatch.CONFIRMED:
        page["error"] = _("Search Harmony's systems and confirm that the records found are this person's first: "
                          "only then can their data be compiled.")
        return render_template("fulfilment/access.html", **page), 409
    try:
        content = preview_access(case, lookup, language=lang, actor=current_user._get_current_object(), now=now(),
                                 sources=load_sources(current_app.config))
    except CaseError as exc:
        db.session.rollback()
        return render_template("fulfilment/access.html", **{**page, "error": str(exc)}), exc.status
    except (DataMapError, sa.exc.SQLAlchemyError) as exc:
        db.session.rollback()
        message = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        page["error"] = _("Harmony's systems could not be read: %(error)s", error=message[0] if message else "")
        return render_template("fulfilment/access.html", **page), 503
    db.session.commit()
    page["decisions"] = redaction.decisions(lookup)
    return render_template("fulfilment/access.html", **{**page, "content": content, "lookup": lookup}), status


def anchor_for(source: str, collection: str, key, field: str) -> str:
    """The page anchor of one flagged value (an id of safe characters, whatever the key holds)."""
    digest = hashlib.sha1(f"{source}|{collection}|{redaction.key_text(key)}|{field}".encode(), usedforsecurity=False)
    return f"review-{digest.hexdigest()[:12]}"


@bp.post("/cases/<reference>/access")
@roles_required(*READERS)
def preview(reference: str):
    case, lang = _case_and_language(reference)
    return _page(case, lang)


@bp.post("/cases/<reference>/access/redactions")
@roles_required(*WRITERS)
def decide_value(reference: str):
    """One decision on a flagged value; the preview again, at that value (the error on it if refused)."""
    case, lang = _case_and_language(reference)
    form = request.form
    lookup = latest_lookup(case)
    focus = form.get("anchor")
    if lookup is None or str(lookup.id) != form.get("lookup_id", ""):
        return _page(case, lang, status=409, focus=focus, error=_(
            "The records were searched again meanwhile: review the values of the newest search."))
    try:
        key = json.loads(form.get("key", ""))
        choice = RedactionChoice(form.get("choice", ""))
        ground = RedactionGround(form["ground"]) if form.get("ground") else None
        if not isinstance(key, dict):
            raise ValueError(key)
    except (ValueError, KeyError):
        return _page(case, lang, status=400, focus=focus,
                     error=_("Choose release, withhold the marked passages or withhold it all, with a ground."))
    try:
        decide(case, lookup, source=form.get("source", ""), collection=form.get("collection", ""), key=key,
               field=form.get("field", ""), choice=choice, ground=ground,
               passages=form.get("passages", "").splitlines(), note=form.get("note"),
               actor=current_user._get_current_object(), now=now(), sources=load_sources(current_app.config))
    except CaseError as exc:
        db.session.rollback()
        return _page(case, lang, status=exc.status, error=str(exc), focus=focus)
    except (DataMapError, sa.exc.SQLAlchemyError) as exc:  # the source could not be read: nothing decided
        db.session.rollback()
        message = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        return _page(case, lang, status=503, focus=focus, error=_(
            "Harmony's systems could not be read: %(error)s", error=message[0] if message else ""))
    return _page(case, lang, focus=focus)  # commits the decision with the audited preview

