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

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

import sqlalchemy as sa

from dsr.datamap.model import COMPOSITE_IDENTITY

_CHUNK = 500
_ROWS_CHUNK = 2000  # rows read and checked at a time
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
        width = len(key)
        for row in search.conn.execute(query, execution_options={"yield_per": _ROWS_CHUNK}):
            values = tuple(row)
            key_values = values[:width]
            yield key_values, tuple(zip(key, key_values, strict=True)), values[width]


def _in_chunks(store, source: str, collection: str, rows: Iterator[tuple]) -> Iterator[tuple[list, set]]:
    """``rows`` of :func:`_rows` a chunk at a time (one value may be referred to by a hundred thousand rows:
    a policy's payments), each with those of its keys that name the subject's own records."""
    while chunk := list(islice(rows, _ROWS_CHUNK)):
        yield chunk, store.found_among(source, collection, (key_values for key_values, _k, _v in chunk))


def find_shared(search, identities: Mapping[str, Any]) -> None:
    """Mark in the lookup's store (:class:`~dsr.datamap.found.FoundStore`) which found records of ``search``
    (a :class:`~dsr.datamap.lookup._Search`, after it has run) another person also reaches, and by what.
    The found records are read from the store a page at a time, never all at once."""
    source, store = search.source, search.store

    # By reference: every declared reference, followed backwards from the found records.
    for edge in source.edges():
        referring = source.collection(edge.source_collection)
        for page in store.distinct_values(source.key, edge.target_collection, edge.target_field):
            # A value the search itself looked the referring field up by (the reference followed the other
            # way, as one without a direction is) returned rows that are all among the subject's records: every
            # row it returned was kept. Only the others are read again (issue 15, item 4: a policy's hundred
            # thousand payments were read twice).
            searched = store.searched_by(source.key, referring.name, edge.source_field, (v for _t, v in page))
            values = [v for _t, v in page if repr(v) not in searched]
            if not values:
                continue
            for rows, own_rows in _in_chunks(store, source.key, referring.name,
                                             _rows(search, referring, edge.source_field, values)):
                for key_values, key, value in rows:
                    if key_values in own_rows:
                        continue  # the subject's own record
                    for target in store.holding(source.key, edge.target_collection, edge.target_field, str(value)):
                        store.add_shared(target, SharedBy(REFERENCE, referring.name, key, edge.source_field,
                                                          edge.target_field))

    # By identity: a value in an identity field that is not the subject's, and that a record not among
    # the subject's holds as well.
    own = {name: _norm(name, value) for name, value in identities.items() if name not in COMPOSITE_IDENTITY}
    for coll in source.collections:
        for fld in coll.identity_fields:
            if fld.identity in COMPOSITE_IDENTITY:
                continue
            for found_id, value in store.kept_rows(source.key, coll.name, fld.name):
                if value != "" and own.get(fld.identity) != _norm(fld.identity, value):
                    store.add_other_identity(source.key, fld.identity, _norm(fld.identity, value), found_id,
                                             fld.name)
    for identity in store.other_identities(source.key):
        for values in store.other_values(source.key, identity):
            for coll in source.collections:
                for fld in coll.identity_fields:
                    if fld.identity != identity:
                        continue
                    lower = identity == "email"
                    candidates = values if lower else sorted({v for raw in values for v in (raw, raw.lower())})
                    for rows, own_rows in _in_chunks(store, source.key, coll.name,
                                                     _rows(search, coll, fld.name, candidates, lower=lower)):
                        for key_values, key, value in rows:
                            if key_values in own_rows:
                                continue
                            for target, own_field in store.others(source.key, identity, _norm(identity, value)):
                                store.add_shared(target, SharedBy(IDENTITY, coll.name, key, fld.name, own_field))
