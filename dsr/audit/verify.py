"""Checking the audit chain: every event's hash covers its content and its predecessor's hash.

An edited row no longer matches its own hash; a deleted row breaks the next event's ``prev_hash``. The
newest event could be removed without trace by someone with database access, so ``audit-verify`` prints
the head hash: record it elsewhere (a ticket, a log shipped off the machine) to anchor the chain.

An event's details are checked against the payload hash the chain keeps. A payload purged by dsr's own
retention is a tombstone: it passes only when it names a retention event of the same chain, on the same
case, that counted exactly the tombstones naming it; a payload emptied by hand does not.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import sqlalchemy as sa

from dsr.audit.models import AuditEvent, AuditHead, AuditPayload
from dsr.audit.operations import GENESIS, compute_hash, payload_digest
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
    tombstones: dict[int, tuple[int | None, int]] = {}  # purged event id -> (its case, purging event)
    while True:
        batch = db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch_size)
        ).scalars().all()
        if not batch:
            report = _check_head(count, previous, last_id)
            return report if not report.ok else _check_tombstones(tombstones, report)
        for event in batch:
            if event.prev_hash != previous:
                return ChainReport(False, count, previous, event.id,
                                   "its prev_hash does not match the event before it: an event before it "
                                   "was removed or altered")
            if compute_hash(event) != event.hash:
                return ChainReport(False, count, previous, event.id,
                                   "its content no longer matches its hash: the row was altered")
            problem = _check_payload(event)
            if problem:
                return ChainReport(False, count, previous, event.id, problem)
            if event.purged:
                tombstones[event.id] = (event.case_id, event.payload.purged_by_event_id)
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


# The actions of dsr's own retention that may purge payloads (dsr.casefiles); each records "payloads_purged".
PURGING_ACTIONS = frozenset({"casefile.reduced"})


def _check_payload(event: AuditEvent) -> str:
    payload: AuditPayload | None = event.payload
    if event.payload_hash is None:
        return "it has details although the chain recorded none" if payload is not None else ""
    if payload is None:
        return "its details were removed (the chain records a payload hash)"
    if payload.purged_at is None:
        if payload_digest(payload.nonce, payload.before, payload.after) != event.payload_hash:
            return "its details no longer match the hash the chain keeps: the payload was altered"
    elif payload.purged_by_event_id is None or payload.purged_by_event_id <= event.id:
        return "its details were purged without a later retention event"
    return ""


def _check_tombstones(tombstones: dict[int, tuple[int | None, int]], report: ChainReport) -> ChainReport:
    """Every tombstone names a retention event on its case, and each such event counted its tombstones."""
    if not tombstones:
        return report
    by_purger = Counter(purger for _case, purger in tombstones.values())
    purgers = {e.id: e for e in db.session.execute(
        sa.select(AuditEvent).where(AuditEvent.id.in_(list(by_purger)))).scalars()}
    for event_id, (case_id, purger_id) in sorted(tombstones.items()):
        purger = purgers.get(purger_id)
        if purger is None or purger.action not in PURGING_ACTIONS:
            return ChainReport(False, report.count, report.head, event_id,
                               "its details were purged, but not by a retention event")
        if case_id is not None and purger.case_id != case_id:
            return ChainReport(False, report.count, report.head, event_id,
                               "its details were purged by the retention of another case")
    for purger_id, n in by_purger.items():
        claimed = (purgers[purger_id].after or {}).get("payloads_purged")
        if claimed != n:
            return ChainReport(False, report.count, report.head, purger_id,
                               f"it purged {claimed} payloads, but {n} tombstones name it")
    return report
