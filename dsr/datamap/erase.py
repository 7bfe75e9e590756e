"""Erase one record in a SQL source as the data map says (Art. 17(1)): delete the row, or null or mask fields.

The lookup engines of :mod:`dsr.datamap.lookup` can only read; erasure needs :func:`writable_engine` on the
same URL. What is erased is decided elsewhere (:mod:`dsr.fulfilment.erasure.execute`, by the retention rules); this
module only applies a collection's or field's declared strategy, with SQLAlchemy Core and bound parameters:
table and column names come from the data map, values never reach SQL text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.ddl import sort_tables

from dsr.datamap.sources import Collection, DataMapError, Erase, Source


def writable_engine(url: str | sa.URL) -> sa.Engine:
    """An engine that may write to a source. SQLite enforces foreign keys, as a server database would."""
    engine = sa.create_engine(url)
    if engine.dialect.name == "sqlite":
        @sa.event.listens_for(engine, "connect")
        def _foreign_keys(dbapi_connection, _record) -> None:
            dbapi_connection.execute("PRAGMA foreign_keys = ON")
    return engine


def reflect(conn: sa.Connection, source: Source) -> dict[str, sa.Table]:
    """The source's tables that the data map names, as the database describes them."""
    metadata = sa.MetaData()
    names = [c.name for c in source.collections]
    try:
        metadata.reflect(conn, only=names)
    except sa.exc.InvalidRequestError as exc:
        raise DataMapError(f"source {source.key}: {exc}") from None
    return dict(metadata.tables)


def deletion_order(tables: Mapping[str, sa.Table]) -> list[str]:
    """Table names with every referring table before the table it refers to (children first)."""
    return [t.name for t in reversed(sort_tables(list(tables.values())))]


def key_value(column: sa.Column, value: Any) -> Any:
    """A key value as stored in JSON (text for a timestamp, a date or a decimal) as the column's Python
    type, so that it binds as that type: PostgreSQL compares no timestamp with text."""
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return value
    if value is None or isinstance(value, python_type):
        return value
    try:
        if isinstance(value, str) and python_type in (datetime, date, time):
            return python_type.fromisoformat(value)
        return python_type(value)
    except (TypeError, ValueError, ArithmeticError):
        return value


def key_clause(table: sa.Table, primary_key: Mapping[str, Any]):
    """The record by its primary key, each value bound as its column's type (JSON gave integers back as
    such, but a key stored as text compares as text, and a timestamp comes back as text)."""
    return sa.and_(*(table.c[name] == key_value(table.c[name], value) for name, value in primary_key.items()))


def read_row(conn: sa.Connection, table: sa.Table, primary_key: Mapping[str, Any]) -> dict[str, Any] | None:
    row = conn.execute(sa.select(table).where(key_clause(table, primary_key))).mappings().first()
    return dict(row) if row is not None else None


def strategy(coll: Collection) -> tuple[bool, list[str], dict[str, str]]:
    """``(delete_row, fields to set null, {field: mask})`` for a collection."""
    if any(f.erase is Erase.DELETE_ROW for f in coll.fields):
        return True, [], {}
    nulled = [f.name for f in coll.fields if f.erase is Erase.NULL]
    masked = {f.name: f.mask_value or "" for f in coll.fields if f.erase is Erase.MASK}
    return False, nulled, masked


def erase_record(conn: sa.Connection, table: sa.Table, coll: Collection,
                 primary_key: Mapping[str, Any]) -> dict[str, Any]:
    """Apply the collection's erase strategy to one row; what was done, without any of the values.

    ``{"deleted": n}`` for a deleted row, ``{"nulled": [...], "masked": [...], "rows": n}`` for rewritten
    fields; ``rows`` (or ``deleted``) is 0 when the record was no longer there.
    """
    if coll.erase_review and not strategy(coll)[0]:
        # The data map gives no strategy for some personal field: only a person may decide what to erase.
        raise DataMapError(f"{coll.name}: the data map says no erase strategy for "
                           f"{', '.join(f.name for f in coll.fields if f.erase is Erase.REVIEW)}; "
                           f"a person decides, dsr erases nothing of it on its own")
    delete_row, nulled, masked = strategy(coll)
    where = key_clause(table, primary_key)
    if delete_row:
        return {"deleted": conn.execute(sa.delete(table).where(where)).rowcount}
    values: dict[str, Any] = {name: None for name in nulled}
    values.update(masked)
    if not values:
        return {"rows": 0, "nulled": [], "masked": []}
    count = conn.execute(sa.update(table).where(where).values(**values)).rowcount
    return {"rows": count, "nulled": sorted(nulled), "masked": sorted(masked)}


def mask_fields(conn: sa.Connection, table: sa.Table, coll: Collection, primary_key: Mapping[str, Any],
                only: Iterable[str] | None = None) -> dict[str, Any]:
    """Rewrite a row's personal fields and keep the row (anonymise): ``{"rows": n, "nulled": [...],
    "masked": [...]}``. The collection's field strategies decide how; with ``only``, just those fields
    (a record shared with someone else: the subject's own fields), set to their mask or else null."""
    _, nulled, masked = strategy(coll)
    if only is not None:
        wanted = set(only)
        masked = {name: value for name, value in masked.items() if name in wanted}
        nulled = sorted(wanted - set(masked))
    values: dict[str, Any] = {name: None for name in nulled}
    values.update(masked)
    if not values:
        return {"rows": 0, "nulled": [], "masked": []}
    count = conn.execute(sa.update(table).where(key_clause(table, primary_key)).values(**values)).rowcount
    return {"rows": count, "nulled": sorted(nulled), "masked": sorted(masked)}


def referenced_keys(source: Source, coll: Collection, row: Mapping[str, Any]) -> Iterable[tuple[str, str, Any]]:
    """``(collection, field, value)`` of every record in the same source this row refers to."""
    for fld in coll.fields:
        value = row.get(fld.name)
        if value is None:
            continue
        for ref in fld.references:
            if ref.dataset == source.key and ref.direction in (None, "from", "to"):
                yield ref.collection, ref.field, value
