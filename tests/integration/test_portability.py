"""Selecting the data a subject may take with them (Art. 20; issue 4, item 9) from Harmony's demo systems,
with dsr's own database on SQLite and PostgreSQL. Expectations are read with plain SQL
(tests/harmony_support.py)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from dsr.auth.models import User
from dsr.cases.errors import InvalidInput, RuleViolation
from dsr.domain.enums import Role
from dsr.fulfilment.portability import NOT_PROVIDED, OTHER_LEGAL_BASIS, select_portable
from tests.factories import make_case, make_user
from tests.harmony_support import (
    database_digest,
    looked_up_case,
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


def test_provided_data_on_consent_or_contract_only(systems, customer, staff):
    case, lookup = looked_up(customer, staff)
    data = select_portable(case, lookup)
    by_coll = {c.collection: c for c in data.collections}

    # Their contact details, as they gave them, with the fideslang categories.
    customers = by_coll["customers"]
    assert customers.legal_basis == "contract" and len(customers.records) == 1
    values = {v.field: v for v in customers.records[0].values}
    assert values["email"].value == customer["email"]
    assert values["street"].value == customer["street"]
    assert values["phone"].value == customer["phone"]
    assert any(c.startswith("user.contact") for c in values["email"].categories)

    # Observed or generated data is left out: call recordings and incidents (legitimate interests) ...
    assert "call_recordings" not in by_coll and "incidents" not in by_coll
    whole = {(x.collection, x.reason) for x in data.excluded if x.field is None}
    assert ("call_recordings", OTHER_LEGAL_BASIS) in whole and ("incidents", OTHER_LEGAL_BASIS) in whole
    # ... and fields Harmony computed, such as an invoice's amount.
    amounts = [r["amount_cents"] for r in rows(systems, "SELECT amount_cents FROM invoices WHERE customer_id = :c",
                                               c=customer["id"])]
    assert all(v.field != "amount_cents" for c in data.collections for r in c.records for v in r.values)
    assert ("invoices", "amount_cents", NOT_PROVIDED) in {(x.collection, x.field, x.reason) for x in data.excluded}
    if "invoices" in by_coll:
        assert not any(v.value in amounts for r in by_coll["invoices"].records for v in r.values
                       if v.field.startswith("amount"))

    # Observed from their use of the service (WP242): when they last logged in, how and when they consented.
    portal = {v.field: v for v in by_coll["portal_accounts"].records[0].values}
    last_login = rows(systems, "SELECT last_login_at FROM portal_accounts WHERE customer_id = :c", c=customer["id"])
    assert portal["last_login_at"].observed and str(portal["last_login_at"].value)[:16] == \
        str(last_login[0]["last_login_at"]).replace(" ", "T")[:16]
    assert not portal["username"].observed and "password_hash" not in portal
    subscription = {v.field: v for v in by_coll["marketing_subscriptions"].records[0].values}
    assert subscription["consent_source"].observed and subscription["consent_at"].observed
    assert not any(x.field in ("last_login_at", "consent_source") for x in data.excluded)
    # Technical keys are neither data nor an exclusion.
    assert not any(x.field in ("id", "customer_id") for x in data.excluded)

    # Only fields marked provided or observed, only collections on consent or contract.
    assert all(c.legal_basis in ("consent", "contract") for c in data.collections)
    assert "marketing_subscriptions" in by_coll and by_coll["marketing_subscriptions"].legal_basis == "consent"

    # JSON-ready.
    plain = data.as_dict()
    text = json.dumps(plain)
    assert customer["email"] in text and plain["case_reference"] == case.reference


def test_an_unconfirmed_or_another_cases_lookup_is_refused(systems, customer, staff):
    case, lookup = looked_up(customer, staff, confirm=False)
    with pytest.raises(RuleViolation):
        select_portable(case, lookup)
    case, lookup = looked_up(customer, staff)
    other = make_case(actor=staff, **subject_of(customer, email="someone.else@example.invalid"))
    with pytest.raises(InvalidInput):
        select_portable(other, lookup)


def test_nothing_is_written_to_the_sources(systems, customer, staff):
    case, lookup = looked_up(customer, staff)
    before = digest(systems)
    select_portable(case, lookup)
    assert digest(systems) == before
