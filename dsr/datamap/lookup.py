"""Find a subject's records in a SQL source from the identities on a case: read-only, bound parameters only.

Art. 15(1) asks for *all* personal data concerning the subject, so a lookup starts from every identity the
case holds (customer number, policy number, e-mail, or name + date of birth + postcode together, as
DESIGN.md names them) and then follows the references the data map declares (customer -> policies ->
claims, invoices -> premium payments, ...) until nothing new turns up. References into another source carry
values across (the contact centre's ``customer_number`` from the policy administration's customers), so
:func:`find_everywhere` searches sources in the order their references need.

What is found is a *candidate* match: staff confirm it before anything is done with it (issue 4, item 3),
and each record says ``matched_by`` which identity or reference reached it.

Reading must never change Harmony's systems: :func:`open_readonly` opens SQLite with ``mode=ro`` and
``PRAGMA query_only``, PostgreSQL with ``default_transaction_read_only``, and refuses any statement that is
not a query before it reaches the driver. Queries are SQLAlchemy Core with bound parameters; table and
column names come from the data map and are quoted by SQLAlchemy, never pasted into SQL text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from itertools import compress, islice, repeat
from operator import and_, is_not, itemgetter, ne
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa

from dsr.datamap.found import FoundRecord, FoundStore
from dsr.datamap.keys import table_key
from dsr.datamap.sharing import find_shared
from dsr.datamap.sources import (
    COMPOSITE_IDENTITY,
    IDENTITY_TYPES,
    Collection,
    DataMapError,
    Source,
    SourceKind,
)

_CHUNK = 500  # values per IN list, well below SQLite's bound-parameter limit
_YIELD_PER = 2000  # rows fetched at a time (a server-side cursor on PostgreSQL): a big result is never all in memory
_READ_PREFIXES = ("SELECT", "PRAGMA", "WITH", "SHOW")


class ReadOnlyViolation(RuntimeError):
    """Something tried to write through a lookup connection."""


def open_readonly(url: str | sa.URL, *, page_cache_kib: int | None = None) -> sa.Engine:
    """An engine that can only read: the connection itself is read-only, not just our use of it.

    ``page_cache_kib``: on SQLite, each connection's page cache (``PRAGMA cache_size``) instead of SQLite's
    2 MB, for a reader that passes over the rows once."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            raise DataMapError(f"a lookup needs an SQLite database file, not {database or 'memory'!r}")
        path = Path(database).resolve()
        if not path.is_file():
            raise DataMapError(f"no such SQLite database: {path}")
        engine = sa.create_engine(sa.URL.create(
            "sqlite", database=f"file:{quote(str(path))}", query={"mode": "ro", "uri": "true"}))

        @sa.event.listens_for(engine, "connect")
        def _query_only(dbapi_connection, _record) -> None:
            dbapi_connection.execute("PRAGMA query_only = ON")
            if page_cache_kib is not None:
                dbapi_connection.execute(f"PRAGMA cache_size = -{int(page_cache_kib)}")
    elif parsed.get_backend_name() == "postgresql":
        # Added to the URL's own options (a search_path, say), not in their place.
        given = parsed.query.get("options", "")
        given = " ".join(given) if isinstance(given, tuple) else given
        engine = sa.create_engine(parsed.difference_update_query(["options"]), connect_args={
            "options": f"{given} -c default_transaction_read_only=on".strip()})
    else:
        engine = sa.create_engine(parsed)

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _refuse_writes(_conn, _cursor, statement, _params, _context, _many) -> None:
        if not statement.lstrip().upper().startswith(_READ_PREFIXES):
            raise ReadOnlyViolation(f"lookup connections only read; refused: {statement.split()[0]}")

    return engine


def readonly_engines(sources: Iterable[Source], config: Mapping[str, Any] | None = None, *,
                     page_cache_kib: int | None = None) -> dict[str, sa.Engine]:
    """One read-only engine per SQL source, shared between sources on the same URL (``page_cache_kib``: as
    :func:`open_readonly`)."""
    by_url: dict[str, sa.Engine] = {}
    engines = {}
    for source in sources:
        if source.kind is SourceKind.SQL:
            url = source.connection_url(config)
            if url not in by_url:
                by_url[url] = open_readonly(url, page_cache_kib=page_cache_kib)
            engines[source.key] = by_url[url]
    return engines


def _fold(text: str) -> str:
    """Case-, accent- and spacing-insensitive form of a name: "Hélène  de Vries" ~ "helene de vries"."""
    stripped = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


def normalise_identities(identities: Mapping[str, Any]) -> dict[str, Any]:
    """Drop empty values, trim text, turn ``date_of_birth`` into a date; refuse unknown identity names."""
    unknown = sorted(set(identities) - set(IDENTITY_TYPES))
    if unknown:
        raise ValueError(f"unknown identity {', '.join(unknown)}; known: {', '.join(IDENTITY_TYPES)}")
    result: dict[str, Any] = {}
    for name, value in identities.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if name != "date_of_birth":
            value = " ".join(str(value).split())
        elif not isinstance(value, date):
            try:
                value = date.fromisoformat(str(value).strip())
            except ValueError:
                raise ValueError(f"date_of_birth must be a date (YYYY-MM-DD), not {value!r}") from None
        result[name] = value
    return result


def _table(conn: sa.Connection, source: Source, coll: Collection, cache: dict[str, sa.Table]) -> sa.Table:
    if coll.name not in cache:
        try:
            table = sa.Table(coll.name, sa.MetaData(), autoload_with=conn)
        except sa.exc.NoSuchTableError:
            raise DataMapError(f"source {source.key}: table {coll.name!r} does not exist") from None
        missing = [f.name for f in coll.fields if f.name not in table.c]
        if missing:
            raise DataMapError(f"source {source.key}: {coll.name} has no column(s) {', '.join(missing)}")
        cache[coll.name] = table
    return cache[coll.name]


def key_columns(conn: sa.Connection, source: Source, coll: Collection,
                cache: dict[str, sa.Table]) -> tuple[str, ...]:
    """The columns naming one record of ``coll``: declared and checked, or read from the database
    (:func:`dsr.datamap.keys.table_key`)."""
    return table_key(source, coll, _table(conn, source, coll, cache))


def _typed(column: sa.Column, value: Any) -> Any:
    """The identity as the column's Python type, so PostgreSQL compares integer to integer."""
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return value
    try:
        return value if isinstance(value, python_type) else python_type(value)
    except (TypeError, ValueError):
        return value


def _identity_queries(coll: Collection, table: sa.Table, ids: Mapping[str, Any]):
    """(label, where clause, extra Python check) for each identity of the case this collection holds."""
    for fld in coll.identity_fields:
        if fld.identity not in COMPOSITE_IDENTITY and fld.identity in ids:
            column, value = table.c[fld.name], ids[fld.identity]
            if fld.identity == "email":
                # E-mail addresses are stored as typed, in any case; a lower(email) index serves this.
                yield fld.identity, sa.func.lower(column) == value.lower(), None
            else:
                # Exact match keeps the column's index usable; "hp3000..." written in a letter still matches.
                variants = sorted({_typed(column, value), _typed(column, value.upper())}, key=str)
                yield fld.identity, column.in_(variants), None
    parts = {f.identity: f.name for f in coll.identity_fields if f.identity != "name"}
    names = [f.name for f in coll.identity_fields if f.identity == "name"]
    if all(i in ids for i in COMPOSITE_IDENTITY) and names and {"date_of_birth", "postcode"} <= set(parts):
        postcode = sa.func.upper(sa.func.replace(table.c[parts["postcode"]], " ", ""))
        clause = sa.and_(table.c[parts["date_of_birth"]] == ids["date_of_birth"],
                         postcode == ids["postcode"].replace(" ", "").upper())
        wanted = _fold(ids["name"])
        # Names are compared in Python: SQLite's lower() folds ASCII only, and accents get lost in typing.
        yield "+".join(COMPOSITE_IDENTITY), clause, lambda row: _fold(
            " ".join(str(row[n] or "") for n in names)) == wanted


def _picker(positions: list[int]) -> Callable[[Sequence[Any]], tuple]:
    """The tuple of the items at ``positions`` of a row."""
    if len(positions) == 1:
        at = positions[0]
        return lambda row: (row[at],)
    return itemgetter(*positions) if positions else lambda _row: ()


class _Search:
    """One source's search, writing what it finds into ``store`` (:mod:`dsr.datamap.found`): nothing of it
    that grows with the records stays in memory."""

    def __init__(self, source: Source, conn: sa.Connection, store: FoundStore, *, slim: bool = False,
                 referenced: frozenset[tuple[str, str, str]] = frozenset()) -> None:
        self.source, self.conn, self.store, self.tables = source, conn, store, {}
        self.keys: dict[str, tuple[str, ...]] = {}
        self.slim, self.referenced = slim, referenced
        self.kept: dict[str, tuple[str, ...]] = {}  # per collection: the fields a slim record keeps
        self.described: set[str] = set()
        store.begin_source(source.key)

    def keeps(self, coll: Collection) -> tuple[str, ...]:
        """The fields whose values the search goes on to use: references either way (within the source and
        from others, ``referenced``), identities (:mod:`dsr.datamap.sharing`), the record's date."""
        if coll.name not in self.kept:
            if not self.slim:
                self.kept[coll.name] = tuple(f.name for f in coll.fields)
            else:
                targets = {(e.target_collection, e.target_field) for e in self.source.edges()} | {
                    (e.source_collection, e.source_field) for e in self.source.edges()}
                self.kept[coll.name] = tuple(
                    f.name for f in coll.fields
                    if f.identity or f.references or f.name == coll.dated_by or (coll.name, f.name) in targets
                    or (self.source.key, coll.name, f.name) in self.referenced)
        return self.kept[coll.name]

    def describe(self, coll: Collection) -> None:
        """Tell the store about ``coll`` once: its place, categories, and the values it is looked up by."""
        if coll.name not in self.described:
            self.described.add(coll.name)
            targets = [e.target_field for e in self.source.edges() if e.target_collection == coll.name]
            identities = [f.name for f in coll.identity_fields if f.identity not in COMPOSITE_IDENTITY]
            self.store.describe_collection(
                self.source.key, coll.name, position=self.source.collections.index(coll),
                categories={f.name: f.categories for f in coll.fields},
                indexed=dict.fromkeys(n for n in targets + identities if n in self.keeps(coll)))

    def table(self, coll: Collection) -> sa.Table:
        return _table(self.conn, self.source, coll, self.tables)

    def key(self, coll: Collection) -> tuple[str, ...]:
        if coll.name not in self.keys:
            self.keys[coll.name] = key_columns(self.conn, self.source, coll, self.tables)
        return self.keys[coll.name]

    def run(self, coll: Collection, clause, label: str, check=None, *, step: int) -> None:
        table, key = self.table(coll), self.key(coll)
        field_names = [f.name for f in coll.fields]
        names = field_names + [k for k in key if k not in set(field_names)]
        columns = [table.c[name] for name in names]
        query = sa.select(*columns).where(clause).order_by(*(table.c[k] for k in key))
        kept = self.keeps(coll)
        self.describe(coll)
        # Rows as plain tuples, their values picked by position (a mapping per row cost a lookup per value), a
        # batch at a time: each record's key, kept fields and the fields that held a value (neither None nor
        # empty; the key's columns after the fields are not among them) made without a Python step per value.
        key_of, kept_of = _picker([names.index(k) for k in key]), _picker([names.index(n) for n in kept])
        nones, empties = repeat(None), repeat("")
        for rows in self.conn.execute(query, execution_options={"yield_per": _YIELD_PER}).partitions():
            if check is not None:
                rows = [row for row in rows if check(row._mapping)]
            if rows:
                held = [tuple(compress(field_names, map(and_, map(is_not, row, nones), map(ne, row, empties))))
                        for row in rows]
                self.store.add_many(self.source.key, coll.name, list(zip(
                    map(dict, map(zip, repeat(key), map(key_of, rows))),
                    map(dict, map(zip, repeat(kept), map(kept_of, rows))), held, strict=True)), label, step)

    def by_values(self, coll: Collection, field: str, values: Iterable[Any], label: str, *, step: int) -> None:
        """Search ``coll`` for records whose ``field`` holds one of ``values`` not searched by before."""
        table = self.table(coll)
        fresh = self.store.fresh(self.source.key, coll.name, field, values)
        while chunk := sorted(islice(fresh, _CHUNK), key=str):
            self.run(coll, table.c[field].in_(chunk), label, step=step)


def find_records(source: Source, identities: Mapping[str, Any], engine: sa.Engine, *,
                 upstream: Sequence[FoundRecord] = (), slim: bool = False,
                 referenced: frozenset[tuple[str, str, str]] = frozenset()) -> list[FoundRecord]:
    """Every record of ``source`` reached from ``identities`` or, through cross-source references, from
    ``upstream`` records found in other sources. Manual sources return nothing: a person searches them.
    A list, for a handful of records: a lookup uses :func:`search_everywhere`."""
    with FoundStore() as store:
        for rec in upstream:
            if not store.knows(rec.source, rec.collection):
                store.describe_collection(rec.source, rec.collection, position=0, categories=rec.categories,
                                          indexed=())
            store.add(rec.source, rec.collection, rec.primary_key, rec.fields, rec.held, rec.matched_by, -1)
        search_source(store, source, identities, engine, slim=slim, referenced=referenced)
        return list(store.records(source.key))


def search_source(store: FoundStore, source: Source, identities: Mapping[str, Any], engine: sa.Engine | None, *,
                  slim: bool = False, referenced: frozenset[tuple[str, str, str]] = frozenset()) -> None:
    """Find the records of ``source`` into ``store``: from ``identities`` and, through cross-source
    references, from the records of other sources already in it.

    With ``slim`` a record keeps only the values the search needs (:meth:`_Search.keeps`; ``referenced``
    names the fields other sources refer to), not all of them (issue 15, item 4)."""
    store.begin_source(source.key)
    if source.kind is not SourceKind.SQL or engine is None:
        return
    ids = normalise_identities(identities)
    with engine.connect() as conn:
        search = _Search(source, conn, store, slim=slim, referenced=referenced)
        for coll in source.collections:
            table = search.table(coll)
            search.key(coll)  # every key checked against the database before anything is searched
            for label, clause, check in _identity_queries(coll, table, ids):
                search.run(coll, clause, label, check, step=0)
            for fld in coll.fields:
                for ref in fld.references:
                    if ref.dataset != source.key and ref.direction in (None, "from"):
                        values = store.field_values(ref.dataset, ref.collection, ref.field)
                        search.by_values(coll, fld.name, values, f"{ref.dataset}.{ref.collection}.{ref.field}",
                                         step=0)
        edges = source.edges()
        step = 0
        while store.has_step(source.key, step):  # the records found in the last step lead to the next
            for edge in edges:
                values = store.field_values(source.key, edge.source_collection, edge.source_field, step=step)
                search.by_values(source.collection(edge.target_collection), edge.target_field, values,
                                 f"{edge.source_collection}.{edge.source_field}", step=step + 1)
            step += 1
        find_shared(search, ids)
        conn.rollback()


def search_everywhere(store: FoundStore, sources: Mapping[str, Source], identities: Mapping[str, Any],
                      engines: Mapping[str, sa.Engine], *, slim: bool = False) -> None:
    """Search every source into ``store``; a source whose references point into another is searched after
    it, so the values it needs (e.g. customer numbers) are known. ``store.sources`` lists them all, manual
    ones too (they find nothing). ``slim``: see :func:`search_source`."""
    referenced = frozenset((r.dataset, r.collection, r.field) for s in sources.values() for c in s.collections
                           for f in c.fields for r in f.references)
    pending = dict(sources)
    while pending:
        ready = [s for s in pending.values()
                 if not any(r.dataset in pending and r.dataset != s.key
                            for c in s.collections for f in c.fields for r in f.references)]
        source = min(ready or pending.values(), key=lambda s: s.key)  # a reference cycle: go on anyway
        del pending[source.key]
        search_source(store, source, identities, engines.get(source.key), slim=slim, referenced=referenced)


def find_everywhere(sources: Mapping[str, Source], identities: Mapping[str, Any],
                    engines: Mapping[str, sa.Engine], *, slim: bool = False) -> dict[str, list[FoundRecord]]:
    """:func:`search_everywhere` as lists per source (manual sources: an empty list), for a handful of
    records."""
    with FoundStore() as store:
        search_everywhere(store, sources, identities, engines, slim=slim)
        return {key: list(store.records(key)) for key in store.sources}

