"""The per-process caches of reports (dsr.reports.versions.Cache): bounded, oldest dropped first, and safe
when the threads of one process (the embedded server, a threaded worker) use one at once."""

from __future__ import annotations

import sys
import threading
import time

from dsr.reports.versions import Cache


def test_a_cache_keeps_a_value_per_key_and_drops_the_oldest_first():
    cache, computed = Cache(2), []

    def value(key):
        computed.append(key)
        return f"value of {key}"

    assert cache.get("a", lambda: value("a")) == "value of a"
    assert cache.get("a", lambda: value("a")) == "value of a" and computed == ["a"]
    cache.get("b", lambda: value("b"))
    cache.get("c", lambda: value("c"))  # "a" goes
    assert list(cache.values) == ["b", "c"]
    cache.get("a", lambda: value("a"))
    assert computed == ["a", "b", "c", "a"] and list(cache.values) == ["c", "a"]
    cache.clear()
    assert cache.values == {}


def test_threads_sharing_a_cache_get_their_own_keys_values_and_it_stays_bounded():
    cache, errors = Cache(3), []

    def compute(key: int) -> int:
        time.sleep(0)  # a computation gives the other threads their turn, as a database read does
        return key * 10

    def work(n: int) -> None:
        try:
            for i in range(2000):
                key = (n + i) % 7
                assert cache.get(key, lambda key=key: compute(key)) == key * 10
                assert len(cache.values) <= 3
        except Exception as exc:  # noqa: BLE001 - reported below, from the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can, to meet the races
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
