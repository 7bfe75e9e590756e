"""Erasure a privacy manager can run without fear (issue 13): outcomes, review and shared items, a person's
tasks, the ``executing`` state, and the rules an item was decided under.

Existing data: executed items get the outcome their recorded result says (deleted, anonymised), kept items
``kept``; executed plans started when they were executed; every item's record date is copied from the
record its lookup found. ``rules_version`` stays empty: the next erase-due run decides every kept item
again under today's rules (fiscal retention from the end of the book year) before it erases anything,
and an approved plan built under the old rules cannot be executed.

Revision ID: 8a3e5c7d9f10
Revises: d1f2a3b4c5e6
Create Date: 2026-12-06 10:00:00
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "8a3e5c7d9f10"
down_revision = "d1f2a3b4c5e6"
branch_labels = None
depends_on = None

ACTIONS_OLD = ("erase", "anonymise", "keep")
ACTIONS = ("erase", "anonymise", "keep", "review")
STATUS_OLD = ("draft", "approved", "executed")
STATUS = ("draft", "approved", "executing", "executed")
OUTCOMES = ("deleted", "anonymised", "kept", "failed", "done", "impossible")
KINDS = ("record", "paper", "processor")
ITEM_CHECKS = {
    "failed_has_failure": "(outcome = 'failed') = (failure IS NOT NULL)",
    "erased_when_executed": "outcome NOT IN ('deleted', 'anonymised') OR executed_at IS NOT NULL",
    "shared_reason_only_when_shared": "shared_reason IS NULL OR shared",
    "decision_complete": "(decided_at IS NULL) = (decided_by_id IS NULL) AND "
                         "(decided_at IS NULL) = (decision_reason IS NULL)",
    "done_by_someone": "(done_on IS NULL) = (done_by_id IS NULL)",
    "task_outcome_recorded": "(outcome IN ('done', 'impossible')) = (done_on IS NOT NULL) OR kind = 'record'",
    "impossible_has_reason": "(outcome = 'impossible') = (impossible_reason IS NOT NULL)",
    "tasks_only_for_people": "kind <> 'record' OR (done_on IS NULL AND evidence_id IS NULL)",
}


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade():
    with op.batch_alter_table("erasure_plan_items") as batch:
        batch.add_column(sa.Column("kind", sa.String(9), nullable=False, server_default="record"))
        batch.add_column(sa.Column("record_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("shared", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("shared_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("only_fields", sa.JSON(none_as_null=True), nullable=True))
        batch.add_column(sa.Column("rules_version", sa.String(40), nullable=True))
        batch.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("decided_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("decision_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("outcome", sa.String(10), nullable=True))
        batch.add_column(sa.Column("failure", sa.Text(), nullable=True))
        batch.add_column(sa.Column("done_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("done_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("evidence_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("impossible_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("erasure_plans") as batch:
        batch.add_column(sa.Column("execution_started_at", sa.DateTime(timezone=True), nullable=True))

    # Data: what the old rows already say, in the new columns.
    conn = op.get_bind()
    conn.execute(sa.text("UPDATE erasure_plans SET execution_started_at = executed_at WHERE status = 'executed'"))
    conn.execute(sa.text("UPDATE erasure_plan_items SET outcome = 'deleted' WHERE executed_at IS NOT NULL "
                         "AND (result LIKE '%row deleted%' OR result LIKE '%already gone%')"))
    conn.execute(sa.text("UPDATE erasure_plan_items SET outcome = 'anonymised' WHERE executed_at IS NOT NULL "
                         "AND outcome IS NULL"))
    conn.execute(sa.text("UPDATE erasure_plan_items SET outcome = 'kept' WHERE action = 'keep' AND plan_id IN "
                         "(SELECT id FROM erasure_plans WHERE status = 'executed')"))
    found = {}
    for lookup_id, source, collection, key, day in conn.execute(sa.text(
            "SELECT lookup_id, source, collection, primary_key, record_date FROM found_records "
            "WHERE record_date IS NOT NULL")):
        key = json.loads(key) if isinstance(key, str) else key
        found[(lookup_id, source, collection, json.dumps(key, sort_keys=True))] = day
    for item_id, lookup_id, source, collection, key in conn.execute(sa.text(
            "SELECT i.id, p.lookup_id, i.source, i.collection, i.primary_key FROM erasure_plan_items i "
            "JOIN erasure_plans p ON p.id = i.plan_id")).all():
        key = json.loads(key) if isinstance(key, str) else key
        day = found.get((lookup_id, source, collection, json.dumps(key, sort_keys=True)))
        if day is not None:
            conn.execute(sa.text("UPDATE erasure_plan_items SET record_date = :d WHERE id = :i"),
                         {"d": day, "i": item_id})

    with op.batch_alter_table("erasure_plan_items") as batch:
        batch.alter_column("kind", server_default=None, existing_type=sa.String(9), existing_nullable=False)
        batch.alter_column("shared", server_default=None, existing_type=sa.Boolean(), existing_nullable=False)
        batch.drop_constraint(batch.f("ck_erasure_plan_items_erasure_action"), type_="check")
        batch.create_check_constraint("erasure_action", _in("action", ACTIONS))
        batch.create_check_constraint("erasure_item_kind", _in("kind", KINDS))
        batch.create_check_constraint("erasure_outcome", _in("outcome", OUTCOMES))
        for name, condition in ITEM_CHECKS.items():
            batch.create_check_constraint(name, condition)
        batch.create_foreign_key("fk_erasure_plan_items_decided_by_id_users", "users", ["decided_by_id"], ["id"])
        batch.create_foreign_key("fk_erasure_plan_items_done_by_id_users", "users", ["done_by_id"], ["id"])
        batch.create_foreign_key("fk_erasure_plan_items_evidence_id_attachments", "attachments", ["evidence_id"],
                                 ["id"])
    with op.batch_alter_table("erasure_plans") as batch:
        batch.drop_constraint(batch.f("ck_erasure_plans_erasure_plan_status"), type_="check")
        batch.alter_column("status", type_=sa.String(9), existing_type=sa.String(8), existing_nullable=False)
        batch.create_check_constraint("erasure_plan_status", _in("status", STATUS))
        batch.create_check_constraint("started_when_executing",
                                      "(execution_started_at IS NULL) = (status IN ('draft', 'approved'))")


def downgrade():
    conn = op.get_bind()
    # An executing plan goes back to approved (executing it again finishes it); new items' words go.
    conn.execute(sa.text("UPDATE erasure_plans SET status = 'approved' WHERE status = 'executing'"))
    conn.execute(sa.text("DELETE FROM erasure_plan_items WHERE kind <> 'record'"))
    conn.execute(sa.text("UPDATE erasure_plan_items SET action = 'keep', erase_on = NULL WHERE action = 'review'"))
    with op.batch_alter_table("erasure_plans") as batch:
        batch.drop_constraint(batch.f("ck_erasure_plans_started_when_executing"), type_="check")
        batch.drop_constraint(batch.f("ck_erasure_plans_erasure_plan_status"), type_="check")
        batch.alter_column("status", type_=sa.String(8), existing_type=sa.String(9), existing_nullable=False)
        batch.create_check_constraint("erasure_plan_status", _in("status", STATUS_OLD))
        batch.drop_column("execution_started_at")
    with op.batch_alter_table("erasure_plan_items") as batch:
        batch.drop_constraint(batch.f("fk_erasure_plan_items_evidence_id_attachments"), type_="foreignkey")
        batch.drop_constraint(batch.f("fk_erasure_plan_items_done_by_id_users"), type_="foreignkey")
        batch.drop_constraint(batch.f("fk_erasure_plan_items_decided_by_id_users"), type_="foreignkey")
        for name in ITEM_CHECKS:
            batch.drop_constraint(batch.f(f"ck_erasure_plan_items_{name}"), type_="check")
        batch.drop_constraint(batch.f("ck_erasure_plan_items_erasure_outcome"), type_="check")
        batch.drop_constraint(batch.f("ck_erasure_plan_items_erasure_item_kind"), type_="check")
        batch.drop_constraint(batch.f("ck_erasure_plan_items_erasure_action"), type_="check")
        batch.create_check_constraint("erasure_action", _in("action", ACTIONS_OLD))
        for column in ("impossible_reason", "evidence_id", "done_by_id", "done_on", "failure", "outcome",
                       "decision_reason", "decided_by_id", "decided_at", "rules_version", "only_fields",
                       "shared_reason", "shared", "record_date", "kind"):
            batch.drop_column(column)
