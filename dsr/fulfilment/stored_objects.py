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
* :func:`delete_stored_objects`, once the source committed: each
  noted object whose record was deleted, or whose field was masked, is deleted through the object store and
  checked to be gone. One that cannot be deleted turns its item into ``failed`` ("retry: ..."), never
  "erased"; executing the plan again (or the next ``erase-due`` run) tries it again. An object is never
  deleted before its record's erasure committed, and never when the record was kept.

The addresses stay on the case file as the record of what was deleted and when: an address, not content.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from flask import current_app

from dsr.datamap import erase as datamap_erase
from dsr.datamap.model import DataMapError, Erase, Source
from dsr.datamap.objects import ObjectStoreError, delete_verified, object_store
from dsr.domain.enums import ErasureOutcome
from dsr.extensions import db
from dsr.fulfilment.erasure.execute import after_source_commit, before_source_changes
from dsr.fulfilment.models import ErasurePlanItem, StoredObjectDeletion

ERROR_MAX = 2000


@before_source_changes
def note_stored_objects(conn: sa.Connection, tables: Mapping[str, sa.Table], source: Source,
                        items: Sequence[ErasurePlanItem]) -> int:
    """Record in dsr the stored objects of ``items`` (read through the source's own transaction on
    ``conn``, before anything is erased); returns how many were newly noted. The caller commits dsr's
    session before the source's transaction commits."""
    noted = 0
    for item in items:
        coll = source.collection(item.collection)
        if not coll.object_fields:
            continue
        row = datamap_erase.read_row(conn, tables[coll.name], item.primary_key)
        if row is None:
            continue  # already gone: an earlier execution noted its objects, if it had any
        known = {(d.field, d.uri) for d in _deletions(item)}
        for fld in coll.object_fields:
            uri = row.get(fld.name)
            if uri not in (None, "") and (fld.name, str(uri)) not in known:
                db.session.add(StoredObjectDeletion(item_id=item.id, field=fld.name, uri=str(uri)))
                noted += 1
    db.session.flush()
    return noted


def _deletions(item: ErasurePlanItem) -> list[StoredObjectDeletion]:
    return list(db.session.execute(sa.select(StoredObjectDeletion).where(
        StoredObjectDeletion.item_id == item.id).order_by(StoredObjectDeletion.id)).scalars())


def _erased(item: ErasurePlanItem, source: Source, field: str) -> bool:
    """Whether the item's erasure removed the field's value: the row was deleted, or the field masked."""
    if item.outcome is ErasureOutcome.DELETED:
        return True
    if item.outcome is not ErasureOutcome.ANONYMISED:
        return False
    fld = source.collection(item.collection).field(field)
    only = getattr(item, "only_fields", None)
    return fld.erase in (Erase.NULL, Erase.MASK) and (only is None or field in only)


@after_source_commit
def delete_stored_objects(source: Source,
                          done: Sequence[tuple[ErasurePlanItem, Mapping[str, Any] | None]]) -> dict[int, str]:
    """After ``source`` committed: delete, and check gone, the noted objects of the items erased in it;
    ``{item id: why}`` for the items one of whose objects is still there (they become ``failed``)."""
    problems: dict[int, str] = {}
    store = None
    for item, _before in done:
        for deletion in _deletions(item):
            if deletion.deleted_at is not None:
                continue
            if not _erased(item, source, deletion.field):
                db.session.delete(deletion)  # the record kept its value: its object stays too
                continue
            try:
                store = store or object_store(current_app.config)
                existed = store.exists(deletion.uri)
                delete_verified(store, deletion.uri)
            except (ObjectStoreError, DataMapError, OSError) as exc:
                deletion.error = str(exc)[:ERROR_MAX]
                deletion.attempts += 1
                problems[item.id] = f"the stored object of {deletion.field} could not be deleted: {exc}"
                continue
            deletion.deleted_at, deletion.error = item.executed_at, None
            deletion.attempts += 1
            if item.result is not None:  # the case file's record of what was erased: the file too
                done = "deleted and checked gone" if existed else "not found: already gone"
                item.result = f"{item.result}; stored object of {deletion.field} {done}"
    db.session.flush()
    return problems
