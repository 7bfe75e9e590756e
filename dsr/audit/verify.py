"""Checking the audit chain: every event's hash covers its content and its predecessor's hash.

An edited row no longer matches its own hash; a deleted row breaks the next event's ``prev_hash``. The
newest event could be removed without trace by someone with database access, so ``audit-verify`` prints
the head hash: record it elsewhere (a ticket, a log shipped off the machine) to anchor the chain.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from dsr.audit.models import AuditEvent, AuditHead
from dsr.audit.operations import GENESIS, compute_hash
from dsr.extensions import db


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    count: int
    head: str
    broken_event_id: int | None = None
    problem: str = ""


def verify_chain(batch_size: int = 2000) -> ChainReport:
    """Walk the events in id order, recomputing each hash, without loading the whole table at once."""
    previous = GENESIS
    count = 0
    last_id = 0
    while True:
        batch = db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch_size)
        ).scalars().all()
        if not batch:
            return _check_head(count, previous, last_id)
        for event in batch:
            if event.prev_hash != previous:
                return ChainReport(False, count, previous, event.id,
                                   "its prev_hash does not match the event before it: an event before it "
                                   "was removed or altered")
            if compute_hash(event) != event.hash:
                return ChainReport(False, count, previous, event.id,
                                   "its content no longer matches its hash: the row was altered")
            previous = event.hash
            count += 1
            last_id = event.id
        db.session.expunge_all()


def _check_head(count: int, last_hash: str, last_id: int) -> ChainReport:
    """The head row must name the newest event and the number of events: else the newest were removed."""
    head = db.session.get(AuditHead, 1)
    if head is None:
        if count == 0:
            return ChainReport(ok=True, count=0, head=last_hash)
        return ChainReport(False, count, last_hash, None, "the chain's head record is missing")
    if head.last_hash != last_hash or head.events != count:
        return ChainReport(False, count, last_hash, last_id or None,
                           f"the head record expects {head.events} events ending in {head.last_hash[:12]}…, but "
                           f"the table holds {count} ending in {last_hash[:12]}…: the newest events were removed "
                           "or altered")
    return ChainReport(ok=True, count=count, head=last_hash)
