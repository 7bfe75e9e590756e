"""Correcting dsr's own copy of the subject's identities when a correction changes one of them.

dsr knows the subject by an e-mail address, postcode, date of birth and phone number
(:class:`dsr.subjects.models.DataSubject`); it searches Harmony's systems and replies with them. When an
applied correction changes one of those fields *and* dsr held the same old value, dsr's copy is corrected
too: Art. 16 applies to the privacy team's records as much as to Harmony's systems, and the next search and
the reply letter should use the accurate value. A value dsr holds differently (the subject wrote from another
address) is left alone: it is how the request reached us. Names are not copied: the sources split first and
last name, dsr keeps the name as the subject wrote it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import current_app

from dsr.audit.operations import record as audit_record
from dsr.cases.models import Case
from dsr.datamap.sources import DataMapError, load_sources
from dsr.rectification import values
from dsr.rectification.models import Correction

# The subject's identities dsr keeps, by the data map identity that carries them (phones by their kind).
_SUBJECT_FIELDS = {"email": "email", "postcode": "postcode", "date_of_birth": "date_of_birth"}


def _comparable(value: Any) -> str:
    return "".join(str(value or "").split()).casefold()


def correct_subject(case: Case, correction: Correction, *, actor, now: datetime) -> None:
    """Correct dsr's copy of an identity the correction changed, if dsr held the old value (module doc)."""
    try:
        source = load_sources(current_app.config)[correction.source]
        fld = source.collection(correction.collection).field(correction.field)
    except (KeyError, DataMapError):
        return
    kind = values.kind_of(fld)
    attribute = _SUBJECT_FIELDS.get(fld.identity or "") or ("phone" if kind is values.Kind.PHONE else None)
    if attribute is None or correction.before_value is None:
        return
    subject = case.subject
    held = getattr(subject, attribute)
    held_text = held.isoformat() if isinstance(held, date) else held
    if held is None or _comparable(held_text) != _comparable(correction.before_value):
        return
    new = correction.after_value
    if attribute == "date_of_birth":
        new = date.fromisoformat(new)
    setattr(subject, attribute, new)
    audit_record("rectification.subject_corrected", actor=actor, now=now, case=case,
                 before={attribute: held}, after={attribute: new, "correction_id": correction.id})
