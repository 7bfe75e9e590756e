"""Readable names for audit actions (the stored action stays a stable code)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

ACTION_LABELS = {
    "case.created": _l("Request logged"),
    "subject.created": _l("Person recorded"),
    "subject.updated": _l("Person's details completed"),
    "attachment.added": _l("Attachment added"),
    "attachment.downloaded": _l("Attachment downloaded"),
    "case.assigned": _l("Assigned"),
    "case.priority_changed": _l("Priority changed"),
    "case.start_identity_check": _l("Identity check started"),
    "case.start_work": _l("Work started"),
    "case.submit_for_approval": _l("Submitted for approval"),
    "case.send_back": _l("Sent back"),
    "case.complete": _l("Completed"),
    "case.refuse": _l("Refused"),
    "case.withdraw": _l("Withdrawn"),
    "case.merge": _l("Merged into another case"),
    "case.merged_from": _l("Another case merged in"),
    "case.close": _l("Archived"),
    "case.paused": _l("Information asked for; clock paused"),
    "case.pause_requested_late": _l("Information asked for too late; clock not paused"),
    "case.resumed": _l("Information received; clock running"),
    "case.extended": _l("Deadline extended"),
    "case.extension_notice_sent": _l("Extension notice sent"),
    "case.linked": _l("Cases linked"),
    "identity.verified": _l("Identity verified"),
    "identity.not_verified": _l("Identity not verified"),
    "identity.id_document_destroyed": _l("ID copy destroyed after the check"),
    "note.added": _l("Note added"),
    "task.added": _l("Task added"),
    "task.completed": _l("Task done"),
    "lookup.run": _l("Harmony's systems searched"),
    "lookup.confirmed": _l("Records found confirmed as this person's"),
    "lookup.rejected": _l("Records found rejected: not this person"),
    "hold.placed": _l("Legal hold placed"),
    "hold.released": _l("Legal hold released"),
    "access.previewed": _l("Access answer (Art. 15) previewed"),
    "erasure.planned": _l("Erasure plan built"),
    "erasure.approved": _l("Erasure plan approved"),
    "erasure.executed": _l("Erasure executed"),
    "erasure.scheduled": _l("Kept records erased on their erase-on date"),
}


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action
