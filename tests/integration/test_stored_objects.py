"""Files go with their rows (issue 13, item 5), on SQLite and PostgreSQL (dsr's own database; the demo
systems are a SQLite copy per test with their recordings' audio in a local object store of its own).

The customer is the demo's made-to-show one with two recorded calls (and a correspondence address that is
another customer's home). What is expected is read with plain SQL and from the file system.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from dsr.datamap.objects import LocalObjectStore, ObjectStoreError
from dsr.demo.harmony import generate
from dsr.domain.enums import ErasureOutcome, ErasurePlanStatus, Right
from dsr.extensions import db
from dsr.fulfilment import stored_objects
from dsr.fulfilment.erasure import approve_plan, build_erasure_plan, execute_plan
from dsr.fulfilment.erasure.plan import decide_item
from dsr.fulfilment.lookup_ops import confirm_match, run_lookup
from dsr.fulfilment.models import StoredObjectDeletion
from tests.factories import make_case
from tests.harmony_support import People, private_copy, rows, subject_of

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 26)
CONTACT = "harmony_contact_centre"


@pytest.fixture(scope="module")
def harmony_with_files(tmp_path_factory):
    base = tmp_path_factory.mktemp("harmony-files")
    url = f"sqlite:///{base / 'harmony.sqlite3'}"
    generate(url, customers=40, seed=2018, today=TODAY, objects_dir=base / "objects")
    return url, base / "objects"


@pytest.fixture
def systems(ctx, harmony_with_files, tmp_path, monkeypatch):
    url = private_copy(harmony_with_files[0], tmp_path)
    objects = tmp_path / "objects"
    shutil.copytree(harmony_with_files[1], objects)
    monkeypatch.setitem(ctx.config, "DEMO_SYSTEMS_URL", url)
    monkeypatch.setitem(ctx.config, "OBJECT_STORE_DIR", str(objects))
    return url, objects


@pytest.fixture
def people(ctx) -> People:
    return People()


def caller(url: str) -> dict:
    """The made-to-show customer whose letters go to another customer's home: two recorded calls."""
    return rows(url, """SELECT c.* FROM customers c JOIN policies p ON p.customer_id = c.id
                        JOIN addresses a ON a.id = p.correspondence_address_id
                        WHERE a.customer_id <> c.id""")[0]


def approved_plan(people: People, customer: dict):
    case = make_case(actor=people.staff, rights=(Right.ERASURE,), **subject_of(customer))
    lookup = run_lookup(case, actor=people.staff, now=NOW)
    confirm_match(lookup, actor=people.staff, now=NOW)
    plan = build_erasure_plan(case, lookup, actor=people.staff, now=NOW, today=TODAY)
    for item in plan.items:
        if not item.is_task and item.undecided:
            # The shared correspondence address is kept; anything else left open is the subject's own.
            decide_item(item, action="keep" if item.shared else "erase", reason="Decided for the test.",
                        actor=people.manager, now=NOW)
    approve_plan(plan, actor=people.manager, now=NOW)
    db.session.commit()
    return plan


def recording_items(plan):
    return sorted((i for i in plan.items if not i.is_task and i.collection == "call_recordings"),
                  key=lambda i: i.primary_key["id"])


def test_erasing_a_recording_deletes_its_audio_after_the_row_and_checks_it_is_gone(systems, people):
    url, objects = systems
    customer = caller(url)
    calls = rows(url, "SELECT id, storage_uri FROM call_recordings WHERE customer_number = :n ORDER BY id",
                 n=customer["customer_number"])
    store = LocalObjectStore(objects)
    assert len(calls) == 2 and all(store.exists(c["storage_uri"]) for c in calls)
    files_before = sum(1 for p in objects.rglob("*.wav"))

    plan = approved_plan(people, customer)
    assert [i.action.value for i in recording_items(plan)] == ["erase", "erase"]
    assert execute_plan(plan, actor=people.staff, now=NOW, today=TODAY) == {}
    db.session.commit()

    assert rows(url, "SELECT id FROM call_recordings WHERE customer_number = :n", n=customer["customer_number"]) == []
    assert not any(store.exists(c["storage_uri"]) for c in calls)
    assert sum(1 for p in objects.rglob("*.wav")) == files_before - 2  # nobody else's recording
    for item in recording_items(plan):
        assert item.outcome is ErasureOutcome.DELETED and item.executed_at == NOW
        assert item.result == "row deleted; stored object of storage_uri deleted and checked gone"
    deletions = db.session.execute(sa.select(StoredObjectDeletion).order_by(StoredObjectDeletion.id)).scalars().all()
    assert [(d.field, d.uri, d.deleted_at, d.error) for d in deletions] == [
        ("storage_uri", c["storage_uri"], NOW, None) for c in calls]
    assert plan.status is ErasurePlanStatus.EXECUTED


class _Refusing(LocalObjectStore):
    def delete(self, uri: str) -> None:
        raise ObjectStoreError(f"{uri} could not be deleted: access denied")


def test_an_object_that_cannot_be_deleted_leaves_the_item_failed_and_is_retried(systems, people, monkeypatch):
    url, objects = systems
    customer = caller(url)
    calls = rows(url, "SELECT id, storage_uri FROM call_recordings WHERE customer_number = :n ORDER BY id",
                 n=customer["customer_number"])
    plan = approved_plan(people, customer)
    working = stored_objects.object_store
    monkeypatch.setattr(stored_objects, "object_store", lambda config: _Refusing(config["OBJECT_STORE_DIR"]))
    execute_plan(plan, actor=people.staff, now=NOW, today=TODAY)
    db.session.commit()

    store = LocalObjectStore(objects)
    # The rows are gone (their transaction committed), the files are not: the items say failed, not erased.
    assert rows(url, "SELECT id FROM call_recordings WHERE customer_number = :n", n=customer["customer_number"]) == []
    assert all(store.exists(c["storage_uri"]) for c in calls)
    for item in recording_items(plan):
        assert item.outcome is ErasureOutcome.FAILED and item.executed_at is None
        assert item.failure.startswith("retry: the stored object of storage_uri could not be deleted")
    assert plan.status is ErasurePlanStatus.EXECUTING
    pending = db.session.execute(sa.select(StoredObjectDeletion)).scalars().all()
    assert {d.uri for d in pending} == {c["storage_uri"] for c in calls}
    assert all(d.deleted_at is None and "access denied" in d.error and d.attempts == 1 for d in pending)

    # The store works again: executing the plan again finishes the job, from dsr's own note of the address.
    monkeypatch.setattr(stored_objects, "object_store", working)
    later = datetime(2026, 11, 26, 11, 0, tzinfo=UTC)
    assert execute_plan(plan, actor=people.staff, now=later, today=TODAY) == {}
    db.session.commit()
    assert not any(store.exists(c["storage_uri"]) for c in calls)
    for item in recording_items(plan):
        assert item.outcome is ErasureOutcome.DELETED
        assert item.result == "not found: already gone; stored object of storage_uri deleted and checked gone"
    assert all(d.deleted_at == later and d.error is None and d.attempts == 2 for d in
               db.session.execute(sa.select(StoredObjectDeletion)).scalars())
    assert plan.status is ErasurePlanStatus.EXECUTED


def test_a_process_killed_after_the_rows_went_leaves_the_items_failed_and_the_files_known(systems, people,
                                                                                           monkeypatch):
    """Killed after the source committed and before the files were deleted: nothing says "erased" while a file
    is still there, dsr still knows where the files are, and executing again finishes."""
    from dsr.fulfilment.erasure import execute as erasure_execute
    from dsr.fulfilment.erasure.execute import WAITING
    from dsr.fulfilment.models import ErasurePlan

    url, objects = systems
    customer = caller(url)
    calls = rows(url, "SELECT storage_uri FROM call_recordings WHERE customer_number = :n ORDER BY id",
                 n=customer["customer_number"])
    plan = approved_plan(people, customer)
    plan_id = plan.id

    def killed(source, done, now):
        raise SystemExit("killed")

    monkeypatch.setattr(erasure_execute, "_HOOKS", [killed])
    with pytest.raises(SystemExit):
        execute_plan(plan, actor=people.staff, now=NOW, today=TODAY)
    db.session.rollback()
    db.session.expire_all()

    store = LocalObjectStore(objects)
    assert rows(url, "SELECT id FROM call_recordings WHERE customer_number = :n", n=customer["customer_number"]) == []
    assert all(store.exists(c["storage_uri"]) for c in calls)
    plan = db.session.get(ErasurePlan, plan_id)
    assert plan.status is ErasurePlanStatus.EXECUTING
    for item in recording_items(plan):
        assert (item.outcome, item.failure, item.executed_at) == (ErasureOutcome.FAILED, WAITING, None)
    assert {d.uri for d in db.session.execute(sa.select(StoredObjectDeletion)).scalars()} == {
        c["storage_uri"] for c in calls}

    monkeypatch.setattr(erasure_execute, "_HOOKS", [stored_objects.delete_stored_objects])
    later = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    assert execute_plan(plan, actor=people.staff, now=later, today=TODAY) == {}
    db.session.commit()
    assert not any(store.exists(c["storage_uri"]) for c in calls)
    assert plan.status is ErasurePlanStatus.EXECUTED
    for item in recording_items(plan):
        assert item.outcome is ErasureOutcome.DELETED and item.executed_at == later
        assert item.result == "not found: already gone; stored object of storage_uri deleted and checked gone"
