"""Appending to the audit trail. Every operation that changes state calls :func:`record`."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa

from dsr.audit.models import AuditEvent
from dsr.extensions import db

GENESIS = "0" * 64
# Any constant will do; it names the lock that serialises appends to the chain on PostgreSQL.
_CHAIN_LOCK_KEY = 0x64737261756474


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


def canonical_content(event: AuditEvent) -> bytes:
    """The bytes an event's hash covers: every field but its id and its own hash."""
    content = {
        "occurred_at": event.occurred_at.isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "case_id": event.case_id,
        "action": event.action,
        "before": event.before,
        "after": event.after,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(canonical_content(event)).hexdigest()


def _lock_chain() -> None:
    """Serialise appends so two processes never chain onto the same predecessor."""
    bind = db.session.get_bind()
    if bind.dialect.name == "postgresql":
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK_KEY})
    # SQLite serialises writers itself; a stale reader fails its write instead of forking the chain.


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
    _lock_chain()
    if case is not None and case.id is None:
        db.session.flush()
    last = db.session.execute(
        sa.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar_one_or_none()
    event = AuditEvent(
        occurred_at=now.astimezone(UTC),
        actor_id=actor.id if actor is not None else None,
        actor_label=actor.email if actor is not None else "system",
        case_id=case.id if case is not None else None,
        action=action,
        before=jsonable(before) if before is not None else None,
        after=jsonable(after) if after is not None else None,
        prev_hash=last or GENESIS,
    )
    event.hash = compute_hash(event)
    db.session.add(event)
    db.session.flush()
    return event


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose value differs, as (before, after)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}
