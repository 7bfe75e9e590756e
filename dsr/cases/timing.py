"""Operations on a case's clock: pausing for information, resuming, extending (GDPR Art. 12(3)).

A pause counts only if the information was asked for within the configured number of working days of
receipt (EDPB 01/2022 §159: "without undue delay"); a late ask is recorded and flagged, and the clock
keeps running. Extension: once, with a reason, by a privacy manager, before the original deadline has
passed; it creates the obligation to tell the subject before that deadline.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dsr.audit.operations import record
from dsr.cases.deadlines import apply_deadlines, case_clock, extension_rule, working_calendar
from dsr.cases.errors import InvalidInput, RuleViolation
from dsr.cases.guards import WRITERS, check_version, require_open, require_role
from dsr.cases.models import Case, CasePause
from dsr.domain import clock
from dsr.domain.enums import Role
from dsr.domain.pauses import ExtensionRefused, check_extension, pause_counts
from dsr.timeutil import format_day, local_date


def open_pause(case: Case) -> CasePause | None:
    return next((p for p in case.pauses if p.resumed_on is None), None)


def _deadlines(case: Case) -> dict:
    return {"promised_on": case.promised_on, "legal_due_on": case.legal_due_on,
            "extended_due_on": case.extended_due_on, "paused_days": case.paused_days}


def request_information(case: Case, *, reason: str, requested_on: date, actor, now: datetime, today: date,
                        ask_working_days: int = 5, expected_version: int | None = None) -> CasePause:
    """Record that information was asked for to identify the subject or clarify the request."""
    require_role(actor, *WRITERS, what=_l("ask the subject for information"))
    check_version(case, expected_version)
    require_open(case, _l("pause the clock"))
    if not (reason or "").strip():
        raise InvalidInput(_("Say what information was asked for."), "reason")
    if requested_on > today:
        raise InvalidInput(_("The day the information was asked for cannot be in the future."), "requested_on")
    if requested_on < case.received_on:
        raise InvalidInput(_("Information cannot have been asked for before the request arrived."), "requested_on")
    if open_pause(case) is not None:
        raise RuleViolation(_("%(ref)s is already waiting for information asked on %(day)s; record its arrival "
                              "first.", ref=case.reference, day=format_day(open_pause(case).requested_on)))
    counted = pause_counts(requested_on, case.received_on, working_calendar(), ask_working_days)
    pause = CasePause(reason=reason, requested_on=requested_on, counted=counted,
                      created_by_id=actor.id if actor else None, created_at=now)
    case.pauses.append(pause)
    if counted:
        case.paused_since = requested_on
    else:
        case.late_pause_requests += 1
    case.updated_at = now
    record("case.paused" if counted else "case.pause_requested_late", actor=actor, now=now, case=case,
           after={"reason": reason, "requested_on": requested_on, "counted": counted,
                  "ask_working_days": ask_working_days})
    return pause


def information_received(case: Case, *, received_on: date, actor, now: datetime, today: date,
                         expected_version: int | None = None) -> CasePause:
    """The information arrived: the clock runs again from that day and the deadlines move."""
    require_role(actor, *WRITERS, what=_l("record that information arrived"))
    check_version(case, expected_version)
    require_open(case, _l("record that information arrived"))
    pause = open_pause(case)
    if pause is None:
        raise RuleViolation(_("%(ref)s is not waiting for information.", ref=case.reference))
    if received_on > today:
        raise InvalidInput(_("The day the information arrived cannot be in the future."), "received_on")
    if received_on < pause.requested_on:
        raise InvalidInput(_("The information cannot have arrived before it was asked for (%(day)s).",
                             day=format_day(pause.requested_on)), "received_on")
    before = _deadlines(case)
    pause.resumed_on = received_on
    pause.resumed_by_id = actor.id if actor else None
    case.paused_since = None
    apply_deadlines(case, working_calendar())
    case.updated_at = now
    record("case.resumed", actor=actor, now=now, case=case, before=before,
           after={**_deadlines(case), "information_received_on": received_on, "requested_on": pause.requested_on,
                  "counted": pause.counted, "days": pause.days if pause.counted else 0})
    return pause


def extend(case: Case, *, reason: str, actor, now: datetime, today: date, expected_version: int | None = None) -> None:
    """Extend the deadline by two further months (Art. 12(3)); the subject must be told before the original one."""
    require_role(actor, Role.PRIVACY_MANAGER, what=_l("extend a deadline"))
    check_version(case, expected_version)
    require_open(case, _l("extend the deadline"))
    calendar = working_calendar()
    current = case_clock(case, calendar, today)
    try:
        check_extension(today=today, original_legal_due=current.legal.due_on,
                        already_extended=case.extended_due_on is not None, reason=reason)
    except ExtensionRefused as exc:
        if exc.code == "no_reason":
            raise InvalidInput(_("An extension needs a reason (the complexity or number of the requests)."),
                               "reason") from None
        if exc.code == "already_extended":
            raise RuleViolation(_("This case has already been extended; Art. 12(3) allows one extension of two "
                                  "further months.")) from None
        raise RuleViolation(_("Too late to extend: the original legal deadline was %(day)s; the subject must be "
                              "told of an extension before it passes (Art. 12(3)).",
                              day=format_day(current.legal.due_on))) from None
    case.extension_reason = reason
    case.extended_at = now
    case.extended_due_on = clock.extended_due_on(case.received_on, calendar, case.paused_days, extension_rule())
    case.extension_notice_due_on = current.legal.due_on
    case.updated_at = now
    record("case.extended", actor=actor, now=now, case=case,
           before={"due_on": current.legal.due_on},
           after={"reason": reason, "extended_due_on": case.extended_due_on,
                  "extension_notice_due_on": case.extension_notice_due_on})


def record_extension_notice(case: Case, *, sent_on: date, actor, now: datetime, today: date,
                            expected_version: int | None = None) -> None:
    """Record that the subject was told of the extension and its reasons (the obligation is met)."""
    require_role(actor, *WRITERS, what=_l("record the extension notice"))
    check_version(case, expected_version)
    if case.extended_due_on is None:
        raise RuleViolation(_("%(ref)s has not been extended; there is no notice to send.", ref=case.reference))
    if case.extension_notice_sent_on is not None:
        raise RuleViolation(_("The extension notice was already recorded as sent on %(day)s.",
                              day=format_day(case.extension_notice_sent_on)))
    if sent_on > today:
        raise InvalidInput(_("The notice cannot have been sent in the future."), "sent_on")
    decided_on = local_date(case.extended_at)
    if sent_on < decided_on:
        raise InvalidInput(_("The notice cannot have been sent before the extension was decided (%(day)s).",
                             day=format_day(decided_on)), "sent_on")
    case.extension_notice_sent_on = sent_on
    case.updated_at = now
    late = sent_on > case.extension_notice_due_on
    record("case.extension_notice_sent", actor=actor, now=now, case=case,
           after={"sent_on": sent_on, "due_on": case.extension_notice_due_on, "late": late})
