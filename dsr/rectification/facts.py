"""What the letters say about a rectification (Art. 16) and the recipients told of it (Art. 19), as JSON.

The recipients' part is :mod:`dsr.notices.facts`'s, shared with erasure and restriction.

The completion letters are rendered elsewhere from these plain dictionaries: every value is a string, a
list, a dict or ``None`` (dates as ISO text), so a letter template needs nothing from dsr's models.
Recipient names come in Dutch, English and French from the privacy statement, for the letter's language;
Art. 19 says the subject is told who the recipients are when they ask, so the letter can list them.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from dsr.cases.models import Case
from dsr.datamap.sources import DataMapError, load_sources
from dsr.notices.facts import recipient_facts
from dsr.rectification import values
from dsr.rectification.models import Correction
from dsr.rectification.operations import corrections_of
from dsr.timeutil import local_date


def _source_names() -> dict[str, str]:
    try:
        return {key: s.name for key, s in load_sources(current_app.config).items()}
    except DataMapError:
        return {}


def correction_facts(correction: Correction, source_names: dict[str, str]) -> dict[str, Any]:
    return {
        "id": correction.id,  # which text for the subject goes with it (dsr.texts); never printed
        "source": correction.source,
        "source_name": source_names.get(correction.source, correction.source),
        "collection": correction.collection,
        "field": correction.field,
        "before": None if correction.before_value is None else values.shown(correction.before_value),
        "after": values.shown(correction.after_value),
        "status": correction.status.value,
        "reason": correction.reason,
        "decided_on": local_date(correction.decided_at).isoformat() if correction.decided_at else None,
    }


def rectification_facts(case: Case) -> dict[str, Any]:
    """Every correction of the case (applied, refused with its reason, or still pending) and the recipients."""
    names = _source_names()
    return {"corrections": [correction_facts(c, names) for c in corrections_of(case)],
            "recipients": recipient_facts(case)}
