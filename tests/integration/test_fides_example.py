"""Fides' own example dataset and database, unchanged, on PostgreSQL (issue 13, items 2, 4 and 13).

The dataset (``tests/fixtures/fides``) carries no dsr annotation; the database is loaded from Fides'
``postgres_sample.sql`` into a PostgreSQL database of its own for this module. What a lookup for
``customer-1@example.com`` must find is written out from the rows of that file.
"""

from __future__ import annotations

import copy
import shutil
from datetime import datetime

import pytest
import yaml

from dsr.datamap.lookup import find_everywhere, readonly_engines
from dsr.datamap.sources import DataMapError, load_sources
from dsr.domain.enums import LookupStatus, Role
from dsr.extensions import db
from dsr.fulfilment.lookup_ops import run_lookup
from tests.conftest import NOW, PG_URL, TODAY
from tests.factories import make_case, make_user
from tests.harmony_support import demo_systems
from tests.integration.shared_support import (
    FIDES_KEY,
    FIDES_URL_VARIABLE,
    FIXTURES,
    fides_example_database,
    write_dataset,
)

pytestmark = pytest.mark.skipif(not PG_URL, reason="Fides' example database is PostgreSQL (DSR_TEST_DATABASE_URL)")

CUSTOMER_1 = {
    ("customer", (1,)),
    ("address", (1,)), ("address", (2,)),
    ("orders", ("ord_aaa-aaa",)), ("orders", ("ord_ccc-ccc",)), ("orders", ("ord_ddd-ddd",)),
    ("order_item", ("ord_aaa-aaa", 1)), ("order_item", ("ord_ccc-ccc", 1)), ("order_item", ("ord_ccc-ccc", 2)),
    ("order_item", ("ord_ddd-ddd", 1)),
    ("product", (1,)), ("product", (2,)),
    ("payment_card", ("pay_aaa-aaa",)),
    *{("login", (n,)) for n in range(1, 7)},
    ("visit", ("customer-1@example.com", datetime(2021, 1, 6, 1, 0))),
    ("service_request", ("ser_aaa-aaa",)),
}


@pytest.fixture(scope="module")
def example_url():
    with fides_example_database() as url:
        yield url


@pytest.fixture(scope="module")
def datamap_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("fides-datamap")
    shutil.copy(FIXTURES / "postgres_example_test_dataset.yml", directory)
    return directory


def _lookup(config, email="customer-1@example.com"):
    sources = {FIDES_KEY: load_sources(config)[FIDES_KEY]}
    engines = readonly_engines(sources.values(), config)
    try:
        records = find_everywhere(sources, {"email": email}, engines)[FIDES_KEY]
    finally:
        for engine in engines.values():
            engine.dispose()
    return {(r.collection, tuple(r.primary_key.values())): r for r in records}


def test_the_example_loads_as_it_is_and_a_lookup_finds_customer_1s_rows(example_url, datamap_dir):
    found = _lookup({"DSR_DATAMAP_DIR": str(datamap_dir), FIDES_URL_VARIABLE: example_url})
    assert set(found) == CUSTOMER_1
    # Keys the dataset does not declare come from the database, columns outside the dataset included.
    assert found[("order_item", ("ord_ccc-ccc", 2))].primary_key == {"order_id": "ord_ccc-ccc", "item_no": 2}
    assert set(found[("visit", ("customer-1@example.com", datetime(2021, 1, 6, 1, 0)))].primary_key) == {
        "email", "last_visit"}
    assert found[("login", (3,))].matched_by == "customer.id"


def test_the_url_comes_from_the_environment_variable(example_url, datamap_dir, monkeypatch):
    monkeypatch.setenv(FIDES_URL_VARIABLE, example_url)
    assert set(_lookup({"DSR_DATAMAP_DIR": str(datamap_dir)})) == CUSTOMER_1


def test_rows_another_customer_reaches_are_shared(example_url, datamap_dir):
    found = _lookup({"DSR_DATAMAP_DIR": str(datamap_dir), FIDES_URL_VARIABLE: example_url})
    assert {key for key, r in found.items() if r.shared} == {
        ("address", (1,)),  # customer 2's order ord_bbb-bbb ships here; their card pay_bbb-bbb bills here
        ("address", (2,)),  # customer 2's home, where customer 1's order ord_aaa-aaa was shipped
        ("product", (1,)),  # also in customer 2's order ord_bbb-bbb
        # Handled by employee 1, whose identity leads to it as well: the employee's lookup finds it.
        ("service_request", ("ser_aaa-aaa",)),
    }
    reason = found[("address", (1,))].shared_reason
    assert "orders (id=ord_bbb-bbb) is linked to it (orders.shipping_address_id = id)" in reason
    assert "payment_card (id=pay_bbb-bbb) is linked to it (payment_card.billing_address_id = id)" in reason
    assert "customer (id=2) is linked to it (customer.address_id = id)" in found[("address", (2,))].shared_reason
    assert "employee (id=1) is linked to it (employee.id = employee_id)" in found[("service_request", ("ser_aaa-aaa",))].shared_reason


def test_a_declared_key_the_database_does_not_enforce_is_refused(example_url, tmp_path):
    document = yaml.safe_load((FIXTURES / "postgres_example_test_dataset.yml").read_text(encoding="utf-8"))
    dataset = copy.deepcopy(document["dataset"][0])
    customer = next(c for c in dataset["collections"] if c["name"] == "customer")
    for field in customer["fields"]:
        if field["name"] == "id":
            field["fides_meta"].pop("primary_key")
        if field["name"] == "name":
            field["fides_meta"]["primary_key"] = True
    write_dataset(tmp_path, dataset, "example")
    with pytest.raises(DataMapError, match=r"customer: the declared key \(name\) is neither the table's primary key "
                                           r"nor a unique constraint.*primary key \(id\)"):
        _lookup({"DSR_DATAMAP_DIR": str(tmp_path), FIDES_URL_VARIABLE: example_url})


@pytest.fixture
def harmony(tmp_path_factory):
    return demo_systems(tmp_path_factory, TODAY, customers=20)


def test_run_lookup_stores_shared_records_with_their_reason(ctx, example_url, datamap_dir, harmony, monkeypatch):
    monkeypatch.setitem(ctx.config, "DSR_DATAMAP_DIR", str(datamap_dir))
    monkeypatch.setitem(ctx.config, FIDES_URL_VARIABLE, example_url)
    monkeypatch.setitem(ctx.config, "DEMO_SYSTEMS_URL", harmony)
    staff = make_user(Role.STAFF)
    case = make_case(actor=staff, email="Customer-1@example.com", customer_number=None, policy_number=None)
    lookup = run_lookup(case, actor=staff, now=NOW)
    db.session.commit()
    assert lookup.status is LookupStatus.FOUND, lookup.error
    stored = {(r.collection, r.key_text): r for r in lookup.records if r.source == FIDES_KEY}
    assert len(stored) == len(CUSTOMER_1)
    assert {k for k, r in stored.items() if r.shared} == {
        ("address", "id=1"), ("address", "id=2"), ("product", "id=1"), ("service_request", "id=ser_aaa-aaa")}
    home = stored[("address", "id=1")]
    assert home.shared_reason.startswith("Also reached from records that are not this person's: ")
    assert home.shared_reason_in("nl").startswith("Ook bereikt vanuit records die niet van deze persoon zijn: ")
    assert {"kind": "reference", "collection": "orders", "key": {"id": "ord_bbb-bbb"},
            "field": "shipping_address_id", "own_field": "id"} in home.shared_with
    assert not stored[("customer", "id=1")].shared and stored[("customer", "id=1")].shared_reason is None


# -- erasing customer 1 (issue 13, item 2) ------------------------------------------------------------------

def _decide_as_a_privacy_manager(plan, manager):
    """What a privacy manager decides for the items the rules leave open: a record shared with another
    customer is kept; one shared with someone else (an employee who handled the request) loses only the
    subject's own fields; the subject's own records are erased; the shop's catalogue is kept."""
    from dsr.fulfilment.erasure.plan import decide_item

    for item in plan.items:
        if item.is_task or not item.undecided:
            continue
        found = next(f for f in plan.lookup.records if (f.source, f.collection, f.primary_key) == (
            item.source, item.collection, item.primary_key))
        if item.shared and any(s["collection"] in ("customer", "orders", "payment_card", "order_item")
                               for s in found.shared_with):
            decide_item(item, action="keep", reason="Also another customer's.", actor=manager, now=NOW)
        elif item.collection == "product":
            decide_item(item, action="keep", reason="The shop's catalogue, no personal data.", actor=manager,
                        now=NOW)
        else:
            decide_item(item, action="erase", reason="The subject's own data.", actor=manager, now=NOW)


def test_erasing_customer_1_leaves_every_row_another_customer_reaches_unchanged(
        ctx, datamap_dir, harmony, monkeypatch):
    from dsr.domain.enums import ErasureOutcome, ErasurePlanStatus, Right
    from dsr.fulfilment.erasure import approve_plan, build_erasure_plan, execute_plan
    from dsr.fulfilment.lookup_ops import confirm_match
    from tests.integration.shared_support import row_text, table_rows

    with fides_example_database() as url:
        monkeypatch.setitem(ctx.config, "DSR_DATAMAP_DIR", str(datamap_dir))
        monkeypatch.setitem(ctx.config, FIDES_URL_VARIABLE, url)
        monkeypatch.setitem(ctx.config, "DEMO_SYSTEMS_URL", harmony)
        staff, manager = make_user(Role.STAFF), make_user(Role.PRIVACY_MANAGER)
        case = make_case(actor=staff, rights=(Right.ERASURE,), email="customer-1@example.com",
                         customer_number=None, policy_number=None)
        lookup = run_lookup(case, actor=staff, now=NOW)
        confirm_match(lookup, actor=staff, now=NOW)
        plan = build_erasure_plan(case, lookup, actor=staff, now=NOW, today=TODAY)
        db.session.commit()
        items = {(i.collection, tuple(i.primary_key.values())): i for i in plan.items
                 if not i.is_task and i.source == FIDES_KEY}
        # Shared records are never erased on the plan's own say: they wait for a person.
        for key in [("address", (1,)), ("address", (2,)), ("product", (1,)), ("service_request", ("ser_aaa-aaa",))]:
            assert items[key].shared and items[key].shared_reason, key
            assert items[key].undecided, key

        # What another customer reaches, as PostgreSQL writes it out, before anything happens.
        theirs = {
            "address 1 (customer 2's order and card)": "SELECT t::text FROM address t WHERE id = 1",
            "address 2 (customer 2's home)": "SELECT t::text FROM address t WHERE id = 2",
            "product 1 (in customer 2's order)": "SELECT t::text FROM product t WHERE id = 1",
        }
        before_rows = {name: row_text(url, sql) for name, sql in theirs.items()}
        before = table_rows(url)
        service_request = row_text(url, "SELECT t::text FROM service_request t WHERE id = 'ser_aaa-aaa'")

        _decide_as_a_privacy_manager(plan, manager)
        approve_plan(plan, actor=manager, now=NOW)
        db.session.commit()
        failed = execute_plan(plan, actor=staff, now=NOW, today=TODAY)
        db.session.commit()
        assert failed == {}
        assert plan.status is ErasurePlanStatus.EXECUTED

        after = table_rows(url)
        assert {name: row_text(url, sql) for name, sql in theirs.items()} == before_rows
        # Exactly customer 1's own records are gone; every other row is as it was, byte for byte.
        removed = {t: before[t] - after[t] for t in before if before[t] - after[t]}
        added = {t: after[t] - before[t] for t in after if after[t] - before[t]}
        assert {t: sorted(rows) for t, rows in removed.items()} == {
            "customer": ["(1,customer-1@example.com,\"John Customer\",\"2020-04-01 11:47:42\",1)"],
            "login": sorted(f"({n},1,\"2021-01-0{n} 01:00:00\")" for n in range(1, 7)),
            "order_item": ["(ord_aaa-aaa,1,1,1)", "(ord_ccc-ccc,1,1,1)", "(ord_ccc-ccc,2,2,1)", "(ord_ddd-ddd,1,1,1)"],
            "orders": ["(ord_aaa-aaa,1,2,pay_aaa-aaa)", "(ord_ccc-ccc,1,1,pay_aaa-aaa)", "(ord_ddd-ddd,1,1,pay_bbb-bbb)"],
            "payment_card": ["(pay_aaa-aaa,\"Example Card 1\",123456789,321,t,1,1)"],
            "service_request": [service_request],
            "visit": ["(customer-1@example.com,\"2021-01-06 01:00:00\")"],
        }
        # The request employee 1 handled stays, without the subject's e-mail address (their own field).
        assert {t: sorted(rows) for t, rows in added.items()} == {
            "service_request": ["(ser_aaa-aaa,,customer-1-alt@example.com,2021-01-01,2021-01-03,1)"]}
        outcomes = {key: i.outcome for key, i in items.items()}
        assert outcomes[("address", (1,))] is ErasureOutcome.KEPT
        assert outcomes[("service_request", ("ser_aaa-aaa",))] is ErasureOutcome.ANONYMISED
        assert outcomes[("customer", (1,))] is ErasureOutcome.DELETED


def test_the_access_answer_reads_every_record_again_by_its_database_key(ctx, example_url, datamap_dir, harmony,
                                                                          monkeypatch):
    """Art. 15 for a plain Fides dataset: records named by a key the database gave (a timestamp among it)
    are read again, none missing."""
    from dsr.fulfilment.access import compile_access
    from dsr.fulfilment.lookup_ops import confirm_match

    monkeypatch.setitem(ctx.config, "DSR_DATAMAP_DIR", str(datamap_dir))
    monkeypatch.setitem(ctx.config, FIDES_URL_VARIABLE, example_url)
    monkeypatch.setitem(ctx.config, "DEMO_SYSTEMS_URL", harmony)
    staff = make_user(Role.STAFF)
    case = make_case(actor=staff, email="customer-1@example.com", customer_number=None, policy_number=None)
    lookup = run_lookup(case, actor=staff, now=NOW)
    confirm_match(lookup, actor=staff, now=NOW)
    content = compile_access(case, lookup, language="en")
    collections = {c.collection: c for c in content.collections if c.source == FIDES_KEY}
    assert {name: (len(c.records), c.missing) for name, c in collections.items()} == {
        "address": (2, 0), "customer": (1, 0), "login": (6, 0), "orders": (3, 0), "order_item": (4, 0),
        "payment_card": (1, 0), "product": (2, 0), "service_request": (1, 0), "visit": (1, 0)}
    visit = collections["visit"].records[0]
    assert {v.field: v.value for v in visit.values}["email"] == "customer-1@example.com"
