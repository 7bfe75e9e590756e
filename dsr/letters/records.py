"""Records as the subject knows them (issue 14.3): grouped by system and category, counted, dated.

A letter never names a record by its database key ("Facturen (id=13395)"): that says nothing to the subject
and five pages of it hide what matters. Erasure and partial-refusal letters show one line per system and
category (and, for kept records, per reason) with the number of records and the range of their dates. The
full list goes in an annex only when the subject asked for it; there each record is named by what the
subject recognises: the fields the data map marks ``known_by`` (invoice number, policy number, claim number)
and the record's date (an invoice's date, the day of a call), read again from the source while the record
still exists. A record already erased is named by its category and date only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from dsr.datamap.model import Source, SourceKind


def _key(source: str, collection: str, primary_key: Mapping[str, Any]) -> tuple[str, str, str]:
    return source, collection, json.dumps(primary_key, sort_keys=True, default=str)


def record_dates(found: Iterable[Any]) -> dict[tuple[str, str, str], date | None]:
    """The date of each record a lookup found (its ``dated_by`` field), by source, collection and key."""
    return {_key(r.source, r.collection, r.primary_key): r.record_date for r in found}


def date_of(dates: Mapping[tuple[str, str, str], date | None], item: Any) -> date | None:
    return dates.get(_key(item.source, item.collection, item.primary_key))


def group(rows: Iterable[dict[str, Any]], by: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows (each with ``date`` and the ``by`` keys) as groups in first-seen order: the ``by`` values, the
    ``count``, the earliest and latest ``date`` (ISO text or None), and the other keys of the first row."""
    groups: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        key = tuple(row.get(k) for k in by)
        g = groups.get(key)
        if g is None:
            g = groups[key] = {**{k: v for k, v in row.items() if k not in ("date", "erase_on")},
                               "count": 0, "first": None, "last": None, "erase_first": None, "erase_last": None}
        g["count"] += 1
        for value, low, high in ((row.get("date"), "first", "last"), (row.get("erase_on"), "erase_first", "erase_last")):
            if value:
                g[low] = min(g[low], value) if g[low] else value
                g[high] = max(g[high], value) if g[high] else value
    return list(groups.values())


def known_values(sources: Mapping[str, Source], items: Iterable[Any]) -> dict[tuple[str, str, str], str]:
    """What the subject knows each still existing record by, read again (read-only) from its source: the
    ``known_by`` fields' values joined ("2025-00123"), for the records of collections that declare them."""
    from dsr.fulfilment.access import read_wanted

    wanted: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for item in items:
        source = sources.get(item.source)
        try:
            coll = source.collection(item.collection) if source is not None else None
        except KeyError:
            coll = None
        if coll is None or not coll.known_by or source.kind is not SourceKind.SQL:
            continue
        wanted.setdefault((item.source, item.collection), []).append(dict(item.primary_key))
    if not wanted:
        return {}
    try:
        read = read_wanted(sources, wanted)
    except Exception:  # noqa: BLE001 - a source that cannot be read leaves the records named by their date
        return {}
    result: dict[tuple[str, str, str], str] = {}
    for (source_key, collection), records in read.items():
        coll = sources[source_key].collection(collection)
        for record in records:
            pk = {k: record.get(k) for k in coll.primary_key}
            shown = " ".join(str(record[f]) for f in coll.known_by if record.get(f) not in (None, ""))
            if shown:
                result[_key(source_key, collection, pk)] = shown
    return result


def known_of(known: Mapping[tuple[str, str, str], str], item: Any) -> str | None:
    return known.get(_key(item.source, item.collection, item.primary_key))
