"""The declared days ride with the API's token (issue 15, item 3): on PostgreSQL every API request reads them
in the token's statement instead of a statement of their own, and a day declared by another process (a
privacy manager on another worker) moves the deadline the very next request shows, as before.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from dsr.auth.operations import issue_api_token
from dsr.cases.models import DeclaredHoliday
from dsr.domain.calendar_nl import WorkingDayCalendar
from dsr.domain.enums import Role
from dsr.extensions import db
from tests.conftest import NOW
from tests.factories import make_case, make_user
from tests.web.support import frozen_clock


@pytest.fixture(autouse=True)
def _frozen():
    yield from frozen_clock()


def _captured(app, client, path: str, headers: dict) -> tuple[list[str], dict]:
    statements: list[str] = []

    def capture(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        response = client.get(path, headers=headers)
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    assert response.status_code == 200, response.get_json()
    return statements, response.get_json()


def _declare(app, day: date | None, *, remove: date | None = None) -> None:
    """Declare (or remove) a day as another process would: on a connection of its own, committed."""
    with app.app_context(), db.engine.begin() as conn:
        table = DeclaredHoliday.__table__
        if remove is not None:
            conn.execute(sa.delete(table).where(table.c.day == remove))
        if day is not None:
            conn.execute(sa.insert(table).values(day=day, name="Brugdag <b>&</b>", source="Besluit"))


def test_a_day_declared_elsewhere_moves_the_next_requests_deadline_with_the_token_statement(backend_app):
    app = backend_app
    with app.app_context():
        manager = make_user(Role.PRIVACY_MANAGER)
        token = issue_api_token(manager, actor=None, now=NOW)
        case = make_case(actor=manager)
        reference = case.reference
        db.session.commit()
        existing = {row.day for row in db.session.execute(sa.select(DeclaredHoliday)).scalars()}
    client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    path, listed = f"/api/v1/cases/{reference}", f"/api/v1/cases?state=all&q={reference}"
    client.get(path, headers=headers)  # the first fills per-process caches
    statements, before = _captured(app, client, path, headers)
    due = date.fromisoformat(before["legal_due_on"])
    postgres = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    if postgres:
        # The token (with its user's role and the declared days) and the case: two statements, not three.
        assert len(statements) == 2, statements
        assert statements[0].startswith("SELECT api_tokens") and "array_agg(declared_holidays.day" in statements[0]
        assert not any(s.startswith("SELECT declared_holidays") for s in statements)
    else:  # SQLite reads them apart, a statement being a function call there
        assert sum(s.startswith("SELECT declared_holidays") for s in statements) == 1 and len(statements) == 3

    # The deadline's own day declared a holiday by another process: the next request moves it to the next
    # working day of the calendar with that day, in the case and in a list.
    assert due not in existing
    _declare(app, due)
    _statements, after = _captured(app, client, path, headers)
    expected = WorkingDayCalendar({**{d: "x" for d in existing}, due: "x"})
    moved = due + timedelta(days=1)
    while not expected.is_working_day(moved):
        moved += timedelta(days=1)
    assert date.fromisoformat(after["legal_due_on"]) == moved > due
    _statements, page = _captured(app, client, listed, headers)
    assert [c["legal_due_on"] for c in page["cases"]] == [moved.isoformat()]

    # Removed again: back to the first deadline; and with no declared day at all the calendar is the statutory one.
    _declare(app, None, remove=due)
    assert _captured(app, client, path, headers)[1]["legal_due_on"] == due.isoformat()
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(sa.delete(DeclaredHoliday.__table__))
    _statements, bare = _captured(app, client, path, headers)
    assert bare["legal_due_on"] == due.isoformat()  # the demo's days were not on this deadline

