"""Writing corrections to a SQL source (Art. 16): one transaction per source, never over someone else's change.

Each write is ``UPDATE table SET field = after WHERE key AND field = before`` through
:func:`dsr.datamap.erase.writable_engine`, SQLAlchemy Core with bound parameters (table and column names come
from the data map, values never reach SQL text). Where no row matched, the record is read again: gone or
changed since the proposal raises :class:`StaleValue` and the whole source's transaction is rolled back;
already holding the corrected value (a retry) counts as written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from dsr.datamap import erase as datamap_erase
from dsr.datamap.sources import Source
from dsr.rectification import values
from dsr.rectification.models import Correction


class StaleValue(Exception):
    """The record no longer holds the value recorded before (or is gone): nothing of its source is written."""

    def __init__(self, message: str):
        super().__init__(message)




def write_corrections(source: Source, group: list[Correction], config: Mapping[str, Any]) -> dict[int, str]:
    """The source's corrections in one transaction; :class:`_Stale` rolls all of them back."""
    results: dict[int, str] = {}
    engine = datamap_erase.writable_engine(source.connection_url(config))
    try:
        with engine.begin() as conn:
            tables = datamap_erase.reflect(conn, source)
            for correction in group:
                table = tables[correction.collection]
                column = table.c[correction.field]
                before = values.from_json(correction.before_value, column)
                key = datamap_erase.key_clause(table, correction.primary_key)
                guard = column.is_(None) if before is None else column == before
                written = conn.execute(sa.update(table).where(key, guard).values(
                    {correction.field: values.from_json(correction.after_value, column)})).rowcount
                if written:
                    results[correction.id] = f"written to {source.name}"
                    continue
                row = datamap_erase.read_row(conn, table, correction.primary_key)
                if row is None:
                    raise StaleValue(_("The record %(record)s is no longer in %(source)s; nothing was written there.",
                                   record=correction.key_text, source=source.name))
                current = values.to_json(row[correction.field])
                if current == correction.after_value:
                    results[correction.id] = f"{source.name} already held the corrected value"
                    continue
                raise StaleValue(_(
                    "%(field)s in %(record)s no longer holds the value recorded before (%(before)s) but "
                    "%(current)s: someone changed it since. Nothing was written to %(source)s; cancel the "
                    "correction and propose it again from the current value.", field=correction.field,
                    record=correction.key_text, before=values.shown(correction.before_value) or "—",
                    current=values.shown(current) or "—", source=source.name))
    finally:
        engine.dispose()
    return results
