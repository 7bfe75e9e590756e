"""Many processes against one PostgreSQL (DESIGN.md: "nothing in the code assumes one process").

Each thread pushes its own app context, so it has its own Flask-SQLAlchemy session and its own database
connection: the same situation as several gunicorn workers. A barrier starts them together.
The PostgreSQL tests are skipped on SQLite, the embedded default. One SQLite test remains: the embedded
default serves with ``flask run``, which is threaded, so two requests can still write the audit trail at once.
"""

from __future__ import annotations

import threading
from datetime import date

import pytest
import sqlalchemy as sa

from dsr.audit.operations import record
from dsr.auth.models import User
from dsr.cases.models import Case, ReferenceCounter
from dsr.cases.operations import log_request, next_reference
from dsr.domain.enums import Channel, Language, Right, Role
from dsr.extensions import db
from dsr.timeutil import now
from tests.conftest import NOW, TODAY
from tests.factories import make_user, subject_details
from tests.integration.conftest import assert_unbroken_chain, audit_trail

THREADS = 8
ROUNDS = 5


@pytest.fixture
def pg_app(backend_app):
    if backend_app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("concurrent writers are tested on PostgreSQL")
    return backend_app


def run_together(app, work, threads: int = THREADS) -> list:
    """Run ``work(i)`` in ``threads`` threads, each in its own app context; return their results."""
    barrier = threading.Barrier(threads)
    results: list = [None] * threads
    errors: list[BaseException] = []

    def target(i: int) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                results[i] = work(i)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
            barrier.abort()

    pool = [threading.Thread(target=target, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in pool), "a thread hung (deadlock?)"
    assert not errors, errors
    return results


def test_concurrent_next_reference_hands_out_distinct_consecutive_numbers(pg_app):
    def work(_i):
        got = []
        for _ in range(ROUNDS):
            got.append(next_reference(2026))
            db.session.commit()
        return got

    references = [r for batch in run_together(pg_app, work) for r in batch]
    expected = [f"DSR-2026-{n:05d}" for n in range(1, THREADS * ROUNDS + 1)]
    assert sorted(references) == expected
    with pg_app.app_context():
        assert db.session.get(ReferenceCounter, 2026).last == THREADS * ROUNDS


def test_concurrent_audit_records_form_one_unbroken_chain(pg_app):
    def work(i):
        for k in range(ROUNDS):
            record("test.concurrent", actor=None, now=now(), after={"thread": i, "round": k})
            db.session.commit()

    run_together(pg_app, work)
    with pg_app.app_context():
        events = audit_trail()
        assert len(events) == THREADS * ROUNDS
        assert {(e.after["thread"], e.after["round"]) for e in events} == {
            (i, k) for i in range(THREADS) for k in range(ROUNDS)}
        assert_unbroken_chain(events)


def test_concurrent_intake_gives_distinct_references_and_one_chain(pg_app):
    with pg_app.app_context():
        staff_id = make_user(Role.STAFF).id

    def work(i):
        staff = db.session.get(User, staff_id)
        case = log_request(
            subject=subject_details(name=f"Person {i}", email=f"p{i}@example.nl", customer_number=f"HC{i:07d}"),
            rights=[Right.ACCESS], channel=Channel.WEB, received_on=date(2026, 11, 20), language=Language.NL,
            notes="", actor=staff, now=NOW, today=TODAY,
        )
        db.session.commit()
        return case.reference

    references = run_together(pg_app, work)
    assert sorted(references) == [f"DSR-2026-{n:05d}" for n in range(1, THREADS + 1)]
    with pg_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == THREADS
        events = audit_trail()
        assert [e.action for e in events].count("case.created") == THREADS
        assert_unbroken_chain(events)


def test_concurrent_audit_records_on_sqlite_form_one_unbroken_chain(app):
    """The embedded default (``make run``: SQLite behind the threaded ``flask run``) must not fork the chain.

    ``_lock_chain`` assumes SQLite serialises the read of the last hash with the insert; with pysqlite's
    default transaction handling the SELECT runs before any lock is taken, so two writers can read the same
    last hash and both chain onto it.
    """
    def work(i):
        for k in range(ROUNDS * 4):
            record("test.concurrent", actor=None, now=now(), after={"thread": i, "round": k})
            db.session.commit()

    run_together(app, work)
    with app.app_context():
        events = audit_trail()
        assert len(events) == THREADS * ROUNDS * 4
        assert_unbroken_chain(events)


# -- several processes (issue 15, item 6) ------------------------------------------------------------------

PROCESSES = 4
PROCESS_ROUNDS = 6


def _process_work(config: dict, staff_id: int, manager_id: int, shared: str, index: int, start, results) -> None:
    """One process like a gunicorn worker: log cases and change one shared case, each change against the
    version it read, trying again when another process changed the case in between."""
    from sqlalchemy.orm.exc import StaleDataError

    from dsr import create_app
    from dsr.cases import lifecycle
    from dsr.cases.errors import StaleCase
    from dsr.domain.enums import Priority

    app = create_app(config)
    refs, updates, conflicts = [], 0, 0
    with app.app_context():
        start.wait(timeout=60)
        for k in range(PROCESS_ROUNDS):
            staff = db.session.get(User, staff_id)
            case = log_request(
                subject=subject_details(name=f"Proc {index} Person {k}", email=f"p{index}-{k}@example.nl",
                                        customer_number=f"HC{index:03d}{k:04d}"),
                rights=[Right.ACCESS], channel=Channel.WEB, received_on=date(2026, 11, 20), language=Language.NL,
                notes="", actor=staff, now=now(), today=TODAY)
            db.session.commit()
            refs.append(case.reference)
            while True:
                db.session.expire_all()
                target = db.session.execute(sa.select(Case).where(Case.reference == shared)).scalar_one()
                flipped = Priority.HIGH if target.priority is Priority.NORMAL else Priority.NORMAL
                try:
                    lifecycle.set_priority(target, flipped, actor=db.session.get(User, manager_id), now=now(),
                                           expected_version=target.version)
                    db.session.commit()
                    updates += 1
                    break
                except (StaleCase, StaleDataError):
                    db.session.rollback()
                    conflicts += 1
    results.put((refs, updates, conflicts))


def test_several_processes_create_and_update_cases_without_gaps_lost_updates_or_a_forked_chain(pg_app):
    import multiprocessing

    with pg_app.app_context():
        staff = make_user(Role.STAFF)
        manager = make_user(Role.PRIVACY_MANAGER)
        shared = log_request(subject=subject_details(), rights=[Right.ACCESS], channel=Channel.POST,
                             received_on=date(2026, 11, 20), language=Language.NL, notes="", actor=staff, now=NOW,
                             today=TODAY).reference
        db.session.commit()
        staff_id, manager_id = staff.id, manager.id
    config = {key: pg_app.config[key] for key in (
        "TESTING", "INSTANCE_PATH", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "STORAGE_DIR", "WTF_CSRF_ENABLED",
        "PASSWORD_HASH_METHOD", "DEMO_SYSTEMS_CUSTOMERS", "SERVER_NAME")}
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_process_work, args=(config, staff_id, manager_id, shared, i, start, results))
             for i in range(PROCESSES)]
    for p in procs:
        p.start()
    start.set()
    outcomes = [results.get(timeout=180) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert all(p.exitcode == 0 for p in procs)

    refs = sorted(r for got, _u, _c in outcomes for r in got)
    # Unique and gap-free: the shared case is number 1, the processes' cases 2 .. N+1.
    assert refs == [f"DSR-2026-{n:05d}" for n in range(2, PROCESSES * PROCESS_ROUNDS + 2)]
    updates = sum(u for _r, u, _c in outcomes)
    assert updates == PROCESSES * PROCESS_ROUNDS
    with pg_app.app_context():
        case = db.session.execute(sa.select(Case).where(Case.reference == shared)).scalar_one()
        # No lost update: every change that succeeded moved the version on, and each has its audit event.
        assert case.version == 1 + updates
        events = audit_trail()
        assert [e.action for e in events].count("case.priority_changed") == updates
        assert [e.action for e in events].count("case.created") == 1 + PROCESSES * PROCESS_ROUNDS
        assert_unbroken_chain(events)
