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
from dsr.domain.enums import LinkKind, Role, VerificationMethod, VerificationOutcome
from dsr.extensions import db
from dsr.identity.models import IdentityVerification
from dsr.tasks.models import CaseNote
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


def _orm_notes(case_id: int) -> list:
    """The notes as the page read them before: ORM notes, their authors by relationship."""
    notes = db.session.execute(sa.select(CaseNote).where(CaseNote.case_id == case_id)
                               .order_by(CaseNote.id.desc())).scalars().all()
    return [SimpleNamespace(id=n.id, body=n.body, created_at=n.created_at, author_id=n.author_id,
                            author_name=n.author.name if n.author else None) for n in notes]


def _orm_verifications(case_id: int) -> list:
    """The identity checks as the page read them before: ORM objects, who checked by relationship."""
    checks = db.session.execute(sa.select(IdentityVerification).where(IdentityVerification.case_id == case_id)
                                .order_by(IdentityVerification.id)).scalars().all()
    return [SimpleNamespace(id=v.id, method=v.method, outcome=v.outcome, note=v.note, verified_at=v.verified_at,
                            verified_by_id=v.verified_by_id,
                            verified_by_name=v.verified_by.name if v.verified_by else None) for v in checks]


def _slow(monkeypatch) -> None:
    """Every collection read by its reader, the history, notes and identity checks read as ORM objects."""
    monkeypatch.setattr(census, "_census", lambda case: frozenset())
    monkeypatch.setattr(page, "case_events", _orm_events)
    monkeypatch.setattr(page, "case_notes", _orm_notes)
    monkeypatch.setattr(page, "case_verifications", _orm_verifications)


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
            _slow(slow)
            slower = _pages(app, references, role)
    assert len(references) > 40
    for reference in references:
        assert fast[reference] == slower[reference], reference
    # The pages show what the census could have skipped wrongly.
    shown = "".join(fast.values())
    for card in ('id="tasks"', 'id="notes"', 'id="attachments"', "Linked cases"):
        assert card in shown


def test_notes_and_checks_without_a_person_or_by_a_former_colleague_read_as_before(demo, monkeypatch):
    """The notes and identity checks are read as rows with their person's name joined: one written by dsr
    itself (no author) says "system", one by a deactivated colleague (not among the people the page reads for
    its choices) still names them, a check nobody signed names nobody; the same page as the ORM objects gave."""
    app, references = demo
    reference = references[3]
    with time_machine.travel(NOW, tick=False):
        with app.app_context():
            case = db.session.execute(sa.select(Case).where(Case.reference == reference)).scalar_one()
            former = make_user(Role.STAFF, "former@harmony.test")
            former.active = False
            added = [CaseNote(case_id=case.id, author_id=None, body="Written by <dsr> & itself", created_at=NOW),
                     CaseNote(case_id=case.id, author_id=former.id, body="A former colleague's", created_at=NOW),
                     IdentityVerification(case_id=case.id, method=VerificationMethod.AUTHENTICATED_CHANNEL,
                                          outcome=VerificationOutcome.VERIFIED, note="", verified_by_id=None,
                                          verified_at=NOW),
                     IdentityVerification(case_id=case.id, method=VerificationMethod.AUTHENTICATED_CHANNEL,
                                          outcome=VerificationOutcome.NOT_VERIFIED, note="by a former one",
                                          verified_by_id=former.id, verified_at=NOW)]
            db.session.add_all(added)
            db.session.commit()
            ids = [(type(row), row.id) for row in added]
        try:
            fast = _pages(app, [reference], Role.PRIVACY_MANAGER)[reference]
            with monkeypatch.context() as slow:
                _slow(slow)
                slower = _pages(app, [reference], Role.PRIVACY_MANAGER)[reference]
        finally:
            with app.app_context():
                for model, row_id in ids:
                    db.session.delete(db.session.get(model, row_id))
                db.session.commit()
    assert fast == slower
    assert "· system</div><div class=\"notes\">Written by &lt;dsr&gt; &amp; itself</div>" in fast
    assert "· Former</div><div class=\"notes\">A former colleague&#39;s</div>" in fast
    assert "<strong>Identity verified</strong></div>" in fast
    assert "<strong>Not verified</strong> · Former — by a former one</div>" in fast


def test_the_census_holds_only_while_the_page_renders(demo):
    app, references = demo
    with time_machine.travel(NOW, tick=False), app.test_request_context():
        case = db.session.execute(sa.select(Case).where(Case.reference == references[0])).scalar_one()
        with census.counted(case):
            empty = census.g.get(census.CENSUS)[case.id]
            assert all(census.known_empty(case, table) for table in empty)
            assert not census.known_empty(case, "a table it does not count")
        assert not any(census.known_empty(case, table) for table in empty)
