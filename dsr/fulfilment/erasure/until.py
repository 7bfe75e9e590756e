"""Until when a kept record stays, in the reader's language (issue 16, item 9).

The retention engine (:mod:`dsr.domain.retention`) and the plan store the English "until" as the case file's
record: "while the policy is active", "until the legal hold is released (dispute with the garage)", "while
the contract runs, then P7Y from the end of the contract", with the reasons of a further rule after "; " and
that rule's id. The plan page shows it in the interface's language: :func:`until_words` reads the stored text
back piece by piece and words each piece again; a further rule is named by its title, never its id. A piece
it does not know (a text of an older version) is shown as stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dsr.domain.retention_rules import Rule

_DAY = r"(\d{4}-\d{2}-\d{2})"
_WHILE = {"while the contract runs": _l("while the contract runs"),
          "while the claim is open": _l("while the claim is open"),
          "until the case is closed": _l("until the case is closed")}
_FROM = {"the end of the contract": _l("the end of the contract"), "the end of the claim": _l("the end of the claim"),
         "the closure of the case": _l("the closure of the case")}
_FACTS = {"dated_on": _l("the record's date"), "policy_active": _l("whether the policy is active"),
          "claim_open": _l("whether the claim is open"), "contract_ended_on": _l("the day the contract ended"),
          "claim_closed_on": _l("the day the claim was closed"), "case_closed_on": _l("the day the case was closed"),
          "retention_until": _l("the record's stated retention date")}
_FIXED = {"until the privacy manager decides": _l("until the privacy manager decides"),
          "kept by the privacy manager's decision": _l("kept by the privacy manager's decision"),
          "until the legal hold is released": _l("until the legal hold is released"),
          "while the policy is active": _l("while the policy is active"),
          "while the claim is open": _l("while the claim is open")}


def until_words(until: str | None, language: str, rules: Mapping[str, Rule],
                day: Callable[[date], str], period: Callable[[str, str], str]) -> str:
    """The stored English ``until`` in the interface's ``language``; ``day`` formats a date, ``period``
    words an ISO period (``P7Y``) in a language. Rule ids become the rules' titles."""
    if not until:
        return ""
    parts = []
    for n, part in enumerate(until.split("; ")):
        title = None
        rule_id, sep, rest = part.partition(": ")
        if n and sep and rule_id in rules:  # a further rule that keeps the record: "<rule id>: <reasons>"
            title, part = rules[rule_id].title_in(language), rest
        words = _(", or ").join(_reason(r, language, day, period) for r in part.split(", or "))
        parts.append(_("%(rule)s: %(reasons)s", rule=title, reasons=words) if title else words)
    return "; ".join(parts)


def _reason(text: str, language: str, day: Callable[[date], str], period: Callable[[str, str], str]) -> str:
    def on(value: str) -> str:
        return day(date.fromisoformat(value))

    if text in _FIXED:
        return str(_FIXED[text])
    if m := re.fullmatch(r"until the legal hold is released \((.*)\)", text, re.S):
        return _("until the legal hold is released (%(reason)s)", reason=m[1])
    if m := re.fullmatch(r"(.+), then (P\w+) from (.+)", text):
        if m[1] in _WHILE and m[3] in _FROM:
            return _("%(while)s, then %(period)s from %(start)s", period=period(m[2], language),
                     start=_FROM[m[3]], **{"while": _WHILE[m[1]]})
    if m := re.fullmatch(rf"until {_DAY} \(the record's stated retention\)", text):
        return _("until %(day)s (the record's stated retention)", day=on(m[1]))
    if m := re.fullmatch(rf"until {_DAY} \((P\w+) from (.+)\)", text):
        origin = _origin(m[3], on)
        if origin is not None:
            return _("until %(day)s (%(period)s from %(origin)s)", day=on(m[1]), period=period(m[2], language),
                     origin=origin)
    if m := re.fullmatch(r"(\w+) unknown: check by hand before erasing", text):
        if m[1] in _FACTS:
            return _("%(fact)s unknown: check by hand before erasing", fact=_FACTS[m[1]])
    if m := re.fullmatch(r"shared with another person: only the subject's own fields \((.*)\) are erased", text):
        return _("shared with another person: only the subject's own fields (%(fields)s) are erased", fields=m[1])
    return text


def _origin(text: str, on: Callable[[str], str]) -> str | None:
    """"the end of the book year, 2026-12-31", "the end of the contract, 2026-03-01" or "2026-03-01"."""
    if m := re.fullmatch(rf"the end of the book year, {_DAY}", text):
        return _("the end of the book year, %(day)s", day=on(m[1]))
    if m := re.fullmatch(rf"(.+), {_DAY}", text):
        return _("%(start)s, %(day)s", start=_FROM[m[1]], day=on(m[2])) if m[1] in _FROM else None
    if re.fullmatch(_DAY, text):
        return on(text)
    return None
