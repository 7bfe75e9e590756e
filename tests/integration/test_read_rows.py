"""``dsr.extensions.read``: a SELECT of plain columns run on the session's connection, past the ORM's layers
(issue 15, item 3), gives what ``db.session.execute`` gives, changes not yet flushed included."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from dsr.cases.deadlines import working_calendar
from dsr.cases.models import DeclaredHoliday
from dsr.extensions import db, read

DAYS = DeclaredHoliday.__table__


def test_read_gives_the_rows_the_session_gives(ctx):
    db.session.add(DeclaredHoliday(day=date(2031, 5, 6), name="Stored"))
    db.session.commit()
    statement = sa.select(DAYS.c.day, DAYS.c.name).where(DAYS.c.name == sa.bindparam("name"))
    assert list(read(statement, {"name": "Stored"})) == list(db.session.execute(statement, {"name": "Stored"}))
    assert [tuple(row) for row in read(statement, {"name": "Stored"})] == [(date(2031, 5, 6), "Stored")]


def test_read_flushes_what_the_session_holds_first(ctx):
    """A day added and not yet flushed is read, as ``db.session.execute`` would have flushed it first: the
    calendar of a request that declares a day sees it."""
    db.session.add(DeclaredHoliday(day=date(2031, 5, 7), name="Pending"))
    assert [tuple(row) for row in read(sa.select(DAYS.c.day).where(DAYS.c.name == "Pending"))] == [
        (date(2031, 5, 7),)]
    assert not working_calendar().is_working_day(date(2031, 5, 7))
    db.session.rollback()
    assert list(read(sa.select(DAYS.c.day).where(DAYS.c.name == "Pending"))) == []
