"""The "Recipients to notify" card on the case page and its actions (Art. 19).

Shown on every case that requests a right which registered a change with :mod:`dsr.notices.changes`
(rectification, erasure, restriction, ...). The actions post to ``/cases/<ref>/notices/<action>`` and go
through :func:`dsr.cases.card_actions.perform_card_action`: validate the form, call one operation, commit
once; 400 for bad input, 403 for a role that may not, 409 for a rule or a stale page. The card is drawn by
``templates/notices/_card.html``, which asks :func:`notices_card` for what it shows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, g
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from dsr.auth.models import User
from dsr.cases.card_actions import add_card_routes
from dsr.cases.errors import InvalidInput
from dsr.cases.models import Case
from dsr.cases.obligations import open_obligations
from dsr.domain.enums import CLOSED_STATES, Role
from dsr.extensions import db
from dsr.notices import operations as ops
from dsr.notices.changes import changes_of
from dsr.notices.forms import FORMS, METHOD_LABELS, prefix
from dsr.notices.models import NoticeMethod, NoticeStatus, RecipientNotice
from dsr.texts.models import TextPurpose
from dsr.texts.picker import chosen_for, in_case_language, subject_text_field
from dsr.timeutil import today

bp = Blueprint("notices", __name__)

NOTICE_LABELS = {NoticeStatus.PENDING: _l("to notify"), NoticeStatus.NOTIFIED: _l("notified"),
                 NoticeStatus.NOT_NOTIFIABLE: _l("not notifiable")}


@bp.app_context_processor
def _card_helpers():
    return {"notices_card": notices_card}


def notices_card(case: Case) -> dict:
    """What the card shows: the recipients listed with how each stands, the forms to tick them, and what
    Art. 19 still asks before the case can complete."""
    if not ops.owes_notices(case):
        return {"show": False}
    failed = g.get("notice_failed")
    forms = {action: cls(prefix=prefix(action), formdata=None) for action, cls in FORMS.items()}
    if failed is not None:
        forms[failed[0]] = failed[1]
    # One form per recipient on the card; only the one that was refused keeps what was typed.
    blank = {action: FORMS[action](prefix=prefix(action), formdata=None) for action in ("notified", "not_notifiable")}
    blank["notified"].notified_on.data = today()
    language = "nl" if str(get_locale() or "en").startswith("nl") else "en"
    known = ops.recipients_by_id()
    # The change's own title on a case of one such right; on a case of several, the general one.
    headings = {str(c.heading) if c.heading else None for c in changes_of(case)}
    notices = ops.notices_of(case)
    # Per recipient still to tick: the field for what the letters say of a recipient not told, in the case's
    # language (issue 14.2); a standard paragraph chosen for one recipient fills that recipient's form only.
    chosen, texts, chosen_forms = chosen_for(), {}, {}
    for n in notices:
        if n.status is not NoticeStatus.PENDING:
            continue
        key = f"notice-{n.id}"
        form = blank["not_notifiable"]
        if chosen == key:
            form = chosen_forms[n.id] = FORMS["not_notifiable"](prefix=prefix("not_notifiable"), formdata=None)
        texts[n.id] = subject_text_field(case, TextPurpose.NOTICE_NOT_MADE, key,
                                         form.subject_text if chosen == key else None, item_id=n.id)
    return {
        "show": True,
        "heading": next(iter(headings)) if len(headings) == 1 and None not in headings
        else _("Recipients to notify (Art. 19)"),
        "notices": [(n, n.label(known[n.recipient_id].name[language] if n.recipient_id in known else n.recipient_id),
                     known[n.recipient_id].receives[language] if n.recipient_id in known else "")
                    for n in notices],
        "texts": texts,
        "chosen_forms": chosen_forms,
        "required": ops.notices_required(case),
        "obligations": open_obligations(case, features=("notices",)),
        "blank_notified": blank["notified"],
        "blank_not_notifiable": blank["not_notifiable"],
        "notice_labels": NOTICE_LABELS,
        "method_labels": METHOD_LABELS,
        "forms": forms,
        "failed": failed[0] if failed else None,
        "failed_id": failed[1].notice_id.data if failed and hasattr(failed[1], "notice_id") else None,
        "can_write": current_user.can_write,
        "is_manager": current_user.role is Role.PRIVACY_MANAGER,
        "is_open": case.state not in CLOSED_STATES,
    }


# -- actions ----------------------------------------------------------------------------------------------

def _notice(case: Case, form) -> RecipientNotice:
    notice = db.session.get(RecipientNotice, form.notice_id.data)
    if notice is None or notice.case_id != case.id:
        raise InvalidInput(_("Unknown recipient."), "notice_id")
    return notice


def _list(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    listed = ops.list_recipients(case, actor=actor, now=at, expected_version=form.version.data)
    if not listed:
        return "info", _("No records of this person were found, so no recipient received their data.")
    return "success", ngettext("%(num)d recipient to notify listed.", "%(num)d recipients to notify listed.",
                               len(listed))


def _notified(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    ops.record_notified(_notice(case, form), notified_on=form.notified_on.data,
                        method=NoticeMethod(form.method.data), note=form.note.data or "", actor=actor,
                        now=at, today=today(), expected_version=form.version.data)
    return "success", _("Recipient recorded as notified.")


def _not_notifiable(case: Case, form, actor: User, at: datetime) -> tuple[str, str]:
    ops.record_not_notifiable(_notice(case, form), reason=form.reason.data, actor=actor, now=at,
                              expected_version=form.version.data,
                              subject_texts=in_case_language(case, form.subject_text))
    return "success", _("Recipient recorded as not notifiable, with the reason.")


# Each returns the flash (category, message) for the person; all of them go through one operation.
ACTIONS: dict[str, Callable[[Case, object, User, datetime], tuple[str, str]]] = {
    "list": _list, "notified": _notified, "not_notifiable": _not_notifiable,
}


add_card_routes(bp, "notices", forms=FORMS, actions=ACTIONS, prefix=prefix, failed_attr="notice_failed")
