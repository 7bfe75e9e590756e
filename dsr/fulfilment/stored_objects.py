"""Files go with their rows (issue 13, item 5): an erased record's stored objects are deleted, and checked.

A field the data map marks ``stored_object`` (the call recordings' ``storage_uri``) holds the address of an
object in the source's object store (:mod:`dsr.datamap.objects`): the audio of the call, which is the
personal data the row only indexes. Erasing the row and leaving the file would be an erasure in name only.

Execution (:mod:`dsr.fulfilment.erasure.execute`) calls two hooks per source, registered here:

* :func:`note_stored_objects`, inside the source's transaction before anything is erased: the address of
  every object that goes with an item is recorded in dsr (:class:`StoredObjectDeletion`) and committed
  there *before* the source commits, because once the row is gone dsr is the only place that still knows
  where the object is. A process killed after the source committed leaves these notes behind, and the next
  execution finds them;
* :func:`delete_stored_objects`, once the source committed: each noted object is deleted through the
  object store and checked to be gone, when its record is gone or no longer holds the address (read again
  from the source: deleted, or the field masked). Until then the item is ``failed`` ("retry: ..."), never "erased": committed so before the hook runs, so a
  process killed in between leaves it to be tried again. One that cannot be deleted stays ``failed``;
  executing the plan again (or the next ``erase-due`` run) tries it again. An object is never deleted
  before its record's erasure committed, and never when the record kept it.

The addresses stay on the case file as the record of what was deleted and when: an address, not content.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app

from dsr.datamap import erase as datamap_erase
from dsr.datamap import lookup as datamap_lookup
from dsr.datamap.model import DataMapError, Source
from dsr.datamap.objects import ObjectStoreError, delete_verified, object_store
from dsr.extensions import db
from dsr.fulfilment.erasure.execute import after_source_commit, before_source_changes
from dsr.fulfilment.models import ErasurePlanItem, StoredObjectDeletion

ERROR_MAX = 2000


@before_source_changes
def note_stored_objects(conn: sa.Connection, tables: Mapping[str, sa.Table], source: Source,
                        items: Sequence[ErasurePlanItem]) -> set[int]:
    """Record in dsr the stored objects of ``items`` (read through the source's own transaction on
    ``conn``, before anything is erased). Returns the ids of the items with an object still to delete
    (noted now or by an earlier execution): execution records them erased only once that is done. The
    caller commits dsr's session before the source's transaction commits."""
    waiting: set[int] = set()
    for item in items:
        coll = source.collection(item.collection)
        if not coll.object_fields:
            continue
        noted = _deletions(item)
        row = datamap_erase.read_row(conn, tables[coll.name], item.primary_key)
        known = {(d.field, d.uri) for d in noted}
        for fld in coll.object_fields if row is not None else ():
            uri = row.get(fld.name)
            if uri not in (None, "") and (fld.name, str(uri)) not in known:
                db.session.add(StoredObjectDeletion(item_id=item.id, field=fld.name, uri=str(uri)))
                waiting.add(item.id)
        if any(d.deleted_at is None for d in noted):
            waiting.add(item.id)  # an earlier execution noted it and did not finish
    db.session.flush()
    return waiting


def _deletions(item: ErasurePlanItem) -> list[StoredObjectDeletion]:
    return list(db.session.execute(sa.select(StoredObjectDeletion).where(
        StoredObjectDeletion.item_id == item.id).order_by(StoredObjectDeletion.id)).scalars())


def _current_rows(source: Source, items: Sequence[ErasurePlanItem]) -> dict[int, dict[str, Any] | None]:
    """The items' rows as the source holds them now that its transaction committed (None: gone)."""
    engine = datamap_lookup.readonly_engines([source], current_app.config)[source.key]
    try:
        with engine.connect() as conn:
            tables = datamap_erase.reflect(conn, source)
            rows = {item.id: datamap_erase.read_row(conn, tables[item.collection], item.primary_key)
                    for item in items}
            conn.rollback()
            return rows
    finally:
        engine.dispose()


@after_source_commit
def delete_stored_objects(source: Source, done: Sequence[tuple[ErasurePlanItem, Mapping[str, Any] | None]],
                          now: datetime) -> dict[int, str]:
    """After ``source`` committed: delete, and check gone, the noted objects of the items erased in it; an
    object goes when its record is gone or no longer holds its address (the field was masked), and stays
    when the record kept it. ``{item id: why}`` for the items one of whose objects is still there (they stay
    ``failed`` and are tried again)."""
    pending = {item.id: [d for d in _deletions(item) if d.deleted_at is None] for item, _before in done}
    items = [item for item, _before in done if pending[item.id]]
    if not items:
        return {}
    problems: dict[int, str] = {}
    try:
        now_rows = _current_rows(source, items)
        store = object_store(current_app.config)
    except (DataMapError, sa.exc.SQLAlchemyError) as exc:
        return {item.id: f"the stored objects could not be checked: {exc}" for item in items}
    for item in items:
        row, said = now_rows[item.id], []
        for deletion in pending[item.id]:
            if row is not None and row.get(deletion.field) == deletion.uri:
                db.session.delete(deletion)  # the record kept its value: its object stays too
                continue
            try:
                existed = store.exists(deletion.uri)
                delete_verified(store, deletion.uri)
            except (ObjectStoreError, OSError) as exc:
                deletion.error = str(exc)[:ERROR_MAX]
                deletion.attempts += 1
                problems[item.id] = f"the stored object of {deletion.field} could not be deleted: {exc}"
                continue
            deletion.deleted_at, deletion.error = now, None
            deletion.attempts += 1
            said.append(f"; stored object of {deletion.field} "
                        f"{'deleted and checked gone' if existed else 'not found: already gone'}")
        if said and item.id not in problems:
            # The case file's record: the file went too. Execution writes it after what was done to the row
            # and records the item erased (not flushed here: the item is not yet recorded executed).
            item.result = (item.result or "") + "".join(said)
    return problems
