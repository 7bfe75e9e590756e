"""The scheduled erase-due run keeps going when one plan cannot be decided, and records a kept record that
disappeared from its source as gone (issue 4, item 5). On SQLite and PostgreSQL, with a private copy of the
demo systems per test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from dsr.datamap.erase import strategy
from dsr.datamap.sources import load_sources
from dsr.extensions import db
from dsr.fulfilment.erasure import approve_plan, erase_due_items, execute_plan
from dsr.fulfilment.models import ErasurePlanItem
from tests.harmony_support import People, execute, private_copy, rows
from tests.integration.test_erasure import LATER, TODAY, active_customer, planned


@pytest.fixture
def systems(ctx, harmony, tmp_path, monkeypatch) -> str:
    """A private copy of the demo systems (erasure changes it); ``harmony`` is the integration conftest's."""
    monkeypatch.setitem(ctx.config, "DEMO_SYSTEMS_URL", url := private_copy(harmony, tmp_path))
    return url


@pytest.fixture
def people(ctx) -> People:
    return People()


def _executed(people, customer):
    case, _lookup, plan = planned(people, customer)
    approve_plan(plan, actor=people.manager, now=LATER)
    execute_plan(plan, actor=people.manager, now=LATER, today=TODAY)
    db.session.commit()
    return case, plan


def _run(day):
    at = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    summaries = erase_due_items(now=at, today=day)
    db.session.commit()
    return summaries


def test_a_plan_on_a_retired_source_does_not_stop_the_others(systems, people):
    customer = active_customer(systems)
    retired_case, retired = _executed(people, customer)
    # The first plan's kept records now name a source the data map no longer has.
    db.session.execute(sa.update(ErasurePlanItem).where(ErasurePlanItem.plan_id == retired.id,
                                                        ErasurePlanItem.executed_at.is_(None))
                       .values(source="retired_system"))
    db.session.commit()
    other = rows(systems, """SELECT c.* FROM customers c WHERE c.id <> :c AND EXISTS
                             (SELECT 1 FROM policies p WHERE p.customer_id = c.id AND p.status = 'active')
                             ORDER BY c.id LIMIT 1""", c=customer["id"])[0]
    case, plan = _executed(people, other)
    execute(systems, "UPDATE policies SET status = 'ended', end_date = :d WHERE customer_id = :c",
            d=(TODAY + timedelta(days=1)).isoformat(), c=other["id"])
    execute(systems, """UPDATE claims SET status = 'settled', settled_on = :d WHERE status = 'open' AND policy_id IN
                        (SELECT id FROM policies WHERE customer_id = :c)""",
            d=(TODAY + timedelta(days=1)).isoformat(), c=other["id"])

    summaries = {s["case"]: s for s in _run(TODAY + timedelta(days=2))}
    assert summaries[retired_case.reference]["failed"]["decide"].startswith("KeyError")
    erased = summaries[case.reference]["records"]
    assert summaries[case.reference]["erased"] == len(erased) > 0
    # What it says it deleted is gone from the source (devices and claims of the ended policy, say); the
    # customer row itself is anonymised in place, as the data map says.
    admin = load_sources()["harmony_policy_admin"]
    deleted = [r for r in erased if strategy(admin.collection(r.split("/")[1]))[0]]
    assert deleted
    for record in deleted:
        _source, collection, key = record.split("/", 2)
        sql = f"SELECT 1 FROM {collection} WHERE id = :i"  # noqa: S608  (a collection name of the data map)
        assert not rows(systems, sql, i=int(key.removeprefix("id=")))


def test_a_kept_record_deleted_from_its_source_is_recorded_as_gone(systems, people):
    """Kept under fiscal retention until years from now, then deleted in Harmony's system by someone else:
    the next run records it as gone instead of reading it again every day until its date."""
    customer = active_customer(systems)
    case, plan = _executed(people, customer)
    kept = next(i for i in plan.items if i.collection == "premium_payments" and i.executed_at is None)
    assert kept.erase_on > TODAY + timedelta(days=365)
    execute(systems, "DELETE FROM premium_payments WHERE id = :p", p=kept.primary_key["id"])

    [summary] = [s for s in _run(TODAY + timedelta(days=1)) if s["case"] == case.reference]
    db.session.refresh(kept)
    assert kept.executed_at is not None and kept.result.endswith("not found: already gone")
    assert f"harmony_policy_admin/premium_payments/{kept.key_text}" in summary["records"]
