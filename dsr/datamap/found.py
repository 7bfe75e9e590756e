"""What a lookup has found so far, kept on disk instead of in memory (issue 15, item 4).

A lookup must know every record it has found: to follow references without looping, to tell which values
it has already searched by, and to say which found records someone else reaches too
(:mod:`dsr.datamap.sharing`). Held in memory, that grew with the subject's records (about 0.75 KB each,
159 MB for 200,000). :class:`FoundStore` keeps it in a private scratch SQLite database of its own process:
SQLite opens it as a temporary file and removes it from the directory at once (it is never visible to
another process and disappears when the connection closes, or the process ends, however it ends), and
keeps only a few megabytes of its pages in memory. It holds the values the search follows (references,
identities, the record's date), never a record's other values; nothing of it reaches dsr's own database,
so it works the same whichever database dsr runs on and in whichever process runs the lookup.

A record's key is its source, collection and the ``repr`` of its key values (as the source's driver returns
them); the key values are also kept as columns, so records come back in the order the lookup always gave
them (by collection as the data map lists them, then by key).
"""

from __future__ import annotations

import pickle
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from itertools import islice
from typing import Any

from dsr.datamap.sharing import SharedBy, describe

PAGE = 500  # rows read back at a time
_IN_LIST = 2000  # values per IN list
_RECENT = 20_000  # values a search by values remembers having seen (FoundStore.fresh)
_KEY_COLUMNS = 6  # a key of more columns is ordered by its first six, then by its repr
_PLAIN = (int, float, str, bytes)
_SCHEMA = f"""
CREATE TABLE found (
    id INTEGER PRIMARY KEY, source TEXT NOT NULL, place INTEGER NOT NULL, collection TEXT NOT NULL,
    ident TEXT NOT NULL,
    position INTEGER NOT NULL, step INTEGER NOT NULL, {", ".join(f"k{i}" for i in range(_KEY_COLUMNS))},
    primary_key BLOB, fields BLOB NOT NULL, held INTEGER NOT NULL, matched_by TEXT NOT NULL,
    shared INTEGER NOT NULL DEFAULT 0, UNIQUE (place, ident));
CREATE INDEX found_step ON found (place, step);
CREATE TABLE kept_value (
    found_id INTEGER NOT NULL, place INTEGER NOT NULL, field TEXT NOT NULL, text TEXT NOT NULL, value,
    pickled INTEGER NOT NULL);
CREATE INDEX kept_value_text ON kept_value (place, field, text);
CREATE TABLE queried (
    place INTEGER NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (place, field, value)) WITHOUT ROWID;
CREATE TABLE shared_by (
    seq INTEGER PRIMARY KEY, found_id INTEGER NOT NULL, ident TEXT NOT NULL, shared BLOB NOT NULL,
    UNIQUE (found_id, ident));
CREATE TABLE other_identity (
    source TEXT NOT NULL, identity TEXT NOT NULL, norm TEXT NOT NULL, found_id INTEGER NOT NULL,
    own_field TEXT NOT NULL);
CREATE INDEX other_identity_norm ON other_identity (source, identity, norm);
"""


@dataclass(frozen=True, slots=True)
class FoundRecord:
    """One record found. ``fields`` holds its values, or with ``slim`` (:func:`dsr.datamap.lookup.find_records`)
    only those the search needs (references, identities, the record's date); ``held`` names the fields that
    held a value either way, and ``categories`` is the collection's (one dict shared by its records)."""

    source: str
    collection: str
    primary_key: dict[str, Any]
    fields: dict[str, Any]
    categories: dict[str, tuple[str, ...]]
    matched_by: str
    # What else reaches this record: records that are not the subject's (:mod:`dsr.datamap.sharing`).
    shared_with: tuple[SharedBy, ...] = ()
    held: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str, tuple]:
        return self.source, self.collection, tuple(self.primary_key.values())

    @property
    def shared(self) -> bool:
        """Also reached from another person: never erased without a person deciding (issue 13, item 2)."""
        return bool(self.shared_with)

    @property
    def shared_reason(self) -> str | None:
        """Why, in English (the case file's language); :func:`dsr.datamap.sharing.describe` gives it in nl
        or fr from :attr:`shared_with`."""
        return describe([s.as_json() for s in self.shared_with], "en") if self.shared_with else None


def _plain(value: Any) -> bool:
    """Whether SQLite keeps ``value`` as it is (a bool would come back as an int, a huge int not at all)."""
    return type(value) in _PLAIN and (type(value) is not int or -(2 ** 63) <= value < 2 ** 63)


def _sortable(value: Any) -> Any:
    """A key value as SQLite orders it the way Python orders values of its type."""
    if value is None:
        return 0  # never NULL: SQLite's row values do not compare NULL
    if _plain(value) or isinstance(value, (int, float)):
        return value if _plain(value) else float(value)
    if isinstance(value, (date, datetime, time)):
        return value.isoformat()
    return str(value)


def _stored(value: Any) -> tuple[Any, int]:
    """A value as SQLite keeps it unchanged, or pickled; and which."""
    return (value, 0) if _plain(value) else (pickle.dumps(value), 1)


def _value(stored: Any, pickled: int) -> Any:
    return pickle.loads(stored) if pickled else stored


def ident(values: Iterable[Any]) -> str:
    """What names one record of a collection: its key values as the driver returned them."""
    return repr(tuple(values))


class FoundStore:
    """The records of one lookup, on disk; use as a context manager (closing it removes everything)."""

    cache_kib = 4000  # of the store's pages kept in memory; the rest is in the file

    def __init__(self) -> None:
        # "": a private temporary database, its file unlinked as soon as it is opened.
        self.db = sqlite3.connect("", isolation_level=None, check_same_thread=True)
        self.db.execute("PRAGMA journal_mode = OFF")
        self.db.execute("PRAGMA synchronous = OFF")
        self.db.execute(f"PRAGMA cache_size = -{int(self.cache_kib)}")
        self.db.executescript(_SCHEMA)
        self.db.execute("BEGIN")  # one transaction for the lookup: nothing of it is ever committed to keep
        self.sources: list[str] = []  # in the order they were searched
        self._helds: dict[tuple[str, ...], int] = {}
        self._held_list: list[tuple[str, ...]] = []
        self._categories: dict[tuple[str, str], dict[str, tuple[str, ...]]] = {}
        self._positions: dict[tuple[str, str], int] = {}
        self._places: dict[tuple[str, str], int] = {}
        self._key_names: dict[int, tuple[str, ...]] = {}  # per collection, where keys are stored as columns
        self._last_id = 0
        self._indexed: dict[tuple[str, str], tuple[str, ...]] = {}

    def __enter__(self) -> FoundStore:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def begin_source(self, source: str) -> None:
        if source not in self.sources:
            self.sources.append(source)

    def describe_collection(self, source: str, collection: str, *, position: int,
                            categories: dict[str, tuple[str, ...]], indexed: Iterable[str]) -> None:
        """Once per collection before its records: its place in the data map, its fields' categories,
        and which kept fields the sharing check looks records up by (references' targets, identities)."""
        self._positions[(source, collection)] = position
        self._categories[(source, collection)] = categories
        self._indexed[(source, collection)] = tuple(indexed)

    def place(self, source: str, collection: str) -> int:
        """The number standing for ``collection`` of ``source`` in the store."""
        return self._places.setdefault((source, collection), len(self._places))

    def knows(self, source: str, collection: str) -> bool:
        return (source, collection) in self._positions

    def add(self, source: str, collection: str, primary_key: dict[str, Any], fields: dict[str, Any],
            held: tuple[str, ...], matched_by: str, step: int) -> bool:
        """Store a record unless it was found before; whether it is new."""
        return self.add_many(source, collection, [(primary_key, fields, held)], matched_by, step) == 1

    def add_many(self, source: str, collection: str,
                 records: list[tuple[dict[str, Any], dict[str, Any], tuple[str, ...]]], matched_by: str,
                 step: int) -> int:
        """Store ``records`` (key, kept fields, fields held) of ``collection``, in order, except those found
        before; how many were new."""
        position, place = self._positions[(source, collection)], self.place(source, collection)
        named = {ident(tuple(primary_key.values())): (primary_key, fields, held)
                 for primary_key, fields, held in records}
        # Records found again (a payment reached through its invoice and its policy) are common: skipped
        # before anything of them is encoded.
        names = list(named)
        for start in range(0, len(names), _IN_LIST):
            chunk = names[start:start + _IN_LIST]
            for (name,) in self.db.execute(
                    f"SELECT ident FROM found WHERE place = ? AND ident IN ({', '.join('?' * len(chunk))})",  # noqa: S608
                    (place, *chunk)):
                del named[name]
        rows = []
        for name, (primary_key, fields, held) in named.items():
            values = tuple(primary_key.values())
            if held not in self._helds:
                self._helds[held] = len(self._held_list)
                self._held_list.append(held)
            keys = [_sortable(v) for v in values[:_KEY_COLUMNS]] + [0] * (_KEY_COLUMNS - len(values))
            plain = len(values) <= _KEY_COLUMNS and all(_plain(v) for v in values)
            if plain:
                self._key_names.setdefault(place, tuple(primary_key))
            rows.append((source, place, collection, name, position, step, *keys,
                         None if plain and self._key_names[place] == tuple(primary_key) else pickle.dumps(primary_key),
                         pickle.dumps(fields), self._helds[held], matched_by))
        self.db.executemany(
            "INSERT INTO found (source, place, collection, ident, position, step, k0, k1, k2, k3, k4, k5, "
            "primary_key, fields, held, matched_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        indexed = self._indexed[(source, collection)]
        if indexed and rows:
            ids = dict(self.db.execute("SELECT ident, id FROM found WHERE id > ?", (self._last_id,)))
            self.db.executemany("INSERT INTO kept_value VALUES (?, ?, ?, ?, ?, ?)", [
                (ids[name], place, field, str(value), *_stored(value))
                for name, (_key, fields, _held) in named.items() for field in indexed
                if (value := fields.get(field)) is not None])
        self._last_id += len(rows)
        new = rows
        return len(new)

    def found_among(self, source: str, collection: str, keys: Iterable[tuple]) -> set[tuple]:
        """Which of ``keys`` (key values) name records found."""
        named = {ident(k): k for k in keys}
        names = list(named)
        found: set[tuple] = set()
        for start in range(0, len(names), PAGE):
            chunk = names[start:start + PAGE]
            found.update(named[row[0]] for row in self.db.execute(
                "SELECT ident FROM found WHERE place = ? AND ident IN "  # noqa: S608
                f"({', '.join('?' * len(chunk))})", (self.place(source, collection), *chunk)))
        return found

    def fresh(self, source: str, collection: str, field: str, values: Iterable[Any]) -> Iterator[Any]:
        """The values not searched by before in ``collection.field``, each once; they count as searched."""
        values, place = iter(values), self.place(source, collection)
        # The names this call has already passed on or found searched before: most values repeat (a policy's
        # id in each of its hundred thousand payments), and each chunk of them was looked up in the store.
        # At most _RECENT of them, so memory stays flat.
        recent: set[str] = set()
        while chunk := list(islice(values, PAGE)):
            named = {name: v for v in chunk if v is not None and (name := repr(v)) not in recent}
            if not named:
                continue
            seen = {row[0] for row in self.db.execute(
                "SELECT value FROM queried WHERE place = ? AND field = ? AND value IN "  # noqa: S608
                f"({', '.join('?' * len(named))})", (place, field, *named))}
            new = [name for name in named if name not in seen]
            self.db.executemany("INSERT INTO queried VALUES (?, ?, ?)",
                                [(place, field, name) for name in new])
            if len(recent) + len(named) > _RECENT:
                recent.clear()
            recent.update(named)
            yield from (named[name] for name in new)

    def searched_by(self, source: str, collection: str, field: str, values: Iterable[Any]) -> set[str]:
        """The ``repr`` of those of ``values`` that ``collection.field`` was searched by (:meth:`fresh`)."""
        names, place = list({repr(v) for v in values if v is not None}), self.place(source, collection)
        found: set[str] = set()
        for start in range(0, len(names), PAGE):
            chunk = names[start:start + PAGE]
            found.update(row[0] for row in self.db.execute(
                "SELECT value FROM queried WHERE place = ? AND field = ? AND value IN "  # noqa: S608
                f"({', '.join('?' * len(chunk))})", (place, field, *chunk)))
        return found

    def field_values(self, source: str, collection: str, field: str, *, step: int | None = None) -> Iterator[Any]:
        """The kept value of ``field`` of every record of ``collection`` (of one ``step`` of the search), read
        a page at a time so the store can be written meanwhile."""
        steps = [step] if step is not None else [row[0] for row in self.db.execute(
            "SELECT DISTINCT step FROM found WHERE place = ? ORDER BY step", (self.place(source, collection),))]
        for one in steps:
            last = 0
            while rows := self.db.execute(
                    "SELECT id, fields FROM found WHERE place = ? AND step = ? AND id > ? "
                    "ORDER BY id LIMIT ?", (self.place(source, collection), one, last, PAGE)).fetchall():
                for _id, fields in rows:
                    yield pickle.loads(fields).get(field)
                last = rows[-1][0]

    def has_step(self, source: str, step: int) -> bool:
        return self.db.execute("SELECT 1 FROM found WHERE source = ? AND step = ? LIMIT 1",
                               (source, step)).fetchone() is not None

    def distinct_values(self, source: str, collection: str, field: str) -> Iterator[list[tuple[str, Any]]]:
        """(text, a value of that text) of the kept values of ``collection.field``, a page of texts at a time."""
        last = None
        while rows := self.db.execute(
                "SELECT text, value, pickled FROM kept_value WHERE place = ? AND field = ? "
                "AND (? IS NULL OR text > ?) GROUP BY text ORDER BY text LIMIT ?",
                (self.place(source, collection), field, last, last, PAGE)).fetchall():
            yield [(text, _value(value, pickled)) for text, value, pickled in rows]
            last = rows[-1][0]

    def holding(self, source: str, collection: str, field: str, text: str) -> list[int]:
        """The records of ``collection`` whose kept ``field`` reads ``text``."""
        return [row[0] for row in self.db.execute(
            "SELECT found_id FROM kept_value WHERE place = ? AND field = ? AND text = ? "
            "ORDER BY found_id", (self.place(source, collection), field, text))]

    def kept_rows(self, source: str, collection: str, field: str) -> Iterator[tuple[int, Any]]:
        """(record, value) of every kept ``field`` of ``collection``."""
        last = 0
        while rows := self.db.execute(
                "SELECT rowid, found_id, value, pickled FROM kept_value WHERE place = ? AND field = ? "
                "AND rowid > ? ORDER BY rowid LIMIT ?", (self.place(source, collection), field, last, PAGE)).fetchall():
            for _rowid, found_id, value, pickled in rows:
                yield found_id, _value(value, pickled)
            last = rows[-1][0]

    def add_other_identity(self, source: str, identity: str, norm: str, found_id: int, own_field: str) -> None:
        self.db.execute("INSERT INTO other_identity VALUES (?, ?, ?, ?, ?)",
                        (source, identity, norm, found_id, own_field))

    def other_identities(self, source: str) -> list[str]:
        return [row[0] for row in self.db.execute(
            "SELECT DISTINCT identity FROM other_identity WHERE source = ? ORDER BY identity", (source,))]

    def other_values(self, source: str, identity: str) -> Iterator[list[str]]:
        """The normalised values of ``identity`` that are not the subject's, a page at a time."""
        last = ""
        while rows := [row[0] for row in self.db.execute(
                "SELECT DISTINCT norm FROM other_identity WHERE source = ? AND identity = ? AND norm > ? "
                "ORDER BY norm LIMIT ?", (source, identity, last, PAGE))]:
            yield rows
            last = rows[-1]

    def others(self, source: str, identity: str, norm: str) -> list[tuple[int, str]]:
        return list(self.db.execute(
            "SELECT found_id, own_field FROM other_identity WHERE source = ? AND identity = ? AND norm = ? "
            "ORDER BY rowid", (source, identity, norm)))

    def add_shared(self, found_id: int, by: SharedBy) -> None:
        """``by`` reaches the record too (once per record, in the order they were found)."""
        if self.db.execute("INSERT OR IGNORE INTO shared_by (found_id, ident, shared) VALUES (?, ?, ?)",
                           (found_id, repr(by), pickle.dumps(by))).rowcount:
            self.db.execute("UPDATE found SET shared = 1 WHERE id = ?", (found_id,))

    def census(self, source: str) -> list[tuple[str, int, dict[str, tuple[str, ...]], list[tuple[str, ...]]]]:
        """Per collection of ``source`` with records, in the order :meth:`records` gives them: its name, how
        many records, its fields' categories, and each set of fields its records held (each once). Counted
        by the store, without reading a record back."""
        census: dict[str, tuple[int, list[tuple[str, ...]]]] = {}
        for collection, held, count in self.db.execute(
                "SELECT collection, held, count(*) FROM found WHERE source = ? "
                "GROUP BY position, collection, held ORDER BY position, collection, held", (source,)):
            total, helds = census.get(collection, (0, []))
            helds.append(self._held_list[held])
            census[collection] = (total + count, helds)
        return [(collection, total, self._categories[(source, collection)], helds)
                for collection, (total, helds) in census.items()]

    def records(self, source: str) -> Iterator[FoundRecord]:
        """The records found in ``source``, by collection in the data map's order, then by key. Read with one
        statement: the store must not be written until they have all been read."""
        cursor = self.db.execute(
            "SELECT id, place, collection, primary_key, fields, held, matched_by, shared, k0, k1, k2, k3, k4, k5 "
            "FROM found WHERE source = ? "
            "ORDER BY position, k0, k1, k2, k3, k4, k5, ident", (source,))
        while rows := cursor.fetchmany(PAGE):
            for found_id, place, collection, primary_key, fields, held, matched_by, shared, *keys in rows:
                if primary_key is None:
                    names = self._key_names[place]
                    key = dict(zip(names, keys[:len(names)], strict=True))
                else:
                    key = pickle.loads(primary_key)
                shared_with = tuple(pickle.loads(row[0]) for row in self.db.execute(
                    "SELECT shared FROM shared_by WHERE found_id = ? ORDER BY seq", (found_id,))) if shared else ()
                yield FoundRecord(source=source, collection=collection, primary_key=key,
                                  fields=pickle.loads(fields), categories=self._categories[(source, collection)],
                                  matched_by=matched_by, shared_with=shared_with, held=self._held_list[held])
