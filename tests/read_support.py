"""Every ``dsr.extensions.read`` compared with its plan (issue 15, item 3): a test switch.

:func:`compare_reads` puts :func:`read_both_ways` in the place of ``read`` in every module of dsr that imported
it. On PostgreSQL each statement is run as before (``Connection.execute``, its cursor events fired, so
statement counts stay as they are) and again by its :class:`dsr.extensions._Plan` (the one ``read`` keeps,
or one made from this execution) without the events; the rows must be the same: values, their Python types
(also inside lists and dicts, by ``repr``), column names, and every key of the result (names and column
objects) giving the same value or the same error. The caller gets the plan's result, so the page or answer
is made from it. :data:`TALLY` counts the statements compared and those no plan runs."""

from __future__ import annotations

import importlib
from collections import Counter

import sqlalchemy as sa

from dsr import extensions
from dsr.extensions import _PLANS, _Plan, db, plan_of

TALLY: Counter = Counter()
ORIGINAL = extensions.read


def read_both_ways(statement, params=None):
    session = db.session
    if session.new or session.dirty or session.deleted:
        return ORIGINAL(statement, params)
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return ORIGINAL(statement, params)
    before = connection.execute(statement, params)
    plan = _PLANS.get(statement)
    if not (plan.__class__ is _Plan and plan.dialect is connection.dialect and plan.sql is not None):
        plan = plan_of(statement, connection, params, before)
    if plan.sql is None:
        TALLY["not planned"] += 1
        TALLY[f"not planned: {str(statement).split()[0:4]}"] += 1
        return before
    rows = plan.fetch(connection, params, events=False)
    assert_same_rows(before.all(), plan.result(rows).all(), statement)
    TALLY["compared"] += 1
    return plan.result(rows)


def assert_same_rows(expected: list[sa.Row], got: list[sa.Row], statement=None) -> None:
    """The same rows, values, types, names and keys. With ``statement``, the keys compared are the names and
    that statement's own columns: a compiled statement taken from the cache where an equal statement object put
    it answers to that object's columns too (SQLAlchemy's ``_adapt_to_context``), so which of two equal
    statements was compiled first, a matter of the cache's history, adds keys no caller of this one holds."""
    assert len(got) == len(expected)
    for want, row in zip(expected, got, strict=True):
        assert tuple(row) == tuple(want)
        assert [type(v) for v in row] == [type(v) for v in want]
        assert repr(tuple(row)) == repr(tuple(want))
        assert row._fields == want._fields and len(row) == len(want)
        assert _outcome(row._asdict) == _outcome(want._asdict) and list(row._mapping) == list(want._mapping)
        assert [_by_name(row, name) for name in row._fields] == [_by_name(want, name) for name in want._fields]
        assert row[1:] == want[1:] and row[-1] == want[-1]
        keys = list(want._parent._keymap)
        if statement is None:
            assert set(row._parent._keymap) == set(keys)
        else:
            names = {key for key in keys if isinstance(key, str)}
            assert {key for key in row._parent._keymap if isinstance(key, str)} == names
            keys = [*names, *statement.selected_columns]
        for key in keys:
            assert _by_key(row, key) == _by_key(want, key)


def _outcome(get, *args):
    try:
        return ("value", get(*args))
    except Exception as exc:  # noqa: BLE001  (a name two columns have: the same error both ways)
        return ("error", type(exc), str(exc))


def _by_name(row: sa.Row, name: str):
    return _outcome(getattr, row, name)


def _by_key(row: sa.Row, key):
    return _outcome(row._mapping.__getitem__, key)


# The modules of dsr that import ``read`` (tests/integration/test_read_plans.py holds the list complete).
MODULES = ("dsr.api.rows", "dsr.auth.operations", "dsr.auth.sessions", "dsr.cases.deadlines", "dsr.cases.history",
           "dsr.cases.page", "dsr.cases.saved_views", "dsr.cases.views", "dsr.fulfilment.redaction", "dsr.reports.data")


def compare_reads(monkeypatch) -> None:
    """``read`` replaced by :func:`read_both_ways` where dsr's modules imported it (``monkeypatch`` undoes it)."""
    for name in MODULES:
        module = importlib.import_module(name)
        assert module.read is ORIGINAL or module.read is read_both_ways, name
        monkeypatch.setattr(module, "read", read_both_ways)
