"""Array parameters sent as their text literal (dsr.extensions.ArrayParameter): the server reads the same
arrays as from psycopg's own dumping of the lists, and an audit payload written by a creation's statement
keeps its JSON text byte for byte (issue 15, item 3)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from dsr.audit.models import AuditPayload
from dsr.audit.operations import Entry, record, record_all
from dsr.extensions import ArrayParameter, _array_literal, db
from tests.conftest import NOW

AWKWARD = ["", "NULL", "null", None, 'a "quoted" word', "back\\slash\\", "{braces}", "a,comma", " spaces ",
           "tab\tand\nnewline", "Zoë ünïcode ☃", '{"json": ["text", 1, null], "x": "\\u00eb"}', "\\\"", "'"]


def test_a_literal_quotes_and_escapes_every_element():
    assert _array_literal(None) is None
    assert _array_literal([]) == "{}"
    assert _array_literal(['a "b"', "c\\d", None, "NULL", 7]) == '{"a \\"b\\"","c\\\\d",NULL,"NULL","7"}'


def _postgresql_only(app) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("PostgreSQL's arrays")


@pytest.mark.parametrize(("item_type", "values"), [
    (sa.String, AWKWARD),
    (sa.Integer, [1, None, -2, 2**31 - 1]),
    (sa.DateTime(timezone=True), [NOW, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), None]),
    (sa.Date, [date(2026, 12, 7), None]),
], ids=["strings", "integers", "timestamps", "dates"])
def test_the_server_reads_the_arrays_psycopg_would_send(ctx, item_type, values):
    _postgresql_only(ctx)
    read = {}
    for name, kind in (("psycopg", ARRAY), ("literal", ArrayParameter)):
        parameter = sa.bindparam("values", type_=kind(item_type))
        statement = sa.select(parameter, sa.func.array_to_string(parameter, "|", "<null>"))
        read[name] = tuple(db.session.execute(statement, {"values": values}).one())
    assert read["literal"] == read["psycopg"]
    assert read["literal"][0] == values
    db.session.rollback()


def test_a_payload_written_with_the_chains_statement_has_the_text_the_json_column_writes(ctx):
    """``record`` writes its payload through the ORM's JSON column; ``record_all`` on PostgreSQL as the array
    literals of its one statement: the stored JSON text is the same, byte for byte."""
    details = {"note": AWKWARD, "nested": {"ë": "ü", "n": None, "t": True, "f": 1.5}}
    record("test.one", actor=None, now=NOW, after=details, before={"x": "\"\\"})
    record_all([Entry("test.all", after=details, before={"x": "\"\\"})], actor=None, now=NOW)
    rows = db.session.execute(sa.select(sa.cast(AuditPayload.before, sa.Text), sa.cast(AuditPayload.after, sa.Text))
                              .order_by(AuditPayload.event_id)).all()
    assert len(rows) == 2 and rows[0] == rows[1]
    db.session.rollback()


def test_arrays_of_different_items_are_compiled_apart():
    """The item type is part of the type's cache key: a statement with an array of integers is not given the
    compiled form of the same statement with an array of strings."""
    from sqlalchemy.dialects import postgresql

    dialect = postgresql.psycopg.dialect()
    rendered = {str(sa.select(sa.bindparam("v", type_=ArrayParameter(item))).compile(dialect=dialect))
                for item in (sa.String, sa.Integer, sa.DateTime(timezone=True))}
    assert len(rendered) == 3
    assert ArrayParameter(sa.String)._static_cache_key != ArrayParameter(sa.Integer)._static_cache_key
