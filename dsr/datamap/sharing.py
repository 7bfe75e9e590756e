"""Nobody else's data: which of a subject's found records another person also reaches (issue 13, item 2).

An erasure may touch a record only when it is the subject's alone (Art. 17(1) gives a right to erasure of
data concerning *the subject*; another person's data is not theirs to erase, Art. 5(1)(f)). A lookup finds
everything reachable from the subject's identities; some of it is reachable from someone else too:

* **by reference**: a record that is *not* among the subject's refers to it (an address used as another
  customer's home or shipping address; a policy another policyholder of a joint policy is linked to; a
  product in another customer's order). Every reference the data map declares is followed backwards from
  each found record, and any referring row the lookup did not find is someone else's;
* **by identity**: one of its identity fields holds a value (an e-mail address, a customer number) that is
  not one of the subject's and that a record not among the subject's holds too: a search for that other
  person would reach it.

:func:`find_shared` answers this with the lookup's own read-only connection, a few batched queries per
reference; :class:`SharedBy` says what else reaches the record, and :func:`describe` words it in nl, en or fr
for the case file and the plan (stored in English, as the case file's record; reworded per language from
the structured form, as :mod:`dsr.fulfilment.erasure` does for its own outcomes).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from dsr.datamap.model import COMPOSITE_IDENTITY

_CHUNK = 500
REFERENCE = "reference"
IDENTITY = "identity"
_SHOWN = 3  # the reason names this many records and counts the rest

TEXTS: dict[str, dict[str, str]] = {
    "reason": {
        "en": "Also reached from records that are not this person's: {parts}.",
        "nl": "Ook bereikt vanuit records die niet van deze persoon zijn: {parts}.",
        "fr": "Également atteint depuis des enregistrements qui ne sont pas ceux de cette personne\u202f: {parts}.",
    },
    REFERENCE: {
        "en": "{collection} {key} is linked to it ({collection}.{field} = {own_field})",
        "nl": "{collection} {key} is eraan gekoppeld ({collection}.{field} = {own_field})",
        "fr": "{collection} {key} y est lié ({collection}.{field} = {own_field})",
    },
    IDENTITY: {
        "en": "its {own_field} is also in {collection} {key}",
        "nl": "de waarde van {own_field} staat ook in {collection} {key}",
        "fr": "la valeur de {own_field} figure aussi dans {collection} {key}",
    },
    "more": {"en": "and {n} more", "nl": "en nog {n}", "fr": "et {n} autres"},
}


@dataclass(frozen=True)
class SharedBy:
    """A record not among the subject's that reaches a found record: by ``reference`` (its ``field``
    refers to the found record's ``own_field``) or by ``identity`` (it holds the found record's ``own_field``
    value in its identity field ``field``)."""

    kind: str
    collection: str
    key: tuple[tuple[str, Any], ...]
    field: str
    own_field: str

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "collection": self.collection, "key": {k: _plain(v) for k, v in self.key},
                "field": self.field, "own_field": self.own_field}


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, bool | int | float | str) else str(value)


def describe(shared_with: Sequence[Mapping[str, Any]], language: str) -> str:
    """Why a record is shared, in ``language`` (nl, en, fr), from :meth:`SharedBy.as_json` entries."""
    lang = language if language in TEXTS["reason"] else "en"
    parts = []
    for entry in shared_with[:_SHOWN]:
        key = ", ".join(f"{k}={v}" for k, v in (entry.get("key") or {}).items())
        parts.append(TEXTS[entry.get("kind", REFERENCE)][lang].format(
            collection=entry.get("collection"), key=f"({key})", field=entry.get("field"),
            own_field=entry.get("own_field")))
    if len(shared_with) > _SHOWN:
        parts.append(TEXTS["more"][lang].format(n=len(shared_with) - _SHOWN))
    return TEXTS["reason"][lang].format(parts="; ".join(parts))


def _norm(identity: str, value: Any) -> str:
    text = " ".join(str(value).split())
    return text.lower() if identity == "email" else text.upper()


def _typed(column: sa.Column, value: Any) -> Any:
    """``value`` as the column's Python type where it converts (PostgreSQL compares integer to integer)."""
    try:
        python_type = column.type.python_type
        return value if isinstance(value, python_type) else python_type(value)
    except (NotImplementedError, TypeError, ValueError):
        return value


def _rows(search, coll, field: str, values: Iterable[Any], *, lower: bool = False):
    """Rows of ``coll`` whose ``field`` is one of ``values``: (key tuple, key dict, the field's value)."""
    table, key = search.table(coll), search.key(coll)
    column = table.c[field]
    compared = sa.func.lower(column) if lower else column
    values = sorted({_typed(column, v) for v in values if v is not None}, key=str)
    for start in range(0, len(values), _CHUNK):
        chunk = values[start:start + _CHUNK]
        query = sa.select(*(table.c[k] for k in key), column.label("_value")).where(compared.in_(chunk))
        for row in search.conn.execute(query).mappings():
            yield tuple(row[k] for k in key), tuple((k, row[k]) for k in key), row["_value"]


def find_shared(search, identities: Mapping[str, Any]) -> dict[tuple, tuple[SharedBy, ...]]:
    """``{found record key: what else reaches it}`` for the found records of ``search`` (a lookup's
    :class:`~dsr.datamap.lookup._Search`, after it has run) that another person also reaches."""
    source, found = search.source, search.found
    shared: dict[tuple, list[SharedBy]] = defaultdict(list)

    def add(record_key: tuple, by: SharedBy) -> None:
        if by not in shared[record_key]:
            shared[record_key].append(by)

    # By reference: every declared reference, followed backwards from the found records.
    for edge in source.edges():
        targets: dict[str, list[tuple]] = defaultdict(list)
        for key, rec in found.items():
            if rec.collection == edge.target_collection and rec.fields.get(edge.target_field) is not None:
                targets[str(rec.fields[edge.target_field])].append(key)
        if not targets:
            continue
        referring = source.collection(edge.source_collection)
        values = {found[keys[0]].fields[edge.target_field] for keys in targets.values()}
        for key_values, key, value in _rows(search, referring, edge.source_field, values):
            if (source.key, referring.name, key_values) in found:
                continue  # the subject's own record
            for target in targets.get(str(value), []):
                add(target, SharedBy(REFERENCE, referring.name, key, edge.source_field, edge.target_field))

    # By identity: a value in an identity field that is not the subject's, and that a record not among
    # the subject's holds as well.
    own = {name: _norm(name, value) for name, value in identities.items() if name not in COMPOSITE_IDENTITY}
    others: dict[tuple[str, str], list[tuple[tuple, str]]] = defaultdict(list)  # (identity, value): records
    for key, rec in found.items():
        for fld in source.collection(rec.collection).identity_fields:
            value = rec.fields.get(fld.name)
            if fld.identity in COMPOSITE_IDENTITY or value in (None, ""):
                continue
            if own.get(fld.identity) != _norm(fld.identity, value):
                others[(fld.identity, _norm(fld.identity, value))].append((key, fld.name))
    for identity in sorted({i for i, _v in others}):
        values = [v for i, v in others if i == identity]
        for coll in source.collections:
            for fld in coll.identity_fields:
                if fld.identity != identity:
                    continue
                lower = identity == "email"
                candidates = values if lower else sorted({v for raw in values for v in (raw, raw.lower())})
                for key_values, key, value in _rows(search, coll, fld.name, candidates, lower=lower):
                    if (source.key, coll.name, key_values) in found:
                        continue
                    for target, own_field in others.get((identity, _norm(identity, value)), []):
                        add(target, SharedBy(IDENTITY, coll.name, key, fld.name, own_field))
    return {key: tuple(by) for key, by in shared.items() if by}
