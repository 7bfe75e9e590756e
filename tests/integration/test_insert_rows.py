"""``dsr.extensions.insert_rows``: rows streamed into a table (by COPY on PostgreSQL, issue 15, item 4) are
stored as ``sa.insert`` stores them, every column's text the same, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from dsr.domain.enums import LookupStatus, Role
from dsr.extensions import db, insert_rows
from dsr.fulfilment.models import FoundRecord, Lookup
from tests.factories import make_case, make_user

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
TABLE = FoundRecord.__table__


@pytest.fixture
def staff(ctx):
    return make_user(Role.STAFF)


def _lookup_id(staff) -> int:
    case = make_case(actor=staff)
    lookup = Lookup(case_id=case.id, run_at=NOW, identities={}, summary={}, manual_tasks={},
                    status=LookupStatus.FOUND)
    db.session.add(lookup)
    db.session.flush()
    return lookup.id


def _rows(lookup_id: int) -> list[dict]:
    """References with what COPY's text format must escape and what the JSON columns' binding decides."""
    shared = [{"source": "crm", "collection": "contacts", "key": {"id": 7}, "why": "e-mail"}]
    odd = "tab\there, new\nline, back\\slash, \\N, carriage\rreturn, quote \" ' and é, 漢字, 🙂"
    return [
        {"lookup_id": lookup_id, "source": "harmony_policy_admin", "collection": "invoices",
         "primary_key": {"id": 812}, "categories": ["user.financial"], "matched_by": "customers.id",
         "record_date": date(2024, 2, 29), "shared": False, "shared_reason": None, "shared_with": None},
        {"lookup_id": lookup_id, "source": "s", "collection": "c", "primary_key": {"number": odd, "n": 1.5},
         "categories": [], "matched_by": odd, "record_date": None, "shared": True, "shared_reason": odd,
         "shared_with": shared},
        # None in a JSON column without none_as_null is JSON null; sa.null() is SQL NULL in any JSON column.
        {"lookup_id": lookup_id, "source": "s", "collection": "c", "primary_key": {"a": None, "b": [True]},
         "categories": None, "matched_by": "", "record_date": date(1970, 1, 1), "shared": True,
         "shared_reason": "", "shared_with": sa.JSON.NULL},
        {"lookup_id": lookup_id, "source": "s", "collection": "c", "primary_key": {},
         "categories": [], "matched_by": "email", "record_date": None, "shared": False,
         "shared_reason": None, "shared_with": sa.null()},
    ]


def _stored(lookup_id: int) -> list[tuple]:
    """Every column but the id as the database holds it: JSON as its stored text."""
    columns = [sa.cast(c, sa.Text) if isinstance(c.type, sa.JSON) else c for c in TABLE.c if c.name != "id"]
    return [tuple(row) for row in db.session.execute(
        sa.select(*columns).where(TABLE.c.lookup_id == lookup_id).order_by(TABLE.c.id))]


def _without_lookup(rows: list[tuple]) -> list[tuple]:
    return [row[1:] for row in rows]


def test_rows_are_stored_as_an_insert_stores_them(staff):
    by_insert, streamed = _lookup_id(staff), _lookup_id(staff)
    db.session.execute(sa.insert(TABLE), _rows(by_insert))
    insert_rows(TABLE, iter(_rows(streamed)), batch=3)
    expected = _stored(by_insert)
    assert _without_lookup(_stored(streamed)) == _without_lookup(expected)
    assert expected[0][3:5] == ('{"id": 812}', '["user.financial"]')  # json.dumps's text
    assert [row[4] for row in expected] == ['["user.financial"]', "[]", "null", "[]"]
    assert [row[9] for row in expected] == [None, expected[1][9], "null", None]
    # The ids follow the rows' order, as they do for an insert.
    ids = db.session.execute(sa.select(TABLE.c.id, TABLE.c.matched_by).where(TABLE.c.lookup_id == streamed)
                             .order_by(TABLE.c.id)).all()
    assert [matched_by for _, matched_by in ids] == [row["matched_by"] for row in _rows(streamed)]
    db.session.commit()
    assert _without_lookup(_stored(streamed)) == _without_lookup(expected)


def test_no_rows_write_nothing(staff):
    lookup_id = _lookup_id(staff)
    insert_rows(TABLE, iter([]))
    assert _stored(lookup_id) == []


def test_a_broken_constraint_is_sqlalchemys_integrity_error(staff):
    row = _rows(_lookup_id(staff))[0] | {"shared": True}  # shared without a reason
    with pytest.raises(sa.exc.IntegrityError):
        insert_rows(TABLE, [row])
    db.session.rollback()
