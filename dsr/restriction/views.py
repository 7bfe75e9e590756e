"""The restriction card on the case page and its actions (Art. 18).

The actions post to ``/cases/<ref>/restriction/<action>`` and follow :mod:`dsr.objection.views`: validate the
form, call one operation, commit once; 400 for bad input, 403 for a role that may not, 409 for a rule or a
stale page, each time with the case page shown again and the reason.

* ``ground``: record a ground of Art. 18(1) (staff or privacy manager);
* ``apply``: restrict the records of the confirmed search (staff or privacy manager);
* ``restricted``: a person says how they restricted a record dsr cannot mark (staff or privacy manager);
* ``decide_lift``: decide to lift, with the reason the subject is told (privacy manager);
* ``lift``: lift, once the lifting notice was issued (privacy manager);
* ``lifted``: a person says how they lifted a record's restriction (staff or privacy manager).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, g
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from dsr.auth.models import User
from dsr.cases.card_actions import add_card_routes
from dsr.cases.errors import InvalidInput
from dsr.cases.models import Case
from dsr.domain.enums import LookupMatch, LookupStatus, Right, Role
from dsr.domain.restriction import lift_blocked_by
from dsr.extensions import db
from dsr.fulfilment.lookup_ops import latest_lookup
from dsr.restriction import operations
from dsr.restriction.forms import FORMS, GROUND_LABELS, prefix
from dsr.restriction.models import RestrictedRecord, RestrictedStatus
from dsr.texts.models import TextPurpose
from dsr.texts.picker import chosen_for, in_case_language, subject_text_field
from dsr.timeutil import interface_language, today

bp = Blueprint("restriction", __name__)


def _forms(failed) -> dict:
    forms = {action: cls(prefix=prefix(action), formdata=None) for action, cls in FORMS.items()}
    if failed is not None:
        forms[failed[0]] = failed[1]
    return forms


@bp.app_context_processor
def _card_helpers():
    return {"restriction_card": restriction_card}


def _marker_label(record: RestrictedRecord, language: str) -> str:
    """The field that marks a record restricted, as the data map labels it (its key when it no longer has it)."""
    from dsr.datamap.sources import DataMapError, load_sources

    try:
        return load_sources()[record.source].collection(record.collection).field(record.marker_field).label(language)
    except (DataMapError, KeyError):
        return record.marker_field or ""


def restriction_card(case: Case) -> dict:
    """What the card shows: the grounds, the records restricted and how, the lift and whether the subject
    was told, and the forms."""
    if Right.RESTRICTION not in case.right_values:
        return {"applies": False}
    failed = g.get("restriction_failed")
    lookup = latest_lookup(case)
    records = operations.records_of(case)
    lift = operations.lift_of(case)
    states = operations.ground_states(case)
    holding = {s.value for s in lift_blocked_by(states)}
    is_manager = current_user.role is Role.PRIVACY_MANAGER
    liftable = case.state in operations._LIFTABLE_STATES
    in_force = [r for r in records if r.in_force]
    # Restricting again only helps when the newest search found records not yet restricted for this case.
    done = {(r.source, r.collection, operations.record_key(r.primary_key)) for r in records}
    unrestricted = lookup is not None and any(
        (f.source, f.collection, operations.record_key(f.primary_key)) not in done for f in lookup.records)
    language = interface_language()
    forms = _forms(failed)
    return {
        "applies": True,
        # What the lifting notice quotes, in the case's language (issue 14.2), written with the decision.
        "lift_text": subject_text_field(case, TextPurpose.RESTRICTION_LIFT, "lift", forms["decide_lift"].subject_text),
        "lift_text_chosen": chosen_for() == "lift",
        "place": lambda r: " · ".join([*operations.place_names(r.source, r.collection, language),
                                       *([r.key_text] if r.key_text else [])]),
        "marker": lambda r: _marker_label(r, language),
        "grounds": operations.grounds_of(case),
        "ground_labels": {gr.value: str(label) for gr, label in GROUND_LABELS.items()},
        "holding": holding,
        "records": records,
        "lift": lift,
        "notice_issued": operations.lifting_notice_issued(case, lift),
        "confirmed": lookup is not None and (lookup.match == LookupMatch.CONFIRMED
                                             or lookup.status is LookupStatus.NOTHING_FOUND),
        "can_apply": unrestricted or (not records and bool(lookup and lookup.manual_tasks)),
        "forms": forms,
        "failed": failed[0] if failed else None,
        "can_write": current_user.can_write,
        "is_manager": is_manager,
        "is_open": case.state.is_open,
        "can_decide_lift": is_manager and liftable and lift is None and bool(in_force) and not holding,
        "can_lift": is_manager and liftable and lift is not None and any(
            r.status in (RestrictedStatus.RESTRICTED, RestrictedStatus.PENDING) for r in records),
        "liftable": liftable,
    }


def _record(case: Case, form) -> RestrictedRecord:
    record = db.session.get(RestrictedRecord, form.record_id.data)
    if record is None or record.case_id != case.id:
        raise InvalidInput(_("Unknown record."), "record_id")
    return record


def _ground(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    operations.record_ground(case, form.ground.data, linked_reference=form.linked_reference.data or "",
                             explanation=form.explanation.data or "", actor=actor, now=at)
    return "success", _("Ground recorded.")


def _apply(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    outcome = operations.apply_restriction(case, actor=actor, now=at, today=today())
    parts = [ngettext("%(num)d record restricted", "%(num)d records restricted", len(outcome.done)),
             ngettext("%(num)d task for a person", "%(num)d tasks for a person", len(outcome.tasks))]
    if outcome.failed:
        return "danger", _("%(done)s; %(sources)s could not be changed and nothing was changed there: restrict "
                           "again to finish.", done=", ".join(parts), sources=", ".join(sorted(outcome.failed)))
    return "success", ", ".join(parts) + "."


def _restricted(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    operations.mark_restricted(_record(case, form), note=form.note.data, actor=actor, now=at)
    return "success", _("Recorded as restricted.")


def _decide_lift(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    operations.decide_lift(case, reason=form.reason.data, actor=actor, now=at,
                           subject_texts=in_case_language(case, form.subject_text))
    return "success", _("Lifting decided. Issue the letter that tells the subject beforehand (Art. 18(3)); then "
                        "lift the restriction.")


def _lift(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    outcome = operations.lift_restriction(case, actor=actor, now=at, today=today())
    if outcome.failed:
        return "danger", _("Lifted in part: %(sources)s could not be changed and nothing was changed there; lift "
                           "again to finish.", sources=", ".join(sorted(outcome.failed)))
    return "success", ngettext("Restriction lifted: %(num)d record; ", "Restriction lifted: %(num)d records; ",
                               len(outcome.done)) + ngettext(
        "%(num)d task for a person.", "%(num)d tasks for a person.", len(outcome.tasks))


def _lifted(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    operations.mark_lifted(_record(case, form), note=form.note.data, actor=actor, now=at)
    return "success", _("Recorded as lifted.")


ACTIONS: dict[str, Callable[[Case, object, User, datetime], tuple[str, str]]] = {
    "ground": _ground, "apply": _apply, "restricted": _restricted, "decide_lift": _decide_lift, "lift": _lift,
    "lifted": _lifted,
}


add_card_routes(bp, "restriction", forms=FORMS, actions=ACTIONS, prefix=prefix, failed_attr="restriction_failed")
