"""The "Rectification and recipients" card on the case page and its actions (Art. 16 and 19).

The actions post to ``/cases/<ref>/rectification/<action>`` and follow :mod:`dsr.fulfilment.views`: validate
the form, call one operation, commit once; 400 for bad input, 403 for a role that may not, 409 for a rule or
a stale page, each time with the case page shown again and the reason. The card is drawn by
``templates/rectification/_card.html``, which asks :func:`rectification_card` for what it shows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, abort, g, redirect, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from dsr.auth.access import WRITERS, roles_required
from dsr.auth.models import User
from dsr.cases.card_actions import perform_card_action
from dsr.cases.errors import InvalidInput
from dsr.cases.models import Case
from dsr.cases.obligations import open_obligations
from dsr.cases.queries import case_or_404
from dsr.datamap import catalogue
from dsr.datamap.sources import DataMapError, Source, SourceKind
from dsr.domain.enums import CLOSED_STATES, LookupMatch, Right, Role
from dsr.extensions import db
from dsr.fulfilment.lookup_ops import latest_lookup
from dsr.fulfilment.models import FoundRecord
from dsr.notices import operations as notice_ops
from dsr.notices.models import NoticeMethod, NoticeStatus, RecipientNotice
from dsr.rectification import operations as ops
from dsr.rectification.forms import FORMS, METHOD_LABELS, prefix
from dsr.rectification.models import Correction, CorrectionStatus
from dsr.rectification.values import correctable_fields, shown
from dsr.timeutil import today

bp = Blueprint("rectification", __name__)

STATUS_LABELS = {CorrectionStatus.PENDING: _l("waiting"), CorrectionStatus.APPLIED: _l("applied"),
                 CorrectionStatus.REFUSED: _l("refused")}
NOTICE_LABELS = {NoticeStatus.PENDING: _l("to notify"), NoticeStatus.NOTIFIED: _l("notified"),
                 NoticeStatus.NOT_NOTIFIABLE: _l("not notifiable")}


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
            label = f"{source.name} · {found.collection} · {found.key_text}"
            groups[label] = [(f"{found.id}/{f.name}", f.name) for f in fields]
    return groups


def _manual_choices(sources: dict[str, Source]) -> dict[str, list[tuple[str, str]]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for source in sorted(sources.values(), key=lambda s: s.name):
        if source.kind is SourceKind.MANUAL:
            for coll in source.collections:
                fields = correctable_fields(coll)
                if fields:
                    groups[f"{source.name} · {coll.name}"] = [(f"{source.key}/{coll.name}/{f.name}", f.name)
                                                              for f in fields]
    return groups


# -- the card ---------------------------------------------------------------------------------------------

@bp.app_context_processor
def _card_helpers():
    return {"rectification_card": rectification_card}


def rectification_card(case: Case) -> dict:
    """What the card shows: the corrections with before/after and their state, the forms to propose, the
    recipients to notify (on a rectification or an erasure case) and what still stands open."""
    if not notice_ops.owes_notices(case):
        return {"show": False}
    rectification = Right.RECTIFICATION in case.right_values
    sources = _sources()
    failed = g.get("rect_failed")
    forms = {action: cls(prefix=prefix(action), formdata=None) for action, cls in FORMS.items()}
    if failed is not None:
        forms[failed[0]] = failed[1]
    records = _record_choices(case, sources) if rectification else {}
    manual = _manual_choices(sources) if rectification else {}
    # One form per item on the card; only the one that was refused keeps what was typed.
    blank = {action: FORMS[action](prefix=prefix(action), formdata=None)
             for action in ("mark_applied", "refuse", "notified", "not_notifiable")}
    blank["notified"].notified_on.data = today()
    language = "nl" if str(get_locale() or "en").startswith("nl") else "en"
    known = notice_ops.recipients_by_id()
    return {
        "show": notice_ops.owes_notices(case),
        "rectification": rectification,
        "corrections": ops.corrections_of(case) if rectification else [],
        "notices": [(n, n.label(known[n.recipient_id].name[language] if n.recipient_id in known else n.recipient_id),
                     known[n.recipient_id].receives[language] if n.recipient_id in known else "")
                    for n in notice_ops.notices_of(case)],
        "required": notice_ops.notices_required(case),
        "obligations": open_obligations(case, features=("rectification", "notices")),
        "lookup_confirmed": bool(records),
        "record_groups": records,
        "manual_groups": manual,
        "blank_mark_applied": blank["mark_applied"],
        "blank_refuse": blank["refuse"],
        "blank_notified": blank["notified"],
        "blank_not_notifiable": blank["not_notifiable"],
        "source_names": {key: s.name for key, s in sources.items()},
        "status_labels": STATUS_LABELS,
        "notice_labels": NOTICE_LABELS,
        "method_labels": METHOD_LABELS,
        "shown": shown,
        "forms": forms,
        "failed": failed[0] if failed else None,
        "failed_id": _failed_id(failed),
        "can_write": current_user.can_write,
        "is_manager": current_user.role is Role.PRIVACY_MANAGER,
        "is_open": case.state not in CLOSED_STATES,
    }


def _failed_id(failed) -> int | None:
    if failed is None:
        return None
    form = failed[1]
    for name in ("correction_id", "notice_id"):
        if hasattr(form, name):
            return getattr(form, name).data
    return None


# -- actions ----------------------------------------------------------------------------------------------

def _correction(case: Case, form) -> Correction:
    correction = db.session.get(Correction, form.correction_id.data)
    if correction is None or correction.case_id != case.id:
        raise InvalidInput(_("Unknown correction."), "correction_id")
    return correction


def _notice(case: Case, form) -> RecipientNotice:
    notice = db.session.get(RecipientNotice, form.notice_id.data)
    if notice is None or notice.case_id != case.id:
        raise InvalidInput(_("Unknown recipient."), "notice_id")
    return notice


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


def _list(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    listed = notice_ops.list_recipients(case, actor=actor, now=at, expected_version=form.version.data)
    if not listed:
        return "info", _("No records of this person were found, so no recipient received their data.")
    return "success", ngettext("%(num)d recipient to notify listed.", "%(num)d recipients to notify listed.",
                               len(listed))


def _notified(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    notice_ops.record_notified(_notice(case, form), notified_on=form.notified_on.data,
                               method=NoticeMethod(form.method.data), note=form.note.data or "", actor=actor,
                               now=at, today=today(), expected_version=form.version.data)
    return "success", _("Recipient recorded as notified.")


def _not_notifiable(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    notice_ops.record_not_notifiable(_notice(case, form), reason=form.reason.data, actor=actor, now=at,
                                     expected_version=form.version.data)
    return "success", _("Recipient recorded as not notifiable, with the reason.")


# Each returns the flash (category, message) for the person; all of them go through one operation.
ACTIONS: dict[str, Callable[[Case, object, User, datetime], tuple[str, str]]] = {
    "propose": _propose, "propose_manual": _propose_manual, "apply": _apply, "apply_all": _apply_all,
    "refuse": _refuse, "mark_applied": _mark_applied, "cancel": _cancel, "list": _list, "notified": _notified,
    "not_notifiable": _not_notifiable,
}


@bp.route("/cases/<reference>/rectification/<action>", methods=["POST"])
@roles_required(*WRITERS)
def act(reference: str, action: str):
    if action not in ACTIONS:
        abort(404)
    case = case_or_404(reference)
    form = FORMS[action](prefix=prefix(action))
    return perform_card_action(case, action, form, ACTIONS[action], failed_attr="rect_failed", anchor="rectification")


@bp.route("/cases/<reference>/rectification/<action>", methods=["GET"])
@roles_required(*WRITERS)
def act_get(reference: str, action: str):
    # A reloaded action URL goes back to the case instead of erroring.
    return redirect(url_for("cases.detail", reference=reference) + "#rectification")
