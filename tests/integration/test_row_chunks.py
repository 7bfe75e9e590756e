"""The records of a collection read again by their keys a chunk at a time (dsr.fulfilment.access.row_chunks):
on SQLite a chunk of whole-number keys is bound as one JSON list, any other key through the expanding IN
(issue 15, item 4). Both give the same rows, in the same order, with their values typed by the column."""

from __future__ import annotations

import random
import sqlite3
from datetime import date
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from dsr.datamap.lookup import open_readonly
from dsr.fulfilment import access

NAMES = ("id", "paid_on", "note")


@pytest.fixture
def engine(tmp_path):
    path = tmp_path / "source.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE payments (id INTEGER PRIMARY KEY, paid_on DATE, note TEXT)")
    db.executemany("INSERT INTO payments VALUES (?, ?, ?)",
                   [(n, f"2026-{n % 12 + 1:02d}-{n % 28 + 1:02d}", f"note, {n}" if n % 3 else None)
                    for n in range(1, 1301)])
    db.commit()
    db.close()
    engine = open_readonly(f"sqlite:///{path}")
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    engine.statements = statements
    yield engine
    engine.dispose()


COLL = SimpleNamespace(name="payments", fields=[SimpleNamespace(name=n) for n in NAMES], primary_key=["id"])


def read(engine, keys) -> list[list[tuple]]:
    return [[tuple(row) for row in chunk] for chunk in access.row_chunks(None, COLL, iter(keys), engine)]


def test_whole_number_keys_are_bound_as_one_json_list_and_give_what_the_expanding_in_gives(engine, monkeypatch):
    keys = [{"id": n} for n in random.Random(4).sample(range(1, 1400), 1250)]  # some absent, out of order
    keys += keys[:30]  # and some asked twice
    listed = read(engine, keys)
    assert sum("json_each" in s for s in engine.statements) == 3  # 1,280 keys: chunks of 500, 500 and 280
    monkeypatch.setattr(access, "_json_listed", lambda *args: None)
    engine.statements.clear()
    assert read(engine, keys) == listed
    assert not any("json_each" in s for s in engine.statements)
    rows = [row for chunk in listed for row in chunk]
    assert rows[0] == (rows[0][0], date(2026, rows[0][0] % 12 + 1, rows[0][0] % 28 + 1), rows[0][2])
    assert [len(chunk) for chunk in listed] == [len({k["id"] for k in keys[at:at + 500]} - set(range(1301, 1400)))
                                                for at in range(0, len(keys), 500)]
    assert all([r[0] for r in chunk] == sorted(r[0] for r in chunk) for chunk in listed)


def test_a_chunk_with_a_key_of_another_kind_goes_through_the_expanding_in(engine):
    # A key stored as text in JSON is made the column's type (5); a bool is bound as it is, as before.
    chunks = read(engine, [{"id": "5"}, {"id": 7}] + [{"id": True}] + [{"id": n} for n in range(600, 1100)])
    assert [r[0] for r in chunks[0]] == [1, 5, 7] + list(range(600, 1097))
    assert [r[0] for r in chunks[1]] == list(range(1097, 1100))
    assert ["json_each" in s for s in engine.statements if s.startswith("SELECT payments")] == [False, True]


def test_an_export_reads_a_sqlite_source_with_a_small_page_cache_and_the_same_rows(engine, tmp_path):
    """The export's engines keep SQLite's page cache at ``SOURCE_PAGE_CACHE_KIB`` (its 2 MB default held pages
    that one pass over the rows does not read again: issue 15, item 4); still read-only; the same rows."""
    from dsr.exports.content import SOURCE_PAGE_CACHE_KIB

    small = open_readonly(f"sqlite:///{tmp_path / 'source.sqlite3'}", page_cache_kib=SOURCE_PAGE_CACHE_KIB)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -2000  # SQLite's default, elsewhere
        with small.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -SOURCE_PAGE_CACHE_KIB
            assert conn.exec_driver_sql("PRAGMA query_only").scalar() == 1
        keys = [{"id": n} for n in random.Random(8).sample(range(1, 1301), 900)]
        assert read(small, keys) == read(engine, keys)
    finally:
        small.dispose()
