"""Nobody else's data (issue 13, item 2): a lookup says which found records another person also reaches.

A small shop (``shared_support.SHOP_DATASET``, a plain Fides dataset) on SQLite and PostgreSQL: Anna's order
ships to Bram's home, Cor's order ships to Anna's home, Anna and Bram hold a joint policy, and one of Anna's
support tickets copies Cor in. What is expected is written out from those rows, not computed by the code
under test.
"""

from __future__ import annotations

import pytest

from dsr.datamap.lookup import find_everywhere, readonly_engines
from dsr.datamap.sources import load_sources
from tests.conftest import BACKENDS
from tests.integration.shared_support import SHOP_DATASET, shop_database, write_dataset


@pytest.fixture(params=BACKENDS)
def shop(request, tmp_path):
    write_dataset(tmp_path / "datamap", SHOP_DATASET, "shop")
    with shop_database(request.param, tmp_path) as url:
        config = {"DSR_DATAMAP_DIR": str(tmp_path / "datamap"), "DSR_SOURCE_SHOP_URL": url}
        sources = {"shop": load_sources(config)["shop"]}
        engines = readonly_engines(sources.values(), config)
        yield sources, engines
        for engine in engines.values():
            engine.dispose()


def _found(shop, email):
    sources, engines = shop
    records = find_everywhere(sources, {"email": email}, engines)["shop"]
    return {(r.collection, tuple(r.primary_key.values())): r for r in records}


def test_anna_s_records_are_found_with_keys_read_from_the_database(shop):
    found = _found(shop, "ANNA@example.com")
    assert set(found) == {
        ("address", (1,)), ("address", (2,)), ("customer", (1,)), ("orders", ("o-1",)), ("orders", ("o-2",)),
        ("policy_holder", (10, 1)), ("policy_holder", (11, 1)), ("policy", (10,)), ("policy", (11,)),
        ("ticket", (100,)), ("ticket", (101,))}
    # policy_holder declares no key: the database's (policy_id, customer_id) names each row.
    assert found[("policy_holder", (10, 1))].primary_key == {"policy_id": 10, "customer_id": 1}


def test_records_another_person_reaches_are_shared_with_the_reason(shop):
    found = _found(shop, "anna@example.com")
    shared = {key for key, r in found.items() if r.shared}
    assert shared == {
        ("address", (1,)),  # Anna's home, where Cor's order o-3 is shipped
        ("address", (2,)),  # Bram's home, where Anna's order o-1 went
        ("policy", (10,)),  # the joint policy: Bram is a policyholder too
        ("ticket", (100,)),  # copies Cor in
    }
    assert found[("address", (1,))].shared_reason == (
        "Also reached from records that are not this person's: orders (id=o-3) is linked to it "
        "(orders.shipping_address_id = id).")
    assert found[("address", (2,))].shared_reason == (
        "Also reached from records that are not this person's: customer (id=2) is linked to it "
        "(customer.address_id = id).")
    assert "policy_holder (policy_id=10, customer_id=2) is linked to it (policy_holder.policy_id = id)" in found[("policy", (10,))].shared_reason
    assert found[("ticket", (100,))].shared_reason == (
        "Also reached from records that are not this person's: its cc_email is also in customer (id=3).")
    # Anna's own records that nobody else reaches stay hers alone.
    for key in [("customer", (1,)), ("orders", ("o-1",)), ("orders", ("o-2",)), ("policy", (11,)), ("ticket", (101,)),
                ("policy_holder", (10, 1))]:
        assert not found[key].shared and found[key].shared_reason is None, key


def test_the_other_side_sees_the_same_sharing(shop):
    bram = _found(shop, "bram@example.com")
    assert {k for k, r in bram.items() if r.shared} == {("address", (2,)), ("policy", (10,))}
    assert "orders (id=o-1) is linked to it (orders.shipping_address_id = id)" in bram[("address", (2,))].shared_reason
    cor = _found(shop, "cor@example.com")
    # Cor's e-mail finds Anna's ticket too; Anna's identity reaches it, so it is shared for Cor as well.
    assert cor[("ticket", (100,))].shared
    assert "its email is also in customer (id=1)" in cor[("ticket", (100,))].shared_reason
    assert cor[("address", (1,))].shared  # Anna's home, reached through Cor's order o-3


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_reference_both_ways_is_not_read_again_to_find_others(backend, tmp_path):
    """A reference without a direction is followed both ways by the search itself: every order of a customer
    the search found was read by the customer's id and kept as the subject's. The check for other people's
    references then has nothing to find there and does not read those rows again (issue 15, item 4: a policy's
    hundred thousand payments were read twice); what it says is the same."""
    import copy

    import sqlalchemy as sa

    dataset = copy.deepcopy(SHOP_DATASET)
    orders = next(c for c in dataset["collections"] if c["name"] == "orders")
    orders["fields"][1] = {"name": "customer_id", "data_categories": ["system.operations"],
                           "fides_meta": {"references": [{"dataset": "shop", "field": "customer.id"}]}}
    write_dataset(tmp_path / "datamap", dataset, "shop")
    with shop_database(backend, tmp_path) as url:
        config = {"DSR_DATAMAP_DIR": str(tmp_path / "datamap"), "DSR_SOURCE_SHOP_URL": url}
        sources = {"shop": load_sources(config)["shop"]}
        engines = readonly_engines(sources.values(), config)
        statements: list[str] = []

        def capture(_conn, _cursor, statement, *_args):
            statements.append(" ".join(statement.split()))

        sa.event.listen(engines["shop"], "before_cursor_execute", capture)
        try:
            records = find_everywhere(sources, {"email": "anna@example.com"}, engines)["shop"]
        finally:
            sa.event.remove(engines["shop"], "before_cursor_execute", capture)
            for engine in engines.values():
                engine.dispose()
    found = {(r.collection, tuple(r.primary_key.values())): r for r in records}
    assert {("orders", ("o-1",)), ("orders", ("o-2",)), ("customer", (1,))} <= set(found)
    assert not found[("customer", (1,))].shared  # only Anna's orders refer to her
    assert {key for key, r in found.items() if r.shared} == {
        ("address", (1,)), ("address", (2,)), ("policy", (10,)), ("ticket", (100,))}
    by_customer = [s for s in statements if "FROM orders" in s and "orders.customer_id IN" in s]
    assert len(by_customer) == 1, by_customer  # the search's own, not a second read by the check
