"""The JSON API under /api/v1 through the Flask test client (issue 2, item 8).

The clock is frozen at Thursday 26 November 2026, 10:00 UTC, so "today" and ``days_left`` are known.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from dsr.attachments.models import Attachment
from dsr.audit.models import AuditEvent
from dsr.auth.models import User
from dsr.auth.operations import issue_api_token, set_active
from dsr.cases.models import Case, CaseRight, ReferenceCounter
from dsr.domain.enums import CaseState, Right, Role
from dsr.extensions import db
from dsr.subjects.models import DataSubject
from tests.conftest import NOW
from tests.factories import make_case, make_user

MODELS = (Case, CaseRight, DataSubject, AuditEvent, Attachment, ReferenceCounter)


def valid_body() -> dict:
    return {
        "rights": ["erasure", "access"],
        "channel": "post",
        "received_on": "2026-11-20",
        "language": "en",
        "notes": "Handwritten <script>alert('x')</script> & signed",
        "subject": {
            "name": "Zoë Van den Broeck",
            "email": "zoe@example.nl",
            "date_of_birth": "1984-02-29",
            "address": "Coolsingel 40",
            "postcode": "3011AD",
            "city": "Rotterdam",
            "country": "NL",
            "phone": "010 123 4567",
            "customer_number": "HC1234567",
            "policy_number": "HP-555123",
        },
    }


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def token_for(app):
    """``token_for(role)``: a user with that role and a bearer token for them, made by the operations."""
    made: dict = {}

    def make(role: Role = Role.STAFF, email: str | None = None) -> str:
        key = (role, email)
        if key not in made:
            with app.app_context():
                user = make_user(role, email)
                made[key] = issue_api_token(user, actor=None, now=NOW)
                db.session.commit()
        return made[key]

    return make


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def staff_headers(token_for):
    return bearer(token_for(Role.STAFF))


def counts(app) -> dict:
    with app.app_context():
        return {m.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in MODELS}


def json_error(response, status: int) -> dict:
    """Every 4xx from the API is a JSON object, never an HTML page."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json", response.get_data(as_text=True)[:500]
    body = response.get_json()
    assert isinstance(body, dict)
    assert "<html" not in response.get_data(as_text=True).lower()
    return body


# -- POST /api/v1/cases ----------------------------------------------------------------------------------------------

def test_post_creates_a_case_and_answers_with_it(app, client, staff_headers):
    response = client.post("/api/v1/cases", json=valid_body(), headers=staff_headers)
    assert response.status_code == 201, response.get_json()
    case = response.get_json()
    assert case["reference"] == "DSR-2026-00001"
    assert case["state"] == "received"
    assert case["rights"] == ["access", "erasure"]
    assert (case["channel"], case["language"]) == ("post", "en")
    assert case["received_on"] == "2026-11-20"
    assert case["promised_on"] == "2026-12-18"
    assert case["legal_due_on"] == "2026-12-21"  # 20 December 2026 is a Sunday
    assert case["days_left"] == 25
    assert case["notes"] == "Handwritten <script>alert('x')</script> & signed"
    subject = case["subject"]
    assert subject["name"] == "Zoë Van den Broeck"
    assert subject["email"] == "zoe@example.nl"
    assert subject["date_of_birth"] == "1984-02-29"
    assert subject["postcode"] == "3011 AD"
    assert subject["phone"] == "+31101234567"
    assert (subject["customer_number"], subject["policy_number"]) == ("HC1234567", "HP-555123")
    assert response.headers["Location"].endswith("/api/v1/cases/DSR-2026-00001")
    assert response.headers["Cache-Control"] == "no-store"

    with app.app_context():
        stored = db.session.execute(sa.select(Case)).scalar_one()
        assert stored.created_by.email == "staff@harmony.test"
        assert stored.legal_due_on == date(2026, 12, 21)
        event = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "case.created")).scalar_one()
        assert event.actor_label == "staff@harmony.test" and event.case_id == stored.id


def test_location_points_at_the_case(client, staff_headers):
    created = client.post("/api/v1/cases", json=valid_body(), headers=staff_headers)
    fetched = client.get(created.headers["Location"], headers=staff_headers)
    assert fetched.status_code == 200
    assert fetched.get_json() == created.get_json()


def test_received_on_defaults_to_today(client, staff_headers):
    body = valid_body()
    del body["received_on"]
    case = client.post("/api/v1/cases", json=body, headers=staff_headers).get_json()
    assert case["received_on"] == "2026-11-26"
    assert case["promised_on"] == "2026-12-24"
    assert case["legal_due_on"] == "2026-12-28"  # 26 December is Boxing Day and a Saturday
    assert case["days_left"] == 32


def test_today_is_the_date_in_the_netherlands(client, staff_headers, time_machine):
    # 23:30 UTC on 26 November is already 27 November in Rotterdam: a letter stamped then arrived on the 27th.
    time_machine.move_to(datetime(2026, 11, 26, 23, 30, tzinfo=UTC), tick=False)
    body = valid_body()
    del body["received_on"]
    case = client.post("/api/v1/cases", json=body, headers=staff_headers).get_json()
    assert case["received_on"] == "2026-11-27"
    assert case["days_left"] == 31


def test_minimal_body_uses_the_defaults(client, staff_headers):
    response = client.post("/api/v1/cases", headers=staff_headers,
                           json={"rights": ["objection"], "subject": {"name": "Çelik", "email": "c@example.be"}})
    assert response.status_code == 201, response.get_json()
    case = response.get_json()
    assert (case["channel"], case["language"], case["received_on"]) == ("web", "nl", "2026-11-26")
    assert case["subject"]["name"] == "Çelik"


def test_a_manager_may_create(client, token_for):
    response = client.post("/api/v1/cases", json=valid_body(), headers=bearer(token_for(Role.PRIVACY_MANAGER)))
    assert response.status_code == 201


def _set(path: str, value):
    def change(body):
        target = body
        *parents, last = path.split(".")
        for p in parents:
            target = target[p]
        target[last] = value
    return change


def _drop(path: str):
    def change(body):
        target = body
        *parents, last = path.split(".")
        for p in parents:
            target = target[p]
        del target[last]
    return change


def _drop_reply_address(body):
    for key in ("email", "address", "city"):
        del body["subject"][key]


# (id, change to the valid body, the field that must be reported, whether it is the only one)
BAD_BODIES = [
    ("missing-rights", _drop("rights"), "rights", True),
    ("empty-rights", _set("rights", []), "rights", True),
    ("unknown-right", _set("rights", ["access", "deletion"]), "rights", True),
    ("rights-not-a-list", _set("rights", "access"), "rights", True),
    ("rights-not-strings", _set("rights", [15]), "rights", True),
    ("bad-channel", _set("channel", "fax"), "channel", True),
    ("bad-language", _set("language", "de"), "language", True),
    ("future-received_on", _set("received_on", "2026-11-27"), "received_on", True),
    ("malformed-received_on", _set("received_on", "20-11-2026"), "received_on", True),
    ("impossible-received_on", _set("received_on", "2026-02-30"), "received_on", True),
    ("received_on-before-gdpr", _set("received_on", "2018-05-24"), "received_on", True),
    ("received_on-not-a-string", _set("received_on", 20261120), "received_on", True),
    ("bad-email", _set("subject.email", "zoe@"), "subject.email", True),
    ("missing-name", _drop("subject.name"), "subject.name", True),
    ("blank-name", _set("subject.name", "   "), "subject.name", True),
    ("name-too-long", _set("subject.name", "x" * 201), "subject.name", True),
    ("name-not-a-string", _set("subject.name", ["Zoë"]), "subject.name", False),
    ("future-date-of-birth", _set("subject.date_of_birth", "2030-01-01"), "subject.date_of_birth", True),
    ("bad-phone", _set("subject.phone", "12"), "subject.phone", True),
    ("bad-imei", _set("subject.device_id", "490154203237519"), "subject.device_id", True),
    ("bad-postcode", _set("subject.postcode", "ABC"), "subject.postcode", True),
    ("no-reply-address", _drop_reply_address, "subject.address", True),
    ("subject-not-an-object", _set("subject", "Zoë"), "subject", False),
    ("missing-subject", _drop("subject"), "subject", False),
    ("unknown-field", _set("colour", "blue"), "colour", True),
    ("unknown-subject-field", _set("subject.bsn", "111222333"), "subject.bsn", True),
]


@pytest.mark.parametrize(("change", "field", "only"), [b[1:] for b in BAD_BODIES], ids=[b[0] for b in BAD_BODIES])
def test_invalid_body_is_400_with_the_field_and_leaves_nothing_behind(app, client, staff_headers, change, field,
                                                                      only):
    before = counts(app)
    body = copy.deepcopy(valid_body())
    change(body)
    errors = json_error(client.post("/api/v1/cases", json=body, headers=staff_headers), 400)["errors"]
    assert isinstance(errors, dict)
    assert errors.get(field), errors
    assert all(isinstance(m, str) and m for messages in errors.values() for m in messages)
    if only:
        assert set(errors) == {field}, errors
    assert counts(app) == before


def _without_numbers(value):
    """An answer without what differs between two creations by nature (references, ids, addresses)."""
    if isinstance(value, dict):
        return {k: _without_numbers(v) for k, v in value.items() if k not in ("reference", "id", "subject_id")}
    if isinstance(value, list):
        return [_without_numbers(v) for v in value]
    return value


def _intake_bodies() -> list[tuple[dict, str]]:
    """Good and bad bodies in three languages, with every optional field given, empty and absent."""
    def minimal(body):
        body["subject"] = {"name": "Jan", "email": "jan@example.nl"}

    bodies = [(valid_body(), "nl")]
    for _name, change, _field, _only in BAD_BODIES:
        body = copy.deepcopy(valid_body())
        change(body)
        bodies.append((body, "en"))
        bodies.append((valid_body(), "nl"))
    for change in (minimal, _set("subject.country", "XX"), _set("subject.country", "BE"), _drop("received_on"),
                   _set("subject.title", "xx"), _set("subject.title", ""), _set("subject.date_of_birth", ""),
                   _set("subject.phone", ""), _set("subject.email", ""), _set("notes", ""),
                   _set("subject.date_of_birth", "1990-02-30"), _set("subject.postcode", "1234"),
                   _set("subject", {"name": "Jan", "address": "Kerkstraat 1", "city": "Utrecht"}),
                   _set("subject", {"name": "Jan", "title": "mr", "date_of_birth": "1980-01-02",
                                    "email": "Jan@Example.NL", "phone": "06 1234 5678", "postcode": "3511nk",
                                    "customer_number": "K-1", "policy_number": "P/2", "device_id": "AB-1234",
                                    "address": "Kerkstraat 1", "city": "Utrecht", "country": "NL"})):
        for language in ("fr", "nl", "en"):
            body = copy.deepcopy(valid_body())
            change(body)
            bodies.append((body, language))
    return bodies


def test_the_kept_intake_form_answers_as_a_new_form_would(client, staff_headers, monkeypatch):
    """The API binds its intake form once per thread and processes it again for each request, leaving alone
    the fields a body does not give whose checks start with ``Optional()`` (dsr.cases.forms.api_intake_form):
    every answer, in a run of good and bad bodies in three languages, is what a new form processed and
    validated in full gives."""
    from dsr.api import views
    from dsr.cases import forms

    bodies = _intake_bodies()

    def answers() -> list:
        made = []
        for body, language in bodies:
            response = client.post("/api/v1/cases", json=body, headers={**staff_headers, "Accept-Language": language})
            made.append((response.status_code, _without_numbers(response.get_json())))
        return made

    kept = answers()
    assert sum(status == 201 for status, _ in kept) > len(BAD_BODIES)
    kept_form = forms._kept.form[1]
    assert set(forms._kept.form[2]) >= {"date_of_birth", "title", "address", "phone", "notes"}
    full = []
    monkeypatch.setattr(views, "api_intake_form", lambda data: full.append(
        forms.ApiIntakeForm(formdata=data, meta={"csrf": False})) or full[-1])
    assert answers() == kept
    assert len(full) == len(bodies) and all(form._checked is None for form in full)
    assert kept_form not in full


def test_the_fields_left_alone_are_those_optional_without_input(app):
    """Which fields the API's form leaves alone when a body does not give them, and what they then hold: what
    processing gives them."""
    from dsr.cases.forms import ApiIntakeForm, _left_alone

    with app.test_request_context():
        form = ApiIntakeForm(formdata=MultiDict(), meta={"csrf": False})
        left = _left_alone(form)
        assert set(left) == {"date_of_birth", "title", "address", "postcode", "city", "country", "email", "phone",
                             "customer_number", "policy_number", "device_id", "notes"}
        for name, absent in left.items():
            assert (absent.data, absent.object_data) == (form[name].data, form[name].object_data)
        # Checked whatever the body gives: no Optional() first.
        assert not {"name", "rights", "channel", "received_on", "language"} & set(left)


def test_unknown_right_names_the_allowed_ones(client, staff_headers):
    body = valid_body()
    body["rights"] = ["deletion"]
    [message] = json_error(client.post("/api/v1/cases", json=body, headers=staff_headers), 400)["errors"]["rights"]
    for right in Right:
        assert right.value in message


@pytest.mark.parametrize("payload", [
    {"json": ["rights", "access"]},
    {"json": "a string"},
    {"json": 42},
    {"data": "null", "content_type": "application/json"},
    {"data": "{\"rights\": [\"access\"", "content_type": "application/json"},
    {"data": "rights=access&name=Zo%C3%AB", "content_type": "application/x-www-form-urlencoded"},
    {"data": json.dumps(valid_body()), "content_type": "text/plain"},
    {},
], ids=["list", "string", "number", "null", "truncated-json", "form-encoded", "json-as-text-plain", "empty"])
def test_a_body_that_is_not_a_json_object_is_400(app, client, staff_headers, payload):
    before = counts(app)
    body = json_error(client.post("/api/v1/cases", headers=staff_headers, **payload), 400)
    assert body["errors"]["body"]
    assert counts(app) == before


def test_an_oversized_body_is_413_json(app, client, staff_headers):
    body = valid_body()
    body["notes"] = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1024)
    before = counts(app)
    json_error(client.post("/api/v1/cases", json=body, headers=staff_headers), 413)
    assert counts(app) == before


# -- authentication and roles ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": ""},
    {"Authorization": "Bearer"},
    {"Authorization": "Bearer   "},
    {"Authorization": "Basic c3RhZmY6cGFzc3dvcmQ="},
    {"Authorization": "Token dsr_abc"},
    {"Authorization": "Bearer dsr_not-a-token-anyone-was-given"},
], ids=["none", "empty", "scheme-only", "blank-token", "basic", "other-scheme", "wrong-token"])
@pytest.mark.parametrize(("method", "path"), [
    ("get", "/api/v1/cases"), ("get", "/api/v1/cases/DSR-2026-00001"), ("post", "/api/v1/cases"),
])
def test_missing_malformed_or_wrong_token_is_401(app, client, token_for, headers, method, path):
    token_for(Role.STAFF)  # a valid token exists, it is just not the one sent
    before = counts(app)
    response = getattr(client, method)(path, headers=headers, json=valid_body() if method == "post" else None)
    body = json_error(response, 401)
    assert body["error"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert counts(app) == before


def test_the_scheme_is_case_insensitive(client, token_for):
    assert client.get("/api/v1/cases", headers={"Authorization": f"bearer {token_for()}"}).status_code == 200


def test_a_deactivated_users_token_is_401(app, client, token_for):
    token = token_for(Role.STAFF)
    assert client.get("/api/v1/cases", headers=bearer(token)).status_code == 200
    with app.app_context():
        manager = make_user(Role.PRIVACY_MANAGER)
        staff = db.session.execute(sa.select(User).where(User.role == Role.STAFF)).scalar_one()
        set_active(staff, False, actor=manager, now=NOW)
        db.session.commit()
    json_error(client.get("/api/v1/cases", headers=bearer(token)), 401)
    json_error(client.post("/api/v1/cases", json=valid_body(), headers=bearer(token)), 401)


def test_the_auditor_may_read_but_not_create(app, client, token_for, staff_headers):
    created = client.post("/api/v1/cases", json=valid_body(), headers=staff_headers).get_json()
    auditor = bearer(token_for(Role.AUDITOR))
    before = counts(app)
    body = json_error(client.post("/api/v1/cases", json=valid_body(), headers=auditor), 403)
    assert body["error"]
    assert counts(app) == before
    assert client.get("/api/v1/cases", headers=auditor).get_json()["total"] == 1
    assert client.get(f"/api/v1/cases/{created['reference']}", headers=auditor).get_json() == created


def test_the_auditor_is_refused_even_an_invalid_body(client, token_for):
    """The role check comes first: an auditor learns nothing about validation."""
    json_error(client.post("/api/v1/cases", json={"colour": "blue"}, headers=bearer(token_for(Role.AUDITOR))), 403)


# -- 404 and 405 ------------------------------------------------------------------------------------------------------

def test_unknown_reference_is_404_json(client, staff_headers):
    body = json_error(client.get("/api/v1/cases/DSR-2026-99999", headers=staff_headers), 404)
    assert "DSR-2026-99999" in body["error"]


@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/v1/cases/DSR-2026-00001/no/such/thing", "/api/v2/cases"])
def test_unknown_api_path_is_404_json(client, staff_headers, path):
    json_error(client.get(path, headers=staff_headers), 404)


@pytest.mark.parametrize(("method", "path"), [
    ("put", "/api/v1/cases"), ("delete", "/api/v1/cases"), ("patch", "/api/v1/cases"),
    ("post", "/api/v1/cases/DSR-2026-00001"), ("delete", "/api/v1/cases/DSR-2026-00001"),
])
def test_wrong_method_is_405_json(client, staff_headers, method, path):
    body = json_error(getattr(client, method)(path, headers=staff_headers), 405)
    assert body["error"]


def test_405_says_which_methods_are_allowed(client, staff_headers):
    """RFC 9110 §15.5.6: a 405 response MUST carry an Allow header; the JSON error must keep it."""
    response = client.delete("/api/v1/cases", headers=staff_headers)
    assert response.status_code == 405
    assert {"GET", "POST"} <= {m.strip() for m in response.headers.get("Allow", "").split(",")}


# -- GET /api/v1/cases -------------------------------------------------------------------------------------------------

@pytest.fixture
def queue(app):
    """Five cases; today is 26 November 2026."""
    with app.app_context():
        staff = make_user(Role.STAFF, "writer@harmony.test")
        made = {
            # legal deadline 1 October: overdue
            "overdue": make_case(actor=staff, received_on=date(2026, 9, 1), rights=[Right.ERASURE]),
            # 27 October + 1 month = Friday 27 November: due tomorrow
            "due_soon": make_case(actor=staff, received_on=date(2026, 10, 27), rights=[Right.ACCESS],
                                  name="Jan Jansen", email="jan@example.nl", customer_number="HC7654321"),
            "on_track": make_case(actor=staff, received_on=date(2026, 11, 20), rights=[Right.ACCESS, Right.OBJECTION],
                                  name="Çelik Yılmaz", customer_number="HC.555/001"),
            # legal deadline Thursday 10 December: 14 days left
            "in_progress": make_case(actor=staff, received_on=date(2026, 11, 10), rights=[Right.PORTABILITY]),
            # closed long ago: past its deadline, but not overdue
            "closed": make_case(actor=staff, received_on=date(2026, 8, 3), rights=[Right.ERASURE]),
        }
        made["in_progress"].state = CaseState.IN_PROGRESS
        # CLOSED, which implies only closed_at: later states (completed, refused) carry decisions of their own.
        made["closed"].state = CaseState.CLOSED
        made["closed"].closed_at = NOW
        db.session.commit()
        return {name: case.reference for name, case in made.items()}


def _list(client, headers, **args) -> dict:
    response = client.get("/api/v1/cases", query_string=args, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _refs(page: dict) -> list[str]:
    return [c["reference"] for c in page["cases"]]


def test_list_open_cases_sorted_by_legal_deadline(client, staff_headers, queue):
    page = _list(client, staff_headers, state="open")
    assert page["total"] == 4
    assert _refs(page) == [queue["overdue"], queue["due_soon"], queue["in_progress"], queue["on_track"]]
    assert [c["legal_due_on"] for c in page["cases"]] == sorted(c["legal_due_on"] for c in page["cases"])
    first = page["cases"][0]
    for key in ("reference", "state", "rights", "channel", "language", "received_on", "promised_on",
                "legal_due_on", "days_left", "subject"):
        assert key in first


@pytest.mark.parametrize(("args", "expected"), [
    ({"state": "in_progress"}, ["in_progress"]),
    ({"state": "closed"}, ["closed"]),
    ({"state": "completed"}, []),
    ({"state": "received"}, ["overdue", "due_soon", "on_track"]),
    ({"state": "open"}, ["overdue", "due_soon", "in_progress", "on_track"]),
    ({"overdue": "true"}, ["overdue"]),
    ({"overdue": "false", "state": "open"}, ["overdue", "due_soon", "in_progress", "on_track"]),
    ({"right": "erasure", "state": "open"}, ["overdue"]),
    ({"right": "erasure", "state": "closed"}, ["closed"]),
    ({"overdue": "true", "state": "closed"}, []),
    ({"right": "objection"}, ["on_track"]),
    ({"right": "rectification"}, []),
    ({"due_within": "7"}, ["due_soon"]),
    ({"due_within": "30"}, ["due_soon", "in_progress", "on_track"]),
    ({"state": "received", "right": "access"}, ["due_soon", "on_track"]),
    ({"overdue": "true", "right": "access"}, []),
    ({"q": "jan jansen"}, ["due_soon"]),
    ({"q": "celik"}, ["on_track"]),
    ({"q": "HC7654321"}, ["due_soon"]),
    ({"q": "hc 765-4321"}, ["due_soon"]),
    ({"q": "nobody at all"}, []),
], ids=lambda v: json.dumps(v) if isinstance(v, dict) else None)
def test_list_filters(client, staff_headers, queue, args, expected):
    assert _refs(_list(client, staff_headers, **args)) == [queue[name] for name in expected]


def test_overdue_filter_leaves_out_a_case_whose_clock_stopped_before_its_deadline(app, client, staff_headers, queue):
    """A running pause holds the clock on the day it began: a case paused before its deadline is not overdue,
    though the deadline it had when the pause began is before today (the filter bounds its index scan by
    today as well: dsr.cases.queries)."""
    from dsr.cases.timing import request_information

    with app.app_context():
        staff = db.session.scalar(sa.select(User).where(User.email == "writer@harmony.test"))
        # received 1 October, legal deadline 2 November; asked for information on 5 October, still waiting
        case = make_case(actor=staff, received_on=date(2026, 10, 1), rights=[Right.ACCESS])
        request_information(case, reason="A copy of the policy", requested_on=date(2026, 10, 5), actor=staff,
                            now=NOW, today=NOW.date())
        db.session.commit()
        paused, due = case.reference, case.legal_due_on
    assert case.paused_since == date(2026, 10, 5) and due < NOW.date()
    assert _refs(_list(client, staff_headers, overdue="true")) == [queue["overdue"]]
    assert paused in _refs(_list(client, staff_headers, state="open"))


def test_list_search_by_reference(client, staff_headers, queue):
    assert _refs(_list(client, staff_headers, q=queue["in_progress"])) == [queue["in_progress"]]
    assert _refs(_list(client, staff_headers, q=queue["in_progress"].lower())) == [queue["in_progress"]]


def test_list_search_by_customer_number_as_it_was_typed(client, staff_headers, queue):
    """Intake accepts dots and slashes in a customer number, so the queue must find it as typed."""
    assert _refs(_list(client, staff_headers, q="HC.555/001")) == [queue["on_track"]]


def test_list_days_left_and_status(client, staff_headers, queue):
    cases = {c["reference"]: c for c in _list(client, staff_headers)["cases"]}
    overdue, soon, track = cases[queue["overdue"]], cases[queue["due_soon"]], cases[queue["on_track"]]
    assert (overdue["legal_due_on"], overdue["days_left"], overdue["deadline_status"]) == ("2026-10-01", -56,
                                                                                          "overdue")
    assert (soon["legal_due_on"], soon["days_left"], soon["deadline_status"]) == ("2026-11-27", 1, "due_soon")
    assert (track["days_left"], track["deadline_status"]) == (25, "on_track")


def test_list_paginates(client, staff_headers, queue):
    first = _list(client, staff_headers, state="open", per_page=3)
    second = _list(client, staff_headers, state="open", per_page=3, page=2)
    assert (first["total"], first["pages"], first["per_page"], first["page"]) == (4, 2, 3, 1)
    assert len(first["cases"]) == 3 and second["page"] == 2
    assert _refs(first) + _refs(second) == _refs(_list(client, staff_headers, state="open"))
    assert _list(client, staff_headers, state="open", per_page=3, page=9)["cases"] == []


@pytest.mark.parametrize(("args", "field"), [
    ({"state": "lost"}, "state"),
    ({"right": "deletion"}, "right"),
    ({"channel": "fax"}, "channel"),
    ({"due_within": "soon"}, "due_within"),
    ({"due_within": "-1"}, "due_within"),
    ({"page": "two"}, "page"),
    ({"per_page": "all"}, "per_page"),
])
def test_list_bad_filter_is_400_naming_the_parameter(client, staff_headers, args, field):
    body = json_error(client.get("/api/v1/cases", query_string=args, headers=staff_headers), 400)
    assert body["errors"][field]


def test_get_one_case(client, staff_headers, queue):
    case = client.get(f"/api/v1/cases/{queue['due_soon']}", headers=staff_headers).get_json()
    assert case["reference"] == queue["due_soon"]
    assert case["subject"]["name"] == "Jan Jansen"
    assert case["rights"] == ["access"]
    assert case["received_on"] == "2026-10-27"
    assert date.fromisoformat(case["promised_on"]) == date(2026, 11, 24)


# -- the same API on PostgreSQL, which is stricter than SQLite about what a text column holds ----------------------

@pytest.fixture
def backend_post(backend_app):
    """POST /api/v1/cases as a staff user, on SQLite and on PostgreSQL."""
    with backend_app.app_context():
        token = issue_api_token(make_user(Role.STAFF), actor=None, now=NOW)
        db.session.commit()
    client = backend_app.test_client()

    def post(body):
        return client.post("/api/v1/cases", json=body, headers=bearer(token))

    return post


def test_post_on_each_backend(backend_app, backend_post):
    response = backend_post(valid_body())
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["legal_due_on"] == "2026-12-21"
    assert counts(backend_app)["cases"] == 1


@pytest.mark.parametrize(("path", "field"), [
    ("notes", "notes"),
    ("subject.address", "subject.address"),
    ("subject.city", "subject.city"),
    ("subject.name", "subject.name"),
], ids=["notes", "address", "city", "name"])
def test_a_nul_character_is_400_on_every_backend(backend_app, backend_post, path, field):
    """PostgreSQL cannot store NUL in text: the API must say so per field, not fail with a 500."""
    body = valid_body()
    _set(path, "Coolsingel\x0040")(body)
    before = counts(backend_app)
    errors = json_error(backend_post(body), 400)["errors"]
    assert errors.get(field), errors
    assert counts(backend_app) == before


def test_a_name_at_the_length_limit_is_stored_on_every_backend(backend_app, backend_post):
    """200 characters is the documented limit; the name's matching key must fit beside it ("ß" folds to "ss")."""
    body = valid_body()
    body["subject"]["name"] = ("Straßburger-Weiß " * 12)[:200]
    response = backend_post(body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["subject"]["name"] == body["subject"]["name"]


def test_a_restriction_request_is_logged_through_the_api_and_the_schema_names_it(client, staff_headers):
    """Issue 18, item 1: restriction (Art. 18) is a right the API takes, filters on and describes."""
    body = valid_body()
    body["rights"] = ["restriction", "rectification"]
    created = client.post("/api/v1/cases", json=body, headers=staff_headers)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["rights"] == ["rectification", "restriction"]
    listed = client.get("/api/v1/cases?right=restriction", headers=staff_headers).get_json()
    assert [c["reference"] for c in listed["cases"]] == [created.get_json()["reference"]]
    schema = client.get("/api/v1/openapi.json").get_json()
    assert "restriction" in str(schema)
