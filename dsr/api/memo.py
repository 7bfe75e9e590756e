"""A listed case's JSON text, kept per process by everything it was made from (issue 15, item 3).

A page of the API's list reads its cases afresh from the database every time (dsr.api.rows), but turning
25 cases into JSON (each case's clock, its dict, the encoding) cost about as much Python again, for the same
cases as the last time most of the time: an integration polls the open queue, a person pages back and forth.
The text of a case is a function of its rows in the page's statement (every column its JSON and its clock
read: the case's, its subject's, its assignee's e-mail, its merge target's reference, its rights, pauses and
attachments), the day, the calendar of the declared days and the clock's settings. With all of them as the
key, a kept text is the one that would be made now; whatever changed (a field, a pause, the subject's name, a
declared day, the date) is another key. At most :data:`MOST` texts are kept, then they are dropped at once,
and all of them when the day changes: a text, with the personal data in it, stays in a worker's memory for
the day it was read at most (one erased since is never shown: its rows are gone, so is its key).
"""

from __future__ import annotations

from datetime import date

from flask.json.provider import JSONProvider

from dsr.cases.deadlines import case_clock
from dsr.cases.serialize import case_json
from dsr.domain import clock
from dsr.domain.calendar_nl import WorkingDayCalendar

MOST = 4096
_KEPT: dict[tuple, str] = {}
_DAY: list[date | None] = [None]  # the day of the texts kept


def compact(provider: JSONProvider, obj) -> str:
    """``obj`` as ``provider.response`` writes it when it does not indent."""
    return provider.dumps(obj, separators=(",", ":"))


def case_text(case, calendar: WorkingDayCalendar, day: date, soon: int, ask: int, rule: clock.ExtensionRule,
              provider: JSONProvider) -> str:
    """The compact JSON text (:func:`compact`) of :func:`~dsr.cases.serialize.case_json` with the case's clock
    on ``day``, of an :class:`~dsr.api.rows.ApiCase`, kept by :attr:`~dsr.api.rows.ApiCase.made_of` and the
    rest."""
    if _DAY[0] != day:
        _KEPT.clear()
        _DAY[0] = day
    key = (case.made_of, day, calendar, soon, ask, rule, provider)
    text = _KEPT.get(key)
    if text is None:
        text = compact(provider, case_json(case, case_clock(case, calendar, day, soon_days=soon,
                                                            ask_working_days=ask, rule=rule)))
        if len(_KEPT) >= MOST:
            _KEPT.clear()
        _KEPT[key] = text
    return text
