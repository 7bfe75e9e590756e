"""The JSON form of a case (API v1). Dates are ISO ``YYYY-MM-DD``."""

from __future__ import annotations

from datetime import date

from dsr.cases.deadlines import CaseClock
from dsr.cases.models import Case


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def subject_json(case: Case) -> dict | None:
    """The subject's details; ``None`` once dsr's own retention reduced the case file (dsr.casefiles)."""
    s = case.subject
    if s is None:
        return None
    return {
        "id": s.id,
        "name": s.name,
        "title": s.title.value if s.title else None,
        "email": s.email,
        "date_of_birth": _iso(s.date_of_birth),
        "address": s.address,
        "postcode": s.postcode,
        "city": s.city,
        "country": s.country,
        "phone": s.phone,
        "customer_number": s.customer_number,
        "policy_number": s.policy_number,
        "device_id": s.device_id,
    }


def case_json(case: Case, clock: CaseClock) -> dict:
    return {
        "reference": case.reference,
        "state": case.state.value,
        "rights": [r.value for r in case.right_values],
        "channel": case.channel.value,
        "language": case.language.value,
        "received_on": _iso(case.received_on),
        "promised_on": _iso(clock.promised_on),
        # The one date Harmony's promise is stated as: the last working day on or before promised_on.
        "promise_answer_by": _iso(clock.promise_answer_by),
        "legal_due_on": _iso(clock.legal.due_on),
        "extended": clock.extended is not None,
        "extended_due_on": _iso(clock.extended.due_on) if clock.extended else None,
        "extension_reason": case.extension_reason,
        "extension_notice_due_on": _iso(case.extension_notice_due_on),
        "extension_notice_sent_on": _iso(case.extension_notice_sent_on),
        "due_on": _iso(clock.due_on),
        "days_left": clock.days_left,
        "deadline_status": clock.status.value,
        "paused": clock.paused,
        "paused_days": clock.paused_days,
        "late_pause_requests": case.late_pause_requests,
        "pauses": [
            {"reason": p.reason, "requested_on": _iso(p.requested_on), "resumed_on": _iso(p.resumed_on),
             "counted": p.counted}
            for p in case.pauses
        ],
        "assignee": case.assignee.email if case.assignee else None,
        "priority": case.priority.value,
        "decision": case.decision,
        "refusal_ground": case.refusal_ground.value if case.refusal_ground else None,
        "withdrawal_how": case.withdrawal_how,
        "merged_into": case.merged_into.reference if case.merged_into else None,
        "notes": case.notes,
        "subject": subject_json(case),
        "attachments": [
            {"id": a.id, "filename": a.filename, "media_type": a.media_type, "size": a.size, "sha256": a.sha256}
            for a in case.attachments
        ],
        "created_at": case.created_at.isoformat(),
        "version": case.version,
    }
