"""What the letters say about the recipients told of a change (Art. 19), as plain data.

Every value is a string, a list, a dict or ``None`` (dates as ISO text). Recipient names come in Dutch,
English and French from the privacy statement, for the letter's language; Art. 19 says the subject is told
who the recipients are when they ask, so a letter can list them.
"""

from __future__ import annotations

from typing import Any

from dsr.cases.models import Case
from dsr.notices.models import RecipientNotice
from dsr.notices.operations import notices_of, recipients_by_id


def recipient_facts(case: Case) -> list[dict[str, Any]]:
    """The recipients listed on the case (Art. 19), each with its name per language and how it stands."""
    known = recipients_by_id()
    return [_notice_facts(n, known) for n in notices_of(case)]


def _notice_facts(notice: RecipientNotice, known) -> dict[str, Any]:
    recipient = known.get(notice.recipient_id)
    name = dict(recipient.name) if recipient else {lang: notice.recipient_id for lang in ("nl", "en", "fr")}
    return {
        "id": notice.recipient_id,
        "notice_id": notice.id,
        "name": {lang: notice.label(name.get(lang, notice.recipient_id)) for lang in ("nl", "en", "fr")},
        "status": notice.status.value,
        "notified_on": notice.notified_on.isoformat() if notice.notified_on else None,
        "reason": notice.reason,
    }
