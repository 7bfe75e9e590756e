"""The case page's history as sentences in the interface's language ("Sam Staff attached letter.pdf (496 kB)").

The audit event keeps its stable code and raw before/after (the audit trail page and its CSV show those);
this module only reads them. An event without a sentence of its own reads as its label from
:mod:`dsr.audit.labels`, never as a code.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import format_decimal, get_translations

from dsr.audit.labels import action_label
from dsr.audit.models import AuditEvent, AuditPayload
from dsr.auth.models import User
from dsr.extensions import db, read
from dsr.tasks.models import CaseTask
from dsr.timeutil import format_day, moment_formatter

# The translations :func:`readable_history` found once for its page; Flask-Babel's own ``gettext`` finds them
# again for each sentence (a dozen calls each, fifty sentences a page: issue 15, item 3).
_BOUND: ContextVar = ContextVar("dsr_history_translations", default=None)


def _(string: str, **variables) -> str:
    """Flask-Babel's ``gettext``, with the translations bound for the page being read."""
    t = _BOUND.get()
    s = (get_translations() if t is None else t).ugettext(string)
    return s % variables if variables else s


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    """Flask-Babel's ``ngettext``, with the translations bound for the page being read."""
    variables.setdefault("num", num)
    t = _BOUND.get()
    return (get_translations() if t is None else t).ungettext(singular, plural, num) % variables


def _day(value: Any) -> str:
    if not value:
        return ""
    try:
        return format_day(date.fromisoformat(str(value)[:10]))
    except ValueError:
        return str(value)


def _size(n: Any) -> str:
    n = int(n or 0)
    if n < 1000:
        return ngettext("%(num)d byte", "%(num)d bytes", n)
    if n < 1_000_000:
        return _("%(n)s kB", n=format_decimal(round(n / 1000)))
    return _("%(n)s MB", n=format_decimal(round(n / 1_000_000, 1)))


def _label(labels: dict, value: Any) -> str:
    """A code's readable name; the enum key or its value, whichever the dict is keyed by."""
    for key, label in labels.items():
        if key == value or getattr(key, "value", None) == value:
            return str(label)
    return str(value).replace("_", " ")


def case_events(case_id: int) -> list[sa.Row]:
    """The case's events, newest first, as plain rows with their details and their actor's name, in one
    statement: the page only reads them, and 50 events with their payloads as ORM objects cost two statements
    and most of the history's time (issue 15, item 3). Each row has ``id``, ``action``, ``occurred_at``,
    ``actor_id``, ``actor_name``, ``before`` and ``after`` (``None`` without details or once purged, as
    :attr:`AuditEvent.before` and :attr:`AuditEvent.after` read). Run on the session's connection past the
    ORM's layers (:func:`dsr.extensions.read`)."""
    return read(_EVENTS, {"case_id": case_id}).all()


_EVENTS = (
    sa.select(AuditEvent.id, AuditEvent.action, AuditEvent.occurred_at, AuditEvent.actor_id,
              User.name.label("actor_name"), AuditPayload.before, AuditPayload.after)
    .outerjoin(User, User.id == AuditEvent.actor_id)
    .outerjoin(AuditPayload, AuditPayload.event_id == AuditEvent.id)
    .where(AuditEvent.case_id == sa.bindparam("case_id"))
    .order_by(AuditEvent.id.desc())
)


class History:
    """Sentence builders per audit action; names of people are looked up once per page."""

    def __init__(self, events: list[sa.Row], tasks: list[CaseTask] = (), people: list[User] = ()):
        emails = {v for e in events for part in (e.before or {}, e.after or {})
                  for k, v in part.items() if k == "assignee" and v}
        # The people the page has read (those a case can be assigned to) are not asked again.
        self._names = {u.email: u.name for u in people if u.email in emails}
        unread = emails - self._names.keys()
        if unread:
            self._names.update(db.session.execute(
                sa.select(User.email, User.name).where(User.email.in_(unread))).all())
        # The tasks dsr created, whose titles are written in the reader's language (dsr.tasks.titles): from
        # ``tasks`` (the case page has read the case's tasks), the others read here.
        task_ids = {int(e.after["task_id"]) for e in events
                    if e.action.startswith("task.") and isinstance(e.after, dict) and e.after.get("task_id")}
        known = {t.id: t for t in tasks if t.id in task_ids}
        unread = task_ids - known.keys()
        if unread:
            known.update((t.id, t) for t in db.session.scalars(sa.select(CaseTask).where(CaseTask.id.in_(unread))))
        self._tasks = {i: t for i, t in known.items() if t.kind is not None}

    def name(self, email: str | None) -> str:
        return self._names.get(email, email or "")

    def task_title(self, after: dict) -> str:
        """An automatic task's title in the reader's language; a typed one as the event recorded it."""
        task = self._tasks.get(after.get("task_id"))
        return task.display_title if task is not None else after["title"]

    def sentence(self, event: sa.Row) -> str:
        who = event.actor_name if event.actor_id is not None else _("The system")
        build = SENTENCES.get(event.action)
        if build is not None:
            try:
                return build(self, who, event.before or {}, event.after or {})
            except (KeyError, TypeError, ValueError):
                pass  # an older event without the detail: fall back to the label
        return _("%(who)s: %(what)s", who=who, what=action_label(event.action))


def _assigned(h: History, who: str, before: dict, after: dict) -> str:
    new = after.get("assignee")
    if not new:
        return _("%(who)s unassigned the case (was %(name)s).", who=who, name=h.name(before.get("assignee")))
    if h.name(new) == who:
        return _("%(who)s took the case.", who=who)
    return _("%(who)s assigned the case to %(name)s.", who=who, name=h.name(new))


def _rights(after: dict) -> str:
    from dsr.cases.labels import RIGHT_LABELS

    return ", ".join(_label(RIGHT_LABELS, r) for r in after.get("rights", []))


def _refused(h, who, before, after) -> str:
    from dsr.cases.action_forms import REFUSAL_LABELS

    return _("%(who)s refused the request: %(ground)s. “%(text)s”", who=who,
             ground=_label(REFUSAL_LABELS, after["ground"]), text=after.get("justification", ""))


def _verified(h, who, before, after) -> str:
    from dsr.cases.action_forms import METHOD_LABELS

    method = _label(METHOD_LABELS, after["method"])
    if after.get("outcome") == "verified":
        return _("%(who)s verified the identity: %(method)s.", who=who, method=method)
    return _("%(who)s could not verify the identity: %(method)s.", who=who, method=method)


def _priority(h, who, before, after) -> str:
    from dsr.cases.action_forms import PRIORITY_LABELS

    return _("%(who)s set the priority to %(p)s.", who=who, p=_label(PRIORITY_LABELS, after["priority"]))


def _lookup(h, who, before, after) -> str:
    if after.get("status") == "failed":
        return _("%(who)s searched Harmony's systems; the search failed: %(error)s", who=who,
                 error=after.get("error", ""))
    n = int(after.get("records", 0))
    if n == 0:
        return _("%(who)s searched Harmony's systems: nothing found.", who=who)
    return ngettext("%(who)s searched Harmony's systems: %(num)d record found.",
                    "%(who)s searched Harmony's systems: %(num)d records found.", n, who=who)


def _plan(h, who, before, after) -> str:
    items = after.get("items", {})
    return _("%(who)s built the erasure plan: %(erase)s to erase, %(keep)s to keep.", who=who,
             erase=items.get("erase", 0), keep=items.get("keep", 0))


def _approved(h, who, before, after) -> str:
    items = after.get("items", {})
    return _("%(who)s approved the erasure plan: %(erase)s to erase, %(keep)s to keep.", who=who,
             erase=items.get("erase", 0), keep=items.get("keep", 0))


def _executed(h, who, before, after) -> str:
    return _("%(who)s executed the erasure: %(erased)s records erased, %(kept)s kept.", who=who,
             erased=after.get("erased", 0), kept=after.get("kept", 0))


def _letter(h, who, before, after) -> str:
    from dsr.letters.kinds import KINDS, LANGUAGE_LABELS

    kind = _label({k: spec.label for k, spec in KINDS.items()}, after["kind"])
    return ngettext("%(who)s issued the letter “%(kind)s” in %(lang)s (%(num)d page).",
                    "%(who)s issued the letter “%(kind)s” in %(lang)s (%(num)d pages).", int(after.get("pages") or 1),
                    who=who, kind=kind, lang=_label(LANGUAGE_LABELS, after.get("language")))


SENTENCES: dict[str, Callable[[History, str, dict, dict], str]] = {
    "case.created": lambda h, who, b, a: _("%(who)s logged the request (%(rights)s), received %(day)s.", who=who,
                                           rights=_rights(a), day=_day(a["received_on"])),
    "case.assigned": _assigned,
    "case.priority_changed": _priority,
    "case.start_identity_check": lambda h, who, b, a: _("%(who)s started the identity check.", who=who),
    "case.start_work": lambda h, who, b, a: _("%(who)s started work on the case.", who=who),
    "case.submit_for_approval": lambda h, who, b, a: _("%(who)s submitted the work for approval.", who=who),
    "case.send_back": lambda h, who, b, a: _("%(who)s sent the case back: “%(reason)s”", who=who,
                                             reason=a["reason"]),
    "case.complete": lambda h, who, b, a: _("%(who)s completed the case: “%(decision)s”", who=who,
                                            decision=a["decision"]),
    "case.refuse": _refused,
    "case.withdraw": lambda h, who, b, a: _("%(who)s recorded that the subject withdrew the request (%(how)s).",
                                            who=who, how=a["how"]),
    "case.close": lambda h, who, b, a: _("%(who)s archived the case.", who=who),
    "case.paused": lambda h, who, b, a: _("%(who)s asked for %(what)s on %(day)s; the clock is paused.", who=who,
                                          what=a["reason"], day=_day(a["requested_on"])),
    "case.pause_requested_late": lambda h, who, b, a: _(
        "%(who)s asked for %(what)s on %(day)s, too late to pause the clock.", who=who, what=a["reason"],
        day=_day(a["requested_on"])),
    "case.resumed": lambda h, who, b, a: ngettext(
        "%(who)s recorded the information as received on %(day)s; the clock runs again (%(num)d day paused).",
        "%(who)s recorded the information as received on %(day)s; the clock runs again (%(num)d days paused).",
        int(a.get("days", 0)), who=who, day=_day(a["information_received_on"])),
    "case.extended": lambda h, who, b, a: _("%(who)s extended the deadline to %(day)s: “%(reason)s”", who=who,
                                            day=_day(a["extended_due_on"]), reason=a["reason"]),
    "case.extension_notice_sent": lambda h, who, b, a: _("%(who)s recorded the extension notice as sent on %(day)s.",
                                                         who=who, day=_day(a["sent_on"])),
    "case.linked": lambda h, who, b, a: _("%(who)s linked this case to %(ref)s.", who=who, ref=a["linked_case"]),
    "case.merge": lambda h, who, b, a: _("%(who)s merged this case into another one.", who=who),
    "case.merged_from": lambda h, who, b, a: _("%(who)s merged %(ref)s into this case.", who=who,
                                               ref=a["merged_case"]),
    "identity.verified": _verified,
    "identity.not_verified": _verified,
    "identity.id_document_destroyed": lambda h, who, b, a: _(
        "%(who)s checked the ID copy and deleted it; only who saw it, and when, is kept.", who=who),
    "attachment.added": lambda h, who, b, a: _("%(who)s attached %(name)s (%(size)s).", who=who, name=a["filename"],
                                               size=_size(a["size"])),
    "attachment.downloaded": lambda h, who, b, a: _("%(who)s downloaded %(name)s.", who=who, name=a["filename"]),
    "attachment.viewed": lambda h, who, b, a: _("%(who)s viewed %(name)s.", who=who, name=a["filename"]),
    "note.added": lambda h, who, b, a: _("%(who)s added a note.", who=who),
    "subject_text.saved": lambda h, who, b, a: _("%(who)s wrote a text for the subject.", who=who),
    "subject_text.removed": lambda h, who, b, a: _("%(who)s removed a text for the subject.", who=who),
    "task.added": lambda h, who, b, a: _("%(who)s added a task: %(title)s", who=who, title=h.task_title(a)),
    "task.completed": lambda h, who, b, a: _("%(who)s finished the task: %(title)s", who=who,
                                             title=h.task_title(a)),
    "lookup.run": _lookup,
    "lookup.confirmed": lambda h, who, b, a: ngettext(
        "%(who)s confirmed the %(num)d record found as this person's.",
        "%(who)s confirmed the %(num)d records found as this person's.", int(a["records"]), who=who),
    "lookup.rejected": lambda h, who, b, a: _("%(who)s rejected the records found as someone else's: “%(reason)s”",
                                              who=who, reason=a["reason"]),
    "erasure.planned": _plan,
    "erasure.approved": _approved,
    "erasure.executed": _executed,
    "letter.issued": _letter,
}


def readable_history(events: list[sa.Row], tasks: list[CaseTask] = (), people: list[User] = (),
                     moment: Callable[[Any], str] | None = None) -> list[tuple[sa.Row, str, str]]:
    """Each event (a row of :func:`case_events`) with its moment as the page shows it and its sentence, in the
    order given (``tasks``: those of the case, ``people``: users, if already read; ``moment``: a
    :func:`~dsr.timeutil.moment_formatter` the page made). The interface's language, translations and time zone
    are found once for all of them."""
    history = History(events, tasks, people)
    moment = moment or moment_formatter()
    bound = _BOUND.set(get_translations())
    try:
        return [(e, moment(e.occurred_at), history.sentence(e)) for e in events]
    finally:
        _BOUND.reset(bound)
