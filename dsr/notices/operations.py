"""Art. 19: the recipients who received the subject's data are told of a rectification, erasure or restriction.

"The controller shall communicate any rectification or erasure ... to each recipient to whom the personal
data have been disclosed, unless this proves impossible or involves disproportionate effort. The controller
shall inform the data subject about those recipients if the data subject requests it."

Who received the data follows from Harmony's privacy statement (``dsr/fulfilment/statement.yml``): each
recipient says which records it receives (``applies_to``: always, or records of some tags), and the subject's
records are those of the case's confirmed lookup, tagged by the data map (:meth:`Recipient.relevant`, as the
Art. 15 answer names them). Staff or the privacy manager list them on the case (:func:`list_recipients`);
each is then ticked notified, with the date and how (:func:`record_notified`), or recorded as not
notifiable with the reason (:func:`record_not_notifiable`). The latter is the privacy manager's: "impossible
or disproportionate" is a judgement the controller must be able to defend.

The notices belong to the case, whatever right it requests: a rectification, an erasure and a restriction
case use the same list. Which data the case changed comes from the rights that registered a change
(:mod:`dsr.notices.changes`). :func:`open_obligations` says what still stands between the case and its
completion; it is registered with :mod:`dsr.cases.obligations`, so the workflow refuses to complete a case
while it is not empty (:func:`dsr.cases.lifecycle.complete`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from dsr.audit.operations import record as audit_record
from dsr.auth.models import User
from dsr.cases.errors import InvalidInput, NotAllowed, RuleViolation
from dsr.cases.guards import MANAGERS, WRITERS, check_version, require_open, require_role
from dsr.cases.models import Case
from dsr.cases.obligations import Obligation, register
from dsr.cases.operations import touch_case
from dsr.datamap import catalogue
from dsr.datamap.sources import DataMapError, load_sources
from dsr.domain.enums import LookupMatch, LookupStatus
from dsr.extensions import db
from dsr.fulfilment.lookup_ops import latest_lookup
from dsr.fulfilment.statement import Recipient, Statement, load_statement
from dsr.notices.changes import changed_records, named_recipients, notices_required, owes_notices
from dsr.notices.models import NoticeMethod, NoticeStatus, RecipientNotice
from dsr.settings import settings
from dsr.texts.models import TextPurpose
from dsr.texts.operations import save_texts

__all__ = ["changed_records", "list_recipients", "named_recipients", "notices_of", "notices_required",
           "open_obligations",
           "owes_notices", "record_not_notifiable", "record_notified", "recipients_by_id", "relevant_recipients",
           "statement"]

TEXT_MAX = 2000


def notices_of(case: Case) -> list[RecipientNotice]:
    return list(db.session.execute(
        sa.select(RecipientNotice).where(RecipientNotice.case_id == case.id).order_by(RecipientNotice.id)).scalars())


def statement() -> Statement:
    """The statement, read once per process (it is data shipped with the code)."""
    return catalogue.derived("statement", load_statement)


def recipients_by_id() -> dict[str, Recipient]:
    return {r.id: r for r in statement().recipients}


def relevant_recipients(case: Case, *, config: Mapping[str, Any] | None = None,
                        stmt: Statement | None = None) -> list[Recipient]:
    """The statement's recipients that received this subject's data: those named always, and those whose
    tags the records of the confirmed lookup carry. Refused before the records are confirmed as theirs."""
    lookup = latest_lookup(case)
    if lookup is None or lookup.status is LookupStatus.FAILED:
        raise RuleViolation(_("Search Harmony's systems for this person's data first: the recipients follow "
                              "from the records found."))
    if lookup.status is LookupStatus.NOTHING_FOUND:
        return []
    if lookup.match != LookupMatch.CONFIRMED:
        raise RuleViolation(_("Confirm that the records found are this person's first: the recipients follow "
                              "from them."))
    try:
        sources = load_sources(settings(config))
    except DataMapError as exc:
        raise RuleViolation(_("The data map cannot be read: %(error)s", error=str(exc))) from exc
    # Art. 19 concerns the recipients of the data that was rectified or erased: once something was, the
    # tags of exactly those records decide; before that, the records found give the list to prepare.
    changed = changed_records(case)
    places = changed if changed else {(f.source, f.collection) for f in lookup.records}
    tags: set[str] = set()
    for source_key, collection in places:
        source = sources.get(source_key)
        try:
            tags.update(source.collection(collection).tags if source else ())
        except KeyError:
            continue
    return [r for r in (stmt or statement()).recipients if r.relevant(tags)]


def _require(case: Case, expected_version: int | None, what) -> None:
    require_open(case, what)
    check_version(case, expected_version)
    if not owes_notices(case):
        raise RuleViolation(_("Recipients are notified of a rectification, an erasure or a restriction; this "
                              "case requests none of these."))


def list_recipients(case: Case, *, actor: User | None, now: datetime, expected_version: int | None = None,
                    config: Mapping[str, Any] | None = None) -> list[RecipientNotice]:
    """List the recipients to notify on the case (Art. 19), from the statement and the subject's records.

    Listing again after a new search adds recipients that became relevant and drops pending ones that no
    longer are; a recipient already ticked stays as it was ticked. Audited as ``recipients.listed``.
    """
    require_role(actor, *WRITERS, what=_l("list the recipients to notify"))
    _require(case, expected_version, _l("list the recipients to notify"))
    # A recipient the changed records named is listed once per name ("Risk bearer: Maasstad ..."), else once.
    named = named_recipients(case)
    wanted_keys = [(r.id, name) for r in relevant_recipients(case, config=config) for name in (named.get(r.id) or [""])]
    wanted = list(dict.fromkeys(rid for rid, _name in wanted_keys))
    existing = {(n.recipient_id, n.named): n for n in notices_of(case)}
    added_keys = [key for key in wanted_keys if key not in existing]
    dropped_keys = [key for key, n in existing.items() if key not in wanted_keys and n.is_pending]
    for rid, name in added_keys:
        db.session.add(RecipientNotice(case_id=case.id, recipient_id=rid, named=name, status=NoticeStatus.PENDING,
                                       listed_at=now, listed_by_id=actor.id if actor else None))
    for key in dropped_keys:
        db.session.delete(existing[key])
    added = [f"{rid}: {name}" if name else rid for rid, name in added_keys]
    dropped = [f"{rid}: {name}" if name else rid for rid, name in dropped_keys]
    db.session.flush()
    touch_case(case, now)
    audit_record("recipients.listed", actor=actor, now=now, case=case,
                 after={"recipients": wanted, "added": added, "dropped": dropped})
    return notices_of(case)


def _require_pending(notice: RecipientNotice) -> None:
    if not notice.is_pending:
        raise RuleViolation(_("This recipient was already recorded as notified or not notifiable."))


def record_notified(notice: RecipientNotice, *, notified_on: date, method: NoticeMethod, note: str = "",
                    actor: User | None, now: datetime, today: date, expected_version: int | None = None) -> None:
    """Tick a recipient as notified of the rectification or erasure: on which day, how, with a note."""
    require_role(actor, *WRITERS, what=_l("record a recipient as notified"))
    case = notice.case
    _require(case, expected_version, _l("record a recipient as notified"))
    _require_pending(notice)
    if notified_on is None:
        raise InvalidInput(_("Give the date the recipient was told."), "notified_on")
    if notified_on > today:
        raise InvalidInput(_("The date the recipient was told cannot be in the future."), "notified_on")
    if notified_on < case.received_on:
        raise InvalidInput(_("The date the recipient was told is before the request arrived."), "notified_on")
    note = (note or "").strip()
    if len(note) > TEXT_MAX:
        raise InvalidInput(_("A text has at most %(n)d characters.", n=TEXT_MAX), "note")
    notice.status, notice.notified_on, notice.method = NoticeStatus.NOTIFIED, notified_on, NoticeMethod(method)
    notice.note, notice.decided_at, notice.decided_by_id = note or None, now, actor.id if actor else None
    touch_case(case, now)
    audit_record("recipient.notified", actor=actor, now=now, case=case, after={
        "recipient": notice.recipient_id, "notified_on": notified_on, "method": notice.method,
        "note": notice.note})


def record_not_notifiable(notice: RecipientNotice, *, reason: str, actor: User | None, now: datetime,
                          expected_version: int | None = None, subject_texts: Mapping[str, str] | None = None
                          ) -> None:
    """The privacy manager records that telling this recipient is impossible or would take disproportionate
    effort (Art. 19), and why: the reason is what Harmony answers if the subject or the authority asks. The
    letters quote only a text for the subject in their language (``subject_texts``: ``{language: text}``,
    or written later on the case's texts page); without one they list the recipient under their general
    sentence."""
    if actor is None:
        raise NotAllowed(_("Only a privacy manager may record a recipient as not notifiable."))
    require_role(actor, *MANAGERS, what=_l("record a recipient as not notifiable"))
    case = notice.case
    _require(case, expected_version, _l("record a recipient as not notifiable"))
    _require_pending(notice)
    if not (reason or "").strip():
        raise InvalidInput(_("Say why telling this recipient is impossible or disproportionate."), "reason")
    if len(reason) > TEXT_MAX:
        raise InvalidInput(_("A text has at most %(n)d characters.", n=TEXT_MAX), "reason")
    notice.status, notice.reason, notice.decided_at, notice.decided_by_id = \
        NoticeStatus.NOT_NOTIFIABLE, reason, now, actor.id
    touch_case(case, now)
    audit_record("recipient.not_notifiable", actor=actor, now=now, case=case,
                 after={"recipient": notice.recipient_id, "reason": reason})
    save_texts(case, TextPurpose.NOTICE_NOT_MADE, notice.id, subject_texts, actor=actor, now=now)


# -- what is still open -----------------------------------------------------------------------------------

def open_obligations(case: Case, today: date | None = None) -> list[Obligation]:
    """What Art. 19 still asks before the case can be completed, once something was changed: recipients
    not listed, listed before more data changed, or not yet ticked. Cases that change no data owe none."""
    if not owes_notices(case) or not notices_required(case):
        return []
    problems: list[Obligation] = []
    notices = notices_of(case)
    if not notices and _any_relevant(case):
        problems.append(Obligation("notices.recipients_not_listed", _(
            "The recipients who received the data are not listed yet (Art. 19).")))
    if notices:
        try:
            named = named_recipients(case)
            missing = {(r.id, name) for r in relevant_recipients(case) for name in (named.get(r.id) or [""])} \
                - {(n.recipient_id, n.named) for n in notices}
        except RuleViolation:
            missing = set()
        if missing:
            problems.append(Obligation("notices.recipients_to_list_again", _(
                "More recipients received the data changed since the list was made: list the recipients "
                "again (Art. 19).")))
    waiting = sum(1 for n in notices if n.is_pending)
    if waiting:
        problems.append(Obligation("notices.recipients_not_ticked", ngettext(
            "%(num)d recipient is not yet ticked as notified or not notifiable (Art. 19).",
            "%(num)d recipients are not yet ticked as notified or not notifiable (Art. 19).", waiting)))
    return problems


def _any_relevant(case: Case) -> bool:
    try:
        return bool(relevant_recipients(case))
    except RuleViolation:
        return True  # the records are not confirmed: the list cannot be made, so it is still owed


register("notices", open_obligations, order=20)
