"""audit payloads apart from the chain

An event's before/after details move to audit_payloads; the chain covers their salted hash instead, so
dsr's own retention can purge the details and the chain still verifies (issue 18, item 8).

The data migration first verifies the existing chain in its old form and refuses to go on if it is broken
(re-hashing a tampered chain would launder the tampering). It then re-hashes every event in the new form,
moves the head, and appends an ``audit.rehashed`` event naming the old head hash, so a head hash recorded
elsewhere before the upgrade still connects to the new chain.

Revision ID: 8a4c6e0b2d17
Revises: 26eb7fccf179
Create Date: 2026-12-06 10:00:00

"""
import hashlib
import json
import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '8a4c6e0b2d17'
down_revision = '26eb7fccf179'
branch_labels = None
depends_on = None

GENESIS = "0" * 64


class _UTC(sa.types.TypeDecorator):
    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _events(with_details: bool):
    cols = [sa.column('id', sa.Integer), sa.column('occurred_at', _UTC), sa.column('actor_id', sa.Integer),
            sa.column('actor_label', sa.String), sa.column('case_id', sa.Integer), sa.column('action', sa.String),
            sa.column('prev_hash', sa.String), sa.column('hash', sa.String)]
    if with_details:
        cols += [sa.column('before', sa.JSON), sa.column('after', sa.JSON)]
    else:
        cols += [sa.column('payload_hash', sa.String)]
    return sa.table('audit_events', *cols)


_payloads = sa.table('audit_payloads', sa.column('event_id', sa.Integer), sa.column('nonce', sa.String),
                     sa.column('before', sa.JSON(none_as_null=True)), sa.column('after', sa.JSON(none_as_null=True)),
                     sa.column('purged_at', _UTC), sa.column('purged_by_event_id', sa.Integer))
_head = sa.table('audit_head', sa.column('id', sa.Integer), sa.column('last_hash', sa.String),
                 sa.column('events', sa.Integer))


def _digest(content: dict) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False).encode()).hexdigest()


def _old_hash(row, prev: str) -> str:
    return _digest({"occurred_at": row.occurred_at.isoformat(), "actor_id": row.actor_id,
                    "actor_label": row.actor_label, "case_id": row.case_id, "action": row.action,
                    "before": row.before, "after": row.after, "prev_hash": prev})


def _new_hash(row, payload_hash, prev: str) -> str:
    return _digest({"occurred_at": row.occurred_at.isoformat(), "actor_id": row.actor_id,
                    "actor_label": row.actor_label, "case_id": row.case_id, "action": row.action,
                    "payload_hash": payload_hash, "prev_hash": prev})


def upgrade():
    op.create_table('audit_payloads',
    sa.Column('event_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('nonce', sa.String(length=32), nullable=True),
    sa.Column('before', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('after', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('purged_by_event_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('(purged_at IS NULL) = (nonce IS NOT NULL) AND (purged_at IS NULL) = (purged_by_event_id IS NULL)', name=op.f('ck_audit_payloads_tombstone_complete')),
    sa.CheckConstraint('purged_at IS NULL OR ("before" IS NULL AND "after" IS NULL)', name=op.f('ck_audit_payloads_tombstone_empty')),
    sa.ForeignKeyConstraint(['event_id'], ['audit_events.id'], name=op.f('fk_audit_payloads_event_id_audit_events')),
    sa.ForeignKeyConstraint(['purged_by_event_id'], ['audit_events.id'], name=op.f('fk_audit_payloads_purged_by_event_id_audit_events')),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_audit_payloads'))
    )
    with op.batch_alter_table('audit_payloads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_payloads_purged_by_event_id'), ['purged_by_event_id'], unique=False)
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payload_hash', sa.String(length=64), nullable=True))

    _rehash_forward(op.get_bind())

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('after')
        batch_op.drop_column('before')


def _rehash_forward(conn) -> None:
    old = _events(with_details=True)
    new = _events(with_details=False)
    rows = conn.execute(sa.select(old).order_by(old.c.id)).all()
    prev_old = prev_new = GENESIS
    for row in rows:
        if row.prev_hash != prev_old or _old_hash(row, prev_old) != row.hash:
            raise RuntimeError(
                f"The audit chain is broken at event {row.id}: run `flask dsr audit-verify` on the previous "
                "version and investigate before upgrading. Re-hashing would hide the break.")
        prev_old = row.hash
        payload_hash = None
        if row.before is not None or row.after is not None:
            nonce = secrets.token_hex(16)
            payload_hash = _digest({"nonce": nonce, "before": row.before, "after": row.after})
            conn.execute(_payloads.insert().values(event_id=row.id, nonce=nonce, before=row.before,
                                                   after=row.after))
        new_hash = _new_hash(row, payload_hash, prev_new)
        conn.execute(new.update().where(new.c.id == row.id).values(payload_hash=payload_hash,
                                                                  prev_hash=prev_new, hash=new_hash))
        prev_new = new_hash
    if not rows:
        return
    head = conn.execute(sa.select(_head).where(_head.c.id == 1)).first()
    if head is None or head.last_hash != prev_old or head.events != len(rows):
        raise RuntimeError("The audit chain's head record does not match its newest event: run "
                           "`flask dsr audit-verify` on the previous version before upgrading.")
    # The upgrade itself is an event: it names the old head, so an anchor recorded before still connects.
    now = datetime.now(UTC)
    after = {"old_head": prev_old, "events": len(rows), "revision": revision}
    nonce = secrets.token_hex(16)
    payload_hash = _digest({"nonce": nonce, "before": None, "after": after})
    marker = sa.table('audit_events', sa.column('id', sa.Integer), sa.column('occurred_at', _UTC),
                      sa.column('actor_id', sa.Integer), sa.column('actor_label', sa.String),
                      sa.column('case_id', sa.Integer), sa.column('action', sa.String),
                      sa.column('payload_hash', sa.String), sa.column('prev_hash', sa.String),
                      sa.column('hash', sa.String))

    class _Row:
        occurred_at, actor_id, actor_label, case_id, action = now, None, "system", None, "audit.rehashed"

    event_hash = _new_hash(_Row, payload_hash, prev_new)
    event_id = conn.execute(marker.insert().values(
        occurred_at=now, actor_id=None, actor_label="system", case_id=None, action="audit.rehashed",
        payload_hash=payload_hash, prev_hash=prev_new, hash=event_hash).returning(marker.c.id)).scalar_one()
    conn.execute(_payloads.insert().values(event_id=event_id, nonce=nonce, before=None, after=after))
    conn.execute(_head.update().where(_head.c.id == 1).values(last_hash=event_hash, events=len(rows) + 1))


def downgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('before', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('after', sa.JSON(), nullable=True))
    conn = op.get_bind()
    old = _events(with_details=True)
    rows = conn.execute(sa.select(old).order_by(old.c.id)).all()
    details = {p.event_id: p for p in conn.execute(sa.select(_payloads)).all()}
    prev = GENESIS
    for row in rows:
        payload = details.get(row.id)
        before = payload.before if payload is not None else None
        after = payload.after if payload is not None else None
        if payload is not None and payload.purged_at is not None:
            after = {"purged": True}  # the old form has no tombstone; say so in the details
        values = {"before": before, "after": after, "prev_hash": prev}
        new_hash = _digest({"occurred_at": row.occurred_at.isoformat(), "actor_id": row.actor_id,
                            "actor_label": row.actor_label, "case_id": row.case_id, "action": row.action,
                            "before": before, "after": after, "prev_hash": prev})
        conn.execute(old.update().where(old.c.id == row.id).values(hash=new_hash, **values))
        prev = new_hash
    if rows:
        conn.execute(_head.update().where(_head.c.id == 1).values(last_hash=prev, events=len(rows)))
    with op.batch_alter_table('audit_payloads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_payloads_purged_by_event_id'))
    op.drop_table('audit_payloads')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('payload_hash')
