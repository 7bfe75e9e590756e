"""Evidence for "this is the person" (issue 16, item 7): a found record's identifying values beside the case's.

Before staff confirm a match they see, per found record that holds identifying fields, the case's value and
the record's value of each identity (name, date of birth, postcode, e-mail, customer and policy number) and
which of them reached the record. A value that differs from the case's is masked (first and last character
only): staff learn *that* it differs, not another person's data. The values are read again, read-only, from
the source at the moment the page is shown; dsr stores none of them (the lookup keeps references only).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dsr.datamap.sources import Source, SourceKind

# How many records the panel reads and shows: enough to judge the match, cheap enough for every page view.
MAX_RECORDS = 8
ORDER = ("name", "date_of_birth", "postcode", "email", "customer_number", "policy_number")


def _fold(value: Any) -> str:
    """Comparable form: case, accents, spaces, dots and dashes do not count ("1011 ab" ~ "1011AB")."""
    if isinstance(value, date):
        return value.isoformat()
    text = unicodedata.normalize("NFKD", str(value))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return "".join(c for c in text if c.isalnum())


def mask(value: Any) -> str:
    """Another person's value, masked: first and last character, the rest as dots ("J••••n")."""
    text = value.isoformat() if isinstance(value, date) else str(value)
    if len(text) <= 2:
        return "•" * len(text)
    return text[0] + "•" * (len(text) - 2) + text[-1]


@dataclass(frozen=True)
class Comparison:
    identity: str
    case_value: str | None
    found_value: str | None  # masked when it differs
    outcome: str  # "same", "differs", "not on case"


@dataclass
class RecordEvidence:
    source: str
    collection: str
    key: str
    matched_by: list[str]
    comparisons: list[Comparison] = field(default_factory=list)

    @property
    def differs(self) -> bool:
        return any(c.outcome == "differs" for c in self.comparisons)


def case_identities(subject) -> dict[str, Any]:
    return {"name": subject.name, "date_of_birth": subject.date_of_birth, "postcode": subject.postcode,
            "email": subject.email, "customer_number": subject.customer_number,
            "policy_number": subject.policy_number}


def compare(case_values: Mapping[str, Any], record_values: Mapping[str, Any]) -> list[Comparison]:
    """Each identity the record holds, beside the case's; the record's value masked unless it is the same."""
    rows = []
    for identity in ORDER:
        mine, theirs = case_values.get(identity), record_values.get(identity)
        if mine in (None, "") and theirs in (None, ""):
            continue
        shown_mine = mine.isoformat() if isinstance(mine, date) else (str(mine) if mine not in (None, "") else None)
        if theirs in (None, ""):
            continue  # the record does not hold this identifier: nothing to compare
        if mine in (None, ""):
            rows.append(Comparison(identity, None, mask(theirs), "not on case"))
        elif _fold(mine) == _fold(theirs):
            rows.append(Comparison(identity, shown_mine, shown_mine, "same"))
        else:
            rows.append(Comparison(identity, shown_mine, mask(theirs), "differs"))
    return rows


def match_evidence(subject, records, sources: Mapping[str, Source], read) -> list[RecordEvidence]:
    """The evidence for each found record with identifying fields (at most :data:`MAX_RECORDS`).

    ``records`` are the lookup's :class:`~dsr.fulfilment.models.FoundRecord` rows; ``read`` is
    :func:`dsr.fulfilment.access.read_wanted` (``{(source, collection): [keys]}`` -> rows).
    """
    chosen = []
    for rec in records:
        source = sources.get(rec.source)
        if source is None or source.kind is not SourceKind.SQL:
            continue
        try:
            coll = source.collection(rec.collection)
        except KeyError:
            continue
        if coll.identity_fields:
            chosen.append((rec, coll))
        if len(chosen) >= MAX_RECORDS:
            break
    wanted: dict[tuple[str, str], list[dict]] = {}
    for rec, _coll in chosen:
        wanted.setdefault((rec.source, rec.collection), []).append(rec.primary_key)
    rows = read(wanted) if wanted else {}
    mine = case_identities(subject)
    result = []
    for rec, coll in chosen:
        row = next((r for r in rows.get((rec.source, rec.collection), [])
                    if all(str(r.get(k)) == str(v) for k, v in rec.primary_key.items())), None)
        if row is None:
            continue
        theirs: dict[str, Any] = {}
        for fld in coll.identity_fields:
            value = row.get(fld.name)
            if value in (None, ""):
                continue
            if fld.identity == "name" and "name" in theirs:  # first and last name in two columns
                theirs["name"] = f"{theirs['name']} {value}"
            elif fld.identity not in theirs:
                theirs[fld.identity] = value
        result.append(RecordEvidence(
            source=rec.source, collection=rec.collection, key=", ".join(f"{v}" for v in rec.primary_key.values()),
            matched_by=[part.strip() for part in rec.matched_by.split(",") if part.strip()],
            comparisons=compare(mine, theirs)))
    return result
