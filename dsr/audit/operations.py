"""Appending to the audit trail. Every operation that changes state calls :func:`record`."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from dsr.audit.models import AuditEvent, AuditHead, AuditPayload
from dsr.extensions import db

GENESIS = "0" * 64


def jsonable(value: Any) -> Any:
    """Dates as ISO strings, enums by value, containers recursively: what the JSON column keeps."""
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
    locked and written the head already knows it (:func:`record` keeps it in ``session.info`` until the
    transaction or savepoint ends): its next event costs no statement here.
    """
    held = db.session.info.get(_HEAD)
    if held is not None and held[0] is db.session().get_transaction():
        return held[1]
    lock = (sa.update(AuditHead).where(AuditHead.id == 1).values(events=AuditHead.events + 1)
            .returning(AuditHead.last_hash))
    last = db.session.execute(lock).scalar_one_or_none()
    if last is None:
        if db.session.get_bind().dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        db.session.execute(insert(AuditHead).values(id=1, last_hash=GENESIS, events=0).on_conflict_do_nothing())
        last = db.session.execute(lock).scalar_one()
    return last


@sa.event.listens_for(Session, "after_transaction_end")
def _forget_head(session, transaction) -> None:
    """A commit, a rollback or a savepoint's end (not a flush's inner transaction): the next event locks
    and reads the head again."""
    if transaction.parent is None or transaction.nested:
        session.info.pop(_HEAD, None)


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
    last = _lock_head()
    event = AuditEvent(
        occurred_at=now.astimezone(UTC),
        actor_id=actor.id if actor is not None else None,
        actor_label=actor.email if actor is not None else "system",
        case_id=case.id if case is not None else None,
        action=action,
        prev_hash=last,
    )
    if before is not None or after is not None:
        nonce = secrets.token_hex(16)
        payload = AuditPayload(nonce=nonce, before=jsonable(before) if before is not None else None,
                               after=jsonable(after) if after is not None else None)
        event.payload_hash = payload_digest(nonce, payload.before, payload.after)
        event.payload = payload
    event.hash = compute_hash(event)
    db.session.add(event)
    db.session.flush()
    known = db.session.info.get(_HEAD)
    counted = known is not None and known[0] is db.session().get_transaction()
    db.session.execute(sa.update(AuditHead).where(AuditHead.id == 1).values(
        last_hash=event.hash, **({"events": AuditHead.events + 1} if counted else {})))
    db.session.info[_HEAD] = (db.session().get_transaction(), event.hash)
    return event


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
