"""The API described (issue 17, acceptance 10): an OpenAPI 3.1 document at /api/v1/openapi.json that says
exactly which routes exist, and a schemathesis run against the test app: no 500, every answer as described.
"""

from __future__ import annotations

import re

import pytest
import schemathesis
import time_machine
from hypothesis import HealthCheck, Phase, given, settings
from jsonschema.validators import Draft202012Validator
from schemathesis import checks

from dsr.api.views import CASE_OPERATIONS
from dsr.auth.operations import issue_api_token
from dsr.domain.enums import Role
from dsr.extensions import db
from tests.conftest import NOW
from tests.factories import make_case, make_user


def _api_routes(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
            found.update((path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"})
    return found


def test_the_document_describes_exactly_the_routes(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.is_json
    doc = response.get_json()
    assert doc["openapi"] == "3.1.0"
    described = {(path, method) for path, item in doc["paths"].items() for method in item}
    assert described == _api_routes(app), "describe every /api/v1 route in dsr/api/openapi.py, and only those"
    operation = doc["paths"]["/api/v1/cases/{reference}/{operation}"]["post"]["parameters"][1]
    assert operation["schema"]["enum"] == list(CASE_OPERATIONS)
    for name, schema in doc["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema), name


@pytest.fixture(scope="module")
def fuzzed_app(_apps):
    """The suite's SQLite app with users, cases and a staff token, for the whole schemathesis run."""
    app = _apps("sqlite")
    with app.app_context(), time_machine.travel(NOW, tick=False):
        staff = make_user(Role.STAFF)
        make_user(Role.PRIVACY_MANAGER)
        for _ in range(3):
            make_case(actor=staff)
        token = issue_api_token(staff, actor=None, now=NOW, name="schemathesis")
        db.session.commit()
    app.config["SCHEMATHESIS_TOKEN"] = token
    yield app
    from tests.conftest import _wipe

    _wipe(app)
    app.config.pop("SCHEMATHESIS_TOKEN", None)


EXAMPLES_PER_OPERATION = 30
# No 5xx, and every answer as the document says (status, content type, body, headers). Whether a
# schema-valid request passes dsr's rules (an address or an e-mail, a legal transition) is the domain's
# business, not the schema's: positive_data_acceptance is left out.
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance]


def test_the_api_never_fails_and_answers_as_described(fuzzed_app):
    """For every operation of the document, schemathesis makes requests from its schemas (valid and not)
    and checks each answer: no 5xx, a status the document lists, a body that matches its schema."""
    api = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzzed_app)
    headers = {"Authorization": f"Bearer {fuzzed_app.config['SCHEMATHESIS_TOKEN']}"}
    failures, ran = [], 0
    for result in api.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        def run(case):
            with time_machine.travel(NOW, tick=False):
                case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # every operation is tried; the report names each one that failed
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
        ran += 1
    assert ran >= 13  # every operation but the document itself
    assert not failures, "\n\n".join(failures)
