"""The "Rectification" card on the case page and its actions (Art. 16). The recipients to notify of the
corrections (Art. 19) have a card of their own, :mod:`dsr.notices.views`.

The actions post to ``/cases/<ref>/rectification/<action>`` and follow :mod:`dsr.fulfilment.views`: validate
the form, call one operation, commit once; 400 for bad input, 403 for a role that may not, 409 for a rule or
a stale page, each time with the case page shown again and the reason. The card is drawn by
``templates/rectification/_card.html``, which asks :func:`rectification_card` for what it shows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from dsr.auth.models import User
from dsr.cases.card_actions import add_card_routes
from dsr.cases.errors import InvalidInput
from dsr.cases.models import Case
from dsr.cases.obligations import open_obligations
from dsr.datamap import catalogue
from dsr.datamap.sources import DataMapError, Source, SourceKind
from dsr.domain.enums import CLOSED_STATES, LookupMatch, Right, Role
from dsr.extensions import db
from dsr.fulfilment.lookup_ops import latest_lookup
from dsr.fulfilment.models import FoundRecord
from dsr.rectification import operations as ops
from dsr.rectification.forms import FORMS, prefix
from dsr.rectification.models import Correction, CorrectionStatus
from dsr.rectification.values import correctable_fields, shown
from dsr.timeutil import interface_language, today

bp = Blueprint("rectification", __name__)

STATUS_LABELS = {CorrectionStatus.PENDING: _l("waiting"), CorrectionStatus.APPLIED: _l("applied"),
                 CorrectionStatus.REFUSED: _l("refused")}


def _sources() -> dict[str, Source]:
    """The data map, read once per process and configuration (the case page is read far more than changed)."""
    try:
        return catalogue.sources()
    except DataMapError:
        return {}  # a broken data map is reported by the operations themselves; here, show keys


def _record_choices(case: Case, sources: dict[str, Source]) -> dict[str, list[tuple[str, str]]]:
    """``{record label: [(found id/field, field)]}`` for the correctable fields of the confirmed records."""
    lookup = latest_lookup(case)
    if lookup is None or lookup.match != LookupMatch.CONFIRMED:
        return {}
    groups: dict[str, list[tuple[str, str]]] = {}
    for found in lookup.records:
        source = sources.get(found.source)
        if source is None or source.kind is not SourceKind.SQL:
            continue
        try:
            coll = source.collection(found.collection)
        except KeyError:
            continue
        fields = correctable_fields(coll)
        if fields:
            # Named as the interface's language names them, not by table and column (issue 16, item 9).
            language = interface_language()
            label = f"{source.display_name(language)} · {coll.display_name(language)} · {found.key_text}"
            groups[label] = [(f"{found.id}/{f.name}", f.label(language)) for f in fields]
    return groups


def _place(sources: dict[str, Source], correction: Correction, language: str) -> tuple[str, str]:
    """A correction's collection and field as ``language`` names them (as stored when the data map no longer
    has them)."""
    try:
        coll = sources[correction.source].collection(correction.collection)
        return coll.display_name(language), coll.field(correction.field).label(language)
    except KeyError:
        return correction.collection, correction.field


def _manual_choices(sources: dict[str, Source]) -> dict[str, list[tuple[str, str]]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    language = interface_language()
    for source in sorted(sources.values(), key=lambda s: s.name):
        if source.kind is SourceKind.MANUAL:
            for coll in source.collections:
                fields = correctable_fields(coll)
                if fields:
                    label = f"{source.display_name(language)} · {coll.display_name(language)}"
                    groups[label] = [(f"{source.key}/{coll.name}/{f.name}", f.label(language)) for f in fields]
    return groups


# -- the card ---------------------------------------------------------------------------------------------

@bp.app_context_processor
def _card_helpers():
    return {"rectification_card": rectification_card}


def rectification_card(case: Case) -> dict:
    """What the card shows: the corrections with before/after and their state, the forms to propose, and what
    still stands open."""
    if Right.RECTIFICATION not in case.right_values:
        return {"show": False}
    sources = _sources()
    failed = g.get("rect_failed")
    forms = {action: cls(prefix=prefix(action), formdata=None) for action, cls in FORMS.items()}
    if failed is not None:
        forms[failed[0]] = failed[1]
    records = _record_choices(case, sources)
    # One form per item on the card; only the one that was refused keeps what was typed.
    blank = {action: FORMS[action](prefix=prefix(action), formdata=None) for action in ("mark_applied", "refuse")}
    language = interface_language()
    return {
        "show": True,
        "corrections": ops.corrections_of(case),
        "obligations": open_obligations(case, features=("rectification",)),
        "lookup_confirmed": bool(records),
        "record_groups": records,
        "manual_groups": _manual_choices(sources),
        "blank_mark_applied": blank["mark_applied"],
        "blank_refuse": blank["refuse"],
        "source_names": {key: s.display_name(language) for key, s in sources.items()},
        "place": lambda c: _place(sources, c, language),
        "status_labels": STATUS_LABELS,
        "shown": shown,
        "forms": forms,
        "failed": failed[0] if failed else None,
        "failed_id": failed[1].correction_id.data if failed and hasattr(failed[1], "correction_id") else None,
        "can_write": current_user.can_write,
        "is_manager": current_user.role is Role.PRIVACY_MANAGER,
        "is_open": case.state not in CLOSED_STATES,
    }


# -- actions ----------------------------------------------------------------------------------------------

def _correction(case: Case, form) -> Correction:
    correction = db.session.get(Correction, form.correction_id.data)
    if correction is None or correction.case_id != case.id:
        raise InvalidInput(_("Unknown correction."), "correction_id")
    return correction


def _propose(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    found_id, _sep, field_name = (form.target.data or "").partition("/")
    found = db.session.get(FoundRecord, int(found_id)) if found_id.isdigit() else None
    if found is None or found.lookup.case_id != case.id or not field_name:
        raise InvalidInput(_("Choose the record and the field to correct."), "target")
    ops.propose_correction(case, found, field_name, form.after.data, note=form.note.data or "", actor=actor,
                           now=at, today=today(), expected_version=form.version.data)
    return "success", _("Correction recorded with the value the system holds now. Apply it, or the privacy "
                        "manager refuses it with a reason.")


def _propose_manual(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    parts = (form.target.data or "").split("/")
    if len(parts) != 3 or not all(parts):
        raise InvalidInput(_("Choose the system and the field to correct."), "target")
    ops.propose_manual_correction(case, *parts, form.after.data, before=form.before.data or "",
                                  note=form.note.data or "", actor=actor, now=at, today=today(),
                                  expected_version=form.version.data)
    return "success", _("Correction recorded and a task created: a person makes it and marks it applied here.")


def _apply(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    ops.apply_correction(_correction(case, form), actor=actor, now=at, expected_version=form.version.data)
    return "success", _("Correction applied: the system now holds the corrected value.")


def _apply_all(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    pending = [c for c in ops.corrections_of(case) if c.is_pending and c.source_kind is SourceKind.SQL]
    if not pending:
        raise InvalidInput(_("No correction is waiting to be written to a system."))
    outcome = ops.apply_corrections(case, pending, actor=actor, now=at, expected_version=form.version.data)
    if outcome.failed and not outcome.applied:
        raise InvalidInput("; ".join(outcome.failed.values()))
    message = ngettext("%(num)d correction applied.", "%(num)d corrections applied.", len(outcome.applied))
    if outcome.failed:
        return "warning", message + " " + _("Not applied: %(problems)s", problems="; ".join(outcome.failed.values()))
    return "success", message


def _refuse(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    ops.refuse_correction(_correction(case, form), reason=form.reason.data, actor=actor, now=at,
                          expected_version=form.version.data)
    return "success", _("Correction refused; the reason is recorded for the letter.")


def _mark_applied(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    ops.mark_applied(_correction(case, form), note=form.note.data, actor=actor, now=at,
                     expected_version=form.version.data)
    return "success", _("Correction recorded as applied.")


def _cancel(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    ops.cancel_correction(_correction(case, form), actor=actor, now=at, expected_version=form.version.data)
    return "success", _("Correction cancelled.")


# Each returns the flash (category, message) for the person; all of them go through one operation.
ACTIONS: dict[str, Callable[[Case, object, User, datetime], tuple[str, str]]] = {
    "propose": _propose, "propose_manual": _propose_manual, "apply": _apply, "apply_all": _apply_all,
    "refuse": _refuse, "mark_applied": _mark_applied, "cancel": _cancel,
}


add_card_routes(bp, "rectification", forms=FORMS, actions=ACTIONS, prefix=prefix, failed_attr="rect_failed")
