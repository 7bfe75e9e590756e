"""A collection's key as the database knows it: what names one record, read from the table itself.

A plain Fides dataset need not mark ``fides_meta.primary_key`` (the example database of Fides marks none on
``visit`` and ``order_item``): dsr then reads the key from the database, the table's primary key or, without
one, a unique constraint of non-null columns. A key the data map *does* declare must be one the database
enforces, the primary key or a unique constraint: a record named by anything less could be two records, and
an erasure would touch the wrong one (issue 13, item 4). Key columns need not be fields of the data map
(``order_item.item_no`` is not): a found record is named by them all the same.
"""

from __future__ import annotations

import sqlalchemy as sa

from dsr.datamap.model import Collection, DataMapError, Source


def _unique_sets(table: sa.Table) -> list[tuple[str, ...]]:
    """The column sets a unique constraint or a unique index of ``table`` enforces, in table order."""
    sets: list[tuple[str, ...]] = []
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint) and constraint.columns:
            sets.append(tuple(c.name for c in constraint.columns))
    for index in table.indexes:
        if index.unique and index.columns:
            sets.append(tuple(c.name for c in index.columns))
    return sets


def table_key(source: Source, coll: Collection, table: sa.Table) -> tuple[str, ...]:
    """The columns that name one record of ``coll`` in ``table``: the declared key, once the database is
    seen to enforce it, else the table's primary key, else its first unique constraint without nullable
    columns. Raises :class:`DataMapError` for a declared key the database does not enforce, or a table with
    no key at all."""
    primary = tuple(c.name for c in table.primary_key.columns)
    uniques = _unique_sets(table)
    where = f"source {source.key}: {coll.name}"
    if coll.primary_key:
        declared = set(coll.primary_key)
        if declared == set(primary) or any(declared == set(u) for u in uniques):
            return coll.primary_key
        enforced = [f"primary key ({', '.join(primary)})"] if primary else []
        enforced += [f"unique ({', '.join(u)})" for u in uniques]
        raise DataMapError(
            f"{where}: the declared key ({', '.join(coll.primary_key)}) is neither the table's primary key nor a "
            f"unique constraint, so it may name more than one record; the table has "
            f"{'; '.join(enforced) if enforced else 'no primary key or unique constraint'}")
    if primary:
        return primary
    for columns in uniques:
        if all(not table.c[name].nullable for name in columns):
            return columns
    raise DataMapError(f"{where}: the table has no primary key and no unique constraint on non-null columns, "
                       f"so dsr cannot name one record; give it one, or mark its key with "
                       f"fides_meta.primary_key in the dataset")


