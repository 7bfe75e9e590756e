"""No lost updates (issue 3, item 9): two people saving the same case from stale pages.

Each person has their own test client and session. Both open the case page; the version and last event
each form carries are read from the HTML, as the browser would send them. The first save wins; the
second gets 409, a message that someone else changed the case, the list of what changed, and nothing of
theirs is written. The API refuses a stale ``version`` the same way, in JSON.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa
import time_machine

from dsr.audit.models import AuditEvent
from dsr.auth.models import User
from dsr.auth.operations import issue_api_token
from dsr.cases.models import Case, CasePause
from dsr.domain.enums import CaseState, Priority, Role
from dsr.extensions import db
from dsr.tasks.models import CaseNote
from tests.conftest import NOW
from tests.factories import login, make_case, make_user
from tests.web.support import read_form, text_of

MANAGER = "privacy_manager@harmony.test"
SECOND_MANAGER = "second.manager@harmony.test"
STAFF = "staff@harmony.test"
OTHER_STAFF = "other@harmony.test"
CHANGED = "Someone else changed this case after you opened it. Nothing you entered was saved."


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def users(app) -> dict[str, int]:
    with app.app_context():
        made = [make_user(Role.PRIVACY_MANAGER), make_user(Role.PRIVACY_MANAGER, email=SECOND_MANAGER),
                make_user(Role.STAFF), make_user(Role.STAFF, email=OTHER_STAFF)]
        return {u.email: u.id for u in made}


@pytest.fixture
def reference(app, users) -> str:
    """A case received Friday 20 November 2026, logged by staff."""
    with app.app_context():
        staff = db.session.execute(sa.select(User).where(User.email == STAFF)).scalar_one()
        return make_case(actor=staff, received_on=date(2026, 11, 20)).reference


def browser(app, role: Role, email: str | None = None):
    client = app.test_client()
    login(client, role, email)
    return client


class OpenPage:
    """A case page as one person loaded it: submitting a form later sends what the page carried then."""

    def __init__(self, client, reference: str):
        self.client = client
        self.reference = reference
        response = client.get(f"/cases/{reference}")
        assert response.status_code == 200
        self.values = read_form(response.get_data(as_text=True)).values

    def submit(self, action: str, **fields):
        assert f"{action}-version" in self.values, f"the page shows no {action!r} form"
        data = {f"{action}-version": self.values[f"{action}-version"][0],
                f"{action}-last_event": self.values[f"{action}-last_event"][0]}
        data.update({f"{action}-{name}": value for name, value in fields.items()})
        return self.client.post(f"/cases/{self.reference}/act/{action}", data=data)


def case_state(app, reference: str) -> dict:
    with app.app_context():
        case = db.session.execute(sa.select(Case).where(Case.reference == reference)).scalar_one()
        return {
            "version": case.version, "state": case.state, "priority": case.priority,
            "assignee": case.assignee.email if case.assignee else None, "paused_since": case.paused_since,
            "extended_due_on": case.extended_due_on, "pauses": db.session.scalar(
                sa.select(sa.func.count()).select_from(CasePause).where(CasePause.case_id == case.id)),
            "notes": [n.body for n in db.session.execute(
                sa.select(CaseNote).where(CaseNote.case_id == case.id).order_by(CaseNote.id)).scalars()],
            "events": [(e.action, e.actor_label) for e in db.session.execute(
                sa.select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.id)).scalars()],
        }


def conflict_box(html: str) -> str:
    match = re.search(r'<div class="alert alert-warning" role="alert">(.*?)</div>', html, re.S)
    assert match, "no conflict message on the page"
    return text_of(match.group(1))


def test_a_stale_pause_after_a_priority_change_is_refused_with_what_changed(app, reference):
    manager = OpenPage(browser(app, Role.PRIVACY_MANAGER), reference)
    staff = OpenPage(browser(app, Role.STAFF), reference)

    response = manager.submit("priority", priority="high")
    assert response.status_code == 302
    after_first = case_state(app, reference)

    response = staff.submit("pause", reason="Copy of the policy schedule", requested_on="2026-11-23")
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    box = conflict_box(html)
    assert CHANGED in box
    assert "What changed since then:" in box
    assert re.search(r"Privacy_Manager · Priority changed — priority: \"high\"", box), box
    assert "Request logged" not in box, "the conflict lists changes from before the page was opened"
    # The first person's change is intact and nothing of the second was written.
    assert case_state(app, reference) == after_first
    assert after_first["priority"] is Priority.HIGH and after_first["pauses"] == 0

    # The page shown with the conflict is current: repeating the change from it works.
    retry = OpenPage.__new__(OpenPage)
    retry.client, retry.reference, retry.values = staff.client, reference, read_form(html).values
    assert retry.submit("pause", reason="Copy of the policy schedule", requested_on="2026-11-23").status_code == 302
    final = case_state(app, reference)
    assert (final["priority"], final["paused_since"]) == (Priority.HIGH, date(2026, 11, 23))


def test_two_managers_assigning_the_same_case_do_not_overwrite_each_other(app, reference, users):
    first = OpenPage(browser(app, Role.PRIVACY_MANAGER), reference)
    second = OpenPage(browser(app, Role.PRIVACY_MANAGER, SECOND_MANAGER), reference)

    assert first.submit("assign", assignee=str(users[STAFF])).status_code == 302
    response = second.submit("assign", assignee=str(users[OTHER_STAFF]))
    assert response.status_code == 409
    box = conflict_box(response.get_data(as_text=True))
    assert CHANGED in box
    assert re.search(r"Privacy_Manager · Assigned — assignee: \"staff@harmony.test\"", box), box
    state = case_state(app, reference)
    assert state["assignee"] == STAFF
    assert [who for action, who in state["events"] if action == "case.assigned"] == [MANAGER]


def test_two_staff_taking_the_same_case(app, reference):
    first = OpenPage(browser(app, Role.STAFF), reference)
    second = OpenPage(browser(app, Role.STAFF, OTHER_STAFF), reference)
    assert first.submit("take").status_code == 302
    response = second.submit("take")
    assert response.status_code == 409
    assert CHANGED in conflict_box(response.get_data(as_text=True))
    assert case_state(app, reference)["assignee"] == STAFF


def test_a_refusal_from_a_stale_page_does_not_undo_an_extension(app, reference):
    first = OpenPage(browser(app, Role.PRIVACY_MANAGER), reference)
    second = OpenPage(browser(app, Role.PRIVACY_MANAGER, SECOND_MANAGER), reference)
    assert first.submit("extend", reason="Erasure across nine systems").status_code == 302
    response = second.submit("refuse", ground="excessive", justification="Third request this year")
    assert response.status_code == 409
    box = conflict_box(response.get_data(as_text=True))
    assert "Deadline extended" in box and "Erasure across nine systems" in box
    state = case_state(app, reference)
    assert state["state"] is CaseState.RECEIVED
    assert state["extended_due_on"] == date(2027, 2, 22)
    assert "case.refuse" not in [a for a, _ in state["events"]]


def test_a_state_change_from_a_stale_page_lists_every_change_since(app, reference, users):
    manager = OpenPage(browser(app, Role.PRIVACY_MANAGER), reference)
    staff_client = browser(app, Role.STAFF)
    stale = OpenPage(staff_client, reference)
    assert manager.submit("assign", assignee=str(users[OTHER_STAFF])).status_code == 302
    assert OpenPage(manager.client, reference).submit("priority", priority="low").status_code == 302
    response = stale.submit("start_identity_check")
    assert response.status_code == 409
    box = conflict_box(response.get_data(as_text=True))
    assert box.index("Assigned") < box.index("Priority changed")
    assert case_state(app, reference)["state"] is CaseState.RECEIVED


def test_notes_from_two_stale_pages_are_both_kept(app, reference):
    first = OpenPage(browser(app, Role.STAFF), reference)
    second = OpenPage(browser(app, Role.STAFF, OTHER_STAFF), reference)
    assert first.submit("note", body="Customer called, wants paper copy").status_code == 302
    assert second.submit("note", body="Letter scanned twice").status_code == 302
    assert case_state(app, reference)["notes"] == ["Customer called, wants paper copy", "Letter scanned twice"]


def test_a_change_through_the_api_makes_an_open_web_page_stale(app, reference, users):
    staff = OpenPage(browser(app, Role.STAFF), reference)
    with app.app_context():
        manager = db.session.execute(sa.select(User).where(User.email == MANAGER)).scalar_one()
        token = issue_api_token(manager, actor=None, now=NOW)
        db.session.commit()
    api = app.test_client()
    response = api.post(f"/api/v1/cases/{reference}/assign", json={"assignee": OTHER_STAFF},
                        headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    response = staff.submit("take")
    assert response.status_code == 409
    assert re.search(r"Assigned — assignee: \"other@harmony.test\"", conflict_box(response.get_data(as_text=True)))
    assert case_state(app, reference)["assignee"] == OTHER_STAFF


# -- the API ---------------------------------------------------------------------------------------------------------

@pytest.fixture
def tokens(app, users) -> dict[str, dict]:
    made = {}
    with app.app_context():
        for email in (MANAGER, STAFF):
            user = db.session.execute(sa.select(User).where(User.email == email)).scalar_one()
            made[email] = {"Authorization": f"Bearer {issue_api_token(user, actor=None, now=NOW)}"}
        db.session.commit()
    return made


def test_the_api_refuses_a_stale_version_with_409_json(app, client, reference, tokens):
    version = client.get(f"/api/v1/cases/{reference}", headers=tokens[STAFF]).get_json()["version"]
    first = client.post(f"/api/v1/cases/{reference}/assign", json={"assignee": STAFF, "version": version},
                        headers=tokens[MANAGER])
    assert first.status_code == 200
    assert first.get_json()["version"] == version + 1
    before = case_state(app, reference)

    second = client.post(f"/api/v1/cases/{reference}/pause", json={"reason": "ID", "version": version},
                         headers=tokens[STAFF])
    assert second.status_code == 409
    assert second.mimetype == "application/json"
    body = second.get_json()
    assert "changed by someone else" in body["error"]
    assert f"version {version}, now {version + 1}" in body["error"]
    assert body["state"] == "received"
    assert case_state(app, reference) == before

    third = client.post(f"/api/v1/cases/{reference}/pause", json={"reason": "ID", "version": version + 1},
                        headers=tokens[STAFF])
    assert third.status_code == 200
    assert third.get_json()["paused"] is True


def test_the_api_refuses_a_stale_version_on_a_transition_too(app, client, reference, tokens):
    started = client.post(f"/api/v1/cases/{reference}/start-identity-check", json={"version": 1},
                          headers=tokens[STAFF])
    assert started.status_code == 200
    response = client.post(f"/api/v1/cases/{reference}/withdraw", json={"how": "phone", "version": 1},
                           headers=tokens[STAFF])
    assert response.status_code == 409
    assert response.get_json()["state"] == "identity_check"
    assert case_state(app, reference)["state"] is CaseState.IDENTITY_CHECK


@pytest.mark.parametrize("version", ["1", 1.0, True, [1]])
def test_the_api_rejects_a_version_that_is_not_an_integer(app, client, reference, tokens, version):
    before = case_state(app, reference)
    response = client.post(f"/api/v1/cases/{reference}/pause", json={"reason": "ID", "version": version},
                           headers=tokens[STAFF])
    assert response.status_code == 400
    assert "version" in response.get_json()["errors"]
    assert case_state(app, reference) == before
