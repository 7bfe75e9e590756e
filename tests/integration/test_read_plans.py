"""``dsr.extensions.read`` by its plan on PostgreSQL (issue 15, item 3): a statement read again is sent by a
:class:`dsr.extensions._Plan` (its compiled SQL, parameters and result metadata kept from an earlier
execution) and must give what ``Connection.execute`` gives, row for row, type for type, key for key; what a
plan cannot do exactly runs as before. tests/read_support.py compares the two ways; the last test runs the
pages and the API that read most with every read compared."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
import time_machine

from dsr.auth.models import User
from dsr.auth.operations import issue_api_token
from dsr.cases.models import Case, DeclaredHoliday
from dsr.demo.loader import load_demo
from dsr.domain.enums import CaseState, Role
from dsr.extensions import _PLANS, _Plan, db, read
from dsr.reports.versions import forget
from dsr.tasks.models import CaseTask
from tests.conftest import NOW, PG_URL, TODAY
from tests.factories import login, make_case, make_user
from tests.read_support import MODULES, TALLY, assert_same_rows, compare_reads

CASES, TASKS, USERS, DAYS = Case.__table__, CaseTask.__table__, User.__table__, DeclaredHoliday.__table__
CHART_ID = re.compile(rb"chart-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
pg = pytest.mark.skipif(not PG_URL, reason="the plans are PostgreSQL's (DSR_TEST_DATABASE_URL is not set)")


@pytest.fixture
def pg_ctx(_apps):
    from tests.conftest import _wipe

    app = _apps("postgresql")
    with app.app_context():
        yield app
    _wipe(app)


def _cases_with_tasks() -> None:
    user = make_user(Role.PRIVACY_MANAGER)
    for n in range(3):
        case = make_case(actor=user, name=f"Subject {n}", email=f"s{n}@example.test", commit=False)
        db.session.flush()
        db.session.add(CaseTask(case_id=case.id, kind="plans_checked" if n else None, title=f"Task {n}",
                                params={"n": n, "names": ["a", None], "nested": {"x": 1.5}} if n else None,
                                due_on=date(2026, 12, n + 1) if n != 1 else None, assignee_id=user.id if n else None,
                                created_at=NOW))
    db.session.commit()


def _thrice(statement, params=None) -> list[sa.Result]:
    return [read(statement, params) for _ in range(3)]


@pg
def test_a_statement_read_a_third_time_runs_by_its_plan_with_the_same_rows(pg_ctx):
    """Enums, dates, timestamps, JSON (lists, dicts, floats, SQL NULL), NULLs of an outer join, labels, a
    literal bound in the statement: the plan's rows are ``Connection.execute``'s, and the result's methods
    the callers use give the same."""
    _cases_with_tasks()
    statement = (sa.select(CASES.c.id, CASES.c.state, CASES.c.received_on, CASES.c.created_at, TASKS.c.params,
                           TASKS.c.due_on, USERS.c.name.label("assignee"), TASKS.c.title)
                 .join(TASKS, TASKS.c.case_id == CASES.c.id).outerjoin(USERS, USERS.c.id == TASKS.c.assignee_id)
                 .where(CASES.c.state != CaseState.REFUSED, TASKS.c.title.like(sa.bindparam("titled")))
                 .order_by(CASES.c.id).limit(10))
    params = {"titled": "Task %"}
    first, second, third = _thrice(statement, params)
    assert type(first) is sa.CursorResult and type(second) is sa.CursorResult
    assert type(third) is sa.engine.IteratorResult and _PLANS[statement].sql is not None
    want = db.session.connection().execute(statement, params).all()
    got = third.all()
    assert len(got) == 3 and got[0].params is None and got[1].due_on is None and got[0].assignee is None
    assert got[2].params == {"n": 2, "names": ["a", None], "nested": {"x": 1.5}}
    assert type(got[0].state) is CaseState and got[0].created_at.tzinfo is UTC
    assert_same_rows(want, got)
    again = lambda: read(statement, params)  # noqa: E731
    reference = lambda: db.session.connection().execute(statement, params)  # noqa: E731
    assert type(again()) is sa.engine.IteratorResult
    assert again().first() == reference().first() and again().scalar() == reference().scalar()
    assert again().scalars().all() == reference().scalars().all()
    assert again().mappings().all() == reference().mappings().all()
    assert list(again()) == list(reference()) and again().keys() == reference().keys()
    assert [tuple(row) for row in again()] == [tuple(row) for row in reference()]
    with pytest.raises(sa.exc.MultipleResultsFound):
        again().one()


@pg
def test_the_statements_own_literals_and_bound_values_are_sent(pg_ctx):
    """Two statements that differ only in a literal share one compiled statement: each plan sends its own
    values; bound values go through their types' bind processors (an enum by its value, a UTC timestamp);
    a callable parameter is called on each execution."""
    _cases_with_tasks()
    by_name = {name: sa.select(CASES.c.id).join(TASKS, TASKS.c.case_id == CASES.c.id)
               .where(TASKS.c.title == name) for name in ("Task 0", "Task 2")}
    for _ in range(3):
        got = {name: read(statement).scalar() for name, statement in by_name.items()}
    assert all(_PLANS[statement].sql is not None for statement in by_name.values())
    assert got == {name: db.session.execute(statement).scalar() for name, statement in by_name.items()}
    assert got["Task 0"] != got["Task 2"]
    typed = sa.select(sa.func.count()).select_from(CASES).where(
        CASES.c.state == sa.bindparam("state"), CASES.c.created_at <= sa.bindparam("moment"))
    params = {"state": CaseState.RECEIVED, "moment": datetime(2026, 11, 26, 11, 0, tzinfo=UTC)}
    assert [result.scalar() for result in _thrice(typed, params)] == [3, 3, 3]
    limit = [1]
    called = sa.select(CASES.c.id).order_by(CASES.c.id).where(
        CASES.c.id >= sa.bindparam("low", callable_=lambda: limit[0]))
    _thrice(called)
    limit[0] = db.session.execute(sa.select(sa.func.max(CASES.c.id))).scalar()
    assert type(result := read(called)) is sa.engine.IteratorResult and result.all() == [(limit[0],)]


@pg
def test_what_a_plan_cannot_do_exactly_runs_as_before(pg_ctx):
    """An expanding IN, a literal-execute parameter, execution options, changes not yet flushed, and a
    listener on the statement-level events: ``Connection.execute`` (or the session's) runs them."""
    _cases_with_tasks()
    ids = db.session.execute(sa.select(CASES.c.id).order_by(CASES.c.id)).scalars().all()
    expanding = sa.select(CASES.c.id).where(CASES.c.id.in_(sa.bindparam("ids"))).order_by(CASES.c.id)
    literal = sa.select(CASES.c.id).order_by(CASES.c.id).limit(sa.bindparam("n", 2, literal_execute=True))
    optioned = sa.select(CASES.c.id).order_by(CASES.c.id).execution_options(stream_results=True)
    for statement, params, want in ((expanding, {"ids": ids[:2]}, ids[:2]), (literal, None, ids[:2]),
                                    (optioned, None, ids)):
        results = _thrice(statement, params)
        assert [type(r) for r in results] == [sa.CursorResult] * 3 and _PLANS[statement].sql is None
        assert [r.scalars().all() for r in results] == [want] * 3
    planned = sa.select(CASES.c.id).order_by(CASES.c.id)
    _thrice(planned)
    assert _PLANS[planned].sql is not None
    # Changes not yet flushed: the session runs the statement, flushing them first.
    days = sa.select(DAYS.c.name).where(DAYS.c.day == date(2031, 5, 7))
    assert [r.all() for r in _thrice(days)] == [[]] * 3 and _PLANS[days].sql is not None
    db.session.add(DeclaredHoliday(day=date(2031, 5, 7), name="Pending"))
    assert type(result := read(days)) is not sa.engine.IteratorResult and result.all() == [("Pending",)]
    db.session.rollback()
    # A listener on before_execute sees every statement as before.
    seen = []

    def listen(_conn, element, *_args):
        seen.append(element)

    sa.event.listen(db.engine, "before_execute", listen)
    try:
        assert type(result := read(planned)) is sa.CursorResult and result.scalars().all() == ids
    finally:
        sa.event.remove(db.engine, "before_execute", listen)
    assert seen == [planned]


@pg
def test_duplicate_names_give_the_same_rows_and_errors(pg_ctx):
    _cases_with_tasks()
    statement = (sa.select(CASES.c.id, TASKS.c.id, sa.literal_column("1").label("one"), TASKS.c.title)
                 .join(TASKS, TASKS.c.case_id == CASES.c.id).order_by(TASKS.c.id))
    *_, third = _thrice(statement)
    got = third.all()
    assert_same_rows(db.session.connection().execute(statement).all(), got)
    assert type(third) is sa.engine.IteratorResult and got[0]._fields == ("id", "id_1", "one", "title")


@pg
def test_the_cursor_events_and_the_database_errors_are_as_before(pg_ctx):
    """The statement counters of the tests and of bench/queue.py see the plan's statement (its SQL and
    parameters, as the database gets them); an error of the database arrives as SQLAlchemy's exception."""
    _cases_with_tasks()
    statement = sa.select(CASES.c.id).where(CASES.c.id > sa.bindparam("low")).order_by(CASES.c.id)
    _thrice(statement, {"low": 0})
    seen = []

    def capture(_conn, _cursor, sql, parameters, _context, _many):
        seen.append((sql, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", capture)
    try:
        assert type(read(statement, {"low": 0})) is sa.engine.IteratorResult
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", capture)
    assert seen == [(_PLANS[statement].sql, {"low": 0})]
    cast = sa.select(sa.cast(sa.bindparam("text", type_=sa.String), sa.Integer))
    assert [result.scalar() for result in _thrice(cast, {"text": "12"})] == [12, 12, 12]
    assert _PLANS[cast].sql is not None
    with pytest.raises(sa.exc.DataError):
        read(cast, {"text": "not a number"})
    db.session.rollback()
    assert type(result := read(cast, {"text": "13"})) is sa.engine.IteratorResult and result.scalar() == 13


def test_sqlite_keeps_the_current_path(app):
    with app.app_context():
        statement = sa.select(USERS.c.id)
        results = _thrice(statement)
        assert [type(r) for r in results] == [sa.CursorResult] * 3 and _PLANS[statement].sql is None


def test_every_module_that_reads_is_compared():
    """tests/read_support.py's switch replaces ``read`` in the modules that import it: all of them."""
    root = Path(__file__).resolve().parents[2] / "dsr"
    importing = {".".join(path.relative_to(root.parent).with_suffix("").parts)
                 for path in root.rglob("*.py")
                 if re.search(r"from dsr\.extensions import [^\n]*\bread\b", path.read_text())}
    assert importing and importing == set(MODULES)


@pg
def test_the_pages_and_the_api_read_the_same_both_ways(_apps, monkeypatch):
    """The API (one case, lists, filters, searches), the queue, the case page, the reports and the dashboard
    on the demo's cases, each read compared with its plan (tests/read_support.py), twice (the plans made on
    the way); and their responses, made from the plans' rows, byte for byte those made without plans."""
    from tests.conftest import _wipe

    app = _apps("postgresql")
    try:
        with time_machine.travel(NOW, tick=False):
            with app.app_context():
                load_demo(now=NOW, today=TODAY)
                manager = make_user(Role.PRIVACY_MANAGER, "plans@example.test")
                token = issue_api_token(manager, actor=None, now=NOW)
                db.session.commit()
                reference = db.session.execute(sa.select(CASES.c.reference).order_by(CASES.c.id.desc())).scalar()
            client = app.test_client()
            login(client, Role.PRIVACY_MANAGER, "plans@example.test")
            api = {"Authorization": f"Bearer {token}"}
            paths = [f"/api/v1/cases/{reference}", "/api/v1/cases?per_page=25", "/api/v1/cases?state=open",
                     "/api/v1/cases?overdue=true", "/api/v1/cases?state=received", "/api/v1/cases?q=Jansen",
                     "/api/v1/cases?sort=received&page=2&per_page=5", "/api/v1/cases?q=DSR-2026", "/cases", "/cases?state=all",
                     f"/cases/{reference}", "/reports/escalations", "/reports/escalations?format=csv",
                     "/dashboard", "/dashboard/charts/deadlines.svg"]

            def responses() -> list[tuple[int, bytes]]:
                forget()
                out = []
                for path in paths:
                    response = client.get(path, headers=api if path.startswith("/api") else None)
                    # A chart's element ids are random (pygal): the rest byte for byte.
                    out.append((response.status_code, CHART_ID.sub(b"chart-", response.data)))
                return out

            with monkeypatch.context() as patched:
                patched.setattr(_Plan, "runs_on", lambda self, connection: False)
                without = responses()
            compared = TALLY["compared"]
            with monkeypatch.context() as patched:
                compare_reads(patched)
                responses()
                planned = responses()
            with_plans = responses()
        assert [p for p, (s, _) in zip(paths, without, strict=True) if s != 200] == []
        assert planned == without and with_plans == without
        assert TALLY["compared"] - compared >= 2 * len(paths)
    finally:
        _wipe(app)
