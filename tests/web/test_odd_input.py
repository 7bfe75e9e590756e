"""No 500 on odd input (issue 17, acceptance 9): integers too large for the database, NUL characters (which
PostgreSQL text cannot hold), lone surrogates and JSON nested thousands deep each get a 400 with a field
error, on SQLite and PostgreSQL, and nothing is stored."""

from __future__ import annotations

import json

import pytest
import time_machine

from dsr.auth.operations import issue_api_token
from dsr.domain.enums import Role
from dsr.extensions import db
from dsr.input_guard import json_depth
from tests.conftest import NOW
from tests.factories import login, make_case, make_user
from tests.web.support import intake_data, stored_counts

HUGE = str(2**63)  # one more than a BIGINT holds
CASE = {"rights": ["access"], "channel": "email", "received_on": "2026-11-25", "language": "en",
        "subject": {"name": "Jan Jansen", "email": "jan@example.nl"}}


@pytest.fixture
def app(backend_app):
    return backend_app


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def world(app):
    with app.app_context():
        staff = make_user(Role.STAFF)
        make_user(Role.PRIVACY_MANAGER)
        case = make_case(actor=staff)
        token = issue_api_token(staff, actor=None, now=NOW, name="t")
        db.session.commit()
        return {"reference": case.reference, "version": case.version,
                "auth": {"Authorization": f"Bearer {token}"}}


def _api_post(app, world, path, raw: str):
    return app.test_client().post(path, data=raw.encode("utf-8", "surrogatepass"), headers=world["auth"],
                                  content_type="application/json")


@pytest.mark.parametrize(("body", "field"), [
    ('{"subject": {"name": "Jan\\u0000Jansen", "email": "jan@example.nl"}}', "subject.name"),
    ('{"subject": {"name": "Jan \\ud800 Jansen", "email": "jan@example.nl"}}', "subject.name"),
    ('{"notes": "\\udfff"}', "notes"),
    ('{"rights": ["access", "\\u0000"]}', "rights[1]"),
    ('{"subject": {"name": "Jan", "age": 92233720368547758070}}', "subject.age"),
    ('{"\\u0000": 1}', "\\u0000"),
])
def test_the_api_answers_400_naming_the_field(app, world, body, field):
    merged = {**CASE, **json.loads(body)} if not body.startswith('{"\\u0000') else json.loads(body)
    raw = json.dumps(merged)  # keeps \\u escapes as escapes: the server parses them
    before = stored_counts(app)
    response = _api_post(app, world, "/api/v1/cases", raw)
    assert response.status_code == 400, response.data[:300]
    errors = response.get_json()["errors"]
    assert json.loads(f'"{field}"') in errors or field in errors, errors
    assert stored_counts(app) == before


def _raw(name: str, encoding: str) -> bytes:
    text = json.dumps({**CASE, "subject": {**CASE["subject"], "name": name}}, ensure_ascii=False)
    return text.encode(encoding, "surrogatepass")


@pytest.mark.parametrize(("raw", "problem"), [
    (_raw("Jan \ud800 Jansen", "utf-8"), "surrogate"),  # the surrogate's own bytes, no escape
    (_raw("Jan \udfff", "utf-8-sig"), "surrogate"),
    (_raw("Jan\u0000Jansen", "utf-16"), "NUL"),  # escaped by json.dumps: no b"\\u" among the bytes
    (_raw("Jan\u0000Jansen", "utf-16-le"), "NUL"),
    (_raw("Jan\u0000Jansen", "utf-32"), "NUL"),
    (json.dumps({**CASE, "n": 2**64}).encode("utf-16"), "large"),  # no run of 19 digit bytes
])
def test_bodies_read_in_every_encoding_the_parser_reads_are_checked(app, world, raw, problem):
    """The guard looks at a JSON body's parsed values only when its bytes could give one it refuses
    (dsr.input_guard._plainly_fine): a surrogate's UTF-8 bytes, and texts in UTF-16 and UTF-32 (whose NULs and
    digits the byte test cannot read) are walked and refused as before."""
    from dsr.input_guard import _plainly_fine

    assert not _plainly_fine(raw)
    before = stored_counts(app)
    response = app.test_client().post("/api/v1/cases", data=raw, headers=world["auth"],
                                      content_type="application/json")
    assert response.status_code == 400, response.data[:300]
    assert problem in json.dumps(response.get_json()), response.get_json()
    assert stored_counts(app) == before


def test_a_plain_body_is_not_walked(app, world, monkeypatch):
    from dsr import input_guard

    walked = []
    monkeypatch.setattr(input_guard, "_walk_json", lambda value, path: walked.append(value))
    response = _api_post(app, world, "/api/v1/cases", json.dumps(CASE))
    assert response.status_code == 201 and walked == []
    _api_post(app, world, "/api/v1/cases", json.dumps({**CASE, "notes": "caf\u00e9"}))
    assert len(walked) == 1


def test_json_nested_thousands_deep_is_a_400_not_a_crash(app, world):
    for raw in ("[" * 5000 + "]" * 5000, '{"a":' * 5000 + "1" + "}" * 5000):
        response = _api_post(app, world, "/api/v1/cases", raw)
        assert response.status_code == 400
        assert "nested more than" in response.get_json()["errors"]["body"][0]
    # Also where the body is read by another view.
    response = _api_post(app, world, "/api/v1/suppression/check", "[" * 3000 + "]" * 3000)
    assert response.status_code == 400
    # Brackets inside strings are text, not nesting.
    assert json_depth(b'{"notes": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\"]]]"}') == 1


def test_json_exactly_as_deep_as_allowed_is_read_and_one_level_deeper_is_not(app, world):
    """The brackets and braces are counted first: a text with more of them than the limit is walked, one with
    fewer cannot nest deeper; either way the answer is the walk's."""
    def nested(levels: int) -> str:
        subject = "[" * (levels - 1) + "]" * (levels - 1)
        return json.dumps({**CASE, "notes": "x"})[:-1] + f', "subject": {subject}}}'

    refused = _api_post(app, world, "/api/v1/cases", nested(33))
    assert refused.status_code == 400 and "nested more than" in refused.get_json()["errors"]["body"][0]
    read = _api_post(app, world, "/api/v1/cases", nested(32))  # read, and refused by the view's own checks
    assert read.status_code == 400 and "body" not in read.get_json()["errors"], read.get_json()
    # Many brackets, shallow: in a string, and side by side.
    wide = {**CASE, "notes": "[" * 40 + "{" * 40, "rights": ["access"] * 40}
    created = _api_post(app, world, "/api/v1/cases", json.dumps(wide))
    assert created.status_code == 201, created.get_json()


def test_a_too_large_integer_in_an_api_operation_is_a_400(app, world):
    raw = json.dumps({"expected_version": int(HUGE), "note": "x"})
    response = _api_post(app, world, f"/api/v1/cases/{world['reference']}/note", raw)
    assert response.status_code == 400
    assert "expected_version" in response.get_json()["errors"]


@pytest.mark.parametrize("query", [f"page={HUGE}", f"per_page={HUGE}", "q=a%00b", f"page=-{HUGE}"])
def test_odd_query_parameters_are_a_400(app, world, query):
    response = app.test_client().get(f"/api/v1/cases?{query}", headers=world["auth"])
    assert response.status_code == 400
    assert query.split("=")[0] in response.get_json()["errors"]
    client = app.test_client()
    login(client, Role.STAFF)
    page = client.get(f"/cases?{query}")
    assert page.status_code == 400
    assert query.split("=")[0] in page.get_data(as_text=True)


def test_form_posts_with_nul_or_a_huge_version_are_a_400_naming_the_field(app, world):
    client = app.test_client()
    login(client, Role.STAFF)
    before = stored_counts(app)
    # The intake form keeps what was typed and marks the field itself (tests/web/test_intake.py).
    response = client.post("/cases/new", data=intake_data(name="Jan\x00Jansen"))
    assert response.status_code == 400
    response = client.post(f"/cases/{world['reference']}/act/note", data={"note-version": "1",
                                                                          "note-body": "a\x00b"})
    assert response.status_code == 400 and "note-body: Contains a NUL character" in response.get_data(as_text=True)
    response = client.post(f"/cases/{world['reference']}/act/note",
                           data={"note-version": HUGE, "note-body": "hello"})
    assert response.status_code == 400 and "note-version: The number is too large" in response.get_data(as_text=True)
    response = client.post("/login", data={"email": "staff@harmony.test\x00", "password": "x"})
    assert response.status_code == 400
    assert stored_counts(app) == before


def test_a_long_run_of_digits_in_a_text_field_is_text(app, world):
    client = app.test_client()
    login(client, Role.STAFF)
    response = client.post("/cases/new", data=intake_data(notes="9" * 40))
    assert response.status_code == 302


@pytest.mark.parametrize("path", [f"/attachments/{HUGE}/download", f"/cases/DSR-2026-00001/letters/{HUGE}.pdf",
                                  f"/users/{HUGE}/active"])
def test_ids_in_urls_beyond_64_bits_are_not_found(app, world, path):
    client = app.test_client()
    login(client, Role.PRIVACY_MANAGER)
    method = "POST" if path.endswith("/active") else "GET"
    assert client.open(path, method=method).status_code == 404


@pytest.mark.parametrize(("content_type", "data", "parsed"), [
    ("application/json", json.dumps(CASE), False),
    ("text/plain", "note=a\x00b", False),
    ("application/x-www-form-urlencoded", "note=a%00b", True),
    ("multipart/form-data; boundary=b", '--b\r\nContent-Disposition: form-data; name="note"\r\n\r\na\x00b\r\n--b--\r\n',
     True),
])
def test_only_a_form_body_is_parsed_for_its_fields(app, content_type, data, parsed):
    """The guard reads ``request.form`` and ``request.files`` only for the bodies werkzeug parses into them:
    for any other the parser would find nothing (issue 15, item 3). A form's NUL is still refused."""
    from flask import request

    from dsr.input_guard import OddInput, check_request

    with app.test_request_context("/api/v1/cases", method="POST", data=data, content_type=content_type):
        if parsed:
            with pytest.raises(OddInput, match="NUL"):
                check_request()
        else:
            check_request()
        assert ("form" in request.__dict__) is parsed
