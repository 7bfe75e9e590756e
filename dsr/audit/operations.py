"""Appending to the audit trail. Every operation that changes state calls :func:`record`."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from dsr.audit.models import AuditEvent, AuditHead, AuditPayload
from dsr.extensions import ArrayParameter, db

GENESIS = "0" * 64


def jsonable(value: Any) -> Any:
    """Dates as ISO strings, enums by value, containers recursively: what the JSON column keeps."""
    if type(value) in _KEPT_AS_THEY_ARE:  # most of an event's values: no isinstance check to walk (issue 15)
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return value


# Exactly these types, not their subclasses (an enum of strings is a str, and is kept by its value).
_KEPT_AS_THEY_ARE = frozenset({str, int, float, bool, type(None)})


def _canonical(content: dict[str, Any]) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def payload_digest(nonce: str, before: Any, after: Any) -> str:
    """The hash the chain keeps of an event's details; the nonce makes a short payload unguessable."""
    return hashlib.sha256(_canonical({"nonce": nonce, "before": before, "after": after})).hexdigest()


def canonical_content(event: AuditEvent) -> bytes:
    """The bytes an event's hash covers: every field but its id and its own hash; of the details, their hash."""
    return _canonical({
        "occurred_at": event.occurred_at.isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "case_id": event.case_id,
        "action": event.action,
        "payload_hash": event.payload_hash,
        "prev_hash": event.prev_hash,
    })


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(canonical_content(event)).hexdigest()


_HEAD = "dsr_audit_head"  # session.info: the head's hash as this transaction last wrote it, while it holds the lock


def _lock_head() -> str:
    """Lock the chain's head row and return the newest hash.

    The UPDATE takes a row lock on PostgreSQL and the write lock on SQLite, held to the end of the
    transaction, so two processes never chain onto the same predecessor. The row is made the first time
    only (an INSERT that does nothing, once per database, not once per event). A transaction that has
    locked and written the head already knows it (:func:`_advance_head` keeps it in ``session.info`` until
    the transaction or savepoint ends): its next event costs no statement here.
    """
    held = _held_head()
    if held is not None:
        return held
    table = AuditHead.__table__
    # Core statements: they flush nothing (what the caller added goes out in its own flush) and count
    # nothing (the events are counted as they are written).
    lock = sa.update(table).where(table.c.id == 1).values(events=table.c.events).returning(table.c.last_hash)
    connection = db.session.connection()
    last = connection.execute(lock).scalar_one_or_none()
    if last is None:
        if connection.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        connection.execute(insert(table).values(id=1, last_hash=GENESIS, events=0).on_conflict_do_nothing())
        last = connection.execute(lock).scalar_one()
    return last


def _held_head() -> str | None:
    """The head's hash, if this transaction (or savepoint) has locked and moved it already."""
    held = db.session.info.get(_HEAD)
    if held is not None and held[0] is db.session().get_transaction():
        return held[1]
    return None


def writes_pending() -> bool:
    """Whether this transaction has written events (it holds the head) or has changes not yet flushed: what
    it would read of the cases is not committed, and must not be kept for other requests."""
    return _held_head() is not None or bool(db.session.new or db.session.dirty or db.session.deleted)


def _advance_head(last_hash: str, written: int) -> None:
    """Move the locked head past ``written`` events just written, the newest ending in ``last_hash``."""
    events = db.session.connection().execute(_head_moved(last_hash, written)).scalar_one()
    _moved(last_hash, events)


def _head_moved(last_hash: str, written: int):
    table = AuditHead.__table__
    return (sa.update(table).where(table.c.id == 1)
            .values(last_hash=last_hash, events=table.c.events + written).returning(table.c.events))


def _moved(last_hash: str, events: int) -> None:
    """What this transaction knows once it moved the head: its hash (so its next event needs no lock
    statement) and, for a head read earlier in this session, what the row now holds."""
    db.session.info[_HEAD] = (db.session().get_transaction(), last_hash)
    head = db.session.identity_map.get(identity_key(AuditHead, 1))
    if head is not None:
        set_committed_value(head, "last_hash", last_hash)
        set_committed_value(head, "events", events)


@sa.event.listens_for(Session, "after_transaction_end")
def _forget_head(session, transaction) -> None:
    """A commit, a rollback or a savepoint's end (not a flush's inner transaction): the next event locks
    and reads the head again."""
    if transaction.parent is None or transaction.nested:
        session.info.pop(_HEAD, None)


def _chained(action: str, *, actor, now: datetime, case, before, after, prev_hash: str,
             orm: bool = True) -> AuditEvent:
    """An event (with its payload, if it has details) whose hash follows ``prev_hash``; not yet written.
    ``orm=False``: the same values as plain objects (:class:`_Event`), for :func:`record_all`, which writes
    them with Core and never puts them in the session (the ORM's instrumentation and backrefs cost a
    creation through the API some 150 calls for nothing; issue 15, item 3)."""
    fields = {
        "occurred_at": now.astimezone(UTC),
        "actor_id": actor.id if actor is not None else None,
        "actor_label": actor.email if actor is not None else "system",
        "case_id": case.id if case is not None else None,
        "action": action,
        "prev_hash": prev_hash,
    }
    event = AuditEvent(**fields) if orm else _Event(**fields)
    if before is not None or after is not None:
        nonce = secrets.token_hex(16)
        payload = (AuditPayload if orm else _Payload)(
            nonce=nonce, before=jsonable(before) if before is not None else None,
            after=jsonable(after) if after is not None else None)
        event.payload_hash = payload_digest(nonce, payload.before, payload.after)
        event.payload = payload
    event.hash = compute_hash(event)
    return event


@dataclass
class _Payload:
    nonce: str
    before: Any
    after: Any


@dataclass
class _Event:
    """An event's columns as :func:`compute_hash` reads them, not an ORM object."""

    occurred_at: datetime
    actor_id: int | None
    actor_label: str
    case_id: int | None
    action: str
    prev_hash: str
    payload_hash: str | None = None
    payload: _Payload | None = None
    hash: str | None = None


def record(
    action: str,
    *,
    actor,
    now: datetime,
    case=None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in the current transaction. ``actor`` is a User or ``None`` for the system."""
    if case is not None and case.id is None:
        db.session.flush()
    event = _chained(action, actor=actor, now=now, case=case, before=before, after=after, prev_hash=_lock_head())
    db.session.add(event)
    db.session.flush()
    _advance_head(event.hash, 1)
    return event


@dataclass(frozen=True)
class Entry:
    """One event for :func:`record_all`: what :func:`record` takes besides the actor and the time."""

    action: str
    case: Any = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


def record_all(entries: list[Entry], *, actor, now: datetime, head: str | None = None, along=None) -> list[int]:
    """Append several events of one operation, in this order, as :func:`record` would one by one, after the
    head's lock (if this transaction does not hold it yet): on PostgreSQL in one statement whatever their
    number (their rows, their payloads and the head's move), on SQLite in three. Their cases must have their
    ids. Returns the events' ids.

    ``head``: on PostgreSQL, the head's hash as this transaction read it without its lock (a creation reads
    it with its number). The events are chained onto it and written in one statement that moves the head
    only if it still holds that hash (``UPDATE ... WHERE last_hash = :read``, which waits for another
    writer's lock and then reads the row as that writer left it) and writes the events only if it moved: no
    statement of its own for the lock (issue 15, item 3). If another writer moved the head in between,
    nothing was written: the head is locked and the events chained onto it, as without ``head``.

    ``along`` (PostgreSQL, with ``head``): other rows to write in the same statement, before the events name
    them (:class:`dsr.cases.writing.Rows`: data-modifying CTEs, their parameters, and the statement that writes
    them alone): a new case's rows ride with its events, a round trip less (issue 15, item 3). They are
    written whether or not the head still held; without ``head``, or when this transaction holds the head
    already, they are written by a statement of their own first.

    Core statements, not the ORM's unit of work, which cost the creation of a case through the API about a
    fifth of its time (issue 15); the events are not in the session afterwards (nothing reads them back).
    PostgreSQL hands out the ids in the order of the rows (``INSERT ... SELECT ... ORDER BY``; SQLite
    inserts them one by one), so the chain's order is the ids' order, as :func:`dsr.audit.verify` reads it.
    """
    if not entries:
        return []
    if any(entry.case is not None and entry.case.id is None for entry in entries):
        raise ValueError("record_all() needs cases that have their ids")
    connection = db.session.connection()
    if head is not None and connection.dialect.name == "postgresql" and _held_head() is None:
        events = _chain(entries, actor=actor, now=now, prev_hash=head)
        ids = _append_postgresql(connection, events, read=head, along=along)
        if ids:
            return ids
    elif along is not None:
        connection.execute(along.statement, along.params)
    events = _chain(entries, actor=actor, now=now, prev_hash=_lock_head())
    if connection.dialect.name == "postgresql":
        return _append_postgresql(connection, events)
    table, payloads = AuditEvent.__table__, AuditPayload.__table__
    rows = [{column: getattr(event, column) for column in _EVENT_COLUMNS} for event in events]
    ids = connection.execute(
        sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars().all()
    rows = [{"event_id": id_, "nonce": event.payload.nonce, "before": event.payload.before,
             "after": event.payload.after} for id_, event in zip(ids, events, strict=True) if event.payload]
    if rows:
        connection.execute(sa.insert(payloads), rows)
    _advance_head(events[-1].hash, len(events))
    return ids


def _chain(entries: list[Entry], *, actor, now: datetime, prev_hash: str) -> list[AuditEvent]:
    """The entries' events, each chained onto the one before, the first onto ``prev_hash``."""
    events = []
    for entry in entries:
        events.append(_chained(entry.action, actor=actor, now=now, case=entry.case, before=entry.before,
                               after=entry.after, prev_hash=prev_hash, orm=False))
        prev_hash = events[-1].hash
    return events


def _append_postgresql(connection, events: list[AuditEvent], *, read: str | None = None, along=None) -> list[int]:
    """The events, their payloads and the head's move in one statement. The head is locked already or, with
    ``read``, is moved only if it still holds that hash: if not, no event is written and no id returned
    (``along``'s rows, carried by the same statement, are written either way)."""
    last = events[-1].hash
    params = {f"event_{name}": [getattr(event, name) for event in events] for name in _EVENT_COLUMNS}
    serialize = connection.dialect._json_serializer or json.dumps  # what the JSON columns' own binding uses
    details = [event for event in events if event.payload]
    params.update(
        payload_hash=[event.hash for event in details], payload_nonce=[event.payload.nonce for event in details],
        payload_before=[None if e.payload.before is None else serialize(e.payload.before) for e in details],
        payload_after=[None if e.payload.after is None else serialize(e.payload.after) for e in details],
        head_hash=last, head_written=len(events))
    if read is not None:
        params["head_read"] = read
    if along is not None:
        params.update(along.params)
    result = connection.execute(_append_statement(read is not None, along.ctes if along else ()), params).all()
    if not result:
        return []
    _moved(last, result[0].events)
    return [row.id for row in result]


@lru_cache(maxsize=8)
def _append_statement(if_head_holds: bool, along: tuple = ()):
    """``WITH written AS (INSERT INTO audit_events ...), details_written AS (INSERT INTO audit_payloads ...),
    head AS (UPDATE audit_head ...) SELECT ...``: the events' and payloads' columns as arrays (``unnest``-ed),
    so it is one statement whatever their number, built once and compiled once.

    The events' ids are handed out in the order of their rows (``INSERT ... SELECT ... ORDER BY``, as
    SQLAlchemy's "insertmanyvalues" does), and each payload finds its event by the event's hash, which is
    unique. ``if_head_holds``: the head is moved only ``WHERE last_hash = :head_read``, and the events are
    written only if it was (they select from its ``RETURNING``); otherwise the statement returns no row.
    ``along``: further data-modifying CTEs (the rows the events name), run by the same statement.
    """
    table, payloads, head_table = AuditEvent.__table__, AuditPayload.__table__, AuditHead.__table__
    types = {"occurred_at": sa.DateTime(timezone=True), "actor_id": sa.Integer, "case_id": sa.Integer}
    # The head's id written as it is (a parameter fewer: see dsr.cases.writing.EMPTY_AT_CREATION).
    moved = (sa.update(head_table).where(head_table.c.id == sa.literal_column("1"))
             .values(last_hash=sa.bindparam("head_hash", type_=sa.String),
                     events=head_table.c.events + sa.bindparam("head_written", type_=sa.Integer)))
    if if_head_holds:
        moved = moved.where(head_table.c.last_hash == sa.bindparam("head_read", type_=sa.String))
    head = moved.returning(head_table.c.events).cte("head")
    new = sa.func.unnest(*[sa.bindparam(f"event_{name}", type_=ArrayParameter(types.get(name, sa.String)))
                           for name in _EVENT_COLUMNS]).table_valued(
        *_EVENT_COLUMNS, with_ordinality="position").render_derived("new_events")
    rows = sa.select(*[new.c[name] for name in _EVENT_COLUMNS]).order_by(new.c.position)
    if if_head_holds:
        rows = rows.where(sa.exists(sa.select(head.c.events)))
    written = (sa.insert(table).from_select(list(_EVENT_COLUMNS), rows)
               .returning(table.c.id, table.c.hash).cte("written"))
    details = sa.func.unnest(*[sa.bindparam(f"payload_{name}", type_=ArrayParameter(sa.String))
                               for name in ("hash", "nonce", "before", "after")]).table_valued(
        "hash", "nonce", "before", "after").render_derived("details")
    details_written = sa.insert(payloads).from_select(
        ["event_id", "nonce", "before", "after"],
        sa.select(written.c.id, details.c.nonce, sa.cast(details.c.before, sa.JSON), sa.cast(details.c.after, sa.JSON))
        .join_from(written, details, written.c.hash == details.c.hash)).cte("details_written")
    return (sa.select(written.c.id, head.c.events).select_from(written).join(head, sa.true())
            .order_by(written.c.id).add_cte(details_written, *along))


_EVENT_COLUMNS = ("occurred_at", "actor_id", "actor_label", "case_id", "action", "payload_hash", "prev_hash", "hash")


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose value differs, as (before, after)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def purge_payloads(events: list[AuditEvent], *, by: AuditEvent, now: datetime) -> int:
    """Replace the details of ``events`` with tombstones naming the retention event ``by``.

    The chain is untouched: each event keeps its payload hash, so ``audit-verify`` still passes, and an
    edited event is still detected. Returns how many payloads were purged (already purged ones are skipped).
    """
    purged = 0
    for event in events:
        payload = event.payload
        if payload is None or payload.purged_at is not None:
            continue
        payload.nonce = payload.before = payload.after = None
        payload.purged_at, payload.purged_by_event_id = now.astimezone(UTC), by.id
        purged += 1
    db.session.flush()
    return purged
