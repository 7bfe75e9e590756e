"""What the letters say about a rectification (Art. 16) and the recipients told of it (Art. 19), as JSON.

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
from dsr.rectification import values
from dsr.rectification.models import Correction, RecipientNotice
from dsr.rectification.notices import notices_of, recipients_by_id
from dsr.rectification.operations import corrections_of
from dsr.timeutil import local_date


def _source_names() -> dict[str, str]:
    try:
        return {key: s.name for key, s in load_sources(current_app.config).items()}
    except DataMapError:
        return {}


def correction_facts(correction: Correction, source_names: dict[str, str]) -> dict[str, Any]:
    return {
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


def recipient_facts(case: Case) -> list[dict[str, Any]]:
    """The recipients listed on the case (Art. 19), each with its name per language and how it stands."""
    known = recipients_by_id()
    return [_notice_facts(n, known) for n in notices_of(case)]


def _notice_facts(notice: RecipientNotice, known) -> dict[str, Any]:
    recipient = known.get(notice.recipient_id)
    name = dict(recipient.name) if recipient else {lang: notice.recipient_id for lang in ("nl", "en", "fr")}
    return {
        "id": notice.recipient_id,
        "name": {lang: notice.label(name.get(lang, notice.recipient_id)) for lang in ("nl", "en", "fr")},
        "status": notice.status.value,
        "notified_on": notice.notified_on.isoformat() if notice.notified_on else None,
        "reason": notice.reason,
    }


def rectification_facts(case: Case) -> dict[str, Any]:
    """Every correction of the case (applied, refused with its reason, or still pending) and the recipients."""
    names = _source_names()
    return {"corrections": [correction_facts(c, names) for c in corrections_of(case)],
            "recipients": recipient_facts(case)}
