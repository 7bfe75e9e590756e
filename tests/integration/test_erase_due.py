"""The scheduled erase-due run keeps going when one plan cannot be decided, and records a kept record that
disappeared from its source as gone (issue 4, item 5). On SQLite and PostgreSQL, with a private copy of the
demo systems per test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from dateutil.relativedelta import relativedelta

from dsr.cases.errors import RuleViolation
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


# -- items kept under the old reading of fiscal retention are re-dated before anything is erased ---------

def _customer_with_invoice_between(url: str, first: str, last: str) -> tuple[dict, dict]:
    [found] = rows(url, """SELECT c.*, i.id AS invoice_id, i.issued_on AS invoice_date FROM customers c
                           JOIN invoices i ON i.customer_id = c.id
                           WHERE i.issued_on BETWEEN :first AND :last
                             AND EXISTS (SELECT 1 FROM policies p WHERE p.customer_id = c.id AND p.status = 'active')
                           ORDER BY c.id, i.id LIMIT 1""", first=first, last=last)
    return found, {"id": found["invoice_id"], "issued_on": date.fromisoformat(found["invoice_date"])}


def test_items_kept_with_the_old_dates_are_re_dated_by_the_next_run_and_not_erased_early(systems, people):
    # An invoice of spring 2019: the old reading (7 years from its date) let it go in spring 2026; seven years
    # from the end of its book year keep it through 31 December 2026.
    customer, invoice = _customer_with_invoice_between(systems, "2019-01-01", "2019-10-31")
    case, plan = _executed(people, customer)
    item = next(i for i in plan.items if i.collection == "invoices" and i.primary_key == {"id": invoice["id"]})
    assert item.erase_on == date(2027, 1, 1)
    # What a plan made before this rule looks like: no rules version, the old date, already passed.
    old = invoice["issued_on"] + relativedelta(years=7) + timedelta(days=1)
    assert old <= TODAY
    db.session.execute(sa.update(ErasurePlanItem).where(ErasurePlanItem.plan_id == plan.id).values(
        rules_version=None))
    db.session.execute(sa.update(ErasurePlanItem).where(ErasurePlanItem.id == item.id).values(erase_on=old))
    db.session.commit()

    [summary] = [s for s in _run(TODAY) if s["case"] == case.reference]
    db.session.refresh(item)
    assert summary["redated"] >= 1 and f"harmony_policy_admin/invoices/{item.key_text}" not in summary["records"]
    assert (item.executed_at, item.erase_on, item.rule_id) == (None, date(2027, 1, 1), "fiscal-retention")
    assert item.rules_version is not None
    assert rows(systems, "SELECT id FROM invoices WHERE id = :i", i=invoice["id"])
    # On its real date it goes.
    [summary] = [s for s in _run(date(2027, 1, 1)) if s["case"] == case.reference]
    assert f"harmony_policy_admin/invoices/{item.key_text}" in summary["records"]
    assert not rows(systems, "SELECT id FROM invoices WHERE id = :i", i=invoice["id"])


def test_an_approved_plan_built_under_other_rules_is_not_executed(systems, people):
    customer = active_customer(systems)
    case, _lookup, plan = planned(people, customer)
    approve_plan(plan, actor=people.manager, now=LATER)
    db.session.execute(sa.update(ErasurePlanItem).where(ErasurePlanItem.plan_id == plan.id).values(
        rules_version="older:12-31"))
    db.session.commit()
    db.session.refresh(plan)
    with pytest.raises(RuleViolation, match="retention rules or the book year changed"):
        execute_plan(plan, actor=people.manager, now=LATER, today=TODAY)


def test_a_different_book_year_end_re_dates_kept_fiscal_records(systems, people, ctx, monkeypatch):
    customer, invoice = _customer_with_invoice_between(systems, "2020-07-01", "2020-12-31")
    case, plan = _executed(people, customer)
    item = next(i for i in plan.items if i.collection == "invoices" and i.primary_key == {"id": invoice["id"]})
    assert item.erase_on == date(2028, 1, 1)
    monkeypatch.setitem(ctx.config, "BOOK_YEAR_END", "06-30")  # the book year of July 2020 ends 30 June 2021
    [summary] = [s for s in _run(TODAY) if s["case"] == case.reference]
    db.session.refresh(item)
    assert summary["redated"] >= 1 and item.erase_on == date(2028, 7, 1)
