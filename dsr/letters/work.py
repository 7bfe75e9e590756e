"""The work a person did on a case, as the case records it: what a letter may report (issue 14.1).

A letter that says the paper archive was searched, the processor instructed or the recipients told is a
statement the controller signs (Art. 5(2), accountability). Each such sentence is printed only with the
fact behind it: a manual source's task marked done (with its date), a recipient notice ticked notified or
recorded as not notifiable (Art. 19). While any of it is still open an access or erasure completion letter
is refused, and the refusal lists what is open (:func:`open_work`), so a letter cannot get ahead of the case.

The facts are plain JSON-ready dictionaries (dates as ISO text), as in :mod:`dsr.letters.facts`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext

from dsr.cases.models import Case
from dsr.cases.obligations import open_obligations
from dsr.domain.enums import LookupMatch
from dsr.extensions import db
from dsr.letters.kinds import LetterKind
from dsr.tasks.models import CaseTask
from dsr.timeutil import local_date

# Kinds whose letter reports what was done in the manual sources and, after an erasure or a correction,
# to the recipients (Art. 19): they wait until that work is recorded as done.
WAITS_FOR_MANUAL = (LetterKind.COMPLETION_ACCESS, LetterKind.COMPLETION_ERASURE)
WAITS_FOR_NOTICES = (LetterKind.COMPLETION_ERASURE, LetterKind.COMPLETION_RECTIFICATION)

# Other features may add what else keeps a letter of a kind waiting (a sentence per open item):
# ``OPEN_WORK[kind].append(callable(case) -> list[str])``.
OPEN_WORK: dict[LetterKind, list[Callable[[Case], list[str]]]] = {}


def _source_names(language: str) -> dict[str, str]:
    from dsr.datamap.sources import DataMapError, load_sources

    try:
        return {key: s.display_name(language) for key, s in load_sources(current_app.config).items()}
    except DataMapError:
        return {}


def manual_sources(case: Case, language: str) -> list[dict[str, Any]]:
    """Each manual source of the case's newest search (paper archive, a processor) with its task: done on a
    date, or still open. Empty when the case has no search or the data map has no manual source."""
    from dsr.fulfilment.lookup_ops import latest_lookup

    lookup = latest_lookup(case)
    tasks_by_source = dict((lookup.manual_tasks or {}) if lookup is not None else {})
    if not tasks_by_source:
        return []
    tasks = {t.id: t for t in db.session.execute(
        sa.select(CaseTask).where(CaseTask.id.in_([int(v) for v in tasks_by_source.values()]))).scalars()}
    names = _source_names(language)
    result = []
    for key, task_id in sorted(tasks_by_source.items()):
        task = tasks.get(int(task_id))
        if task is None:
            continue  # the task was deleted with its case file; nothing to report or to wait for
        result.append({"source": key, "name": names.get(key, key), "task": task.title,
                       "done_on": local_date(task.done_at).isoformat() if task.done_at else None})
    return result


def notices(case: Case, language: str) -> dict[str, Any]:
    """The Art. 19 notices of the case: whether they are owed (something was rectified or erased), and each
    listed recipient by name in ``language``, notified (with the date), not notifiable (with the reason) or
    still pending."""
    from dsr.notices.changes import notices_required, owes_notices
    from dsr.notices.facts import recipient_facts
    from dsr.texts.models import TextPurpose
    from dsr.texts.operations import quoted

    owed = owes_notices(case) and notices_required(case)
    listed = recipient_facts(case) if owes_notices(case) else []
    for r in listed:
        r["display_name"] = (r.get("name") or {}).get(language) or r["id"]
        # Why a recipient was not told: only a text written for the subject in the letter's language (issue
        # 14.2); the privacy manager's reason is the controller's record. None written: the letter lists the
        # recipient under its general sentence (impossible or disproportionate effort).
        r["reason"] = (quoted(case, TextPurpose.NOTICE_NOT_MADE, language, r["notice_id"], required=False)
                       if r["status"] == "not_notifiable" else None)
    return {
        "owed": owed,
        "notified": [r for r in listed if r["status"] == "notified"],
        "not_notifiable": [r for r in listed if r["status"] == "not_notifiable"],
        "pending": [r for r in listed if r["status"] == "pending"],
    }


def open_work(case: Case, kind: LetterKind) -> list[str]:
    """What the case still has open that the ``kind`` letter would report on, a sentence each; empty when the
    letter may be issued."""
    still: list[str] = []
    if kind in WAITS_FOR_MANUAL:
        for m in manual_sources(case, "en"):
            if m["done_on"] is None:
                still.append(_("The task for %(source)s is still open.", source=m["name"]))
    if kind in WAITS_FOR_NOTICES:
        still.extend(open_obligations(case, features=("rectification", "notices")))
    if kind is LetterKind.COMPLETION_ERASURE:
        # Issue 13.6: the erasure is complete only once the paper file and the processors are done (or
        # recorded impossible) and no record failed.
        still.extend(open_obligations(case, features=("erasure",)))
    if kind is LetterKind.COMPLETION_OBJECTION:
        # Issue 14.6: no completion letter for an objection that is not decided (Art. 21).
        still.extend(open_obligations(case, features=("objection",)))
    if kind is LetterKind.COMPLETION_RESTRICTION:
        # Art. 18 and 19: the letter says what was restricted where and who was told; not before it is so.
        still.extend(open_obligations(case, features=("restriction", "notices")))
    if kind is LetterKind.COMPLETION_RECTIFICATION and not still:
        # Issue 14.6: a rectification letter needs a decided correction; "no correction made" is a refusal,
        # which the letter states with each reason and the complaint and court routes (Art. 12(4)).
        from dsr.rectification.operations import corrections_of

        if not any(not c.is_pending for c in corrections_of(case)):
            still.append(_("No correction is decided yet: record each correction asked for and apply or refuse "
                           "it (Art. 16)."))
    if kind is LetterKind.COMPLETION_ACCESS:
        # Issue 18.4: the copy the letter encloses is released only once every value that may hold other
        # people's data is decided by the privacy manager (Art. 15(4)).
        from dsr.fulfilment.lookup_ops import latest_lookup
        from dsr.fulfilment.redaction_ops import pending

        lookup = latest_lookup(case)
        if lookup is not None and lookup.match == LookupMatch.CONFIRMED:
            waiting = pending(lookup)
            if waiting:
                still.append(ngettext(
                    "%(num)d value that may hold other people's data is not decided yet (Art. 15(4)).",
                    "%(num)d values that may hold other people's data are not decided yet (Art. 15(4)).",
                    len(waiting)))
    for extra in OPEN_WORK.get(kind, []):
        still.extend(extra(case))
    return list(dict.fromkeys(still))  # a feature's obligation may be reported through two lists
