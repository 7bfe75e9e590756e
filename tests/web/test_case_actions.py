"""Actions on the case page through the web client, per role (issue 3, items 2-5, 7 and 11).

Every action posts to ``/cases/<ref>/act/<action>`` with fields prefixed by the action name and the
version and last event the page was rendered with; the tests read those from the page, as a browser
would. The clock is frozen on Thursday 26 November 2026, 10:00 UTC.

Dates used below (Regulation 1182/71 art. 3, no Dutch holidays in these weeks):

    received 2026-11-20 (Fri)   promise Fri 18 Dec   legal Sun 20 Dec -> Mon 21 Dec 2026
                                extended Sat 20 Feb 2027 -> Mon 22 Feb 2027
    received 2026-11-16 (Mon)   promise Mon 14 Dec   legal Wed 16 Dec 2026
        paused 17 -> 24 Nov (7 days): promise Mon 21 Dec, legal Wed 23 Dec 2026
    received 2026-11-02 (Mon)   ask for information by Mon 9 Nov (5 working days)
                                promise Mon 30 Nov   legal Wed 2 Dec 2026
"""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
import time_machine

from dsr.attachments.models import Attachment
from dsr.audit.models import AuditEvent
from dsr.auth.models import User
from dsr.cases import lifecycle
from dsr.cases.actions import ACTIONS
from dsr.cases.models import Case, CaseLink, CasePause
from dsr.cases.operations import log_request
from dsr.domain.enums import CaseState, Channel, Language, Priority, RefusalGround, Right, Role
from dsr.extensions import db
from dsr.identity.models import IdentityVerification
from dsr.tasks.models import CaseNote, CaseTask
from tests.conftest import NOW, TODAY
from tests.factories import login, make_case, make_user, subject_details
from tests.harmony_support import demo_systems
from tests.web.support import (
    confirmation,
    confirmed_post,
    date_pattern,
    png_bytes,
    queue_rows,
    read_form,
    text_of,
)

MANAGER = "privacy_manager@harmony.test"
STAFF = "staff@harmony.test"
OTHER_STAFF = "other@harmony.test"
AUDITOR = "auditor@harmony.test"
TRACKED = (AuditEvent, CaseNote, CaseTask, IdentityVerification, CasePause, Attachment, CaseLink)


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def users(app) -> dict[str, int]:
    """A privacy manager, two staff members and an auditor; their ids by e-mail."""
    with app.app_context():
        made = [make_user(Role.PRIVACY_MANAGER), make_user(Role.STAFF),
                make_user(Role.STAFF, email=OTHER_STAFF), make_user(Role.AUDITOR)]
        return {u.email: u.id for u in made}


# -- helpers ---------------------------------------------------------------------------------------------------------

def _user(email: str) -> User:
    return db.session.execute(sa.select(User).where(User.email == email)).scalar_one()


def _case(reference: str) -> Case:
    return db.session.execute(sa.select(Case).where(Case.reference == reference)).scalar_one()


def new_case(app, received_on: date = date(2026, 11, 20), key: str = "a", **subject) -> str:
    """A case logged by staff for its own (distinct) person; its reference."""
    details = {"name": f"Person {key.upper()}", "email": f"{key}@example.nl", "customer_number": f"HC{key.upper()}1",
               "policy_number": f"HP-{key.upper()}", **subject}
    with app.app_context():
        return make_case(actor=_user(STAFF), received_on=received_on, **details).reference


def advance(app, reference: str, *steps: str, actor: str = STAFF) -> None:
    """Move a case through lifecycle operations (set-up for the step under test)."""
    with app.app_context():
        case = _case(reference)
        for step in steps:
            getattr(lifecycle, step)(case, actor=_user(actor), now=NOW)
        db.session.commit()


def snapshot(app, reference: str) -> tuple[dict, dict]:
    """Every column of the case and the number of rows that actions write: compare before and after."""
    with app.app_context():
        case = _case(reference)
        row = {attr.key: getattr(case, attr.key) for attr in sa.inspect(Case).column_attrs}
        counts = {m.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in TRACKED}
        db.session.remove()
    return row, counts


def case_row(app, reference: str) -> Case:
    """A detached copy of the case's columns, for reading after the request."""
    with app.app_context():
        case = _case(reference)
        db.session.expunge(case)
        return case


def audit_actions(app, reference: str) -> list[tuple[str, str]]:
    """(action, actor e-mail) of the case's audit events, oldest first."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(AuditEvent.action, AuditEvent.actor_label).join(Case, Case.id == AuditEvent.case_id)
            .where(Case.reference == reference).order_by(AuditEvent.id)).all()
        return [tuple(r) for r in rows]


def page(client, reference: str) -> str:
    response = client.get(f"/cases/{reference}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def act(client, reference: str, action: str, **fields):
    """Submit the ``action`` form shown on the case page, with the version and last event it carries."""
    values = read_form(page(client, reference)).values
    assert f"{action}-version" in values, f"the case page shows no {action!r} form"
    data = {f"{action}-version": values[f"{action}-version"][0],
            f"{action}-last_event": values[f"{action}-last_event"][0]}
    data.update({f"{action}-{name}": value for name, value in fields.items()})
    return confirmed_post(client, f"/cases/{reference}/act/{action}", data)


def post_action(app, client, reference: str, action: str, **fields):
    """Post an action the page does not offer, with the case's current version (as a hand-made request)."""
    with app.app_context():
        version = _case(reference).version
    data = {f"{action}-version": str(version), f"{action}-last_event": ""}
    data.update({f"{action}-{name}": value for name, value in fields.items()})
    return client.post(f"/cases/{reference}/act/{action}", data=data)


def saved(response, reference: str) -> None:
    assert response.status_code == 302, text_of(response.get_data(as_text=True))[:1500]
    assert response.headers["Location"].split("#")[0].endswith(f"/cases/{reference}")


def clock_text(html: str) -> str:
    match = re.search(r'<div class="card mb-3 clock" id="clock">(.*?)</dl>', html, re.S)
    assert match, "no clock card on the case page"
    return text_of(match.group(1))


def header(html: str) -> str:
    """The line under the reference: state, deadline status and the case's flags."""
    match = re.search(r'<div class="d-flex flex-wrap align-items-baseline gap-2 mb-2 case-head">(.*?)</div>', html, re.S)
    assert match, "no header on the case page"
    return text_of(match.group(1))


def alert_text(html: str) -> str:
    return " ".join(text_of(a) for a in re.findall(r'<div class="alert alert-danger" role="alert">(.*?)</div>', html,
                                                     re.S))


def queue_row(client, reference: str, query: str = "") -> dict | None:
    rows = queue_rows(client.get(f"/cases{query}").get_data(as_text=True))
    return next((r for r in rows if r["reference"] == reference), None)


# -- staff -----------------------------------------------------------------------------------------------------------

def next_steps(html: str) -> list[tuple[str, bool]]:
    """The buttons of "Next steps" (label, is the primary one), left to right."""
    block = re.search(r'<div class="d-flex flex-wrap gap-2 mb-2 next-steps">(.*?)</div>', html, re.S).group(1)
    found = re.findall(r'class="btn btn-sm (btn-primary|btn-outline-secondary)"[^>]*>([^<]+)<', block)
    return [(label.strip(), kind == "btn-primary") for kind, label in found
            if label.strip() not in ("Take this case", "Unassign")]


@pytest.fixture(scope="module")
def harmony(tmp_path_factory) -> str:
    return demo_systems(tmp_path_factory, TODAY, customers=20)


def test_staff_takes_a_case_and_carries_it_to_approval(app, client, users, harmony, monkeypatch):
    reference = new_case(app)
    login(client, Role.STAFF)

    saved(act(client, reference, "take"), reference)
    assert case_row(app, reference).assignee_id == users[STAFF]
    assert "Take this case" not in page(client, reference)

    saved(act(client, reference, "start_identity_check"), reference)
    assert case_row(app, reference).state is CaseState.IDENTITY_CHECK

    saved(act(client, reference, "pause", reason="Copy of the policy schedule", requested_on="2026-11-23"), reference)
    case = case_row(app, reference)
    assert case.paused_since == date(2026, 11, 23)
    assert "clock paused" in header(page(client, reference))

    saved(act(client, reference, "resume", received_on="2026-11-25"), reference)
    case = case_row(app, reference)
    assert (case.paused_since, case.paused_days) == (None, 2)

    saved(act(client, reference, "verify", method="policy_records", outcome="verified", note="Policy HP-A matches"),
          reference)
    assert case_row(app, reference).state is CaseState.IN_PROGRESS
    text = text_of(page(client, reference))
    assert "Matched against policy records" in text and "Identity verified" in text and "Policy HP-A matches" in text

    saved(act(client, reference, "note", body="Called the customer <b>back</b>"), reference)
    saved(act(client, reference, "task", title="Ask Focus Feedback for survey data", assignee=str(users[STAFF]),
              due_on="2026-12-01"), reference)
    html = page(client, reference)
    assert "Called the customer &lt;b&gt;back&lt;/b&gt;" in html
    assert "Ask Focus Feedback for survey data" in html

    # Before any search of Harmony's systems the next step is finding the data, not submitting.
    assert next_steps(page(client, reference)) == [("Find the data", True)]
    monkeypatch.setitem(app.config, "DEMO_SYSTEMS_URL", harmony)
    response = client.post(f"/cases/{reference}/data/lookup", data={})
    assert response.status_code == 302
    # Identity is verified: starting an identity check (a step backwards) is not offered.
    assert next_steps(page(client, reference)) == [("Submit for approval", True)]

    saved(act(client, reference, "submit_for_approval"), reference)
    assert case_row(app, reference).state is CaseState.AWAITING_APPROVAL

    assert [a for a, _who in audit_actions(app, reference)] == [
        "case.created", "case.assigned", "case.start_identity_check", "case.paused", "case.resumed",
        "identity.verified", "case.start_work", "note.added", "task.added", "task.added", "task.added", "task.added",
        "lookup.run",
        "case.submit_for_approval"]
    assert {who for a, who in audit_actions(app, reference) if a != "case.created"} == {STAFF}


def test_a_pause_moves_the_deadline_by_the_paused_days(app, client, users):
    # Received Fri 20 Nov: one month ends Sun 20 Dec; paused 23 -> 25 Nov (2 days) gives Tue 22 Dec.
    reference = new_case(app)
    login(client, Role.STAFF)
    saved(act(client, reference, "pause", reason="Proof of address", requested_on="2026-11-23"), reference)
    saved(act(client, reference, "resume", received_on="2026-11-25"), reference)
    case = case_row(app, reference)
    assert case.legal_due_on == date(2026, 12, 22)
    assert case.promised_on == date(2026, 12, 20)


def test_staff_records_a_withdrawal(app, client, users):
    reference = new_case(app)
    login(client, Role.STAFF)
    saved(act(client, reference, "withdraw", how="Phone call on 25 November 2026"), reference)
    case = case_row(app, reference)
    assert case.state is CaseState.WITHDRAWN
    assert case.withdrawal_how == "Phone call on 25 November 2026"
    assert case.closed_at is not None
    text = text_of(page(client, reference))
    assert "Withdrawn Phone call on 25 November 2026" in text
    assert ("case.withdraw", STAFF) in audit_actions(app, reference)


def test_staff_completes_a_task(app, client, users):
    reference = new_case(app)
    login(client, Role.STAFF)
    saved(act(client, reference, "task", title="Search the paper archive", assignee=""), reference)
    assert queue_row(client, reference, "?flag=open_tasks") is not None
    with app.app_context():
        task_id = db.session.execute(sa.select(CaseTask.id)).scalar_one()
    saved(act(client, reference, "task_done", task_id=str(task_id)), reference)
    with app.app_context():
        assert db.session.get(CaseTask, task_id).done_at is not None
    assert queue_row(client, reference, "?flag=open_tasks") is None
    assert [a for a, _ in audit_actions(app, reference)][-2:] == ["task.added", "task.completed"]


def _in_state_for(app, reference: str, action: str) -> None:
    """Put the case where the manager-only action would be legal, so only the role stands in the way."""
    if action in ("complete", "send_back"):
        advance(app, reference, "start_work", "submit_for_approval")


STAFF_FORBIDDEN = {
    "complete": {"decision": "Copy sent by post", "override_reason": "Not what this test is about"},
    "send_back": {"reason": "Recipients list incomplete"},
    "refuse": {"ground": "manifestly_unfounded", "justification": "Abusive letter"},
    "extend": {"reason": "Erasure across nine systems"},
    "priority": {"priority": "high"},
    "assign": {"assignee": "OTHER"},
}


@pytest.mark.parametrize("action", list(STAFF_FORBIDDEN))
def test_staff_may_not_take_manager_decisions(app, client, users, action):
    reference = new_case(app)
    _in_state_for(app, reference, action)
    login(client, Role.STAFF)
    html = page(client, reference)
    # The page does not offer what staff may not do ...
    assert f'action="/cases/{reference}/act/{action}"' not in html
    fields = {k: (str(users[OTHER_STAFF]) if v == "OTHER" else v) for k, v in STAFF_FORBIDDEN[action].items()}
    before = snapshot(app, reference)
    # ... and a hand-made post is refused and changes nothing.
    response = post_action(app, client, reference, action, **fields)
    assert response.status_code == 403
    assert "Your role does not allow this" in text_of(response.get_data(as_text=True))
    assert snapshot(app, reference) == before


def test_staff_may_not_unassign_someone_elses_case(app, client, users):
    reference = new_case(app)
    with app.app_context():
        lifecycle.assign(_case(reference), _user(OTHER_STAFF), actor=_user(MANAGER), now=NOW)
        db.session.commit()
    login(client, Role.STAFF)
    before = snapshot(app, reference)
    assert post_action(app, client, reference, "unassign").status_code == 403
    assert snapshot(app, reference) == before


def test_an_untouched_assign_form_does_not_unassign(app, client, users):
    reference = new_case(app)
    with app.app_context():
        lifecycle.assign(_case(reference), _user(OTHER_STAFF), actor=_user(MANAGER), now=NOW)
        db.session.commit()
    login(client, Role.PRIVACY_MANAGER)
    html = page(client, reference)
    assert re.search(r'<select[^>]*name="assign-assignee" required><option value="">Choose a person…</option>', html)
    before = snapshot(app, reference)
    response = post_action(app, client, reference, "assign", assignee="")
    assert response.status_code == 400
    assert "Choose who to assign the case to." in text_of(response.get_data(as_text=True))
    assert snapshot(app, reference) == before
    response = post_action(app, client, reference, "unassign")
    assert response.status_code == 302
    assert case_row(app, reference).assignee_id is None
    assert "Unassigned: the case is back in triage." in text_of(page(client, reference))


def test_each_action_answers_with_what_happened(app, client, users):
    reference = new_case(app)
    login(client, Role.PRIVACY_MANAGER)
    act(client, reference, "assign", assignee=str(users[OTHER_STAFF]))
    assert "Assigned to Other." in text_of(page(client, reference))
    act(client, reference, "pause", reason="the policy number", requested_on="2026-11-23")
    assert "Paused: waiting for the policy number." in text_of(page(client, reference))
    act(client, reference, "priority", priority="high")
    assert "Priority set to high." in text_of(page(client, reference))


def test_staff_who_start_work_on_an_unassigned_case_become_its_assignee(app, client, users):
    reference = new_case(app)
    login(client, Role.STAFF)
    saved(act(client, reference, "start_work"), reference)
    assert case_row(app, reference).assignee_id == users[STAFF]
    assert "Work started; the case is assigned to Staff." in text_of(page(client, reference))
    assert [a for a, _who in audit_actions(app, reference)][-2:] == ["case.start_work", "case.assigned"]


# -- auditor ---------------------------------------------------------------------------------------------------------

def _auditor_fields(app, reference: str, other: str) -> dict[str, dict]:
    with app.app_context():
        task_id = db.session.execute(sa.select(CaseTask.id)).scalar_one()
        attachment_id = db.session.execute(sa.select(Attachment.id)).scalars().first() or 1
        staff_id = _user(STAFF).id
    return {
        "assign": {"assignee": str(staff_id)}, "take": {}, "unassign": {}, "priority": {"priority": "high"},
        "start_identity_check": {}, "start_work": {}, "submit_for_approval": {}, "send_back": {"reason": "r"},
        "complete": {"decision": "d"}, "refuse": {"ground": "excessive", "justification": "j"},
        "withdraw": {"how": "letter"}, "close": {},
        "verify": {"method": "policy_records", "outcome": "verified"},
        "confirm_id": {"attachment_id": str(attachment_id), "outcome": "verified"},
        "pause": {"reason": "r", "requested_on": "2026-11-23"}, "resume": {"received_on": "2026-11-25"},
        "extend": {"reason": "r"}, "extension_notice": {"sent_on": "2026-11-26"}, "note": {"body": "b"},
        "task": {"title": "t", "assignee": ""}, "task_done": {"task_id": str(task_id)},
        "link": {"other": other, "kind": "related"}, "merge": {"target": other}, "upload": {"kind": "letter"},
    }


def test_the_auditor_is_refused_every_action_and_nothing_changes(app, client, users):
    reference = new_case(app)
    other = new_case(app, key="b")
    with app.app_context():
        from dsr.tasks.operations import add_task

        add_task(_case(reference), "Open task", assignee=None, due_on=None, actor=_user(STAFF), now=NOW, today=TODAY)
        db.session.commit()
    fields = _auditor_fields(app, reference, other)
    assert set(fields) == set(ACTIONS), "a new action needs a line here"
    login(client, Role.AUDITOR)
    html = page(client, reference)
    assert "/act/" not in html, "the auditor's case page offers an action"
    before = snapshot(app, reference)
    for action in sorted(ACTIONS):
        data = {f"{action}-version": str(before[0]["version"]), f"{action}-last_event": ""}
        data.update({f"{action}-{k}": v for k, v in fields[action].items()})
        if action == "upload":
            data["upload-file"] = (io.BytesIO(png_bytes()), "scan.png", "image/png")
        response = client.post(f"/cases/{reference}/act/{action}", data=data)
        assert response.status_code == 403, action
    assert snapshot(app, reference) == before


def test_the_auditor_reads_the_case_its_trail_and_the_csv(app, client, users):
    reference = new_case(app)
    advance(app, reference, "start_identity_check")
    login(client, Role.AUDITOR)
    text = text_of(page(client, reference))
    assert "Person A" in text and "identity check" in text
    trail = client.get(f"/cases/{reference}/audit")
    assert trail.status_code == 200
    assert "Identity check started" in text_of(trail.get_data(as_text=True))
    export = client.get(f"/cases/{reference}/audit.csv")
    assert export.status_code == 200
    assert export.mimetype == "text/csv"
    assert "case.start_identity_check" in export.get_data(as_text=True)


# -- privacy manager -------------------------------------------------------------------------------------------------

def test_the_manager_completes_with_a_decision(app, client, users):
    reference = new_case(app)
    advance(app, reference, "start_work", "submit_for_approval")
    login(client, Role.PRIVACY_MANAGER)
    assert "Approve and complete" in text_of(page(client, reference))
    # Nothing was searched and no letter issued: completing is refused until the manager gives a reason.
    response = act(client, reference, "complete", decision="Copy of all data sent by registered post")
    assert response.status_code == 409
    assert "The case cannot be completed yet" in alert_text(response.get_data(as_text=True))
    assert case_row(app, reference).state is CaseState.AWAITING_APPROVAL
    checklist = text_of(re.search(r'<ul class="list-unstyled mb-2 checklist">(.*?)</ul>', page(client, reference),
                                  re.S).group(1))
    assert "A search of Harmony's systems, the match confirmed (or nothing found)" in checklist
    assert "The answer letter for Access (Art. 15) issued" in checklist
    saved(act(client, reference, "complete", decision="Copy of all data sent by registered post",
              override_reason="Answered by post before dsr was used; copy in the paper file"), reference)
    with app.app_context():
        event = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "case.complete")).scalar_one()
        assert event.after["override"]["reason"] == "Answered by post before dsr was used; copy in the paper file"
        assert set(event.after["override"]["open"]) == {"lookup", "letter_access"}
    case = case_row(app, reference)
    assert case.state is CaseState.COMPLETED
    assert case.decision == "Copy of all data sent by registered post"
    assert case.closed_at is not None
    text = text_of(page(client, reference))
    assert "Decision Copy of all data sent by registered post" in text
    assert ("case.complete", MANAGER) in audit_actions(app, reference)


def test_the_manager_sends_the_work_back(app, client, users):
    reference = new_case(app)
    advance(app, reference, "start_work", "submit_for_approval")
    login(client, Role.PRIVACY_MANAGER)
    saved(act(client, reference, "send_back", reason="The recipients list is missing Focus Feedback"), reference)
    assert case_row(app, reference).state is CaseState.IN_PROGRESS
    assert ("case.send_back", MANAGER) in audit_actions(app, reference)


def test_the_manager_refuses_with_ground_and_justification(app, client, users):
    reference = new_case(app)
    login(client, Role.PRIVACY_MANAGER)
    saved(act(client, reference, "refuse", ground="identity_not_established",
              justification="Two requests for the ID check went unanswered"), reference)
    case = case_row(app, reference)
    assert case.state is CaseState.REFUSED
    assert case.refusal_ground is RefusalGround.IDENTITY_NOT_ESTABLISHED
    assert case.decision == "Two requests for the ID check went unanswered"
    text = text_of(page(client, reference))
    assert "Identity not established (Art. 11(2), 12(2)) — Two requests for the ID check went unanswered" in text
    assert ("case.refuse", MANAGER) in audit_actions(app, reference)


def test_the_manager_assigns_and_sets_the_priority(app, client, users):
    reference = new_case(app)
    login(client, Role.PRIVACY_MANAGER)
    saved(act(client, reference, "assign", assignee=str(users[OTHER_STAFF])), reference)
    saved(act(client, reference, "priority", priority="high"), reference)
    case = case_row(app, reference)
    assert (case.assignee_id, case.priority) == (users[OTHER_STAFF], Priority.HIGH)
    assert "high priority" in text_of(page(client, reference))


def _same_person_cases(app, *received: date) -> list[str]:
    """Cases of one person received on the given days; the references in that order."""
    refs = []
    with app.app_context():
        staff = _user(STAFF)
        person = None
        for day in received:
            case = log_request(subject=subject_details(), rights=[Right.ACCESS], channel=Channel.POST, received_on=day,
                               language=Language.NL, notes="", actor=staff, now=NOW, today=TODAY, link_subject=person)
            person = case.subject
            refs.append(case.reference)
        db.session.commit()
    return refs


def _refuse_panel(html: str) -> str:
    match = re.search(r"Refuse the request</summary>(.*?)</details>", html, re.S)
    assert match, "no refusal panel"
    return text_of(match.group(1))


NEVER_EXCESSIVE = "more than 12 months earlier: this request is never excessive"


def test_refuse_panel_warns_when_the_previous_request_is_over_a_year_old(app, client, users):
    earlier, current = _same_person_cases(app, date(2025, 8, 1), date(2026, 11, 20))
    login(client, Role.PRIVACY_MANAGER)
    panel = _refuse_panel(page(client, current))
    assert f"Previous request of this person: {earlier}" in panel
    assert re.search(date_pattern(date(2025, 8, 1)), panel)
    assert NEVER_EXCESSIVE in panel


def test_refuse_panel_shows_a_recent_previous_request_without_the_warning(app, client, users):
    earlier, current = _same_person_cases(app, date(2026, 5, 4), date(2026, 11, 20))
    login(client, Role.PRIVACY_MANAGER)
    panel = _refuse_panel(page(client, current))
    assert f"Previous request of this person: {earlier}" in panel
    assert f"Requests in the last 12 months: {earlier}" in panel
    assert NEVER_EXCESSIVE not in panel


def test_refuse_panel_says_when_there_is_no_earlier_request(app, client, users):
    reference = new_case(app)
    login(client, Role.PRIVACY_MANAGER)
    panel = _refuse_panel(page(client, reference))
    assert "This person has made no earlier request." in panel
    assert NEVER_EXCESSIVE not in panel


@pytest.mark.parametrize(("earlier", "later"), [
    pytest.param(date(2025, 11, 20), date(2026, 11, 20), id="no-29-february-between"),
    pytest.param(date(2023, 11, 20), date(2024, 11, 20), id="29-february-2024-between"),
])
def test_refuse_panel_counts_twelve_months_as_calendar_months(app, client, users, earlier, later):
    """Exactly 12 months is exactly 12 months whether or not a 29 February lies between (EDPB §185).

    The page says "more than 12 months earlier", so a request exactly 12 months later gets no warning and one
    12 months and a day later does, in every year.
    """
    _first, exact = _same_person_cases(app, earlier, later)
    login(client, Role.PRIVACY_MANAGER)
    assert NEVER_EXCESSIVE not in _refuse_panel(page(client, exact))
    with app.app_context():
        db.session.execute(sa.update(Case).where(Case.reference == exact)
                           .values(received_on=date(later.year, later.month, later.day + 1)))
        db.session.commit()
    assert NEVER_EXCESSIVE in _refuse_panel(page(client, exact))


def test_the_manager_extends_and_the_notice_obligation_follows_until_recorded(app, client, users):
    reference = new_case(app)
    login(client, Role.PRIVACY_MANAGER)
    assert queue_row(client, reference, "?flag=extension_notice") is None
    saved(act(client, reference, "extend", reason="Erasure across nine systems and two processors"), reference)
    case = case_row(app, reference)
    assert case.extended_due_on == date(2027, 2, 22)
    assert case.extension_notice_due_on == date(2026, 12, 21)

    html = page(client, reference)
    clock = clock_text(html)
    assert re.search("Extended deadline: " + date_pattern(date(2027, 2, 22), weekday=True), clock), clock
    assert re.search(r"Legal deadline \(Art\. 12\(3\) GDPR\): " + date_pattern(date(2026, 12, 21), weekday=True)
                     + r" \(original deadline, before the extension\)", clock), clock
    assert "because: Erasure across nine systems and two processors" in clock
    assert re.search("must be told of the extension and its reasons by " + date_pattern(date(2026, 12, 21)), clock)
    assert re.search("extension notice owed by " + date_pattern(date(2026, 12, 21)).replace("November", "Nov")
                     .replace("December", "Dec"), header(html)), header(html)
    assert "Extend the deadline" not in text_of(html), "a second extension is still offered"

    row = queue_row(client, reference)
    assert "extension notice owed" in text_of(row["html"])
    assert "+2m" in text_of(row["html"])
    assert queue_row(client, reference, "?flag=extension_notice") is not None

    saved(act(client, reference, "extension_notice", sent_on="2026-11-26"), reference)
    assert case_row(app, reference).extension_notice_sent_on == date(2026, 11, 26)
    html = page(client, reference)
    assert "extension notice owed" not in header(html)
    assert 'act/extension_notice"' not in html
    assert re.search("The subject was told on " + date_pattern(date(2026, 11, 26)), clock_text(html))
    assert "extension notice owed" not in text_of(queue_row(client, reference)["html"])
    assert queue_row(client, reference, "?flag=extension_notice") is None
    assert [a for a, _ in audit_actions(app, reference)][-2:] == ["case.extended", "case.extension_notice_sent"]


def test_an_extension_after_the_original_deadline_is_refused_on_the_page(app, client, users):
    reference = new_case(app, received_on=date(2026, 10, 20))  # legal deadline Fri 20 November 2026
    login(client, Role.PRIVACY_MANAGER)
    before = snapshot(app, reference)
    # The page no longer offers the extension and says why; a hand-made request is still refused.
    html = page(client, reference)
    assert "extend-version" not in read_form(html).values
    assert "can no longer be extended" in text_of(html)
    response = post_action(app, client, reference, "extend", reason="Complex")
    assert response.status_code == 409
    assert "Too late to extend: the original legal deadline was 20 Nov 2026" in alert_text(
        response.get_data(as_text=True))
    assert snapshot(app, reference) == before


@pytest.mark.parametrize(("role", "action", "steps", "state_named"), [
    (Role.PRIVACY_MANAGER, "complete", (), "received"),
    (Role.PRIVACY_MANAGER, "send_back", ("start_work",), "in progress"),
    (Role.STAFF, "submit_for_approval", (), "received"),
    (Role.STAFF, "start_work", ("start_work", "submit_for_approval"), "awaiting approval"),
    (Role.STAFF, "close", (), "received"),
])
def test_an_illegal_transition_is_409_naming_the_state(app, client, users, role, action, steps, state_named):
    reference = new_case(app)
    advance(app, reference, *steps)
    login(client, role)
    fields = {"complete": {"decision": "Done", "override_reason": "Not what this test is about"},
              "send_back": {"reason": "Again"}}.get(action, {})
    before = snapshot(app, reference)
    response = post_action(app, client, reference, action, **fields)
    assert response.status_code == 409
    message = alert_text(response.get_data(as_text=True))
    assert f"in state '{state_named}'" in message, message
    assert snapshot(app, reference) == before


def test_an_action_on_a_closed_case_is_409(app, client, users):
    reference = new_case(app)
    advance(app, reference, "start_work", "submit_for_approval")
    with app.app_context():
        lifecycle.complete(_case(reference), decision="Sent", actor=_user(MANAGER), now=NOW, override_reason="The work is not what this test is about")
        db.session.commit()
    login(client, Role.STAFF)
    before = snapshot(app, reference)
    response = post_action(app, client, reference, "pause", reason="More", requested_on="2026-11-23")
    assert response.status_code == 409
    assert "is completed" in alert_text(response.get_data(as_text=True))
    assert snapshot(app, reference) == before


@pytest.mark.parametrize(("role", "action", "fields", "label"), [
    (Role.STAFF, "pause", {"requested_on": "2026-11-23"}, "Information asked for"),
    (Role.STAFF, "pause", {"reason": "Proof of address", "requested_on": ""}, "Asked on"),
    (Role.STAFF, "resume", {"received_on": "yesterday"}, "Information arrived on"),
    (Role.STAFF, "withdraw", {"how": "   "}, "How the subject withdrew"),
    (Role.STAFF, "verify", {"outcome": "verified"}, "Method"),
    (Role.STAFF, "note", {"body": ""}, "Note"),
    (Role.STAFF, "task", {"title": ""}, "Task"),
    (Role.PRIVACY_MANAGER, "refuse", {"ground": "excessive"}, "Written justification"),
    (Role.PRIVACY_MANAGER, "refuse", {"ground": "rude", "justification": "x"}, "Ground"),
    (Role.PRIVACY_MANAGER, "extend", {"reason": ""}, "Reason"),
    (Role.PRIVACY_MANAGER, "complete", {}, "What was done for the subject"),
])
def test_a_form_with_a_missing_or_bad_field_is_400_and_saves_nothing(app, client, users, role, action, fields, label):
    reference = new_case(app)
    if action == "complete":
        advance(app, reference, "start_work", "submit_for_approval")
    if action == "resume":
        advance_pause(app, reference)
    login(client, role)
    before = snapshot(app, reference)
    response = post_action(app, client, reference, action, **fields)
    assert response.status_code == 400
    message = alert_text(response.get_data(as_text=True))
    assert message.startswith("Nothing was saved:") and label in message, message
    assert snapshot(app, reference) == before


def advance_pause(app, reference: str) -> None:
    from dsr.cases.timing import request_information

    with app.app_context():
        request_information(_case(reference), reason="Proof of address", requested_on=date(2026, 11, 23),
                            actor=_user(STAFF), now=NOW, today=TODAY)
        db.session.commit()


def test_a_post_without_the_version_is_400(app, client, users):
    reference = new_case(app)
    login(client, Role.STAFF)
    before = snapshot(app, reference)
    response = client.post(f"/cases/{reference}/act/pause",
                           data={"pause-reason": "Proof of address", "pause-requested_on": "2026-11-23"})
    assert response.status_code == 400
    assert snapshot(app, reference) == before


@pytest.mark.parametrize(("fields", "words"), [
    ({"reason": "Proof of address", "requested_on": "2026-11-27"}, "cannot be in the future"),
    ({"reason": "Proof of address", "requested_on": "2026-11-19"}, "before the request arrived"),
])
def test_a_pause_with_an_impossible_date_is_400(app, client, users, fields, words):
    reference = new_case(app)
    login(client, Role.STAFF)
    before = snapshot(app, reference)
    response = act(client, reference, "pause", **fields)
    assert response.status_code == 400
    assert words in alert_text(response.get_data(as_text=True))
    assert snapshot(app, reference) == before


def test_unknown_action_or_case_is_404(app, client, users):
    reference = new_case(app)
    login(client, Role.STAFF)
    assert client.post(f"/cases/{reference}/act/delete", data={}).status_code == 404
    assert client.post("/cases/DSR-2026-99999/act/note", data={"note-version": "1", "note-body": "x"}).status_code == 404


# -- the clock on the case page and in the queue ---------------------------------------------------------------------

def test_a_pause_asked_in_time_is_explained_and_moves_both_deadlines(app, client, users):
    reference = new_case(app, received_on=date(2026, 11, 16))
    login(client, Role.STAFF)
    clock = clock_text(page(client, reference))
    assert re.search("promise: " + date_pattern(date(2026, 12, 14), weekday=True), clock), clock
    assert re.search("Legal deadline .{0,30}: " + date_pattern(date(2026, 12, 16), weekday=True), clock), clock

    saved(act(client, reference, "pause", reason="Copy of the policy schedule", requested_on="2026-11-17"),
          reference)
    html = page(client, reference)
    assert "clock paused" in header(html)
    assert re.search("Paused since " + date_pattern(date(2026, 11, 17)) + " while waiting for: Copy of the policy "
                     "schedule", clock_text(html))
    assert queue_row(client, reference, "?flag=paused") is not None
    assert "paused" in text_of(queue_row(client, reference)["html"])

    saved(act(client, reference, "resume", received_on="2026-11-24"), reference)
    html = page(client, reference)
    clock = clock_text(html)
    assert re.search("Paused from " + date_pattern(date(2026, 11, 17)) + " to " + date_pattern(date(2026, 11, 24))
                     + r" \(7 days\) while waiting for: Copy of the policy schedule\.", clock), clock
    assert re.search("promise: " + date_pattern(date(2026, 12, 21), weekday=True), clock), clock
    assert "+ 28 days + 7 days paused" in clock
    assert re.search("Legal deadline .{0,30}: " + date_pattern(date(2026, 12, 23), weekday=True), clock), clock
    assert re.search("Adding 7 days paused gives " + date_pattern(date(2026, 12, 23)), clock), clock
    assert "clock paused" not in header(html)
    assert queue_row(client, reference, "?flag=paused") is None


def test_a_late_ask_is_not_counted_and_is_flagged(app, client, users):
    reference = new_case(app, received_on=date(2026, 11, 2))
    on_time = new_case(app, received_on=date(2026, 11, 2), key="b")
    login(client, Role.STAFF)
    saved(act(client, reference, "pause", reason="Which policy is meant", requested_on="2026-11-20"), reference)
    case = case_row(app, reference)
    assert (case.late_pause_requests, case.paused_since) == (1, None)
    assert (case.promised_on, case.legal_due_on) == (date(2026, 11, 30), date(2026, 12, 2))

    html = page(client, reference)
    clock = clock_text(html)
    assert "Not counted:" in clock
    assert re.search(r"information \(Which policy is meant\) was asked for on " + date_pattern(date(2026, 11, 20))
                     + ", after " + date_pattern(date(2026, 11, 9)), clock), clock
    assert "The clock kept running." in clock
    assert re.search("Legal deadline .{0,30}: " + date_pattern(date(2026, 12, 2), weekday=True), clock), clock
    assert "information asked late" in header(html)
    assert "clock paused" not in header(html)

    assert "information asked late" in text_of(queue_row(client, reference)["html"])
    assert "information asked late" not in text_of(queue_row(client, on_time)["html"])
    assert [r["reference"] for r in queue_rows(client.get("/cases?flag=late_pause").get_data(as_text=True))] == [
        reference]

    # The information arrives: the deadlines stay where they were.
    saved(act(client, reference, "resume", received_on="2026-11-25"), reference)
    case = case_row(app, reference)
    assert (case.promised_on, case.legal_due_on, case.paused_days) == (date(2026, 11, 30), date(2026, 12, 2), 0)
    assert re.search("The information arrived on " + date_pattern(date(2026, 11, 25)),
                     clock_text(page(client, reference)))


def _legal_line(clock: str) -> str:
    return re.search(r"Legal deadline \(Art\. 12\(3\) GDPR\): \w+,? [\w ,]+?\d{4}", clock).group(0)


def test_a_case_closed_while_waiting_for_information_stops_its_clock(app, client, users):
    """Once withdrawn, the case is history: no "clock paused" badge, and its deadlines no longer move."""
    reference = new_case(app)
    login(client, Role.STAFF)
    saved(act(client, reference, "pause", reason="Proof of address", requested_on="2026-11-23"), reference)
    saved(act(client, reference, "withdraw", how="Phone call: no longer needed"), reference)
    html = page(client, reference)
    on_the_day = _legal_line(clock_text(html))
    assert "clock paused" not in header(html)
    with time_machine.travel(datetime(2026, 12, 10, 10, 0, tzinfo=UTC), tick=False):
        html = page(client, reference)
        row = queue_row(client, reference, "?state=all")
    assert "clock paused" not in header(html)
    assert _legal_line(clock_text(html)) == on_the_day
    assert "paused" not in text_of(row["html"])


@pytest.fixture
def flagged(app, users) -> dict[str, str]:
    """One plain case and one for each flag of the queue."""
    from dsr.cases.timing import extend, request_information
    from dsr.tasks.operations import add_task

    refs = {key: new_case(app, received_on=date(2026, 11, 20), key=key)
            for key in ("plain", "paused", "extended", "tasks")}
    refs["late"] = new_case(app, received_on=date(2026, 11, 2), key="late")
    with app.app_context():
        staff, manager = _user(STAFF), _user(MANAGER)
        request_information(_case(refs["paused"]), reason="ID", requested_on=date(2026, 11, 23), actor=staff, now=NOW,
                            today=TODAY)
        request_information(_case(refs["late"]), reason="ID", requested_on=date(2026, 11, 25), actor=staff, now=NOW,
                            today=TODAY)
        extend(_case(refs["extended"]), reason="Complex", actor=manager, now=NOW, today=TODAY)
        add_task(_case(refs["tasks"]), "Archive search", assignee=None, due_on=None, actor=staff, now=NOW, today=TODAY)
        db.session.commit()
    return refs


@pytest.mark.parametrize(("flag", "expected"), [
    ("paused", ["paused"]),
    ("late_pause", ["late"]),
    ("extension_notice", ["extended"]),
    ("open_tasks", ["tasks"]),
])
def test_queue_flags_filter_the_queue(client, flagged, flag, expected):
    login(client, Role.STAFF)
    response = client.get(f"/cases?flag={flag}")
    assert response.status_code == 200
    assert [r["reference"] for r in queue_rows(response.get_data(as_text=True))] == [flagged[k] for k in expected]


def test_the_unfiltered_queue_shows_each_flag_on_its_row(client, flagged):
    login(client, Role.STAFF)
    rows = {r["reference"]: text_of(r["html"]) for r in queue_rows(client.get("/cases").get_data(as_text=True))}
    assert len(rows) == 5
    assert "paused" in rows[flagged["paused"]]
    assert "information asked late" in rows[flagged["late"]]
    assert "extension notice owed" in rows[flagged["extended"]]
    assert "1 open task" in rows[flagged["tasks"]]
    for flag in ("paused", "information asked late", "extension notice owed", "open task"):
        assert flag not in rows[flagged["plain"]]


# -- destructive steps confirm ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("role, action, fields, title, says", [
    (Role.PRIVACY_MANAGER, "refuse", {"ground": "manifestly_unfounded", "justification": "Asks for a neighbour's data"},
     "Refuse DSR-2026-00001?", ["refused on this ground: Manifestly unfounded (Art. 12(5))",
                                "“Asks for a neighbour's data”", "Autoriteit Persoonsgegevens",
                                "1 open task of this case stays undone."]),
    (Role.STAFF, "withdraw", {"how": "Phone call"}, "Record DSR-2026-00001 as withdrawn?",
     ["recorded as withdrawn by the subject (Phone call)", "no answer is sent"]),
])
def test_ending_a_case_says_what_will_happen_and_asks_first(app, client, users, role, action, fields, title, says):
    reference = new_case(app)
    with app.app_context():
        from dsr.tasks.operations import add_task

        add_task(_case(reference), "Ring back", assignee=None, due_on=None, actor=_user(STAFF), now=NOW, today=TODAY)
        db.session.commit()
    login(client, role)
    values = read_form(page(client, reference)).values
    data = {f"{action}-version": values[f"{action}-version"][0], f"{action}-last_event": values[f"{action}-last_event"][0],
            **{f"{action}-{k}": v for k, v in fields.items()}}
    before = snapshot(app, reference)
    response = client.post(f"/cases/{reference}/act/{action}", data=data)
    step = confirmation(response)
    assert step is not None, "no confirmation step"
    assert step[0] == title
    for phrase in says:
        assert phrase in step[1]
    assert "This cannot be undone." in step[1]
    assert snapshot(app, reference) == before, "the first post changed the case"
    # Cancel is a link back to the case; confirming posts what was typed, once.
    assert f'href="/cases/{reference}">Cancel, change nothing</a>' in response.get_data(as_text=True)
    assert client.post(f"/cases/{reference}/act/{action}", data=step[2]).status_code == 302
    assert case_row(app, reference).state.value == {"refuse": "refused", "withdraw": "withdrawn"}[action]


def test_archiving_asks_first(app, client, users):
    reference = new_case(app)
    login(client, Role.STAFF)
    saved(act(client, reference, "withdraw", how="Letter"), reference)
    values = read_form(page(client, reference)).values
    response = client.post(f"/cases/{reference}/act/close", data={
        "close-version": values["close-version"][0], "close-last_event": values["close-last_event"][0]})
    title, body, _fields = confirmation(response)
    assert title == f"Archive {reference}?"
    assert "stays readable, with its history, but nothing can be changed on it" in body
    assert case_row(app, reference).state is CaseState.WITHDRAWN


def test_refusing_as_excessive_links_the_earlier_request_from_the_panel(app, client, users):
    """Issue 14, item 10: the panel offers the person's earlier requests; excessive needs one, within a year."""
    old, recent, current = _same_person_cases(app, date(2025, 8, 1), date(2026, 10, 2), date(2026, 11, 20))
    login(client, Role.PRIVACY_MANAGER)
    panel = page(client, current)
    for ref in (old, recent):
        assert f'name="refuse-repeats" value="{ref}"' in panel
    missing = act(client, current, "refuse", ground="excessive", justification="Third request")
    assert missing.status_code == 400
    assert "needs the earlier request or requests this one repeats" in text_of(missing.get_data(as_text=True))
    too_old = act(client, current, "refuse", ground="excessive", justification="Third request", repeats=[old])
    assert too_old.status_code == 409 and "more than a year before this one" in text_of(too_old.get_data(as_text=True))
    assert case_row(app, current).state is CaseState.RECEIVED
    saved(act(client, current, "refuse", ground="excessive", justification="Third request", repeats=[old, recent]),
          current)
    with app.app_context():
        assert [c.reference for c in lifecycle.repeated_requests(_case(current))] == [old, recent]
