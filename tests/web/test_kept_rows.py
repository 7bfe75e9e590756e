"""The queue's rows kept per process (dsr.cases.queue_page.QueueTable, issue 15, item 3): a page made with kept
rows is the page made afresh after every change a row shows (the subject alone, an open task, an unassignment,
a declared day, the next day), only the changed rows are made again, and none is kept for another day, another
language or a reader who may not tick cases. The cases and the frozen clock are those of
tests/web/test_queue_and_case.py.
"""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
import time_machine

from dsr.auth.models import User
from dsr.cases import queue_page
from dsr.cases.lifecycle import assign
from dsr.cases.models import Case, DeclaredHoliday
from dsr.domain.enums import Role
from dsr.extensions import db
from dsr.tasks.models import CaseTask
from tests.conftest import NOW, TODAY
from tests.factories import login, make_user
from tests.web import test_queue_and_case as base

app = base.app
queue = base.queue
_frozen_clock = base._frozen_clock

URLS = ("/cases?state=all", "/cases", "/cases?sort=received&dir=desc&state=all", "/cases?flag=open_tasks")


def _pages(client) -> list[str]:
    return [re.sub(r'value="[^"]{40,}"', 'value="TOKEN"', client.get(url).get_data(as_text=True)) for url in URLS]


def _check(app, client, monkeypatch) -> list[str]:
    """The pages with kept rows, asserted equal to the pages made afresh (rows and fragments made each time)."""
    kept = _pages(client)
    monkeypatch.setitem(app.config, "KEEP_FRAGMENTS", False)
    try:
        assert kept == _pages(client)
    finally:
        monkeypatch.setitem(app.config, "KEEP_FRAGMENTS", True)
    return kept


def _case(reference: str) -> Case:
    return db.session.execute(sa.select(Case).where(Case.reference == reference)).scalar_one()


def test_kept_rows_are_the_rows_made_afresh_after_every_change(app, client, queue, monkeypatch):
    refs = queue["refs"]
    with app.app_context():
        manager = make_user(Role.PRIVACY_MANAGER)
        manager_id = manager.id
    queue_page._ROWS.clear()
    first = _check(app, client, monkeypatch)
    made = len(queue_page._ROWS)
    assert made == 7  # each case's row once: the other lists found them kept
    assert _check(app, client, monkeypatch) == first and len(queue_page._ROWS) == made

    with app.app_context():
        _case(refs["G"]).subject.name = "Grace <b>Changed</b> & Co"  # the case's own row stays as it was
        db.session.commit()
    changed = _check(app, client, monkeypatch)
    assert changed != first and "Grace &lt;b&gt;Changed&lt;/b&gt; &amp; Co" in changed[0]
    assert len(queue_page._ROWS) == made + 1  # that row made again, the others kept

    with app.app_context():  # an overdue open task (set directly: a new task cannot be due in the past)
        db.session.add(CaseTask(case_id=_case(refs["D"]).id, title="Call <them> back", due_on=TODAY - timedelta(days=2),
                                created_at=NOW))
        db.session.commit()
    tasked = _check(app, client, monkeypatch)
    assert "1 open task" in tasked[0] and "task overdue" in tasked[0] and tasked[3] != changed[3]
    assert len(queue_page._ROWS) == made + 2

    with app.app_context():  # unassigned since today (its last assignment): not yet too long
        manager = db.session.get(User, manager_id)
        assign(_case(refs["A"]), None, actor=manager, now=NOW)
        db.session.commit()
    _check(app, client, monkeypatch)
    assert len(queue_page._ROWS) == made + 3

    with app.app_context():  # a declared day moves every open case's deadline after it
        db.session.add(DeclaredHoliday(day=TODAY + timedelta(days=1), name="Declared for the test"))
        db.session.commit()
    declared = _check(app, client, monkeypatch)
    assert declared != tasked

    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        later = _check(app, client, monkeypatch)
        assert later != declared
        assert len(queue_page._ROWS) == 7  # the rows of the day before dropped


def test_a_row_is_kept_per_language_and_per_whether_the_reader_may_tick_cases(app, client, queue, monkeypatch):
    with app.app_context():
        make_user(Role.PRIVACY_MANAGER)
    queue_page._ROWS.clear()
    staff = _check(app, client, monkeypatch)
    manager = app.test_client()
    login(manager, Role.PRIVACY_MANAGER)
    ticked = _check(app, manager, monkeypatch)
    assert 'type="checkbox" form="bulk"' in ticked[0] and 'type="checkbox" form="bulk"' not in staff[0]
    with app.app_context():
        db.session.execute(sa.update(User).values(locale="nl"))
        db.session.commit()
    dutch = _check(app, client, monkeypatch)
    assert dutch != staff and len(queue_page._ROWS) == 3 * 7


def test_the_kept_rows_are_bounded(app, client, queue, monkeypatch):
    monkeypatch.setattr(queue_page, "MOST_ROWS", 5)
    queue_page._ROWS.clear()
    _check(app, client, monkeypatch)
    assert len(queue_page._ROWS) <= 5
