"""A lookup keeps what it has found on disk, not in memory (issue 15, item 4).

The shop of :mod:`tests.integration.shared_support` with Anna holding N more orders, each shipped to an
address of its own (so the search follows N references into a second collection, and the sharing check
looks at all of them). The Python objects alive while the search runs are counted (``gc``) after every
batch of records it stores: for ten times the records they must not grow with them. Counted, not timed.
"""

from __future__ import annotations

import gc
import os

import sqlalchemy as sa

from dsr.datamap import found as found_module
from dsr.datamap.lookup import find_everywhere, readonly_engines, search_everywhere
from dsr.datamap.sources import load_sources
from tests.integration.shared_support import SHOP_DATASET, shop_database, write_dataset


def _shop(tmp_path, orders: int):
    """The shop with ``orders`` more orders of Anna's, each to a new address; its sources and engines."""
    write_dataset(tmp_path / "datamap", SHOP_DATASET, "shop")
    with shop_database("sqlite", tmp_path) as url:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO address VALUES (:id, 'Straat', 'Utrecht')"),
                         [{"id": 1000 + i} for i in range(orders)])
            conn.execute(sa.text("INSERT INTO orders VALUES (:id, 1, :address)"),
                         [{"id": f"b-{i}", "address": 1000 + i} for i in range(orders)])
        engine.dispose()
        config = {"DSR_DATAMAP_DIR": str(tmp_path / "datamap"), "DSR_SOURCE_SHOP_URL": url}
        sources = {"shop": load_sources(config)["shop"]}
        return sources, readonly_engines(sources.values(), config)


def _peak_objects(tmp_path, orders: int, monkeypatch) -> tuple[int, int]:
    """(records found, most Python objects alive above the start while the search stored them)."""
    sources, engines = _shop(tmp_path / str(orders), orders)
    counts: list[int] = []
    add_many = found_module.FoundStore.add_many

    def counting_add_many(self, *args, **kwargs):
        new = add_many(self, *args, **kwargs)
        counts.append(len(gc.get_objects()))  # after each batch of records stored
        return new

    monkeypatch.setattr(found_module.FoundStore, "add_many", counting_add_many)
    gc.collect()
    start = len(gc.get_objects())
    with found_module.FoundStore() as store:
        search_everywhere(store, sources, {"email": "anna@example.com"}, engines, slim=True)
        gc.collect()
        counts.append(len(gc.get_objects()))
        found = sum(1 for _r in store.records("shop"))
    monkeypatch.undo()
    for engine in engines.values():
        engine.dispose()
    return found, max(counts) - start


def test_the_found_set_is_not_held_in_memory(tmp_path, monkeypatch):
    small_found, small_objects = _peak_objects(tmp_path, 1_000, monkeypatch)
    big_found, big_objects = _peak_objects(tmp_path, 10_000, monkeypatch)
    assert (small_found, big_found) == (11 + 2 * 1_000, 11 + 2 * 10_000)
    # Held in memory, 18,000 more records were at least 18,000 more objects (a FoundRecord each; its dicts
    # of plain values are not tracked by gc); what grows now is bounded (about 1,000: the batch being
    # stored, the driver's statement caches), not the records.
    assert big_objects - small_objects < 5_000, (small_objects, big_objects)


def _scratch_files() -> set[str]:
    """SQLite's temporary files (``etilqs_…``) this process has open (Linux)."""
    links = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            links.add(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            continue  # the descriptor listdir itself used
    return {link for link in links if "etilqs_" in link}


def test_the_scratch_store_is_a_file_nobody_else_sees(tmp_path, monkeypatch):
    """The store spills to a file that SQLite unlinks as it opens it: no other process can see it, nothing
    is left behind by a lookup that dies, and it is gone when the store is closed."""
    monkeypatch.setattr(found_module.FoundStore, "cache_kib", 64)  # so that 1,200 records spill to disk
    sources, engines = _shop(tmp_path / "shop", 600)
    before = _scratch_files()
    with found_module.FoundStore() as store:
        search_everywhere(store, sources, {"email": "anna@example.com"}, engines, slim=True)
        assert sum(1 for _r in store.records("shop")) == 11 + 1_200
        files = _scratch_files() - before
        assert len(files) == 1 and next(iter(files)).endswith(" (deleted)"), files
        assert not os.path.exists(next(iter(files)).removesuffix(" (deleted)"))
    assert _scratch_files() - before == set()
    found = find_everywhere(sources, {"email": "anna@example.com"}, engines)["shop"]
    assert len(found) == 11 + 1_200
    for engine in engines.values():
        engine.dispose()


def test_the_lookups_summary_counted_by_the_store_is_the_one_its_records_give(tmp_path):
    """The lookup's summary (per collection: how many records, the categories of the fields they held) is
    counted by the store (:meth:`FoundStore.census`) instead of read back record by record: the same."""
    from dsr.datamap.found import FoundStore
    from dsr.fulfilment.lookup_ops import _categories, _summary

    sources, engines = _shop(tmp_path, 300)
    with FoundStore() as store:
        search_everywhere(store, sources, {"email": "anna@example.com"}, engines, slim=True)
        by_records: dict = {}
        for key in store.sources:
            per = by_records.setdefault(key, {})
            for rec in store.records(key):
                entry = per.setdefault(rec.collection, {"count": 0, "categories": set()})
                entry["count"] += 1
                entry["categories"].update(_categories(rec.categories, rec.held))
        expected = {key: {name: {"count": e["count"], "categories": sorted(e["categories"])}
                          for name, e in per.items()} for key, per in by_records.items()}
        summary = _summary(store)
    assert summary == expected and list(summary["shop"]) == list(expected["shop"])
    assert sum(c["count"] for c in summary["shop"].values()) > 300 and len(summary["shop"]) > 1
    for engine in engines.values():
        engine.dispose()


def test_a_search_by_values_passes_on_each_new_value_once_however_often_it_repeats(monkeypatch):
    """:meth:`FoundStore.fresh` remembers a bounded number of the values it has seen in the call (most values
    repeat: a policy's id in each of its payments) and asks the store about the others: each value not searched
    by before comes out once, in its first order, also across the bound; a later call gives none of them."""
    monkeypatch.setattr(found_module, "_RECENT", 7)
    values = [n % 13 for n in range(2_000)] + [None, "13", 13.5, ("a", 1), 12, 1_000 + 2]
    with found_module.FoundStore() as store:
        first = list(store.fresh("shop", "orders", "customer_id", iter(values)))
        assert first == [*range(13), "13", 13.5, ("a", 1), 1002]
        assert list(store.fresh("shop", "orders", "customer_id", iter(values))) == []
        assert list(store.fresh("shop", "orders", "address_id", [3, 3, 4])) == [3, 4]  # another field
        assert store.searched_by("shop", "orders", "customer_id", [0, 12, "12", 13, "13"]) == {"0", "12", "'13'"}
