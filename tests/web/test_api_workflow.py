"""The workflow operations of API v1 (issue 3, item 10): ``POST /api/v1/cases/<reference>/<operation>``.

The clock is frozen on Thursday 26 November 2026 unless a test travels. Deadlines worked out by hand
(Regulation 1182/71 art. 3; 5 April 2026 is Easter Sunday, 6 April Easter Monday):

    received Thu 5 Mar 2026, no pause     promise Thu 2 Apr    legal Sun 5 Apr -> Tue 7 Apr 2026
      paused 6 -> 13 Mar (7 days)         promise 2 Apr + 7 = Thu 9 Apr
                                          legal 5 Apr + 7 = Sun 12 Apr -> Mon 13 Apr 2026
    received Fri 20 Nov 2026              promise Fri 18 Dec   legal Sun 20 Dec -> Mon 21 Dec 2026
                                          extended Sat 20 Feb 2027 -> Mon 22 Feb 2027
      paused 26 -> 30 Nov (4 days)        promise Tue 22 Dec   legal Thu 24 Dec 2026
    received Mon 16 Nov 2026, paused 17 -> 24 Nov (7 days)
                                          legal Wed 23 Dec 2026; extended 16 Feb + 7 = Tue 23 Feb 2027
    received Mon 2 Nov 2026               ask by Mon 9 Nov; legal Wed 2 Dec 2026
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
import time_machine

from dsr.api.views import CASE_OPERATIONS
from dsr.audit.models import AuditEvent
from dsr.auth.models import User
from dsr.auth.operations import issue_api_token
from dsr.cases import lifecycle
from dsr.cases.models import Case, CasePause
from dsr.domain.enums import Role
from dsr.extensions import db
from tests.conftest import NOW
from tests.factories import make_case, make_user

MANAGER = "privacy_manager@harmony.test"
STAFF = "staff@harmony.test"
OTHER_STAFF = "other@harmony.test"
AUDITOR = "auditor@harmony.test"


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def auth(app) -> dict[str, dict]:
    """Bearer headers per user e-mail (the users and tokens made by the operations, then committed)."""
    headers = {}
    with app.app_context():
        for role, email in ((Role.PRIVACY_MANAGER, MANAGER), (Role.STAFF, STAFF), (Role.STAFF, OTHER_STAFF),
                            (Role.AUDITOR, AUDITOR)):
            user = make_user(role, email)
            headers[email] = {"Authorization": f"Bearer {issue_api_token(user, actor=None, now=NOW)}"}
        db.session.commit()
    return headers


def _user(email: str) -> User:
    return db.session.execute(sa.select(User).where(User.email == email)).scalar_one()


def _case(reference: str) -> Case:
    return db.session.execute(sa.select(Case).where(Case.reference == reference)).scalar_one()


def new_case(app, received_on: date = date(2026, 11, 20), key: str = "a") -> str:
    with app.app_context():
        return make_case(actor=_user(STAFF), received_on=received_on, name=f"Person {key}", email=f"{key}@example.nl",
                         customer_number=f"HC-{key}", policy_number=f"HP-{key}").reference


def advance(app, reference: str, *steps: str) -> None:
    with app.app_context():
        case = _case(reference)
        for step in steps:
            getattr(lifecycle, step)(case, actor=_user(STAFF), now=NOW)
        db.session.commit()


def op(client, auth, who: str, reference: str, operation: str, body: dict | None = None):
    return client.post(f"/api/v1/cases/{reference}/{operation}", json=body if body is not None else {},
                       headers=auth[who])


def ok(response) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)[:800]
    assert response.mimetype == "application/json"
    return response.get_json()


def error(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:800]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str)
    return body


def stored(app, reference: str) -> tuple[dict, int, int]:
    """The case's columns, its pause rows and all audit events: to show a refused call changed nothing."""
    with app.app_context():
        case = _case(reference)
        row = {attr.key: getattr(case, attr.key) for attr in sa.inspect(Case).column_attrs}
        pauses = db.session.scalar(sa.select(sa.func.count()).select_from(CasePause))
        events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
        db.session.remove()
    return row, pauses, events


def last_event(app, reference: str) -> tuple[str, str]:
    with app.app_context():
        event = db.session.execute(sa.select(AuditEvent).where(AuditEvent.case_id == _case(reference).id)
                                   .order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
        return event.action, event.actor_label


# -- assign ----------------------------------------------------------------------------------------------------------

def test_the_manager_assigns_by_email_and_unassigns(app, client, auth):
    reference = new_case(app)
    case = ok(op(client, auth, MANAGER, reference, "assign", {"assignee": "Staff@Harmony.test"}))
    assert case["assignee"] == STAFF
    assert case["reference"] == reference and case["state"] == "received"
    assert last_event(app, reference) == ("case.assigned", MANAGER)
    assert client.get(f"/api/v1/cases/{reference}", headers=auth[AUDITOR]).get_json()["assignee"] == STAFF
    assert ok(op(client, auth, MANAGER, reference, "assign", {"assignee": None}))["assignee"] is None


def test_staff_may_take_a_case_but_not_give_it_to_someone_else(app, client, auth):
    reference = new_case(app)
    before = stored(app, reference)
    body = error(op(client, auth, STAFF, reference, "assign", {"assignee": OTHER_STAFF}), 403)
    assert "only a privacy manager assigns it to others" in body["error"]
    assert stored(app, reference) == before
    assert ok(op(client, auth, STAFF, reference, "assign", {"assignee": STAFF}))["assignee"] == STAFF


@pytest.mark.parametrize(("assignee", "words"), [
    ("nobody@harmony.test", "No user with e-mail nobody@harmony.test"),
    (AUDITOR, "cannot be assigned cases"),
    (42, "e-mail address"),
])
def test_assigning_to_someone_who_cannot_take_cases_is_400(app, client, auth, assignee, words):
    reference = new_case(app)
    before = stored(app, reference)
    body = error(op(client, auth, MANAGER, reference, "assign", {"assignee": assignee}), 400)
    assert words in body["errors"]["assignee"][0]
    assert stored(app, reference) == before


# -- pause and resume ------------------------------------------------------------------------------------------------

def test_pause_and_resume_move_both_deadlines_by_the_paused_days(app, client, auth):
    reference = new_case(app, received_on=date(2026, 3, 5))
    case = client.get(f"/api/v1/cases/{reference}", headers=auth[STAFF]).get_json()
    assert (case["promised_on"], case["legal_due_on"], case["paused_days"]) == ("2026-04-02", "2026-04-07", 0)

    case = ok(op(client, auth, STAFF, reference, "pause",
                 {"reason": "Policy number unreadable", "requested_on": "2026-03-06"}))
    assert case["paused"] is True
    assert case["pauses"] == [{"reason": "Policy number unreadable", "requested_on": "2026-03-06",
                               "resumed_on": None, "counted": True}]

    case = ok(op(client, auth, STAFF, reference, "resume", {"received_on": "2026-03-13"}))
    assert case["paused"] is False
    assert case["paused_days"] == 7
    assert case["pauses"] == [{"reason": "Policy number unreadable", "requested_on": "2026-03-06",
                               "resumed_on": "2026-03-13", "counted": True}]
    # 5 Apr + 7 days = Sunday 12 April, rolled to Monday 13 April; the promise is 5 Mar + 28 + 7.
    assert case["legal_due_on"] == "2026-04-13"
    assert case["promised_on"] == "2026-04-09"
    assert case["late_pause_requests"] == 0
    assert (case["extended"], case["extended_due_on"]) == (False, None)
    with app.app_context():
        stored_case = _case(reference)
        assert (stored_case.legal_due_on, stored_case.promised_on) == (date(2026, 4, 13), date(2026, 4, 9))
    assert last_event(app, reference) == ("case.resumed", STAFF)


def test_pause_and_resume_default_to_today(app, client, auth):
    reference = new_case(app)
    case = ok(op(client, auth, STAFF, reference, "pause", {"reason": "Proof of address"}))
    assert case["pauses"][0]["requested_on"] == "2026-11-26"
    assert (case["paused"], case["paused_days"], case["legal_due_on"]) == (True, 0, "2026-12-21")
    assert last_event(app, reference) == ("case.paused", STAFF)

    with time_machine.travel(datetime(2026, 11, 30, 10, 0, tzinfo=UTC), tick=False):
        # A running pause moves the deadlines day by day.
        case = client.get(f"/api/v1/cases/{reference}", headers=auth[STAFF]).get_json()
        assert (case["paused_days"], case["legal_due_on"], case["promised_on"]) == (4, "2026-12-24", "2026-12-22")
        case = ok(op(client, auth, STAFF, reference, "resume"))
    assert case["pauses"][0]["resumed_on"] == "2026-11-30"
    assert (case["paused"], case["paused_days"]) == (False, 4)
    assert (case["legal_due_on"], case["promised_on"]) == ("2026-12-24", "2026-12-22")


def test_a_late_ask_is_recorded_but_does_not_pause(app, client, auth):
    reference = new_case(app, received_on=date(2026, 11, 2))
    case = ok(op(client, auth, STAFF, reference, "pause", {"reason": "Which policy", "requested_on": "2026-11-20"}))
    assert case["late_pause_requests"] == 1
    assert case["paused"] is False
    assert case["pauses"][0]["counted"] is False
    assert (case["paused_days"], case["legal_due_on"], case["promised_on"]) == (0, "2026-12-02", "2026-11-30")
    assert last_event(app, reference) == ("case.pause_requested_late", STAFF)
    case = ok(op(client, auth, STAFF, reference, "resume", {"received_on": "2026-11-25"}))
    assert (case["paused_days"], case["legal_due_on"]) == (0, "2026-12-02")


@pytest.mark.parametrize(("operation", "body", "field"), [
    ("pause", {"requested_on": "2026-11-23"}, "reason"),
    ("pause", {"reason": "ID", "requested_on": "23-11-2026"}, "requested_on"),
    ("pause", {"reason": "ID", "requested_on": "2026-11-27"}, "requested_on"),
    ("pause", {"reason": "ID", "requested_on": 20261123}, "requested_on"),
    ("resume", {"received_on": "2026-11-23"}, None),  # not paused: 409, see below
])
def test_bad_pause_input_is_400_naming_the_field(app, client, auth, operation, body, field):
    reference = new_case(app)
    before = stored(app, reference)
    response = op(client, auth, STAFF, reference, operation, body)
    if field is None:
        assert "is not waiting for information" in error(response, 409)["error"]
    else:
        assert field in error(response, 400)["errors"]
    assert stored(app, reference) == before


# -- extension -------------------------------------------------------------------------------------------------------

def test_the_manager_extends_once_and_records_the_notice(app, client, auth):
    reference = new_case(app)
    case = ok(op(client, auth, MANAGER, reference, "extend", {"reason": "Erasure across nine systems"}))
    assert case["extended"] is True
    assert case["extended_due_on"] == "2027-02-22"
    assert case["due_on"] == "2027-02-22"
    assert case["legal_due_on"] == "2026-12-21"
    assert case["extension_reason"] == "Erasure across nine systems"
    assert (case["extension_notice_due_on"], case["extension_notice_sent_on"]) == ("2026-12-21", None)
    assert last_event(app, reference) == ("case.extended", MANAGER)

    before = stored(app, reference)
    body = error(op(client, auth, MANAGER, reference, "extend", {"reason": "Still more work"}), 409)
    assert "already been extended" in body["error"] and "Art. 12(3)" in body["error"]
    assert body["state"] == "received"
    assert stored(app, reference) == before

    case = ok(op(client, auth, STAFF, reference, "extension-notice", {"sent_on": "2026-11-26"}))
    assert case["extension_notice_sent_on"] == "2026-11-26"
    assert last_event(app, reference) == ("case.extension_notice_sent", STAFF)
    assert "already recorded" in error(op(client, auth, STAFF, reference, "extension-notice"), 409)["error"]


def test_the_extended_deadline_includes_the_paused_days(app, client, auth):
    reference = new_case(app, received_on=date(2026, 11, 16))
    ok(op(client, auth, STAFF, reference, "pause", {"reason": "ID", "requested_on": "2026-11-17"}))
    ok(op(client, auth, STAFF, reference, "resume", {"received_on": "2026-11-24"}))
    case = ok(op(client, auth, MANAGER, reference, "extend", {"reason": "Complex"}))
    assert (case["paused_days"], case["legal_due_on"], case["extended_due_on"]) == (7, "2026-12-23", "2027-02-23")
    assert case["extension_notice_due_on"] == "2026-12-23"


@pytest.mark.parametrize(("moment", "status"), [
    pytest.param(datetime(2026, 12, 21, 10, 0, tzinfo=UTC), 200, id="on-the-original-deadline"),
    pytest.param(datetime(2026, 12, 22, 10, 0, tzinfo=UTC), 409, id="the-day-after"),
    # 23:30 UTC on 21 December is already 22 December in Amsterdam.
    pytest.param(datetime(2026, 12, 21, 23, 30, tzinfo=UTC), 409, id="after-midnight-in-amsterdam"),
])
def test_an_extension_after_the_original_deadline_is_409(app, client, auth, moment, status):
    reference = new_case(app)
    before = stored(app, reference)
    with time_machine.travel(moment, tick=False):
        response = op(client, auth, MANAGER, reference, "extend", {"reason": "Complex"})
    if status == 200:
        assert ok(response)["extended_due_on"] == "2027-02-22"
    else:
        body = error(response, 409)
        assert "Too late to extend: the original legal deadline was 21 Dec 2026" in body["error"]
        assert body["state"] == "received"
        assert stored(app, reference) == before


def test_an_extension_needs_a_reason(app, client, auth):
    reference = new_case(app)
    before = stored(app, reference)
    body = error(op(client, auth, MANAGER, reference, "extend", {"reason": "  "}), 400)
    assert "reason" in body["errors"]
    assert stored(app, reference) == before


@pytest.mark.parametrize("sent_on", ["2026-11-19", "2018-01-01"])
def test_an_extension_notice_cannot_have_been_sent_before_the_request_arrived(app, client, auth, sent_on):
    """The obligation is met by a notice that exists: one dated before the request arrived is a typing error."""
    reference = new_case(app)  # received 20 November 2026
    ok(op(client, auth, MANAGER, reference, "extend", {"reason": "Complex"}))
    before = stored(app, reference)
    body = error(op(client, auth, STAFF, reference, "extension-notice", {"sent_on": sent_on}), 400)
    assert "sent_on" in body["errors"]
    assert stored(app, reference) == before


def test_a_notice_without_an_extension_is_409(app, client, auth):
    reference = new_case(app)
    assert "has not been extended" in error(op(client, auth, STAFF, reference, "extension-notice"), 409)["error"]


# -- refusal and withdrawal ------------------------------------------------------------------------------------------

def test_the_manager_refuses_with_ground_and_justification(app, client, auth):
    reference = new_case(app)
    case = ok(op(client, auth, MANAGER, reference, "refuse",
                 {"ground": "manifestly_unfounded", "justification": "The letter asks for another person's data"}))
    assert case["state"] == "refused"
    assert case["refusal_ground"] == "manifestly_unfounded"
    assert case["decision"] == "The letter asks for another person's data"
    assert last_event(app, reference) == ("case.refuse", MANAGER)


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"ground": "rude", "justification": "x"}, "ground",
     "Not one of: manifestly_unfounded, excessive, identity_not_established."),
    ({"justification": "x"}, "ground", "Not one of"),
    ({"ground": "excessive"}, "justification", "written justification"),
    ({"ground": "excessive", "justification": 7}, "justification", "Must be a string"),
])
def test_a_refusal_with_a_bad_ground_or_no_justification_is_400(app, client, auth, body, field, words):
    reference = new_case(app)
    before = stored(app, reference)
    result = error(op(client, auth, MANAGER, reference, "refuse", body), 400)
    assert words in result["errors"][field][0]
    assert stored(app, reference) == before


def test_a_withdrawal_records_how(app, client, auth):
    reference = new_case(app)
    case = ok(op(client, auth, STAFF, reference, "withdraw", {"how": "E-mail of 25 November 2026"}))
    assert case["state"] == "withdrawn"
    assert case["withdrawal_how"] == "E-mail of 25 November 2026"
    assert last_event(app, reference) == ("case.withdraw", STAFF)


def test_information_arriving_after_the_case_was_closed_changes_nothing(app, client, auth):
    """A closed case is history: recording information received is refused like every other change."""
    reference = new_case(app)
    ok(op(client, auth, STAFF, reference, "pause", {"reason": "Proof of address", "requested_on": "2026-11-23"}))
    ok(op(client, auth, STAFF, reference, "withdraw", {"how": "Phone call"}))
    before = stored(app, reference)
    result = error(op(client, auth, STAFF, reference, "resume", {"received_on": "2026-11-26"}), 409)
    assert result["state"] == "withdrawn"
    assert stored(app, reference) == before


def test_a_withdrawal_without_how_is_400(app, client, auth):
    reference = new_case(app)
    assert "how" in error(op(client, auth, STAFF, reference, "withdraw", {}), 400)["errors"]


# -- the whole way, and what is refused -----------------------------------------------------------------------------

def test_a_case_walks_from_receipt_to_archive_through_the_api(app, client, auth):
    reference = new_case(app)
    assert ok(op(client, auth, STAFF, reference, "start-identity-check"))["state"] == "identity_check"
    case = ok(op(client, auth, STAFF, reference, "verify", {"method": "authenticated_channel", "outcome": "verified"}))
    assert case["state"] == "in_progress"
    assert ok(op(client, auth, STAFF, reference, "submit-for-approval"))["state"] == "awaiting_approval"
    case = ok(op(client, auth, MANAGER, reference, "complete", {"decision": "Access copy sent",
                                                                "override_reason": "Sent outside dsr"}))
    assert (case["state"], case["decision"]) == ("completed", "Access copy sent")
    assert ok(op(client, auth, STAFF, reference, "close"))["state"] == "closed"
    with app.app_context():
        actions = [(e.action, e.actor_label) for e in db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.case_id == _case(reference).id).order_by(AuditEvent.id)).scalars()]
    assert actions[1:] == [
        ("case.start_identity_check", STAFF), ("case.assigned", STAFF), ("identity.verified", STAFF),
        ("case.start_work", STAFF), ("case.submit_for_approval", STAFF), ("case.complete", MANAGER), ("case.close", STAFF)]


def test_a_verification_with_an_unknown_method_is_400(app, client, auth):
    reference = new_case(app)
    body = error(op(client, auth, STAFF, reference, "verify", {"method": "hunch", "outcome": "verified"}), 400)
    assert "method" in body["errors"]


@pytest.mark.parametrize(("who", "operation", "body", "steps", "state"), [
    (MANAGER, "complete", {"decision": "Done", "override_reason": "Outside dsr"}, (), "received"),
    (STAFF, "submit-for-approval", {}, (), "received"),
    (STAFF, "start-work", {}, ("start_work", "submit_for_approval"), "awaiting approval"),
    (STAFF, "close", {}, ("start_work",), "in progress"),
])
def test_an_illegal_transition_is_409_naming_the_state(app, client, auth, who, operation, body, steps, state):
    reference = new_case(app)
    advance(app, reference, *steps)
    before = stored(app, reference)
    result = error(op(client, auth, who, reference, operation, body), 409)
    assert f"in state '{state}'" in result["error"]
    assert result["state"] == state.replace(" ", "_")
    assert stored(app, reference) == before


@pytest.mark.parametrize(("operation", "body"), [
    ("pause", {"reason": "ID"}), ("assign", {"assignee": STAFF}), ("extend", {"reason": "Complex"}),
    ("withdraw", {"how": "letter"}),
])
def test_operations_on_a_refused_case_are_409(app, client, auth, operation, body):
    reference = new_case(app)
    ok(op(client, auth, MANAGER, reference, "refuse", {"ground": "manifestly_unfounded",
                                                       "justification": "Asks for data of his neighbour"}))
    before = stored(app, reference)
    result = error(op(client, auth, MANAGER, reference, operation, body), 409)
    assert result["state"] == "refused"
    assert "refused" in result["error"]
    assert stored(app, reference) == before


@pytest.mark.parametrize(("operation", "body", "steps"), [
    ("extend", {"reason": "Complex"}, ()),
    ("refuse", {"ground": "excessive", "justification": "Repetitive"}, ()),
    ("complete", {"decision": "Done"}, ("start_work", "submit_for_approval")),
])
def test_staff_may_not_take_manager_decisions_through_the_api(app, client, auth, operation, body, steps):
    reference = new_case(app)
    advance(app, reference, *steps)
    before = stored(app, reference)
    result = error(op(client, auth, STAFF, reference, operation, body), 403)
    assert "privacy manager" in result["error"]
    assert stored(app, reference) == before


AUDITOR_BODIES = {
    "assign": {"assignee": STAFF}, "pause": {"reason": "ID"}, "resume": {}, "extend": {"reason": "Complex"},
    "extension-notice": {}, "refuse": {"ground": "excessive", "justification": "x"}, "withdraw": {"how": "x"},
    "verify": {"method": "policy_records", "outcome": "verified"}, "start-identity-check": {}, "start-work": {},
    "submit-for-approval": {}, "complete": {"decision": "x"}, "close": {},
    "automated-decision": {"described": "x", "contest": True},
    "automated-review": {"reviewer": "x", "outcome": "upheld", "outcome_text": "x"},
}


def test_every_api_operation_is_listed_for_the_auditor_check():
    assert set(AUDITOR_BODIES) == set(CASE_OPERATIONS)


@pytest.mark.parametrize("operation", sorted(CASE_OPERATIONS))
def test_the_auditor_may_not_post_any_operation(app, client, auth, operation):
    reference = new_case(app)
    before = stored(app, reference)
    body = error(op(client, auth, AUDITOR, reference, operation, AUDITOR_BODIES[operation]), 403)
    assert body["role"] == "auditor"
    assert stored(app, reference) == before


def test_an_unknown_operation_is_404_json_listing_the_operations(app, client, auth):
    reference = new_case(app)
    body = error(op(client, auth, MANAGER, reference, "approve"), 404)
    assert "approve" in body["error"]
    assert body["operations"] == sorted(CASE_OPERATIONS)


def test_an_unknown_case_is_404_json(client, auth):
    body = error(op(client, auth, MANAGER, "DSR-2026-99999", "extend", {"reason": "Complex"}), 404)
    assert "DSR-2026-99999" in body["error"]


def test_an_operation_needs_a_token(app, client, auth):
    reference = new_case(app)
    response = client.post(f"/api/v1/cases/{reference}/withdraw", json={"how": "letter"})
    assert error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("payload", ["[1, 2]", '"withdraw"', "{not json"])
def test_a_body_that_is_not_a_json_object_is_400(app, client, auth, payload):
    reference = new_case(app)
    before = stored(app, reference)
    response = client.post(f"/api/v1/cases/{reference}/withdraw", data=payload, content_type="application/json",
                           headers=auth[STAFF])
    error(response, 400)
    assert stored(app, reference) == before


# -- automated decisions (Art. 22; issue 18, item 2) ------------------------------------------------------------

def test_an_art22_request_and_its_review_through_the_api(app, client, auth):
    from dsr.automated.models import AutomatedDecisionRequest
    from dsr.domain.enums import Right

    with app.app_context():
        reference = make_case(actor=_user(STAFF), rights=(Right.AUTOMATED_DECISION,)).reference
    advance(app, reference, "start_work")
    bad = error(op(client, auth, STAFF, reference, "automated-decision", {"described": "x", "contest": "yes"}), 400)
    assert bad["errors"] == {"contest": ["Must be true or false."]}
    unknown = error(op(client, auth, STAFF, reference, "automated-decision",
                       {"described": "x", "contest": True, "decision_id": "credit_score"}), 400)
    assert "decision_id" in unknown["errors"]
    early = error(op(client, auth, STAFF, reference, "automated-review",
                     {"reviewer": "M. de Vries", "outcome": "upheld", "outcome_text": "Stands."}), 409)
    assert "Record first" in early["error"]
    ok(op(client, auth, STAFF, reference, "automated-decision", {
        "described": "Claim refused by the website.", "decided_on": "2026-11-03", "human_intervention": True,
        "express_view": True, "subject_view": "It was the neighbour's pipe."}))
    refused = error(op(client, auth, STAFF, reference, "automated-review", {
        "reviewer": "M. de Vries", "reviewed_on": "2026-11-26", "outcome": "changed", "outcome_text": "Paid."}), 409)
    assert "considered" in refused["error"]
    ok(op(client, auth, MANAGER, reference, "automated-review", {
        "reviewer": "M. de Vries", "reviewed_on": "2026-11-26", "outcome": "changed", "outcome_text": "Paid.",
        "view_considered": True}))
    with app.app_context():
        stored_request = db.session.scalars(sa.select(AutomatedDecisionRequest)).one()
        assert (stored_request.decided_on, stored_request.outcome.value, stored_request.reviewer) == (
            date(2026, 11, 3), "changed", "M. de Vries")
    assert last_event(app, reference)[0] == "automated.review_recorded"
