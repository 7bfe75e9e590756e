"""The "Data in Harmony's systems" card and the records page through the web client (issue 4, items 3, 10):
staff find the data and judge the match, the privacy manager places and releases holds, the auditor reads
and changes nothing, and every form carries its CSRF token. On SQLite and PostgreSQL; the clock is frozen
on Thursday 26 November 2026, 10:00 UTC, the day the demo systems were generated for.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
import sqlalchemy as sa

from dsr.audit.models import AuditEvent
from dsr.auth.models import User
from dsr.domain.enums import Role
from dsr.extensions import db
from dsr.fulfilment.models import FoundRecord, LegalHold, Lookup
from dsr.tasks.models import CaseTask
from tests.conftest import TODAY
from tests.factories import make_case
from tests.harmony_support import (
    customer_with_everything,
    demo_systems,
    subject_of,
    values_that_must_not_be_stored,
)
from tests.web.support import case_page, field_errors, flashes, frozen_clock, new_case, signed_in, text_of

ACTIONS = ("lookup", "confirm", "reject", "hold", "release")


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
def customer(harmony) -> dict:
    return customer_with_everything(harmony)


@pytest.fixture
def reference(app, harmony, customer, monkeypatch) -> str:
    """A case for a real demo customer, logged by staff, with the sources pointing at the demo systems."""
    monkeypatch.setitem(app.config, "DEMO_SYSTEMS_URL", harmony)
    return new_case(app, **subject_of(customer))


def _count(app, model) -> int:
    with app.app_context():
        n = db.session.scalar(sa.select(sa.func.count()).select_from(model))
        db.session.remove()
        return n


def _counts(app) -> dict:
    return {m.__name__: _count(app, m) for m in (Lookup, FoundRecord, LegalHold, CaseTask, AuditEvent)}


def data_forms(html: str) -> dict[str, list[str]]:
    """The card's and the records page's forms: action name -> the bodies of the forms posting to it."""
    forms: dict[str, list[str]] = {}
    for action, body in re.findall(r'<form method="post" action="/cases/[^"]+/data/(\w+)"[^>]*>(.*?)</form>',
                                   html, re.S):
        forms.setdefault(action, []).append(body)
    return forms


def hidden(body: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', body)
    assert match, f"no {name} in the form"
    return unescape(match.group(1))


def card(html: str) -> str:
    start = html.index('id="data"')
    return html[start:html.index('id="holds"', start) + 2000]


def post(client, reference: str, action: str, **fields):
    return client.post(f"/cases/{reference}/data/{action}", data={f"data_{action}-{k}": v for k, v in fields.items()})


# -- staff: find the data, judge the match ----------------------------------------------------------------

def test_staff_find_the_data_see_it_per_source_and_category_and_confirm_the_match(app, reference):
    client = signed_in(app, Role.STAFF)
    html = case_page(client, reference)
    assert "Data in Harmony&#39;s systems" in html or "Data in Harmony's systems" in html
    assert "Not searched yet" in html
    assert "lookup" in data_forms(html) and "Find the data" in card(html)

    response = post(client, reference, "lookup")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{reference}#data")
    html = case_page(client, reference)
    assert any(cat == "success" and "records found" in text for cat, text in flashes(html))
    summary = text_of(card(html))
    # Collections by their names in the interface's language, not their table names.
    for expected in ("Policy administration", "Contact centre", "Customer details", "Invoices", "Call recordings",
                     "E-mail address", "Bank account"):
        assert expected in summary
    assert "Search again" in summary
    with app.app_context():
        lookup = db.session.execute(sa.select(Lookup)).scalar_one()
        invoices = lookup.summary["harmony_policy_admin"]["invoices"]["count"]
        lookup_id = lookup.id
    assert re.search(rf"<td>Invoices</td><td class=\"text-end\">{invoices}</td>", html)
    assert "call_recordings" not in summary
    # Before confirming, the record's identifying values stand beside the case's (issue 16, item 7).
    evidence = re.search(r'<div class="mb-2" id="match-evidence">(.*?)</table>', html, re.S).group(1)
    assert "Compare before you confirm" in evidence and "reached by customer number" in text_of(evidence)
    assert text_of(evidence).count("same") >= 3
    # The manual sources are a person's work: each has its task.
    assert "Check Paper archive:" in html and "Check Focus Feedback (processor):" in html

    forms = data_forms(html)
    assert set(forms) >= {"lookup", "confirm", "reject"} and "hold" not in forms  # holds: the manager's
    assert hidden(forms["confirm"][0], "data_confirm-lookup_id") == str(lookup_id)
    response = post(client, reference, "confirm", lookup_id=lookup_id)
    assert response.status_code == 302
    html = case_page(client, reference)
    assert "match confirmed" in card(html) and "confirm" not in data_forms(html)
    with app.app_context():
        assert db.session.get(Lookup, lookup_id).confirmed_by.role is Role.STAFF
    assert "Records found confirmed as this person" in client.get(f"/cases/{reference}/audit").get_data(as_text=True)


def test_not_this_person_needs_a_reason(app, reference):
    client = signed_in(app, Role.STAFF)
    post(client, reference, "lookup")
    with app.app_context():
        lookup_id = db.session.execute(sa.select(Lookup.id)).scalar_one()
    before = _counts(app)

    response = post(client, reference, "reject", lookup_id=lookup_id, reason="   ")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Nothing was saved" in html
    assert field_errors(html).get("data_reject-reason")
    assert re.search(r"<details open><summary[^>]*>Not this person", html)
    assert _counts(app) == before

    response = post(client, reference, "reject", lookup_id=lookup_id, reason="Letter gives another birth date")
    assert response.status_code == 302
    html = case_page(client, reference)
    assert "not this person" in card(html) and "Letter gives another birth date" in card(html)
    assert "confirm" not in data_forms(html)


def test_a_search_that_fails_says_why_and_stores_no_records(app, reference, monkeypatch):
    monkeypatch.setitem(app.config, "DEMO_SYSTEMS_URL", "sqlite:////nonexistent/harmony.sqlite3")
    client = signed_in(app, Role.STAFF)
    response = post(client, reference, "lookup")
    assert response.status_code == 302
    html = case_page(client, reference)
    assert any(cat == "danger" and "could not be searched" in text for cat, text in flashes(html))
    assert "search failed" in card(html) and "no such SQLite database" in card(html)
    assert (_count(app, FoundRecord), _count(app, CaseTask)) == (0, 0)


def test_the_records_page_lists_references_and_categories_not_contents(app, reference, harmony, customer):
    client = signed_in(app, Role.STAFF)
    post(client, reference, "lookup")
    with app.app_context():
        lookup_id = db.session.execute(sa.select(Lookup.id)).scalar_one()
    n = _count(app, FoundRecord)
    html = case_page(client, reference)
    assert f'href="/cases/{reference}/lookup/{lookup_id}"' in html

    for role in (Role.STAFF, Role.AUDITOR):
        client = signed_in(app, role)
        response = client.get(f"/cases/{reference}/lookup/{lookup_id}")
        assert response.status_code == 200
        records = response.get_data(as_text=True)
        body = records.split("<tbody>", 1)[1]
        assert body.count("<tr>") == n
        assert f">id={customer['id']}<" in records  # the key, and how the record was found
        assert "customer_number" in body and "Unique ID" in body
        assert [v for v in values_that_must_not_be_stored(harmony, customer) if v in records] == []
        assert "hold" not in data_forms(records)  # only the manager holds records
    assert client.get(f"/cases/{reference}/lookup/{lookup_id + 99}").status_code == 404


# -- the privacy manager: legal holds ---------------------------------------------------------------------

def test_only_the_manager_places_and_releases_holds_with_a_reason(app, reference):
    client = signed_in(app, Role.STAFF)
    assert post(client, reference, "hold", reason="Court case").status_code == 403
    assert _count(app, LegalHold) == 0

    client = signed_in(app, Role.PRIVACY_MANAGER)
    html = case_page(client, reference)
    assert "No legal hold." in html and "hold" in data_forms(html)
    response = post(client, reference, "hold", reason="")
    assert response.status_code == 400 and field_errors(response.get_data(as_text=True)).get("data_hold-reason")
    assert _count(app, LegalHold) == 0

    assert post(client, reference, "hold", reason="Claim in court, C/10/654321").status_code == 302
    html = case_page(client, reference)
    assert "on hold" in card(html) and "All data of this person" in card(html)
    assert "Claim in court, C/10/654321" in card(html)
    [release] = data_forms(html)["release"]
    hold_id = hidden(release, "data_release-hold_id")

    client = signed_in(app, Role.STAFF)
    assert "release" not in data_forms(case_page(client, reference))
    assert post(client, reference, "release", hold_id=hold_id, reason="settled").status_code == 403

    client = signed_in(app, Role.PRIVACY_MANAGER)
    response = post(client, reference, "release", hold_id=hold_id, reason=" ")
    assert response.status_code == 400
    assert field_errors(response.get_data(as_text=True)).get("data_release-reason")
    assert post(client, reference, "release", hold_id=hold_id, reason="Judgment final").status_code == 302
    html = case_page(client, reference)
    assert "released" in card(html) and "Judgment final" in card(html) and "release" not in data_forms(html)
    assert post(client, reference, "release", hold_id=hold_id, reason="again").status_code == 409
    trail = client.get(f"/cases/{reference}/audit").get_data(as_text=True)
    assert "Legal hold placed" in trail and "Legal hold released" in trail


def test_the_manager_holds_one_record_from_the_records_page(app, reference):
    client = signed_in(app, Role.PRIVACY_MANAGER)
    post(client, reference, "lookup")
    with app.app_context():
        lookup_id = db.session.execute(sa.select(Lookup.id)).scalar_one()
        invoice = db.session.execute(sa.select(FoundRecord).where(FoundRecord.collection == "invoices")
                                     .order_by(FoundRecord.id).limit(1)).scalar_one()
        invoice_id, invoice_key = invoice.id, invoice.primary_key
    records = client.get(f"/cases/{reference}/lookup/{lookup_id}").get_data(as_text=True)
    holds = data_forms(records)["hold"]
    assert len(holds) == _count(app, FoundRecord)
    assert any(hidden(f, "data_hold-found_record_id") == str(invoice_id) for f in holds)

    response = post(client, reference, "hold", found_record_id=invoice_id, reason="Invoice disputed")
    assert response.status_code == 302
    with app.app_context():
        hold = db.session.execute(sa.select(LegalHold)).scalar_one()
        assert (hold.subject_id, hold.source, hold.collection, hold.primary_key) == (
            None, "harmony_policy_admin", "invoices", invoice_key)
    records = client.get(f"/cases/{reference}/lookup/{lookup_id}").get_data(as_text=True)
    assert records.count("on hold") == 1
    assert "Invoice disputed" in card(case_page(client, reference))
    # A record of another case's lookup cannot be named.
    assert post(client, reference, "hold", found_record_id=invoice_id + 10_000, reason="x").status_code == 400


def test_records_rejected_as_someone_elses_are_not_held_from_this_case(app, reference):
    client = signed_in(app, Role.PRIVACY_MANAGER)
    post(client, reference, "lookup")
    post(client, reference, "hold", reason="Court case")  # on the person
    with app.app_context():
        lookup_id = db.session.execute(sa.select(Lookup.id)).scalar_one()
        record_id = db.session.execute(sa.select(FoundRecord.id).limit(1)).scalar_one()
    assert post(client, reference, "reject", lookup_id=lookup_id, reason="Namesake").status_code == 302

    records = client.get(f"/cases/{reference}/lookup/{lookup_id}").get_data(as_text=True)
    assert "hold" not in data_forms(records) and "on hold" not in records
    response = post(client, reference, "hold", found_record_id=record_id, reason="x")
    assert response.status_code == 409 and "not this person" in response.get_data(as_text=True)
    assert _count(app, LegalHold) == 1


# -- the auditor reads, and changes nothing ---------------------------------------------------------------

def test_the_auditor_reads_the_card_and_the_records_but_cannot_act(app, reference):
    client = signed_in(app, Role.PRIVACY_MANAGER)
    post(client, reference, "lookup")
    post(client, reference, "hold", reason="Court case")
    with app.app_context():
        lookup_id = db.session.execute(sa.select(Lookup.id)).scalar_one()
        hold_id = db.session.execute(sa.select(LegalHold.id)).scalar_one()
    client = signed_in(app, Role.AUDITOR)
    before = _counts(app)  # after the login, which is audited itself
    html = case_page(client, reference)
    assert "Policy administration" in card(html) and "Court case" in card(html)
    assert data_forms(html) == {}
    assert client.get(f"/cases/{reference}/lookup/{lookup_id}").status_code == 200
    fields = {"lookup": {}, "confirm": {"lookup_id": lookup_id}, "reject": {"lookup_id": lookup_id, "reason": "x"},
              "hold": {"reason": "x"}, "release": {"hold_id": hold_id, "reason": "x"}}
    for action in ACTIONS:
        assert post(client, reference, action, **fields[action]).status_code == 403, action
    assert _counts(app) == before


def test_unknown_actions_and_other_cases_lookups_are_not_found(app, reference):
    client = signed_in(app, Role.STAFF)
    post(client, reference, "lookup")
    with app.app_context():
        lookup_id = db.session.execute(sa.select(Lookup.id)).scalar_one()
        staff = db.session.execute(sa.select(User).where(User.role == Role.STAFF)).scalar_one()
        other = make_case(actor=staff, name="Someone Else", email="else@example.nl", customer_number="1",
                          policy_number="2").reference
    assert post(client, reference, "erase").status_code == 404
    assert post(client, "DSR-1999-00001", "lookup").status_code == 404
    assert client.get(f"/cases/{other}/lookup/{lookup_id}").status_code == 404
    assert post(client, other, "confirm", lookup_id=lookup_id).status_code == 400
    assert client.get(f"/cases/{reference}/data/lookup").status_code == 302


# -- CSRF ---------------------------------------------------------------------------------------------------

@pytest.fixture
def csrf_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


def test_every_form_carries_a_csrf_token_and_a_post_without_one_is_refused(app, client, reference, csrf_on):
    from tests.web.support import csrf_token

    token = csrf_token(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"email": "privacy_manager@harmony.test", "password": "manager-password-1",
                                       "csrf_token": token}).status_code == 302
    html = case_page(client, reference)
    forms = data_forms(html)
    assert set(forms) == {"lookup", "hold"}
    for action, bodies in forms.items():
        for body in bodies:
            assert hidden(body, f"data_{action}-csrf_token")

    assert post(client, reference, "lookup").status_code == 400
    assert _count(app, Lookup) == 0
    token = hidden(forms["lookup"][0], "data_lookup-csrf_token")
    assert post(client, reference, "lookup", csrf_token=token).status_code == 302
    assert _count(app, Lookup) == 1

    html = case_page(client, reference)
    for action, bodies in data_forms(html).items():
        for body in bodies:
            assert hidden(body, f"data_{action}-csrf_token"), action
    with app.app_context():
        lookup_id = db.session.execute(sa.select(Lookup.id)).scalar_one()
    assert post(client, reference, "confirm", lookup_id=lookup_id).status_code == 400
    confirm = data_forms(html)["confirm"][0]
    assert post(client, reference, "confirm", lookup_id=lookup_id,
                csrf_token=hidden(confirm, "data_confirm-csrf_token")).status_code == 302
    records = client.get(f"/cases/{reference}/lookup/{lookup_id}").get_data(as_text=True)
    assert all(hidden(body, "data_hold-csrf_token") for body in data_forms(records)["hold"])
