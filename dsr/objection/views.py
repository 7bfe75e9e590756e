"""The objection card on the case page and its actions (Art. 21).

The actions post to ``/cases/<ref>/objection/<action>`` and follow :mod:`dsr.fulfilment.views`: validate
the form, call one operation, commit once; 400 for bad input, 403 for a role that may not, 409 for a rule
or a stale page, each time with the case page shown again and the reason.

* ``stop``: stop direct marketing (staff or privacy manager; no approval, Art. 21(3));
* ``record``: record an objection under Art. 21(1) with the subject's grounds (staff or privacy manager);
* ``decide``: the balancing decision on a recorded objection (privacy manager only).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from flask import Blueprint, g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from dsr.auth.models import User
from dsr.cases.card_actions import add_card_routes
from dsr.cases.errors import InvalidInput
from dsr.cases.models import Case
from dsr.datamap import catalogue
from dsr.domain.enums import CLOSED_STATES, LookupMatch, Right, Role
from dsr.extensions import db
from dsr.fulfilment.lookup_ops import latest_lookup
from dsr.objection import balancing, operations
from dsr.objection.forms import EFFECT_LABELS, FORMS, OUTCOME_LABELS, prefix
from dsr.objection.models import MarketingStop, ObjectionDecision, ObjectionOutcome
from dsr.suppression import operations as suppression
from dsr.suppression.identifiers import IdentifierKind
from dsr.timeutil import interface_language, today

bp = Blueprint("objection", __name__)

KIND_LABELS = {IdentifierKind.EMAIL: _l("e-mail"), IdentifierKind.PHONE: _l("telephone"),
               IdentifierKind.CUSTOMER_NUMBER: _l("customer number")}


def _forms(failed) -> dict:
    forms = {action: cls(prefix=prefix(action), formdata=None) for action, cls in FORMS.items()}
    if failed is not None:
        forms[failed[0]] = failed[1]
    forms["record"].processing.choices = [("", "—")] + [(p.key, p.name) for p in _choices().values()]
    return forms


def _choices() -> dict[str, balancing.Processing]:
    """The objectable processing named in the interface's language, read once per process, data map and
    language (parsing the YAML is not free)."""
    language = interface_language()
    return catalogue.derived(f"objection.choices.{language}",
                             lambda: balancing.processing_choices(language=language))


# -- the card ---------------------------------------------------------------------------------------------

@bp.app_context_processor
def _card_helpers():
    return {"objection_card": objection_card}


def objection_card(case: Case) -> dict:
    """What the card shows: the marketing stops with what they removed, whether the subject's identifiers
    are on the suppression list now, the Art. 21(1) objections, and the forms."""
    if Right.OBJECTION not in case.right_values:
        return {"applies": False}  # the card is drawn for objection cases only
    failed = g.get("objection_failed")
    lookup = latest_lookup(case)
    identifiers = suppression.subject_identifiers(case, lookup)
    on_list = suppression.listed(identifiers) if identifiers else {}
    stops = list(db.session.execute(sa.select(MarketingStop).where(MarketingStop.case_id == case.id).order_by(
        MarketingStop.id.desc())).scalars())
    kinds = [str(KIND_LABELS[k]) for k in sorted(on_list, key=lambda k: k.value)]
    confirmed = lookup is not None and lookup.match == LookupMatch.CONFIRMED
    suppressed = bool(on_list) and all(on_list.values())
    # Stopping again only helps after a new confirmed search, a failed source, or new identifiers.
    done = bool(stops) and stops[0].complete and suppressed and \
        stops[0].lookup_id == (lookup.id if confirmed else None)
    return {
        "applies": True,
        "stops": stops,
        "confirmed": confirmed,
        "can_stop": not done,
        "lookup": lookup,
        "kinds": kinds,
        "kind_labels": {k.value: str(label) for k, label in KIND_LABELS.items()},
        "suppressed": suppressed,
        "partly": any(on_list.values()) and not all(on_list.values()),
        "objections": balancing.objections_for(case),
        # The processing as the interface's language names it; one no longer in the data map as recorded.
        "processing_names": {key: p.name for key, p in _choices().items()},
        "outcome_labels": {o.value: label for o, label in OUTCOME_LABELS.items()},
        "effect_labels": {e.value: label for e, label in EFFECT_LABELS.items()},
        "forms": _forms(failed),
        # One decide form per pending objection; only the one that was refused keeps what was typed.
        "forms_blank_decide": FORMS["decide"](prefix=prefix("decide"), formdata=None),
        "failed": failed[0] if failed else None,
        "can_write": current_user.can_write,
        "is_manager": current_user.role is Role.PRIVACY_MANAGER,
        "is_open": case.state not in CLOSED_STATES,
    }


# -- actions ----------------------------------------------------------------------------------------------

def _stop(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    stop = operations.stop_direct_marketing(case, actor=actor, now=at)
    if stop.failed:
        return "danger", _("Direct marketing is stopped and the person is on the suppression list, but removing "
                           "the subscriptions failed in %(sources)s and was undone there; stop again to finish.",
                           sources=", ".join(sorted(stop.failed)))
    if stop.lookup_id is None:
        return "warning", _("The person is on the suppression list. No subscriptions were removed: confirm a "
                            "search of Harmony's systems and stop again to remove them.")
    return "success", ngettext("Direct marketing stopped: %(num)d subscription removed and the person is on the "
                               "suppression list.",
                               "Direct marketing stopped: %(num)d subscriptions removed and the person is on the "
                               "suppression list.", stop.removed_count)


def _record(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    balancing.record_objection(case, processing=form.processing.data, subject_grounds=form.subject_grounds.data,
                               actor=actor, now=at)
    return "success", _("Objection recorded. The privacy manager decides it after balancing the interests.")


def _decide(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    objection = db.session.get(ObjectionDecision, form.objection_id.data)
    if objection is None or objection.case_id != case.id:
        raise InvalidInput(_("Unknown objection."), "objection_id")
    decided = balancing.decide_objection(
        objection, outcome=ObjectionOutcome(form.outcome.data), reasons=form.reasons.data,
        compelling_grounds=form.compelling_grounds.data, effect=form.effect.data or None, actor=actor, now=at,
        today=today())
    if decided.outcome is ObjectionOutcome.UPHELD:
        return "success", _("Objection upheld; a task says what to do with the processing.")
    return "success", _("Objection rejected with reasons: the reply refuses this part and names the complaint "
                        "route.")


ACTIONS: dict[str, Callable[[Case, object, User, datetime], tuple[str, str]]] = {
    "stop": _stop, "record": _record, "decide": _decide,
}


def _prepare(action: str, form) -> None:
    if action == "record":
        form.processing.choices = [(p.key, p.name) for p in _choices().values()]


add_card_routes(bp, "objection", forms=FORMS, actions=ACTIONS, prefix=prefix, failed_attr="objection_failed",
                prepare=_prepare)
