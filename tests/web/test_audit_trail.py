"""The audit trail of a case as people read it (issue 3, item 8): the page, the CSV export, who may see them.

One case is walked through the actions of the case page by staff and the privacy manager (and one call
through the API); every action must leave an event that the trail page and the CSV show, with who did it.
The clock is frozen on Thursday 26 November 2026.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

import pytest
import sqlalchemy as sa
import time_machine

from dsr.audit.labels import action_label
from dsr.audit.models import AuditEvent
from dsr.audit.queries import CSV_COLUMNS
from dsr.auth.models import User
from dsr.auth.operations import issue_api_token
from dsr.cases.models import Case
from dsr.domain.enums import Role
from dsr.extensions import db
from dsr.tasks.models import CaseTask
from tests.conftest import NOW
from tests.factories import login, make_case, make_user
from tests.harmony_support import demo_systems
from tests.web.support import confirmed_post, read_form, text_of

MANAGER = "privacy_manager@harmony.test"
STAFF = "staff@harmony.test"
AUDITOR = "auditor@harmony.test"
NOTE = "Subject phoned: <script>alert('x')</script> & wants paper"


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def _case(reference: str) -> Case:
    return db.session.execute(sa.select(Case).where(Case.reference == reference)).scalar_one()


def act(client, reference: str, action: str, **fields) -> None:
    values = read_form(client.get(f"/cases/{reference}").get_data(as_text=True)).values
    assert f"{action}-version" in values, f"no {action!r} form on the page"
    data = {f"{action}-version": values[f"{action}-version"][0],
            f"{action}-last_event": values[f"{action}-last_event"][0],
            **{f"{action}-{k}": v for k, v in fields.items()}}
    response = confirmed_post(client, f"/cases/{reference}/act/{action}", data)
    assert response.status_code == 302, (action, text_of(response.get_data(as_text=True))[:1000])


# (who, action, fields) in order, and the audit actions each one leaves.
WALK = [
    ("staff", "take", {}, ["case.assigned"]),
    ("staff", "start_identity_check", {}, ["case.start_identity_check"]),
    ("staff", "pause", {"reason": "Copy of the policy schedule", "requested_on": "2026-11-23"}, ["case.paused"]),
    ("staff", "resume", {"received_on": "2026-11-25"}, ["case.resumed"]),
    ("staff", "verify", {"method": "policy_records", "outcome": "verified"}, ["identity.verified", "case.start_work"]),
    ("staff", "note", {"body": NOTE}, ["note.added"]),
    ("staff", "task", {"title": "Ask Focus Feedback", "assignee": "", "due_on": "2026-12-01"}, ["task.added"]),
    ("staff", "task_done", {"task_id": "TASK"}, ["task.completed"]),
    ("manager", "priority", {"priority": "high"}, ["case.priority_changed"]),
    ("manager", "extend", {"reason": "Nine systems to search"}, ["case.extended"]),
    ("staff", "extension_notice", {"sent_on": "2026-11-26"}, ["case.extension_notice_sent"]),
    ("staff", "LOOKUP", {}, ["task.added", "task.added", "task.added", "lookup.run"]),  # one task per manual source
    ("staff", "submit_for_approval", {}, ["case.submit_for_approval"]),
    ("manager", "send_back", {"reason": "Recipients missing"}, ["case.send_back"]),
    ("staff", "submit_for_approval", {}, ["case.submit_for_approval"]),
    ("manager", "complete", {"decision": "Access copy sent by post",
                             "override_reason": "Letter sent by hand, outside dsr"}, ["case.complete"]),
    ("staff", "close", {}, ["case.close"]),
]


@pytest.fixture(scope="module")
def harmony(tmp_path_factory) -> str:
    return demo_systems(tmp_path_factory, NOW.date(), customers=20)


@pytest.fixture
def walked(app, harmony, monkeypatch) -> dict:
    """A case taken from receipt to archive through the case page, plus one API call before the archive."""
    with app.app_context():
        make_user(Role.PRIVACY_MANAGER)
        staff = make_user(Role.STAFF)
        make_user(Role.AUDITOR)
        reference = make_case(actor=staff, received_on=date(2026, 11, 20)).reference
    clients = {"staff": app.test_client(), "manager": app.test_client()}
    login(clients["staff"], Role.STAFF)
    login(clients["manager"], Role.PRIVACY_MANAGER)
    expected = [("case.created", STAFF)]
    for who, action, fields, leaves in WALK:
        if fields.get("task_id") == "TASK":
            with app.app_context():
                fields = {"task_id": str(db.session.execute(sa.select(CaseTask.id)).scalar_one())}
        if action == "close":
            # A manager's API call on the completed case in between: the API writes to the same trail.
            with app.app_context():
                manager = db.session.execute(sa.select(User).where(User.email == MANAGER)).scalar_one()
                token = issue_api_token(manager, actor=None, now=NOW)
                db.session.commit()
            response = app.test_client().post(f"/api/v1/cases/{reference}/assign", json={"assignee": MANAGER},
                                              headers={"Authorization": f"Bearer {token}"})
            # The case is completed: assignment is refused and leaves no event.
            assert response.status_code == 409
        if action == "LOOKUP":  # the search of Harmony's systems, before the work is submitted
            monkeypatch.setitem(app.config, "DEMO_SYSTEMS_URL", harmony)
            assert clients[who].post(f"/cases/{reference}/data/lookup", data={}).status_code == 302
        else:
            act(clients[who], reference, action, **fields)
        email = STAFF if who == "staff" else MANAGER
        expected += [(a, email) for a in leaves]
    return {"reference": reference, "expected": expected}


def stored_events(app, reference: str) -> list[AuditEvent]:
    with app.app_context():
        events = list(db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.case_id == _case(reference).id).order_by(AuditEvent.id)).scalars())
        for e in events:
            db.session.expunge(e)
        return events


def trail_rows(html: str) -> list[list[str]]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [[text_of(td) for td in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
            for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_every_action_leaves_an_event_in_order(app, walked):
    events = stored_events(app, walked["reference"])
    assert [(e.action, e.actor_label) for e in events] == walked["expected"]


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.PRIVACY_MANAGER, Role.STAFF])
def test_the_trail_page_shows_every_event_with_who_and_what(app, client, walked, role):
    reference = walked["reference"]
    login(client, role)
    response = client.get(f"/cases/{reference}/audit")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    rows = trail_rows(html)
    events = stored_events(app, reference)
    assert len(rows) == len(events)
    for row, event in zip(rows, events, strict=True):
        number, _when, who, what, _before, _after, digest = row
        assert number == str(event.id)
        assert event.actor_label in who
        assert what == f"{action_label(event.action)} {event.action}"
        assert digest == event.hash[:10] + "…"
    assert f'href="/cases/{reference}/audit.csv"' in html


def test_the_trail_page_shows_before_and_after(app, client, walked):
    login(client, Role.AUDITOR)
    rows = {row[3]: row for row in trail_rows(client.get(f"/cases/{walked['reference']}/audit").get_data(as_text=True))}
    priority = rows["Priority changed case.priority_changed"]
    assert (priority[4], priority[5]) == ('priority: "normal"', 'priority: "high"')
    extended = rows["Deadline extended case.extended"]
    assert 'due_on: "2026-12-22"' in extended[4]  # 20 December + 2 paused days
    assert 'extended_due_on: "2027-02-22"' in extended[5] and "Nine systems to search" in extended[5]


def test_text_typed_by_a_user_is_escaped_in_the_trail(app, client, walked):
    login(client, Role.AUDITOR)
    html = client.get(f"/cases/{walked['reference']}/audit").get_data(as_text=True)
    assert "<script>alert(" not in html
    assert "&lt;script&gt;alert(" in html


def test_the_csv_has_a_header_and_one_line_per_event(app, client, walked):
    reference = walked["reference"]
    login(client, Role.AUDITOR)
    response = client.get(f"/cases/{reference}/audit.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{reference}-audit.csv"'
    assert response.headers["Cache-Control"] == "no-store"
    lines = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert lines[0] == CSV_COLUMNS
    events = stored_events(app, reference)
    assert len(lines) == 1 + len(events)
    for line, event in zip(lines[1:], events, strict=True):
        row = dict(zip(CSV_COLUMNS, line, strict=True))
        assert (int(row["id"]), row["actor"], row["action"]) == (event.id, event.actor_label, event.action)
        assert (row["prev_hash"], row["hash"]) == (event.prev_hash, event.hash)
        assert (json.loads(row["after"]) if row["after"] else None) == event.after
        assert (json.loads(row["before"]) if row["before"] else None) == event.before
        assert row["occurred_at"].startswith("2026-11-26T10:00:00")
    # From the creation on every event of the walk was appended to this case: each names the one before.
    for previous, line in zip(lines[1:], lines[2:], strict=False):
        if int(line[0]) == int(previous[0]) + 1:
            assert line[CSV_COLUMNS.index("prev_hash")] == previous[CSV_COLUMNS.index("hash")]
    note = next(dict(zip(CSV_COLUMNS, line, strict=True)) for line in lines[1:] if line[3] == "note.added")
    assert json.loads(note["after"]) == {"body": NOTE}


def test_the_chain_verifies_after_the_walk(app, walked):
    result = app.test_cli_runner().invoke(args=["dsr", "audit-verify"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        total = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    assert f"Audit chain intact: {total} events." in result.output


def history_lines(html: str) -> list[str]:
    """The case page's history, one sentence per event, newest first (without the time)."""
    block = html.split('<ol class="timeline mb-0">', 1)[1].split("</ol>", 1)[0]
    return [text_of(s) for s in re.findall(r'<div class="small">(.*?)</div>', block, re.S)]


def test_the_case_page_history_reads_as_sentences_for_the_same_events(app, client, walked):
    login(client, Role.AUDITOR)
    html = client.get(f"/cases/{walked['reference']}").get_data(as_text=True)
    lines = history_lines(html)
    events = stored_events(app, walked["reference"])
    assert len(lines) == len(events)
    oldest_first = list(reversed(lines))
    assert oldest_first[0].startswith("Staff logged the request (Access (Art. 15)), received 20 Nov 2026.")
    assert "Staff took the case." in oldest_first
    assert "Staff asked for Copy of the policy schedule on 23 Nov 2026; the clock is paused." in oldest_first
    assert "Staff verified the identity: Matched against policy records." in oldest_first
    assert "Privacy_Manager set the priority to high." in oldest_first
    assert "Staff searched Harmony's systems: nothing found." in oldest_first
    assert "Privacy_Manager sent the case back: “Recipients missing”" in oldest_first
    assert oldest_first[-1] == "Staff archived the case."
    # No codes and no raw before/after on the case page: those stay in the audit trail.
    history = " ".join(lines)
    assert not re.search(r"\b(case|identity|lookup|task|note)\.[a-z_]+", history)
    for raw in ('"state"', "before:", "after:", "in_progress"):
        assert raw not in history


def test_the_history_speaks_dutch_to_a_dutch_user(app, client, walked):
    with app.app_context():
        user = db.session.execute(sa.select(User).where(User.email == STAFF)).scalar_one()
        user.locale = "nl"
        db.session.commit()
    login(client, Role.STAFF)
    lines = list(reversed(history_lines(client.get(f"/cases/{walked['reference']}").get_data(as_text=True))))
    assert lines[0].startswith("Staff registreerde het verzoek (Inzage (art. 15)), ontvangen 20 nov 2026.")
    assert lines[-1] == "Staff archiveerde het verzoek."


@pytest.mark.parametrize("path", ["/cases/{ref}/audit", "/cases/{ref}/audit.csv", "/cases/{ref}"])
def test_anonymous_is_sent_to_the_login_page(app, client, walked, path):
    response = client.get(path.format(ref=walked["reference"]))
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert walked["reference"] not in response.get_data(as_text=True).replace(response.headers["Location"], "")


@pytest.mark.parametrize("path", ["/cases/DSR-2026-99999/audit", "/cases/DSR-2026-99999/audit.csv"])
def test_the_trail_of_an_unknown_case_is_404(client, walked, path):
    login(client, Role.AUDITOR)
    assert client.get(path).status_code == 404


def test_refused_attempts_leave_no_event(app, walked):
    reference = walked["reference"]
    before = len(stored_events(app, reference))
    auditor = app.test_client()
    login(auditor, Role.AUDITOR)
    assert auditor.post(f"/cases/{reference}/act/note", data={"note-version": "1", "note-body": "x"}).status_code == 403
    staff = app.test_client()
    login(staff, Role.STAFF)
    # Closed: a pause is refused (409); a note with no text is refused (400).
    values = read_form(staff.get(f"/cases/{reference}").get_data(as_text=True)).values
    version = values["note-version"][0]
    assert staff.post(f"/cases/{reference}/act/pause", data={
        "pause-version": version, "pause-reason": "x", "pause-requested_on": "2026-11-26"}).status_code == 409
    assert staff.post(f"/cases/{reference}/act/note", data={"note-version": version, "note-body": ""}).status_code == 400
    assert len(stored_events(app, reference)) == before
