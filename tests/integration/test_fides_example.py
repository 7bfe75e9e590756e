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
