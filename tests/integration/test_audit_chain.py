"""The tamper-evident audit trail (issue 3, acceptance 8), on SQLite and PostgreSQL.

Every operation appends one event chained to the one before; ``flask dsr audit-verify`` walks the chain and
the head row. Tampering is done the way an intruder with database access would: raw SQL on a connection of
its own, outside the application.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from dsr.audit.models import AuditEvent
from dsr.audit.operations import GENESIS, compute_hash, record
from dsr.audit.queries import CSV_COLUMNS, case_events, events_csv
from dsr.auth.models import User
from dsr.cases import duplicates, lifecycle, timing
from dsr.cases.models import Case
from dsr.cases.operations import log_request
from dsr.domain.enums import (
    Channel,
    Language,
    LinkKind,
    Priority,
    RefusalGround,
    Right,
    Role,
    VerificationMethod,
    VerificationOutcome,
)
from dsr.extensions import db
from dsr.identity.operations import record_verification
from dsr.tasks import operations as tasks
from tests.factories import make_case, make_user, subject_details
from tests.integration.conftest import assert_unbroken_chain, audit_trail, row_count

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 26)


def tick(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


def verify(app):
    """``flask dsr audit-verify`` through the app's CLI runner, in the test's application context."""
    db.session.commit()
    return app.test_cli_runner().invoke(args=["dsr", "audit-verify"])


def raw(sql: str, **params) -> None:
    """Change the stored trail behind the application's back."""
    with db.engine.begin() as conn:
        conn.execute(sa.text(sql), params)
    db.session.expire_all()


def delete_event(event_id: int) -> None:
    """Remove an event as an intruder would: its payload first (the foreign key), then the event."""
    raw("DELETE FROM audit_payloads WHERE event_id = :id", id=event_id)
    raw("DELETE FROM audit_events WHERE id = :id", id=event_id)


def event_ids() -> list[int]:
    with db.engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT id FROM audit_events ORDER BY id")).scalars())


def stored_rows() -> dict[int, tuple]:
    """Every event as the database holds it, read on a separate connection."""
    with db.engine.connect() as conn:
        rows = conn.execute(sa.text(
            'SELECT e.id, occurred_at, actor_id, actor_label, case_id, action, payload_hash, p."before", '
            'p."after", p.nonce, prev_hash, hash FROM audit_events e LEFT JOIN audit_payloads p ON p.event_id = e.id '
            "ORDER BY e.id")).all()
    return {row[0]: tuple(row) for row in rows}


def busy_case_history(manager: User, staff: User) -> tuple[list[str], int]:
    """Run one of each operation on cases; return the audit actions it should have written."""
    case = make_case(actor=staff, received_on=date(2026, 11, 20))
    other = log_request(subject=subject_details(), rights=[Right.ERASURE], channel=Channel.EMAIL,
                        received_on=date(2026, 11, 23), language=Language.NL, notes="", actor=staff, now=NOW,
                        today=TODAY, link_subject=case.subject)
    expected = ["subject.created", "case.created", "case.created"]

    lifecycle.assign(case, staff, actor=staff, now=tick(1))
    lifecycle.set_priority(case, Priority.HIGH, actor=manager, now=tick(2))
    lifecycle.start_identity_check(case, actor=staff, now=tick(3))
    timing.request_information(case, reason="Which policy?", requested_on=date(2026, 11, 23), actor=staff,
                               now=tick(4), today=TODAY)
    timing.information_received(case, received_on=date(2026, 11, 25), actor=staff, now=tick(5), today=TODAY)
    record_verification(case, method=VerificationMethod.POLICY_RECORDS, outcome=VerificationOutcome.VERIFIED,
                        note="", actor=staff, now=tick(6))
    timing.extend(case, reason="Volume", actor=manager, now=tick(7), today=TODAY)
    timing.record_extension_notice(case, sent_on=TODAY, actor=staff, now=tick(8), today=TODAY)
    tasks.add_note(case, "Called the subject", actor=staff, now=tick(9))
    task = tasks.add_task(case, "Collect recordings", assignee=staff, due_on=TODAY, actor=staff, now=tick(10),
                          today=TODAY)
    tasks.complete_task(task, actor=staff, now=tick(11))
    duplicates.link_cases(case, other, kind=LinkKind.RELATED, actor=staff, now=tick(12))
    lifecycle.submit_for_approval(case, actor=staff, now=tick(13))
    lifecycle.send_back(case, reason="Missing recordings", actor=manager, now=tick(14))
    lifecycle.submit_for_approval(case, actor=staff, now=tick(15))
    lifecycle.complete(case, decision="Copy sent", actor=manager, now=tick(16), override_reason="The work is not what this test is about")
    lifecycle.close(case, actor=manager, now=tick(17))
    lifecycle.refuse(other, ground=RefusalGround.MANIFESTLY_UNFOUNDED, justification="Not about data",
                     actor=manager, now=tick(18))
    db.session.commit()
    expected += [
        "case.assigned", "case.priority_changed", "case.start_identity_check", "case.paused", "case.resumed",
        "identity.verified", "case.start_work", "case.extended", "case.extension_notice_sent", "note.added",
        "task.added", "task.completed", "case.linked", "case.linked", "case.submit_for_approval",
        "case.send_back", "case.submit_for_approval", "case.complete", "case.close", "case.refuse",
    ]
    return expected, case.id


@pytest.fixture
def history(ctx):
    manager, staff = make_user(Role.PRIVACY_MANAGER), make_user(Role.STAFF)
    expected, case_id = busy_case_history(manager, staff)
    return ["user.created", "user.created", *expected], case_id


# -- every operation writes one chained event ----------------------------------------------------------------------

def test_every_operation_appends_one_event_to_one_chain(history):
    expected, case_id = history
    trail = audit_trail()
    assert [e.action for e in trail] == expected
    assert_unbroken_chain(trail)
    assert trail[0].prev_hash == GENESIS
    for previous, event in zip(trail, trail[1:], strict=False):
        assert event.prev_hash == previous.hash
        assert event.id > previous.id
    assert {e.actor_label for e in trail if e.case_id == case_id} == {
        "staff@harmony.test", "privacy_manager@harmony.test"}


def test_the_per_case_trail_is_that_cases_events_in_order(history):
    _expected, case_id = history
    events = case_events(case_id)
    assert events and all(e.case_id == case_id for e in events)
    assert [e.id for e in events] == sorted(e.id for e in events)
    assert events[0].action == "case.created" and events[-1].action == "case.close"


def test_earlier_events_are_never_changed_by_later_operations(history):
    _expected, case_id = history
    first = stored_rows()
    staff = db.session.scalar(sa.select(User).where(User.role == Role.STAFF))
    record("test.one", actor=staff, now=tick(30), after={"n": 1})
    db.session.commit()
    second = stored_rows()
    other = db.session.scalar(sa.select(Case).where(Case.id != case_id))
    tasks.add_note(db.session.get(Case, case_id), "After closing", actor=staff, now=tick(31))
    lifecycle.close(other, actor=staff, now=tick(32))
    db.session.commit()
    third = stored_rows()
    assert len(second) == len(first) + 1 and len(third) == len(second) + 2
    assert {i: r for i, r in second.items() if i in first} == first
    assert {i: r for i, r in third.items() if i in second} == second


# -- audit-verify --------------------------------------------------------------------------------------------------

def test_audit_verify_on_an_empty_trail(ctx):
    result = verify(ctx)
    assert result.exit_code == 0, result.output
    assert "Audit chain intact: 0 events." in result.output


def test_audit_verify_passes_and_counts_the_events(ctx, history):
    expected, _case_id = history
    result = verify(ctx)
    assert result.exit_code == 0, result.output
    assert f"Audit chain intact: {len(expected)} events." in result.output
    assert row_count(AuditEvent) == len(expected)


def _broken_at(result, event_id: int | None) -> None:
    assert result.exit_code == 1, result.output
    assert f"Audit chain BROKEN at event {event_id}:" in result.output


def test_audit_verify_detects_an_altered_after(ctx, history):
    ids = event_ids()
    victim = ids[len(ids) // 2]
    with db.engine.connect() as conn:
        after = conn.execute(sa.text('SELECT "after" FROM audit_payloads WHERE event_id = :id'),
                             {"id": victim}).scalar()
    after = json.loads(after) if isinstance(after, str) else after
    after["state"] = "completed"
    raw('UPDATE audit_payloads SET "after" = :after WHERE event_id = :id', after=json.dumps(after), id=victim)
    result = verify(ctx)
    _broken_at(result, victim)
    assert "the payload was altered" in result.output


def test_audit_verify_detects_a_payload_emptied_by_hand(ctx, history):
    """A tombstone made outside dsr's retention names no retention event: detected."""
    victim = event_ids()[2]
    raw('UPDATE audit_payloads SET nonce = NULL, "before" = NULL, "after" = NULL, purged_at = :t, '
        "purged_by_event_id = :by WHERE event_id = :id", t=NOW, by=event_ids()[-1], id=victim)
    result = verify(ctx)
    _broken_at(result, victim)
    assert "not by a retention event" in result.output


def test_audit_verify_detects_a_deleted_payload(ctx, history):
    victim = event_ids()[1]
    raw("DELETE FROM audit_payloads WHERE event_id = :id", id=victim)
    result = verify(ctx)
    _broken_at(result, victim)
    assert "details were removed" in result.output


def test_audit_verify_detects_a_changed_payload_hash(ctx, history):
    """Re-pointing the chain at another payload hash changes the event's own hash."""
    victim = event_ids()[1]
    raw("UPDATE audit_events SET payload_hash = :h WHERE id = :id", h="0" * 64, id=victim)
    _broken_at(verify(ctx), victim)


def test_audit_verify_detects_an_altered_action(ctx, history):
    ids = event_ids()
    victim = ids[3]
    raw("UPDATE audit_events SET action = 'case.nothing_happened' WHERE id = :id", id=victim)
    _broken_at(verify(ctx), victim)


def test_audit_verify_detects_an_altered_actor(ctx, history):
    ids = event_ids()
    raw("UPDATE audit_events SET actor_label = 'someone.else@harmony.test' WHERE id = :id", id=ids[-1])
    _broken_at(verify(ctx), ids[-1])


def test_audit_verify_detects_a_deleted_middle_event(ctx, history):
    ids = event_ids()
    victim = ids[len(ids) // 2]
    delete_event(victim)
    result = verify(ctx)
    # The event after the gap no longer chains onto its predecessor.
    _broken_at(result, ids[ids.index(victim) + 1])
    assert "removed" in result.output


def test_audit_verify_detects_a_deleted_first_event(ctx, history):
    ids = event_ids()
    delete_event(ids[0])
    _broken_at(verify(ctx), ids[1])


def test_audit_verify_detects_the_newest_event_deleted(ctx, history):
    ids = event_ids()
    delete_event(ids[-1])
    result = verify(ctx)
    # The chain itself is intact up to the new last row; the head row still names the deleted one.
    _broken_at(result, ids[-2])
    assert f"the head record expects {len(ids)} events" in result.output
    assert f"the table holds {len(ids) - 1}" in result.output


def test_audit_verify_detects_a_rehashed_newest_event(ctx, history):
    """Editing the newest row and recomputing its hash fits the chain, but not the head row."""
    newest = db.session.get(AuditEvent, event_ids()[-1])
    newest.action = "case.nothing_happened"
    forged = compute_hash(newest)
    db.session.rollback()
    raw("UPDATE audit_events SET action = 'case.nothing_happened', hash = :h WHERE id = :id", h=forged,
        id=newest.id)
    result = verify(ctx)
    assert result.exit_code == 1, result.output
    assert "head record" in result.output


def test_the_application_keeps_verifying_after_more_events(ctx, history):
    expected, _case_id = history
    assert verify(ctx).exit_code == 0
    record("test.later", actor=None, now=tick(40), after={"ok": True})
    db.session.commit()
    result = verify(ctx)
    assert result.exit_code == 0, result.output
    assert f"intact: {len(expected) + 1} events" in result.output


# -- many writers at once ------------------------------------------------------------------------------------------

THREADS = 6
ROUNDS = 8


def run_in_threads(app, work) -> None:
    """``work(i)`` in THREADS threads at once, each with its own app context, session and connection."""
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def target(i: int) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                work(i)
        except BaseException as exc:  # re-raised in the test's thread below
            errors.append(exc)
            barrier.abort()

    pool = [threading.Thread(target=target, args=(i,)) for i in range(THREADS)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in pool), "a writer hung"
    assert not errors, errors


def test_concurrent_records_form_one_unbroken_chain(ctx):
    ctx_app = ctx
    staff_id = make_user(Role.STAFF).id

    def work(i: int) -> None:
        actor = db.session.get(User, staff_id)
        for k in range(ROUNDS):
            record("test.concurrent", actor=actor, now=tick(i * ROUNDS + k), after={"thread": i, "round": k})
            db.session.commit()

    run_in_threads(ctx_app, work)
    events = audit_trail()
    assert len(events) == 1 + THREADS * ROUNDS
    assert {(e.after["thread"], e.after["round"]) for e in events[1:]} == {
        (i, k) for i in range(THREADS) for k in range(ROUNDS)}
    assert_unbroken_chain(events)
    result = verify(ctx_app)
    assert result.exit_code == 0, result.output
    assert f"intact: {1 + THREADS * ROUNDS} events" in result.output


# -- CSV export for the auditor ------------------------------------------------------------------------------------

def test_events_csv_has_the_columns_and_neutralises_formulas(ctx):
    sly = make_user(Role.STAFF, "=hyperlink(\"http://x\")@harmony.test")
    case = make_case(actor=sly, rights=(Right.ACCESS,))
    tasks.add_note(case, "=1+1 & <b>", actor=sly, now=tick(1))
    db.session.commit()
    text = events_csv(case_events(case.id))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == CSV_COLUMNS == ["id", "occurred_at", "actor", "action", "before", "after", "prev_hash", "hash"]
    assert [r[3] for r in rows[1:]] == ["case.created", "note.added"]
    for row in rows[1:]:
        assert row[2] == "'=hyperlink(\"http://x\")@harmony.test"
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row)
    created, note = rows[1:]
    assert json.loads(note[5]) == {"body": "=1+1 & <b>"}
    assert note[4] == ""
    stored = case_events(case.id)
    assert [int(r[0]) for r in rows[1:]] == [e.id for e in stored]
    assert [(r[6], r[7]) for r in rows[1:]] == [(e.prev_hash, e.hash) for e in stored]
    assert created[1] == NOW.isoformat()
