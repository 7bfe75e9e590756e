"""The case page's fast reading shows what the slow one would (issue 15, item 3).

The page reads its history as plain rows in one statement (events, details and actors' names joined), asks
one census statement which of the case's collections are empty and skips their readers, and makes each of
its forms only when the template shows it. Every demo case (every state, with letters, exports, lookups,
erasure plans, holds, notes, tasks, pauses and attachments), for three roles, must render byte for byte as it
does with the history read as ORM objects and every collection read by its own statement.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
import time_machine

from dsr.audit.models import AuditEvent
from dsr.cases import census, page
from dsr.cases.duplicates import link_cases
from dsr.cases.models import Case
from dsr.demo.loader import load_demo
from dsr.domain.enums import LinkKind, Role
from dsr.extensions import db
from tests.conftest import BACKENDS, NOW, TODAY, _wipe
from tests.factories import login, make_user

CSRF = re.compile(r'(<input[^>]*csrf_token[^>]*value=")[^"]*(")')


@pytest.fixture(scope="module", params=BACKENDS)
def demo(request, _apps):
    app = _apps(request.param)
    with time_machine.travel(NOW, tick=False), app.app_context():
        load_demo(now=NOW, today=TODAY)
        users = {role: make_user(role) for role in (Role.PRIVACY_MANAGER, Role.STAFF, Role.AUDITOR)}
        cases = db.session.execute(sa.select(Case).order_by(Case.id)).scalars().all()
        # Two cases of one person linked: the link shows on both pages.
        first, other = cases[0], cases[1]
        other.subject = first.subject
        db.session.flush()
        link_cases(first, other, kind=LinkKind.RELATED, actor=users[Role.STAFF], now=NOW)
        db.session.commit()
        references = [c.reference for c in cases]
    yield app, references
    _wipe(app)


def _orm_events(case_id: int) -> list:
    """The history as the page read it before: ORM events, their payloads and actors by relationship."""
    events = db.session.execute(sa.select(AuditEvent).where(AuditEvent.case_id == case_id)
                                .order_by(AuditEvent.id.desc())).scalars().all()
    return [SimpleNamespace(id=e.id, action=e.action, occurred_at=e.occurred_at, actor_id=e.actor_id,
                            actor_name=e.actor.name if e.actor else None, before=e.before, after=e.after)
            for e in events]


def _pages(app, references: list[str], role: Role) -> dict[str, str]:
    client = app.test_client()
    login(client, role)
    pages = {}
    for reference in references:
        response = client.get(f"/cases/{reference}")
        assert response.status_code == 200, reference
        pages[reference] = CSRF.sub(r"\1\2", response.get_data(as_text=True))
    return pages


@pytest.mark.parametrize("role", [Role.PRIVACY_MANAGER, Role.STAFF, Role.AUDITOR])
def test_every_demo_case_page_is_the_page_of_the_slow_reading(demo, role, monkeypatch):
    app, references = demo
    with time_machine.travel(NOW, tick=False):
        fast = _pages(app, references, role)
        with monkeypatch.context() as slow:
            slow.setattr(census, "_census", lambda case: frozenset())  # every collection read by its reader
            slow.setattr(page, "case_events", _orm_events)
            slower = _pages(app, references, role)
    assert len(references) > 40
    for reference in references:
        assert fast[reference] == slower[reference], reference
    # The pages show what the census could have skipped wrongly.
    shown = "".join(fast.values())
    for card in ('id="tasks"', 'id="notes"', 'id="attachments"', "Linked cases"):
        assert card in shown


def test_the_census_holds_only_while_the_page_renders(demo):
    app, references = demo
    with time_machine.travel(NOW, tick=False), app.test_request_context():
        case = db.session.execute(sa.select(Case).where(Case.reference == references[0])).scalar_one()
        with census.counted(case):
            empty = census.g.get(census.CENSUS)[case.id]
            assert all(census.known_empty(case, table) for table in empty)
            assert not census.known_empty(case, "a table it does not count")
        assert not any(census.known_empty(case, table) for table in empty)
