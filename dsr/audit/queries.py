"""Reading the audit trail: per case, and as CSV for the auditor."""

from __future__ import annotations

import csv
import io
import json

import sqlalchemy as sa

from dsr.audit.models import AuditEvent
from dsr.extensions import db

CSV_COLUMNS = ["id", "occurred_at", "actor", "action", "before", "after", "prev_hash", "hash"]


def case_events(case_id: int) -> list[AuditEvent]:
    return list(db.session.execute(
        sa.select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id)
    ).scalars())


def _cell(value: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet: neutralise it (CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def events_csv(events: list[AuditEvent]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for e in events:
        writer.writerow([
            e.id, e.occurred_at.isoformat(), _cell(e.actor_label), e.action,
            _cell(json.dumps(e.before, ensure_ascii=False, sort_keys=True)) if e.before is not None else "",
            _cell(json.dumps(e.after, ensure_ascii=False, sort_keys=True)) if e.after is not None else "",
            e.prev_hash, e.hash,
        ])
    return out.getvalue()
