"""Compiling the answer to an access request (Art. 15; issue 4, item 6) from Harmony's demo systems, with
dsr's own database on SQLite and PostgreSQL. What the customer holds is read with plain SQL
(tests/harmony_support.py), not with the code under test."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from dsr.auth.models import User
from dsr.cases.errors import InvalidInput, RuleViolation
from dsr.domain.enums import Role
from dsr.extensions import db
from dsr.fulfilment.access import compile_access
from tests.factories import make_case, make_user
from tests.harmony_support import (
    customer_with_everything,
    database_digest,
    execute,
    looked_up_case,
    private_copy,
    rows,
    subject_of,
)

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 26)


@pytest.fixture
def staff(ctx) -> User:
    return make_user(Role.STAFF)


def looked_up(customer: dict, staff: User, *, confirm: bool = True):
    return looked_up_case(customer, staff, now=NOW, confirm=confirm)


def digest(url: str) -> str:
    return database_digest(url)


def all_values(content) -> list:
    return [v.value for c in content.collections for r in c.records for v in r.values]


def test_a_customers_data_with_purposes_recipients_retention_and_complaint_route(systems, customer, staff):
    case, lookup = looked_up(customer, staff)
    content = compile_access(case, lookup, language="en")

    # The data itself, re-read from the sources: their contact details and bank account are there.
    values = all_values(content)
    assert customer["email"] in values and customer["street"] in values and customer["phone"] in values
    ibans = {r["iban"] for r in rows(systems, "SELECT iban FROM policies WHERE customer_id = :c", c=customer["id"])}
    assert ibans & set(values)
    counts = {c.collection: len(c.records) for c in content.collections}
    assert counts["customers"] == 1
    assert counts["call_recordings"] == rows(systems, "SELECT count(*) AS n FROM call_recordings "
                                                      "WHERE customer_number = :n", n=customer["customer_number"])[0]["n"]

    # Grouped per category of the statement, with their source and retention.
    categories = {c.id: c for c in content.categories}
    assert {"personal", "contact", "policy", "financial", "login", "interactions"} <= set(categories)
    assert categories["contact"].name.startswith("Contact data")
    assert "provided" in categories["contact"].origin
    assert "generated" in categories["interactions"].origin
    assert any("7 years" in r for r in categories["financial"].retention)

    # Retention per collection, each with its basis and the statement's sentence.
    by_coll = {c.collection: c for c in content.collections}
    recording = by_coll["call_recordings"].retention[0]
    assert recording.rule_id == "call-recording" and recording.period == "P180D" and recording.basis
    assert "180 days" in recording.statement[0]
    invoice = by_coll["invoices"].retention[0] if "invoices" in by_coll else by_coll["premium_payments"].retention[0]
    assert invoice.rule_id == "fiscal-retention" and "17(3)(b)" in invoice.article
    assert all(r.basis and r.article for c in content.collections for r in c.retention)

    # Purposes from the collections' declared statement purposes.
    numbers = [p.number for p in content.purposes]
    assert {1, 2, 3, 5, 6, 7} <= set(numbers) and numbers == sorted(numbers)
    assert next(p for p in content.purposes if p.number == 6).title == "Preventing and combating fraud"

    # Recipients by name, including Focus Feedback (the customer has survey invitations).
    names = [r.name for r in content.recipients]
    assert any("Focus Feedback" in n for n in names)
    assert {"risk_bearer", "regulators", "hosting", "mail", "legal", "collection_agencies"} <= {
        r.id for r in content.recipients}

    # Rights, automated decisions, and the complaint route to the Autoriteit Persoonsgegevens.
    assert {r.id for r in content.rights} == {"access", "rectification", "erasure", "restriction", "portability",
                                               "objection"}
    # The controller's declaration (dsr/automated/declaration.yml): Harmony takes no such decisions.
    assert content.automated_decisions.text.startswith("Harmony takes no decisions about you based solely on")
    assert content.automated_decisions.section == "declaration.yml"
    assert content.complaint.authority_address == ["Autoriteit Persoonsgegevens", "Postbus 93374", "2509 AJ Den Haag"]
    assert content.complaint.harmony_email == "privacy@harmony.nl"
    assert {m["source"] for m in content.manual_sources} == {"focus_feedback", "harmony_mail_house",
                                                         "harmony_paper_archive"}


def test_credentials_are_withheld_third_party_fields_flagged_and_content_is_json(systems, customer, staff):
    case, lookup = looked_up(customer, staff)
    content = compile_access(case, lookup, language="nl")
    data = content.as_dict()
    text = json.dumps(data)  # JSON-serialisable as it stands
    hashes = [r["password_hash"] for r in rows(systems, "SELECT password_hash FROM portal_accounts "
                                                        "WHERE customer_id = :c", c=customer["id"])]
    assert hashes and not any(h in text for h in hashes)
    portal = next(c for c in content.collections if c.collection == "portal_accounts")
    assert any(v.withheld and v.field == "password_hash" for r in portal.records for v in r.values)
    recordings = [c for c in content.collections if c.collection == "call_recordings"][0]
    assert {(x["collection"], x["field"]) for x in content.redaction_review} >= {("call_recordings", "storage_uri")}
    assert all(v.review_third_parties for r in recordings.records for v in r.values if v.field == "storage_uri")
    # Dutch texts from the statement.
    assert data["language"] == "nl"
    assert any(r["name"] == "Risicodrager" for r in data["recipients"])
    assert data["complaint"]["harmony_address"][-2:] == ["Postbus 21460", "3001 AL Rotterdam"]


def test_french_answer(systems, customer, staff):
    case, lookup = looked_up(customer, staff)
    content = compile_access(case, lookup, language="fr")
    assert any(r.name == "Porteur de risque" for r in content.recipients)
    assert content.purposes[0].title == "Évaluation et traitement de votre demande"


def test_an_unconfirmed_lookup_is_refused(systems, customer, staff):
    case, lookup = looked_up(customer, staff, confirm=False)
    with pytest.raises(RuleViolation):
        compile_access(case, lookup, language="en")


def test_an_unknown_language_or_another_cases_lookup_is_refused(systems, customer, staff):
    case, lookup = looked_up(customer, staff)
    with pytest.raises(InvalidInput):
        compile_access(case, lookup, language="de")
    other = make_case(actor=staff, **subject_of(customer, email="someone.else@example.invalid"))
    with pytest.raises(InvalidInput):
        compile_access(other, lookup, language="en")


def test_nothing_is_written_to_the_sources(systems, customer, staff):
    case, lookup = looked_up(customer, staff)
    before = digest(systems)
    compile_access(case, lookup, language="en")
    compile_access(case, lookup, language="nl")
    assert digest(systems) == before


def test_a_record_gone_from_the_source_is_counted_not_invented(systems, customer, staff):
    case, lookup = looked_up(customer, staff)
    found = next(r for r in lookup.records if r.collection == "call_recordings")
    found.primary_key = {"id": 10_000_000}  # as if the recording had been erased since the lookup
    db.session.flush()
    content = compile_access(case, lookup, language="en")
    recordings = next(c for c in content.collections if c.collection == "call_recordings")
    assert recordings.missing == 1
    db.session.rollback()


# -- recipients by name and the whole copy (issue 14, items 4 and 5) ------------------------------------


@pytest.fixture
def own_systems(ctx, harmony, monkeypatch, tmp_path) -> str:
    """A private copy of the demo systems, for tests that set a record's values first."""
    monkeypatch.setitem(ctx.config, "DEMO_SYSTEMS_URL", url := private_copy(harmony, tmp_path))
    return url


def test_recipients_are_named_as_the_records_name_them(own_systems, staff):
    customer = customer_with_everything(own_systems)
    execute(own_systems, "UPDATE customers SET sales_channel = 'partner:Belsimpel' WHERE id = :c", c=customer["id"])
    bearers = {r["risk_bearer"] for r in rows(own_systems, "SELECT risk_bearer FROM policies WHERE customer_id = :c",
                                               c=customer["id"])}
    claim = rows(own_systems, "SELECT c.id FROM claims c JOIN policies p ON p.id = c.policy_id "
                              "WHERE p.customer_id = :c ORDER BY c.id LIMIT 1", c=customer["id"])
    if not claim:  # every customer has a device; give them a claim to name a repairer on
        policy = rows(own_systems, "SELECT p.id AS p, d.id AS d FROM policies p JOIN devices d ON d.policy_id = p.id "
                                   "WHERE p.customer_id = :c LIMIT 1", c=customer["id"])[0]
        execute(own_systems, "INSERT INTO claims (claim_number, policy_id, device_id, reported_on, kind, description, "
                             "status) VALUES ('SCH-2026-999999', :p, :d, '2026-10-01', 'damage', 'Scherm gebarsten', "
                             "'open')", p=policy["p"], d=policy["d"])
        claim = rows(own_systems, "SELECT id FROM claims WHERE claim_number = 'SCH-2026-999999'")
    execute(own_systems, "UPDATE claims SET repairer = 'Phonefix Utrecht' WHERE id = :i", i=claim[0]["id"])

    case, lookup = looked_up(customer, staff)
    content = compile_access(case, lookup, language="nl")
    named = {r.id: r for r in content.recipients}
    assert named["risk_bearer"].named == sorted(bearers) and named["risk_bearer"].name == "Risicodrager"
    assert named["repairers"].named == ["Phonefix Utrecht"]
    assert named["partners"].named == ["Belsimpel"]  # "partner:Belsimpel" in the record: the name, not the code
    # A statement recipient no record names keeps its category, with no invented name.
    assert all(r.named == [] for r in content.recipients if r.id not in {"risk_bearer", "repairers", "partners"})

    # A direct sale names no partner: the category is not listed because of the sales channel.
    execute(own_systems, "UPDATE customers SET sales_channel = 'direct' WHERE id = :c", c=customer["id"])
    content = compile_access(case, lookup, language="en")
    assert "partners" not in {r.id for r in content.recipients if r.named}


def test_status_and_outcome_fields_are_in_the_copy_and_only_technical_keys_left_out(own_systems, staff):
    customer = customer_with_everything(own_systems)
    policy = rows(own_systems, "SELECT p.id AS p, d.id AS d FROM policies p JOIN devices d ON d.policy_id = p.id "
                               "WHERE p.customer_id = :c LIMIT 1", c=customer["id"])[0]
    execute(own_systems, "INSERT INTO claims (claim_number, policy_id, device_id, reported_on, kind, description, "
                         "status, settled_on, settlement_number, payout_cents) VALUES ('SCH-2026-999998', :p, :d, "
                         "'2026-09-01', 'theft', 'Gestolen in de trein', 'settled', '2026-09-20', 'AFH-2026-999998', "
                         "45000)", p=policy["p"], d=policy["d"])
    case, lookup = looked_up(customer, staff)
    content = compile_access(case, lookup, language="en")
    by_coll = {c.collection: c for c in content.collections}

    def values(coll: str) -> dict[str, set]:
        found: dict[str, set] = {}
        for record in by_coll[coll].records:
            for v in record.values:
                found.setdefault(v.field, set()).add(v.value)
        return found

    claims = values("claims")
    assert "settled" in claims["status"] and "2026-09-20" in claims["settled_on"]
    assert "AFH-2026-999998" in claims["settlement_number"] and "SCH-2026-999998" in claims["claim_number"]
    policies = values("policies")
    assert policies["status"] and policies["risk_bearer"]
    assert values("premium_payments")["status"] <= {"collected", "reversed"} and values("premium_payments")["status"]
    customers = values("customers")
    assert customers["sales_channel"] == {customer["sales_channel"]}
    assert customers["created_on"] == {str(customer["created_on"])[:10]}
    labels = {v.field: v.label for r in by_coll["claims"].records for v in r.values}
    assert labels["settlement_number"] == "Settlement number" and labels["status"] == "Claim status"

    # Left out: the keys, each with the data map's reason; no key's value is in the copy.
    for coll in content.collections:
        shown = {v.field for r in coll.records for v in r.values}
        assert not shown & {x["field"] for x in coll.left_out}, coll.collection
        assert all(x["reason"] for x in coll.left_out)
    assert {x["field"] for x in by_coll["claims"].left_out} == {"id", "policy_id", "device_id"}
    assert {x["field"] for x in by_coll["call_recordings"].left_out} == {"id", "recording_ref"}
