"""Objection on the case page and the suppression check API (issue 4, item 8), through the Flask client.

Roles: the auditor changes nothing (403); staff may stop direct marketing at once and record an objection;
only the privacy manager decides one. Bad input is a 400 with the reason and nothing written; CSRF is
enforced as in production. On SQLite and PostgreSQL, the clock frozen on 26 November 2026 (the day the demo
systems were generated for; a copy per test, since stopping marketing changes it).
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from dsr.auth.models import User
from dsr.auth.operations import issue_api_token
from dsr.domain.enums import Right, Role
from dsr.extensions import db
from dsr.fulfilment.models import Lookup
from dsr.objection.models import MarketingStop, ObjectionDecision
from dsr.suppression.models import SuppressionEntry
from tests.conftest import NOW, TODAY
from tests.factories import make_user
from tests.harmony_support import customer_with_everything, demo_systems, private_copy, rows, subject_of
from tests.web.support import (
    card_of,
    case_page,
    flashes,
    form_actions,
    frozen_clock,
    new_case,
    signed_in,
    text_of,
)

CALLS = "harmony_contact_centre/call_recordings"


@pytest.fixture
def app(backend_app):
    return backend_app


@pytest.fixture(autouse=True)
def _frozen_clock():
    yield from frozen_clock()


@pytest.fixture(scope="module")
def harmony(tmp_path_factory) -> str:
    return demo_systems(tmp_path_factory, TODAY)


@pytest.fixture
def systems(app, harmony, tmp_path, monkeypatch) -> str:
    monkeypatch.setitem(app.config, "DEMO_SYSTEMS_URL", url := private_copy(harmony, tmp_path))
    return url


@pytest.fixture
def customer(systems) -> dict:
    return customer_with_everything(systems)


def make_reference(app, customer, rights=(Right.OBJECTION,)) -> str:
    return new_case(app, rights=rights, **subject_of(customer))


def card(html: str) -> str:
    return card_of(html, "objection")


def forms_in(html: str) -> set[str]:
    return form_actions(html, "objection")


def post(client, reference: str, action: str, **fields):
    return client.post(f"/cases/{reference}/objection/{action}",
                       data={f"objection_{action}-{k}": v for k, v in fields.items()})


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def confirmed(app, client, reference: str) -> None:
    client.post(f"/cases/{reference}/data/lookup")
    with app.app_context():
        lookup_id = db.session.execute(sa.select(Lookup.id).order_by(Lookup.id.desc())).scalars().first()
    assert client.post(f"/cases/{reference}/data/confirm", data={"data_confirm-lookup_id": lookup_id}).status_code == 302


# -- direct marketing --------------------------------------------------------------------------------------

def test_staff_stop_direct_marketing_from_the_case_page_at_once(app, systems, customer):
    reference = make_reference(app, customer)
    staff = signed_in(app, Role.STAFF)
    html = card(case_page(staff, reference))
    assert "stop" in forms_in(html) and "not on the suppression list" in text_of(html)
    assert "No confirmed search" in html
    confirmed(app, staff, reference)
    subs = rows(systems, "SELECT id FROM marketing_subscriptions WHERE customer_id = :c", c=customer["id"])

    response = post(staff, reference, "stop")
    assert response.status_code == 302 and response.location.endswith("#objection")
    html = case_page(staff, reference)
    assert any(cat == "success" and "Direct marketing stopped" in text for cat, text in flashes(html))
    block = card(html)
    assert "on the suppression list" in text_of(block) and "not on the suppression list" not in text_of(block)
    assert block.count("row deleted") == len(subs)
    for s in subs:
        assert f"id={s['id']}" in block
    assert customer["email"] not in block  # references only, no values
    assert "stop" not in forms_in(block)  # nothing left to stop until a new search is confirmed
    assert not rows(systems, "SELECT id FROM marketing_subscriptions WHERE customer_id = :c", c=customer["id"])
    audit = signed_in(app, Role.AUDITOR).get(f"/cases/{reference}/audit").get_data(as_text=True)
    assert "Direct marketing stopped; person on the suppression list" in audit


def test_the_auditor_sees_the_card_but_may_not_act(app, systems, customer):
    reference = make_reference(app, customer)
    auditor = signed_in(app, Role.AUDITOR)
    html = card(case_page(auditor, reference))
    assert 'id="direct-marketing"' in html and forms_in(html) == set()
    for action, fields in (("stop", {}), ("record", {"processing": CALLS, "subject_grounds": "x"}),
                           ("decide", {"objection_id": 1, "outcome": "upheld", "reasons": "x", "effect": "stop"})):
        assert post(auditor, reference, action, **fields).status_code == 403
    assert count(app, SuppressionEntry) == 0 and count(app, ObjectionDecision) == 0


def test_no_card_on_a_case_without_the_right_to_object(app, systems, customer):
    reference = make_reference(app, customer, rights=(Right.ACCESS,))
    staff = signed_in(app, Role.STAFF)
    assert 'id="objection"' not in case_page(staff, reference)
    response = post(staff, reference, "stop")
    assert response.status_code == 409 and "does not invoke the right to object" in response.get_data(as_text=True)
    assert count(app, MarketingStop) == 0 and count(app, SuppressionEntry) == 0


def test_unknown_action_and_case_are_404_and_get_goes_back(app, systems, customer):
    reference = make_reference(app, customer)
    staff = signed_in(app, Role.STAFF)
    assert post(staff, reference, "nonsense").status_code == 404
    assert post(staff, "DSR-2026-99999", "stop").status_code == 404
    response = staff.get(f"/cases/{reference}/objection/stop")
    assert response.status_code == 302 and response.location.endswith("#objection")


# -- other objections: staff record, the manager decides ---------------------------------------------------

def test_staff_record_an_objection_and_only_the_manager_decides_it(app, systems, customer):
    reference = make_reference(app, customer)
    staff = signed_in(app, Role.STAFF)
    html = card(case_page(staff, reference))
    assert "record" in forms_in(html) and "decide" not in forms_in(html)
    assert f'value="{CALLS}"' in html and 'value="harmony_policy_admin/customers"' not in html

    response = post(staff, reference, "record", processing=CALLS,
                    subject_grounds="<b>I was recorded</b> while talking about my illness.")
    assert response.status_code == 302
    html = card(case_page(staff, reference))
    assert "awaiting decision" in html and "&lt;b&gt;I was recorded&lt;/b&gt;" in html
    assert "decide" not in forms_in(html)
    with app.app_context():
        objection_id = db.session.execute(sa.select(ObjectionDecision.id)).scalar_one()
    decision = {"objection_id": objection_id, "outcome": "upheld", "effect": "stop",
                "reasons": "Training can do without these calls."}
    assert post(staff, reference, "decide", **decision).status_code == 403

    manager = signed_in(app, Role.PRIVACY_MANAGER)
    assert "decide" in forms_in(card(case_page(manager, reference)))
    assert post(manager, reference, "decide", **decision).status_code == 302
    html = case_page(manager, reference)
    assert any("Objection upheld" in text for _cat, text in flashes(html))
    block = card(html)
    assert "upheld" in text_of(block) and "Training can do without these calls." in block
    assert "decide" not in forms_in(block)
    assert "Objection upheld: stop this processing" in html  # the task for the assignee
    audit = manager.get(f"/cases/{reference}/audit").get_data(as_text=True)
    assert "Objection recorded (Art. 21(1))" in audit and "Objection decided after balancing" in audit


def test_bad_input_is_a_400_naming_the_problem_and_writes_nothing(app, systems, customer):
    reference = make_reference(app, customer)
    staff = signed_in(app, Role.STAFF)
    response = post(staff, reference, "record", processing="harmony_policy_admin/customers",
                    subject_grounds="Because.")
    assert response.status_code == 400
    assert "only processing on legitimate interests or a public task" in response.get_data(as_text=True)
    response = post(staff, reference, "record", processing=CALLS, subject_grounds="")
    assert response.status_code == 400 and "Nothing was saved" in response.get_data(as_text=True)
    assert post(staff, reference, "record", processing=CALLS, subject_grounds="x" * 4001).status_code == 400
    assert count(app, ObjectionDecision) == 0

    assert post(staff, reference, "record", processing=CALLS, subject_grounds="My situation.").status_code == 302
    with app.app_context():
        objection_id = db.session.execute(sa.select(ObjectionDecision.id)).scalar_one()
    manager = signed_in(app, Role.PRIVACY_MANAGER)
    response = post(manager, reference, "decide", objection_id=objection_id, outcome="rejected",
                    reasons="We need it.", compelling_grounds="")
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "compelling legitimate grounds" in body
    assert "We need it." in body  # what was typed is kept
    assert post(manager, reference, "decide", objection_id=objection_id, outcome="maybe",
                reasons="x").status_code == 400
    assert post(manager, reference, "decide", objection_id=objection_id + 99, outcome="upheld", effect="stop",
                reasons="x").status_code == 400
    assert post(manager, reference, "decide", objection_id=objection_id, outcome="upheld", effect="",
                reasons="x").status_code == 400
    with app.app_context():
        assert db.session.get(ObjectionDecision, objection_id).is_pending


def test_forms_without_a_csrf_token_are_refused(app, systems, customer, monkeypatch):
    reference = make_reference(app, customer)
    staff = signed_in(app, Role.STAFF)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert post(staff, reference, "stop").status_code == 400
    assert post(staff, reference, "record", processing=CALLS, subject_grounds="x").status_code == 400
    assert count(app, SuppressionEntry) == 0 and count(app, ObjectionDecision) == 0
    html = case_page(staff, reference)
    token = re.search(r'name="objection_stop-csrf_token" value="([^"]+)"', html).group(1)
    assert post(staff, reference, "stop", csrf_token=token).status_code == 302
    assert count(app, SuppressionEntry) > 0
    # The API authenticates by bearer token, not cookies: no CSRF token there.
    response = app.test_client().post("/api/v1/suppression/check", json={"emails": [customer["email"]]},
                                      headers=api_token(app))
    assert response.status_code == 200 and response.json["suppressed"]["emails"] == [customer["email"]]


# -- the API for Harmony's marketing system ---------------------------------------------------------------

def api_token(app, role: Role = Role.STAFF) -> dict:
    with app.app_context():
        user = db.session.execute(sa.select(User).where(User.role == role)).scalars().first() or make_user(role)
        value = issue_api_token(user, actor=None, now=NOW)
        db.session.commit()
    return {"Authorization": f"Bearer {value}"}


def test_the_api_says_which_identifiers_are_suppressed(app, systems, customer):
    reference = make_reference(app, customer)
    assert post(signed_in(app, Role.STAFF), reference, "stop").status_code == 302
    client = app.test_client()
    body = {"emails": [f"  {customer['email'].upper()} ", "someone.else@example.org", "nonsense"],
            "customer_numbers": [customer["customer_number"], "HC0000000"]}
    assert client.post("/api/v1/suppression/check", json=body).status_code == 401
    response = client.post("/api/v1/suppression/check", json=body, headers=api_token(app, Role.AUDITOR))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json == {"suppressed": {"emails": [body["emails"][0]],
                                            "customer_numbers": [customer["customer_number"]], "phones": []},
                             "invalid": {"emails": ["nonsense"]}, "checked": 5}


@pytest.mark.parametrize(("body", "field"), [
    ([], "body"), ({"emails": "a@b.nl"}, "emails"), ({"emails": [1]}, "emails"), ({"names": ["x"]}, "names"),
    ({}, "body"), ({"emails": ["a@b.nl"] * 1001}, "body"),
])
def test_the_api_refuses_bad_bodies_with_the_field(app, systems, customer, body, field):
    make_reference(app, customer)
    response = app.test_client().post("/api/v1/suppression/check", json=body, headers=api_token(app))
    assert response.status_code == 400 and response.mimetype == "application/json"
    assert field in response.json["errors"]
